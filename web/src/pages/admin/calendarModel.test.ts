import {
  PRESETS,
  addDays,
  copyWeek,
  describeDay,
  draftErrors,
  emptyDraft,
  mondayOf,
  parseYears,
  summarizeWeek,
  toBody,
  toDraft,
  toMinutes,
  weekPreview,
  windowErrors,
  type Calendar,
  type CalendarDraft,
} from "./calendarModel";

function office(extra: Partial<CalendarDraft> = {}): CalendarDraft {
  return { ...emptyDraft("Europe/Berlin"), name: "Berlin office", ...extra };
}

describe("calendar editor: times and windows", () => {
  it("reads HH:MM with 24:00 only as an end", () => {
    expect(toMinutes("09:30")).toBe(570);
    expect(toMinutes("24:00")).toBeNull();
    expect(toMinutes("24:00", true)).toBe(1440);
    expect(toMinutes("9:00")).toBeNull();
    expect(toMinutes("23:60")).toBeNull();
  });

  it("names the bad, inverted and overlapping windows, like the server", () => {
    expect(
      windowErrors([
        { start: "08:00", end: "12:00" },
        { start: "11:00", end: "17:00" },
        { start: "18:00", end: "17:00" },
        { start: "25:00", end: "26:00" },
        { start: "13:00", end: "24:00" },
      ]),
    ).toEqual([
      null,
      "Overlaps 08:00–12:00.",
      "The window must end after it starts.",
      "Start: a time HH:MM from 00:00 to 23:59.",
      "Overlaps 11:00–17:00.",
    ]);
    // Adjacent windows (split shift ending at noon, starting at noon) are fine.
    expect(windowErrors([{ start: "08:00", end: "12:00" }, { start: "12:00", end: "24:00" }])).toEqual([null, null]);
  });

  it("counts every problem of a draft: name, zone, windows, a date listed twice", () => {
    const draft = office({
      name: " ",
      timezone: "Mars/Base",
      exceptions: [
        { date: "2026-12-25", closed: true, windows: [], name: "Christmas Day" },
        { date: "2026-12-25", closed: true, windows: [], name: "" },
        { date: "2026-12-24", closed: false, windows: [{ start: "12:00", end: "09:00" }], name: "" },
      ],
    });
    draft.week[0] = [{ start: "09:00", end: "13:00" }, { start: "12:00", end: "17:00" }];
    const errors = draftErrors(draft, ["Europe/Berlin", "UTC"]);
    expect(errors.name).toBe("Enter a name.");
    expect(errors.timezone).toBe("Not a known time zone.");
    expect(errors.week[0]).toEqual([null, "Overlaps 09:00–13:00."]);
    expect(errors.exceptions.map((e) => e.date)).toEqual([undefined, "This date is listed twice.", undefined]);
    expect(errors.exceptions[2]?.windows).toEqual(["The window must end after it starts."]);
    expect(errors.count).toBe(5);
    expect(draftErrors(office(), ["Europe/Berlin"]).count).toBe(0);
  });
});

describe("calendar editor: body and presets", () => {
  it("sends windows per weekday and exceptions by date, special hours only when open", () => {
    const draft = office({
      week: copyWeek(PRESETS.office.week),
      exceptions: [
        { date: "2026-12-31", closed: false, windows: [{ start: "09:00", end: "12:00" }], name: " " },
        { date: "2026-12-25", closed: true, windows: [{ start: "09:00", end: "12:00" }], name: " Christmas Day " },
      ],
    });
    const body = toBody(draft);
    expect(body.windows).toHaveLength(5);
    expect(body.windows?.[4]).toEqual({ weekday: 4, start: "09:00", end: "17:00" });
    expect(body.exceptions).toEqual([
      { date: "2026-12-25", closed: true, windows: [], name: "Christmas Day" },
      { date: "2026-12-31", closed: false, windows: [{ start: "09:00", end: "12:00" }], name: null },
    ]);
  });

  it("round-trips a stored calendar and summarizes its week", () => {
    const stored: Calendar = {
      id: "c1",
      name: "Split",
      timezone: "UTC",
      windows: [0, 1, 2, 3, 4].flatMap((weekday) => [
        { weekday, start: "08:00", end: "12:00" },
        { weekday, start: "13:00", end: "17:00" },
      ]),
      exceptions: [{ date: "2026-01-01", closed: true, windows: [], name: "New Year's Day" }],
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-01-01T00:00:00Z",
    };
    expect(toBody(toDraft(stored)).windows).toEqual(stored.windows);
    expect(summarizeWeek(stored)).toBe("Mon–Fri 08:00–12:00, 13:00–17:00");
    expect(summarizeWeek({ ...stored, windows: PRESETS.always.week.flatMap((d, weekday) => d.map((w) => ({ weekday, ...w }))) })).toBe("24/7");
  });
});

describe("calendar editor: week preview", () => {
  it("finds the Monday of any day, across months and years", () => {
    expect(mondayOf("2026-12-02")).toBe("2026-11-30");
    expect(mondayOf("2026-11-30")).toBe("2026-11-30");
    expect(mondayOf("2027-01-03")).toBe("2026-12-28");
    expect(addDays("2026-03-28", 2)).toBe("2026-03-30");
  });

  it("shades the weekday hours and applies the week's exceptions with their labels", () => {
    const draft = office({
      week: copyWeek(PRESETS.office.week),
      exceptions: [
        { date: "2026-12-25", closed: true, windows: [], name: "Christmas Day" },
        { date: "2026-12-24", closed: false, windows: [{ start: "09:00", end: "12:00" }], name: "" },
        { date: "2027-01-01", closed: true, windows: [], name: "New Year's Day" },
      ],
    });
    const week = weekPreview(draft, "2026-12-21");
    expect(week.map((d) => d.date)).toEqual([
      "2026-12-21",
      "2026-12-22",
      "2026-12-23",
      "2026-12-24",
      "2026-12-25",
      "2026-12-26",
      "2026-12-27",
    ]);
    expect(week[0]).toEqual({ date: "2026-12-21", weekday: 0, exception: null, label: null, open: [{ start: 540, end: 1020 }] });
    expect(week[3]).toMatchObject({ exception: "special", label: null, open: [{ start: 540, end: 720 }] });
    expect(week[4]).toMatchObject({ exception: "closed", label: "Christmas Day", open: [] });
    expect(week[5]).toMatchObject({ exception: null, open: [] });
    expect(week.map(describeDay)).toEqual([
      "09:00–17:00",
      "09:00–17:00",
      "09:00–17:00",
      "09:00–12:00",
      "Closed",
      "Closed",
      "Closed",
    ]);
    // A window to midnight shades to the bottom of the day.
    draft.week[5] = [{ start: "20:00", end: "24:00" }];
    expect(weekPreview(draft, "2026-12-21")[5]?.open).toEqual([{ start: 1200, end: 1440 }]);
  });
});

describe("holiday import", () => {
  it("reads years separated by commas or spaces, once each, within 2000-2100", () => {
    expect(parseYears("2026, 2027 2026")).toEqual([2026, 2027]);
    expect(parseYears("")).toBeNull();
    expect(parseYears("1999")).toBeNull();
    expect(parseYears("next year")).toBeNull();
  });
});
