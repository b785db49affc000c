/** Dashboard numbers from a page of recent tickets (pure, tested). */
import type { Priority, StaffTicket, TicketStatus } from "../../api/types";

export const OPEN_STATUSES: TicketStatus[] = ["NEW", "ACCEPTED", "ASSIGNED", "IN_PROGRESS", "WAITING_CUSTOMER"];

export interface DayCount {
  day: string; // YYYY-MM-DD (UTC)
  created: number;
  resolved: number;
}

export interface DashboardStats {
  total: number;
  open: number;
  awaitingAcceptance: number;
  breachedOpen: number;
  resolvedLast7: number;
  byStatus: { status: TicketStatus; count: number }[];
  breachesByPriority: { priority: Priority; firstResponse: number; resolution: number }[];
  perDay: DayCount[];
}

function dayKey(iso: string | Date): string {
  const d = typeof iso === "string" ? new Date(iso) : iso;
  return d.toISOString().slice(0, 10);
}

export function dashboardStats(tickets: StaffTicket[], now: number, days = 14): DashboardStats {
  const open = tickets.filter((t) => OPEN_STATUSES.includes(t.status));
  const byStatus = OPEN_STATUSES.map((status) => ({ status, count: tickets.filter((t) => t.status === status).length }));
  const priorities: Priority[] = ["P1", "P2", "P3", "P4"];
  const breachesByPriority = priorities.map((priority) => ({
    priority,
    firstResponse: tickets.filter((t) => t.priority === priority && t.sla.first_response_breached).length,
    resolution: tickets.filter((t) => t.priority === priority && t.sla.resolution_breached).length,
  }));
  const perDay: DayCount[] = [];
  const index = new Map<string, DayCount>();
  for (let i = days - 1; i >= 0; i -= 1) {
    const key = dayKey(new Date(now - i * 86_400_000));
    const entry = { day: key, created: 0, resolved: 0 };
    perDay.push(entry);
    index.set(key, entry);
  }
  for (const t of tickets) {
    const c = index.get(dayKey(t.created_at));
    if (c) c.created += 1;
    if (t.resolved_at) {
      const r = index.get(dayKey(t.resolved_at));
      if (r) r.resolved += 1;
    }
  }
  const weekAgo = now - 7 * 86_400_000;
  return {
    total: tickets.length,
    open: open.length,
    awaitingAcceptance: tickets.filter((t) => t.status === "NEW").length,
    breachedOpen: open.filter((t) => t.sla.first_response_breached || t.sla.resolution_breached).length,
    resolvedLast7: tickets.filter((t) => t.resolved_at && new Date(t.resolved_at).getTime() >= weekAgo).length,
    byStatus,
    breachesByPriority,
    perDay,
  };
}
