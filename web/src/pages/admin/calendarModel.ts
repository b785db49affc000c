/**
 * The business-hours calendar editor's pure logic: the editable draft, checks that mirror the
 * server's (services/business_time.py), presets and the week preview. Times are the calendar's
 * local wall-clock "HH:MM"; "24:00" only as an end.
 */
import type { Schemas } from "../../api/types";

export type Calendar = Schemas["CalendarOut"];
export type CalendarBody = Schemas["CalendarCreate"];

export const DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] as const;
export const DAY_SHORT = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;
export const MINUTES_PER_DAY = 24 * 60;

export interface WindowRow {
  start: string;
  end: string;
}

export interface ExceptionRow {
  date: string;
  closed: boolean;
  windows: WindowRow[];
  name: string;
}

export interface CalendarDraft {
  name: string;
  timezone: string;
  /** Seven days, Monday first, each with its windows. */
  week: WindowRow[][];
  exceptions: ExceptionRow[];
}

const HHMM = /^(?:([01]\d|2[0-3]):([0-5]\d)|24:00)$/;

/** "HH:MM" → minutes since midnight; "24:00" only as an end; null when not a time. */
export function toMinutes(value: string, end = false): number | null {
  const match = HHMM.exec(value.trim());
  if (!match) return null;
  if (value.trim() === "24:00") return end ? MINUTES_PER_DAY : null;
  return Number(match[1]) * 60 + Number(match[2]);
}

export function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

/** One message per row (null = fine): a bad time, an empty or inverted window, an overlap. */
export function windowErrors(rows: WindowRow[]): (string | null)[] {
  const errors: (string | null)[] = rows.map((row) => {
    const start = toMinutes(row.start);
    const end = toMinutes(row.end, true);
    if (start === null) return "Start: a time HH:MM from 00:00 to 23:59.";
    if (end === null) return "End: a time HH:MM from 00:01 to 24:00.";
    if (start >= end) return "The window must end after it starts.";
    return null;
  });
  const valid = rows
    .map((row, index) => ({ index, start: toMinutes(row.start) ?? 0, end: toMinutes(row.end, true) ?? 0 }))
    .filter(({ index }) => errors[index] === null)
    .sort((a, b) => a.start - b.start);
  for (let i = 1; i < valid.length; i++) {
    const before = valid[i - 1];
    const after = valid[i];
    if (before && after && before.end > after.start) {
      errors[after.index] = `Overlaps ${hhmm(before.start)}–${hhmm(before.end)}.`;
    }
  }
  return errors;
}

export interface DraftErrors {
  name?: string;
  timezone?: string;
  week: (string | null)[][];
  exceptions: { date?: string; windows: (string | null)[] }[];
  count: number;
}

/** Every problem of the draft, per field; ``count`` 0 = ready to save. */
export function draftErrors(draft: CalendarDraft, zones?: readonly string[]): DraftErrors {
  const out: DraftErrors = { week: draft.week.map(windowErrors), exceptions: [], count: 0 };
  if (!draft.name.trim()) out.name = "Enter a name.";
  if (!draft.timezone) out.timezone = "Choose a time zone.";
  else if (zones && !zones.includes(draft.timezone)) out.timezone = "Not a known time zone.";
  const seen = new Set<string>();
  for (const exception of draft.exceptions) {
    const item: DraftErrors["exceptions"][number] = { windows: [] };
    if (!/^\d{4}-\d{2}-\d{2}$/.test(exception.date) || Number.isNaN(Date.parse(`${exception.date}T00:00:00Z`))) {
      item.date = "Choose a date.";
    } else if (seen.has(exception.date)) {
      item.date = "This date is listed twice.";
    }
    seen.add(exception.date);
    if (!exception.closed) {
      item.windows = windowErrors(exception.windows);
      if (exception.windows.length === 0) item.date = item.date ?? "Give special hours, or mark the day closed.";
    }
    out.exceptions.push(item);
  }
  out.count =
    Number(Boolean(out.name)) +
    Number(Boolean(out.timezone)) +
    out.week.flat().filter(Boolean).length +
    out.exceptions.reduce((n, e) => n + Number(Boolean(e.date)) + e.windows.filter(Boolean).length, 0);
  return out;
}

export const PRESETS = {
  office: { label: "Mon–Fri 09–17", week: DAY_NAMES.map((_, d) => (d < 5 ? [{ start: "09:00", end: "17:00" }] : [])) },
  always: { label: "24/7", week: DAY_NAMES.map(() => [{ start: "00:00", end: "24:00" }]) },
} as const;

export function copyWeek(week: readonly (readonly WindowRow[])[]): WindowRow[][] {
  return week.map((day) => day.map((w) => ({ ...w })));
}

export function emptyDraft(timezone = "UTC"): CalendarDraft {
  return { name: "", timezone, week: copyWeek(PRESETS.office.week), exceptions: [] };
}

