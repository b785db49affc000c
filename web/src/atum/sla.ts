/**
 * The state of one SLA clock for display, from the API's `sla` object and a given "now".
 * Pure: the chip passes the current time, tests pass a fixed one.
 *
 * Clocks count business time (the ticket's calendar; none = around the clock). Around the clock,
 * the time left ticks down to the stored due time. On a calendar the server answers the business
 * time left (`*_left_s`) as of the response, and whether the calendar is closed right now
 * (`outside_hours`); the chip shows those until the ticket is read again. While paused there is
 * no due time: the time left is frozen.
 */
import type { Sla } from "../api/types";

export type SlaClockKind = "first_response" | "resolution";

export type SlaClockState =
  | { kind: SlaClockKind; state: "none"; stopped: boolean }
  | { kind: SlaClockKind; state: "met"; at: string | null }
  | {
      kind: SlaClockKind;
      state: "running";
      remainingMs: number;
      dueAt: string;
      urgent: boolean;
      outsideHours: boolean;
      businessHours: boolean;
    }
  | { kind: SlaClockKind; state: "paused"; remainingMs: number | null; since: string | null }
  | { kind: SlaClockKind; state: "breached"; overdueMs: number; dueAt: string | null };

/** Under this much time left a running clock is shown as urgent. */
export const URGENT_MS = 30 * 60 * 1000;

export interface SlaContext {
  /** When the ticket was resolved (resolution clock is met then). */
  resolvedAt?: string | null;
  /** False for tickets that are no longer worked (closed, cancelled): clocks have stopped. */
  open?: boolean;
}

export function slaClock(kind: SlaClockKind, sla: Sla, now: number, context: SlaContext = {}): SlaClockState {
  const dueAt = kind === "first_response" ? sla.first_response_due_at : sla.resolution_due_at;
  const breached = kind === "first_response" ? sla.first_response_breached : sla.resolution_breached;
  const metAt = kind === "first_response" ? sla.first_responded_at : (context.resolvedAt ?? null);
  const leftS = (kind === "first_response" ? sla.first_response_left_s : sla.resolution_left_s) ?? null;

  if (metAt && !breached) return { kind, state: "met", at: metAt };
  if (breached) {
    const reference = metAt ? new Date(metAt).getTime() : now;
    const overdueMs = dueAt
      ? Math.max(0, reference - new Date(dueAt).getTime())
      : leftS !== null && leftS < 0
        ? -leftS * 1000
        : 0;
    return { kind, state: "breached", overdueMs, dueAt };
  }
  if (context.open === false) return { kind, state: "none", stopped: true };
  if (sla.paused && leftS !== null) {
    return { kind, state: "paused", remainingMs: Math.max(0, leftS * 1000), since: sla.paused_since };
  }
  if (!dueAt) return { kind, state: "none", stopped: false };

  const due = new Date(dueAt).getTime();
  if (due <= now) return { kind, state: "breached", overdueMs: now - due, dueAt };
  const businessHours = Boolean(sla.calendar_id) && leftS !== null;
  const remainingMs = businessHours ? Math.max(0, (leftS as number) * 1000) : due - now;
  return {
    kind,
    state: "running",
    remainingMs,
    dueAt,
    urgent: remainingMs <= URGENT_MS,
    outsideHours: Boolean(sla.outside_hours),
    businessHours,
  };
}

/** Which clock a one-chip summary (ticket lists) should show. */
export function slaSummary(sla: Sla, now: number, context: SlaContext = {}): SlaClockState {
  const first = slaClock("first_response", sla, now, context);
  const resolution = slaClock("resolution", sla, now, context);
  if (first.state === "breached") return first;
  if (resolution.state === "breached") return resolution;
  if (first.state === "running" || first.state === "paused") return first;
  return resolution;
}

export function isBreached(sla: Sla): boolean {
  return sla.first_response_breached || sla.resolution_breached;
}
