import { NO_SLA } from "../test/fixtures";
import { describeSla } from "./components/SlaChip";
import { slaClock, slaSummary } from "./sla";

const NOW = Date.parse("2026-01-01T12:00:00Z");
const running = {
  ...NO_SLA,
  first_response_due_at: "2026-01-01T12:20:00Z",
  resolution_due_at: "2026-01-01T16:00:00Z",
};

describe("SLA chip state from `sla` and a fixed now", () => {
  it("counts down while running", () => {
    const s = slaClock("resolution", running, NOW);
    expect(s).toMatchObject({ state: "running", remainingMs: 4 * 3600_000, urgent: false });
    expect(describeSla(s).text).toBe("4h left");
  });

  it("is urgent under 30 minutes", () => {
    const s = slaClock("first_response", running, NOW);
    expect(s).toMatchObject({ state: "running", remainingMs: 20 * 60_000, urgent: true });
    expect(describeSla(s)).toMatchObject({ text: "20m left", tone: "urgent" });
  });

  it("is paused with no due time, frozen at the business time left", () => {
    const paused = {
      ...running,
      first_response_due_at: null,
      resolution_due_at: null,
      resolution_left_s: 5 * 3600,
      paused: true,
      paused_since: "2026-01-01T11:00:00Z",
    };
    const s = slaClock("resolution", paused, NOW);
    expect(s).toMatchObject({ state: "paused", remainingMs: 5 * 3600_000 });
    // an hour later, still the same
    expect(slaClock("resolution", paused, NOW + 3600_000)).toMatchObject({ remainingMs: 5 * 3600_000 });
    expect(describeSla(s).text).toBe("Paused · 5h left");
  });

  it("on a calendar shows the business time left and when hours are closed", () => {
    const onCalendar = {
      ...running,
      calendar_id: "7f9c2c1e-0000-4000-8000-000000000001",
      resolution_due_at: "2026-01-05T10:00:00Z",
      resolution_left_s: 2 * 3600,
      outside_hours: true,
    };
    const s = slaClock("resolution", onCalendar, NOW);
    expect(s).toMatchObject({ state: "running", remainingMs: 2 * 3600_000, outsideHours: true });
    expect(describeSla(s)).toMatchObject({ text: "2h left · outside hours", tone: "paused" });
    const open = slaClock("resolution", { ...onCalendar, outside_hours: false }, NOW);
    expect(describeSla(open)).toMatchObject({ text: "2h left", tone: "running" });
    expect(describeSla(open).title).toContain("business time");
  });

  it("is breached when the server says so", () => {
    const s = slaClock("first_response", { ...running, first_response_due_at: "2026-01-01T11:30:00Z", first_response_breached: true }, NOW);
    expect(s).toMatchObject({ state: "breached", overdueMs: 30 * 60_000 });
    expect(describeSla(s)).toMatchObject({ text: "Breached · 30m over", tone: "breached" });
  });

  it("is breached once the due time passed, even before the worker marked it", () => {
    expect(slaClock("resolution", { ...running, resolution_due_at: "2026-01-01T11:59:00Z" }, NOW)).toMatchObject({
      state: "breached",
      overdueMs: 60_000,
    });
  });

  it("is met once responded / resolved", () => {
    expect(slaClock("first_response", { ...running, first_responded_at: "2026-01-01T11:10:00Z" }, NOW).state).toBe("met");
    expect(slaClock("resolution", running, NOW, { resolvedAt: "2026-01-01T11:50:00Z" }).state).toBe("met");
  });

  it("has no clock before acceptance, and a stopped one on closed tickets", () => {
    expect(slaClock("first_response", NO_SLA, NOW)).toEqual({ kind: "first_response", state: "none", stopped: false });
    expect(slaClock("resolution", running, NOW, { open: false })).toMatchObject({ state: "none", stopped: true });
  });

  it("the list summary shows the clock that matters", () => {
    expect(slaSummary(running, NOW).kind).toBe("first_response");
    expect(slaSummary({ ...running, first_responded_at: "2026-01-01T11:10:00Z" }, NOW).kind).toBe("resolution");
    expect(slaSummary({ ...running, resolution_breached: true }, NOW).state).toBe("breached");
  });
});