export function toDraft(calendar: Calendar): CalendarDraft {
  const week: WindowRow[][] = DAY_NAMES.map(() => []);
  for (const w of calendar.windows) week[w.weekday]?.push({ start: w.start, end: w.end });
  return {
    name: calendar.name,
    timezone: calendar.timezone,
    week,
    exceptions: calendar.exceptions.map(fromException),
  };
}

export function fromException(e: Calendar["exceptions"][number]): ExceptionRow {
  return {
    date: e.date,
    closed: e.closed,
    windows: (e.windows ?? []).map((w) => ({ start: w.start, end: w.end })),
    name: e.name ?? "",
  };
}

/** The request body: windows per weekday, exceptions by date (special hours only when open). */
export function toBody(draft: CalendarDraft): CalendarBody {
  return {
    name: draft.name.trim(),
    timezone: draft.timezone,
    windows: draft.week.flatMap((day, weekday) => day.map((w) => ({ weekday, start: w.start.trim(), end: w.end.trim() }))),
    exceptions: [...draft.exceptions]
      .sort((a, b) => a.date.localeCompare(b.date))
      .map((e) => ({
        date: e.date,
        closed: e.closed,
        windows: e.closed ? [] : e.windows.map((w) => ({ start: w.start.trim(), end: w.end.trim() })),
        name: e.name.trim() || null,
      })),
  };
}

/** Dates as "YYYY-MM-DD", computed in UTC so no local DST shift moves a day. */
function parseIso(iso: string): Date {
  const [y = 1970, m = 1, d = 1] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}

function formatIso(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function addDays(iso: string, days: number): string {
  const date = parseIso(iso);
  date.setUTCDate(date.getUTCDate() + days);
  return formatIso(date);
}

/** Monday = 0 … Sunday = 6. */
export function weekdayOf(iso: string): number {
  return (parseIso(iso).getUTCDay() + 6) % 7;
}

/** The Monday of the week *iso* lies in. */
export function mondayOf(iso: string): string {
  return addDays(iso, -weekdayOf(iso));
}

/** Today's date where the browser is, as "YYYY-MM-DD". */
export function todayIso(now = new Date()): string {
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

export interface Segment {
  start: number;
  end: number;
}

export interface PreviewDay {
  date: string;
  weekday: number;
  /** "closed" or "special" when an exception replaces the weekday's hours that day. */
  exception: "closed" | "special" | null;
  label: string | null;
  open: Segment[];
}

function segments(rows: WindowRow[]): Segment[] {
  return rows
    .map((w) => ({ start: toMinutes(w.start), end: toMinutes(w.end, true) }))
    .filter((s): s is Segment => s.start !== null && s.end !== null && s.start < s.end)
    .sort((a, b) => a.start - b.start);
}

/** The seven days from *monday*: each day's open hours (its exception's if it has one). */
export function weekPreview(draft: CalendarDraft, monday: string): PreviewDay[] {
  const byDate = new Map(draft.exceptions.map((e) => [e.date, e]));
  return DAY_NAMES.map((_, weekday) => {
    const date = addDays(monday, weekday);
    const exception = byDate.get(date);
    if (!exception) return { date, weekday, exception: null, label: null, open: segments(draft.week[weekday] ?? []) };
    return {
      date,
      weekday,
      exception: exception.closed ? "closed" : "special",
      label: exception.name.trim() || null,
      open: exception.closed ? [] : segments(exception.windows),
    };
  });
}

/** "09:00–17:00, 18:00–20:00" or "Closed". */
export function describeDay(day: PreviewDay): string {
  return day.open.length ? day.open.map((s) => `${hhmm(s.start)}–${hhmm(s.end)}`).join(", ") : "Closed";
}

/** A short summary of the weekly hours for the list: "Mon–Fri 09:00–17:00". */
export function summarizeWeek(calendar: Calendar): string {
  const week = toDraft(calendar).week.map((day) => segments(day).map((s) => `${hhmm(s.start)}–${hhmm(s.end)}`).join(", "));
  if (week.every((d) => d === "")) return "Always closed";
  if (week.every((d) => d === "00:00–24:00")) return "24/7";
  const parts: string[] = [];
  let from = 0;
  for (let d = 1; d <= 7; d++) {
    if (d === 7 || week[d] !== week[from]) {
      if (week[from]) parts.push(`${DAY_SHORT[from]}${d - 1 > from ? `–${DAY_SHORT[d - 1]}` : ""} ${week[from]}`);
      from = d;
    }
  }
  return parts.join("; ");
}

/** The IANA time zones the browser knows (with the current value kept when it is not listed). */
export function timeZones(current?: string): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  const zones = new Set(intl.supportedValuesOf ? intl.supportedValuesOf("timeZone") : []);
  zones.add("UTC");
  if (current) zones.add(current);
  return [...zones].sort((a, b) => a.localeCompare(b));
}

/** "2026, 2027 2028" → [2026, 2027, 2028]; null when a part is not a year. */
export function parseYears(text: string): number[] | null {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  if (!parts.length) return null;
  const years = parts.map(Number);
  if (years.some((y) => !Number.isInteger(y) || y < 2000 || y > 2100)) return null;
  return [...new Set(years)];
}
