import "@testing-library/jest-dom/vitest";
import axe from "axe-core";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { AdminCalendarsPage } from "./AdminCalendarsPage";
import { mondayOf, todayIso, type Calendar } from "./calendarModel";

const BERLIN: Calendar = {
  id: "c1",
  name: "Berlin office",
  timezone: "Europe/Berlin",
  windows: [0, 1, 2, 3, 4].map((weekday) => ({ weekday, start: "09:00", end: "17:00" })),
  exceptions: [],
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

function previewDay(date: string): HTMLElement {
  const day = document.querySelector<HTMLElement>(`.calendar-preview__day[data-date="${date}"]`);
  if (!day) throw new Error(`no preview day ${date}`);
  return day;
}

describe("admin: business-hours calendars", () => {
  it("creates a calendar from the preset, refusing overlapping windows first", async () => {
    const { calls } = stubApi({
      "GET /api/admin/calendars": { body: { items: [], next_cursor: null } },
      "POST /api/admin/calendars": { status: 201, body: { ...BERLIN, id: "c2", name: "Support" } },
    });
    renderWithApp(<AdminCalendarsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "New calendar" }));
    await userEvent.type(screen.getByLabelText("Name"), "Support");
    await userEvent.selectOptions(screen.getByLabelText("Time zone"), "Europe/Berlin");

    // The preview shades this week's Monday 09:00-17:00 (the default preset).
    const monday = mondayOf(todayIso());
    const open = previewDay(monday).querySelector<HTMLElement>(".calendar-preview__open")!;
    expect(open.dataset.start).toBe("540");
    expect(open.dataset.end).toBe("1020");
    expect(open.style.top).toBe("37.5%");
    expect(within(previewDay(monday)).getByText("09:00–17:00")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Add a Monday window" }));
    const end = screen.getByLabelText("Monday window 2 end");
    await userEvent.type(end, "18:00");
    const start = screen.getByLabelText("Monday window 2 start");
    await userEvent.clear(start);
    await userEvent.type(start, "16:00");
    await userEvent.click(screen.getByRole("button", { name: "Create calendar" }));
    expect(await screen.findByText("Overlaps 09:00–17:00.")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await userEvent.click(screen.getByRole("button", { name: "Remove Monday window 2" }));
    await userEvent.click(screen.getByRole("button", { name: "Create calendar" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    const body = calls.find((c) => c.method === "POST")!.body as { name: string; timezone: string; windows: unknown[] };
    expect(body.name).toBe("Support");
    expect(body.timezone).toBe("Europe/Berlin");
    expect(body.windows).toHaveLength(5);
    // Saved: the editor now holds the stored calendar, which can import holidays.
    expect(await screen.findByRole("heading", { name: "Edit Support" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Import holidays" })).toBeInTheDocument();
  }, 20_000);

  it("imports a country's holidays and shows them labelled in the week preview", async () => {
    const monday = mondayOf(todayIso());
    const friday = new Date(`${monday}T00:00:00Z`);
    friday.setUTCDate(friday.getUTCDate() + 4);
    const holiday = friday.toISOString().slice(0, 10);
    const added = [{ date: holiday, closed: true, windows: [], name: "Founders' Day" }];
    const { calls } = stubApi({
      "GET /api/admin/calendars": { body: { items: [BERLIN], next_cursor: null } },
      "POST /api/admin/calendars/c1/holidays": {
        body: { added, skipped: ["2026-12-25"], ignored: 0, calendar: { ...BERLIN, exceptions: added } },
      },
    });
    renderWithApp(<AdminCalendarsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Edit Berlin office" }));
    expect(within(previewDay(holiday)).getByText("09:00–17:00")).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Country"), "de");
    await userEvent.type(screen.getByLabelText("Subdivision"), "BY");
    await userEvent.clear(screen.getByLabelText("Years"));
    await userEvent.type(screen.getByLabelText("Years"), "2026, 2027");
    await userEvent.click(screen.getByRole("button", { name: "Import holidays" }));
    expect(await screen.findByText("Added 1 closed day; 1 already listed.")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ country: "DE", subdivision: "BY", years: [2026, 2027] });
    const day = previewDay(holiday);
    expect(within(day).getByText("Founders' Day")).toBeInTheDocument();
    expect(within(day).getByText("Closed")).toBeInTheDocument();
    expect(day.querySelector(".calendar-preview__open")).toBeNull();
    expect(screen.getByLabelText("Exception 1 label")).toHaveValue("Founders' Day");
  }, 20_000);

  it("the editor, with special hours and a holiday, passes axe-core", async () => {
    stubApi({
      "GET /api/admin/calendars": {
        body: {
          items: [
            {
              ...BERLIN,
              exceptions: [
                { date: "2026-12-24", closed: false, windows: [{ start: "09:00", end: "12:00" }], name: "Christmas Eve" },
                { date: "2026-12-25", closed: true, windows: [], name: "Christmas Day" },
              ],
            },
          ],
          next_cursor: null,
        },
      },
    });
    renderWithApp(<AdminCalendarsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Edit Berlin office" }));
    expect(screen.getByRole("heading", { name: "Edit Berlin office" })).toHaveFocus();
    const result = await axe.run(document.body, { rules: { "color-contrast": { enabled: false }, region: { enabled: false } } });
    expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
  }, 20_000);

  it("shows why a calendar in use cannot be deleted", async () => {
    stubApi({
      "GET /api/admin/calendars": { body: { items: [BERLIN], next_cursor: null } },
      "DELETE /api/admin/calendars/c1": {
        status: 409,
        body: { detail: "The calendar is in use by organizations Acme", code: "conflict" },
      },
    });
    renderWithApp(<AdminCalendarsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Delete Berlin office" }));
    const dialog = screen.getByRole("dialog", { name: "Delete Berlin office?" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Delete calendar" }));
    expect(await within(dialog).findByText("The calendar is in use by organizations Acme")).toBeInTheDocument();
  });
});
