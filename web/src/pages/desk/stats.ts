/** Report and dashboard figures for display (pure, tested): business durations, percentages,
 * date-range presets. The numbers themselves come from the server's aggregates. */

/** A duration in business seconds as people say it: "45 s", "12 min", "2 h 15 min", "3 d 4 h". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const restMin = minutes % 60;
  if (hours < 24) return restMin ? `${hours} h ${restMin} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  const restH = hours % 24;
  return restH ? `${days} d ${restH} h` : `${days} d`;
}

/** A percentage with at most one decimal ("—" when there is nothing to divide). */
export function formatPct(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return `${Number.isInteger(value) ? value : value.toFixed(1)} %`;
}

/** A fraction 0–1 as a percentage. */
export function formatRate(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : formatPct(Math.round(value * 1000) / 10);
}

export type RangePreset = "7d" | "30d" | "90d" | "year" | "all" | "custom";

export const RANGE_PRESETS: { value: RangePreset; label: string }[] = [
  { value: "7d", label: "Last 7 days" },
  { value: "30d", label: "Last 30 days" },
  { value: "90d", label: "Last 90 days" },
  { value: "year", label: "This year" },
  { value: "all", label: "All time" },
  { value: "custom", label: "Custom" },
];

/** The longest range a report covers (the API refuses more than ten years). */
export const ALL_TIME_DAYS = 3650;

function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function daysBefore(today: Date, n: number): Date {
  const d = new Date(today);
  d.setDate(d.getDate() - n);
  return d;
}

/** The dates (both included, local days) of a preset ending *today*. */
export function presetRange(preset: Exclude<RangePreset, "custom">, today: Date): { from: string; to: string } {
  const to = isoDay(today);
  switch (preset) {
    case "7d":
      return { from: isoDay(daysBefore(today, 6)), to };
    case "30d":
      return { from: isoDay(daysBefore(today, 29)), to };
    case "90d":
      return { from: isoDay(daysBefore(today, 89)), to };
    case "year":
      return { from: `${today.getFullYear()}-01-01`, to };
    case "all":
      return { from: isoDay(daysBefore(today, ALL_TIME_DAYS - 1)), to };
  }
}

/** Days per bucket of the created-vs-resolved chart: days up to three months, then weeks. */
export function intervalFor(from: string, to: string): "day" | "week" {
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
  return days > 92 ? "week" : "day";
}

/** The browser's IANA time zone (UTC when it has none). */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** "2 Mar" for a YYYY-MM-DD bucket. */
export function dayLabel(day: string): string {
  return new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" }).format(new Date(`${day}T00:00:00Z`));
}
