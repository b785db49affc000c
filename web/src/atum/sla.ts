/**
 * The state of one SLA clock for display, from the API's `sla` object and a given "now".
 * Pure: the chip passes the current time, tests pass a fixed one.
 *
 * While paused the due times do not yet include the current pause (the server adds it when the
 * clock resumes), so the time left is frozen at `due - paused_since`.
 */
import type { Sla } from "../api/types";

export type SlaClockKind = "first_response" | "resolution";

export type SlaClockState =
  | { kind: SlaClockKind; state: "none"; stopped: boolean }
  | { kind: SlaClockKind; state: "met"; at: string | null }
  | { kind: SlaClockKind; state: "running"; remainingMs: number; dueAt: string; urgent: boolean }
  | { kind: SlaClockKind; state: "paused"; remainingMs: number; dueAt: string; since: string | null }
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

  if (metAt && !breached) return { kind, state: "met", at: metAt };
  if (breached) {
    const reference = metAt ? new Date(metAt).getTime() : now;
    const overdueMs = dueAt ? Math.max(0, reference - new Date(dueAt).getTime()) : 0;
    return { kind, state: "breached", overdueMs, dueAt };
  }
  if (!dueAt || context.open === false) return { kind, state: "none", stopped: Boolean(dueAt) };

  const due = new Date(dueAt).getTime();
  if (sla.paused) {
    const since = sla.paused_since ? new Date(sla.paused_since).getTime() : now;
    return { kind, state: "paused", remainingMs: Math.max(0, due - since), dueAt, since: sla.paused_since };
  }
  const remainingMs = due - now;
  if (remainingMs <= 0) return { kind, state: "breached", overdueMs: -remainingMs, dueAt };
  return { kind, state: "running", remainingMs, dueAt, urgent: remainingMs <= URGENT_MS };
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
