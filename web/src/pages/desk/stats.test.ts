import { auditDetail } from "./AuditTrail";
import { staffTicket, NO_SLA } from "../../test/fixtures";
import { dashboardStats } from "./stats";

describe("dashboard numbers", () => {
  it("counts open, breached and per-day created/resolved", () => {
    const now = Date.parse("2026-01-10T12:00:00Z");
    const tickets = [
      staffTicket({ id: "1", status: "NEW", created_at: "2026-01-10T08:00:00Z" }),
      staffTicket({ id: "2", status: "IN_PROGRESS", priority: "P1", created_at: "2026-01-09T08:00:00Z", sla: { ...NO_SLA, resolution_breached: true } }),
      staffTicket({ id: "3", status: "RESOLVED", created_at: "2026-01-09T08:00:00Z", resolved_at: "2026-01-10T09:00:00Z" }),
      staffTicket({ id: "4", status: "CLOSED", created_at: "2025-11-01T08:00:00Z", resolved_at: "2025-11-02T08:00:00Z" }),
    ];
    const s = dashboardStats(tickets, now, 3);
    expect(s.open).toBe(2);
    expect(s.awaitingAcceptance).toBe(1);
    expect(s.breachedOpen).toBe(1);
    expect(s.resolvedLast7).toBe(1);
    expect(s.byStatus.find((b) => b.status === "IN_PROGRESS")?.count).toBe(1);
    expect(s.breachesByPriority.find((b) => b.priority === "P1")).toEqual({ priority: "P1", firstResponse: 0, resolution: 1 });
    expect(s.perDay).toEqual([
      { day: "2026-01-08", created: 0, resolved: 0 },
      { day: "2026-01-09", created: 2, resolved: 0 },
      { day: "2026-01-10", created: 1, resolved: 1 },
    ]);
  });
});


describe("audit trail wording", () => {
  it("names fields, people and times instead of raw ids", () => {
    const names = { "b3304a2b-df10-4834-952a-423c7b40d526": "Arun Agent" };
    expect(
      auditDetail(
        {
          old_value: { status: "ACCEPTED", assigned_to: null },
          new_value: { status: "ASSIGNED", assigned_to: "b3304a2b-df10-4834-952a-423c7b40d526", is_internal: false },
        },
        names,
      ),
    ).toBe("Status: ACCEPTED → ASSIGNED · Assignee: — → Arun Agent");
    expect(auditDetail({ old_value: null, new_value: { is_internal: true } })).toBe("");
  });
});
