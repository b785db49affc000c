import type { TicketStatus } from "../../api/types";
import { customerTimeline, type TimelineTicket } from "./timeline";

const base: TimelineTicket = {
  status: "NEW",
  created_at: "2026-01-01T09:00:00Z",
  accepted_at: null,
  resolved_at: null,
  closed_at: null,
  updated_at: "2026-01-01T09:00:00Z",
};

function view(status: TicketStatus, extra: Partial<TimelineTicket> = {}) {
  return customerTimeline({ ...base, status, ...extra }).map((s) => `${s.label}:${s.state}`);
}

describe("customer status timeline", () => {
  it("NEW is Received", () => {
    expect(view("NEW")).toEqual([
      "Received:current",
      "Accepted by support:upcoming",
      "Being worked on:upcoming",
      "Resolved:upcoming",
      "Closed:upcoming",
    ]);
  });

  it("ACCEPTED is Accepted by support", () => {
    expect(view("ACCEPTED")[1]).toBe("Accepted by support:current");
  });

  it("ASSIGNED and IN_PROGRESS are both Being worked on", () => {
    for (const s of ["ASSIGNED", "IN_PROGRESS"] as const) {
      expect(view(s)).toEqual([
        "Received:done",
        "Accepted by support:done",
        "Being worked on:current",
        "Resolved:upcoming",
        "Closed:upcoming",
      ]);
    }
  });

  it("WAITING_CUSTOMER adds Waiting for you as the current step", () => {
    expect(view("WAITING_CUSTOMER")).toEqual([
      "Received:done",
      "Accepted by support:done",
      "Being worked on:done",
      "Waiting for you:current",
      "Resolved:upcoming",
      "Closed:upcoming",
    ]);
  });

  it("RESOLVED then CLOSED", () => {
    expect(view("RESOLVED").slice(-2)).toEqual(["Resolved:current", "Closed:upcoming"]);
    expect(view("CLOSED")).toEqual([
      "Received:done",
      "Accepted by support:done",
      "Being worked on:done",
      "Resolved:done",
      "Closed:current",
    ]);
  });

  it("CANCELLED is Withdrawn or rejected", () => {
    expect(view("CANCELLED")).toEqual(["Received:done", "Withdrawn or rejected:current"]);
  });

  it("carries the timestamps of the steps that happened", () => {
    const steps = customerTimeline({ ...base, status: "RESOLVED", accepted_at: "2026-01-01T10:00:00Z", resolved_at: "2026-01-02T10:00:00Z" });
    expect(steps.find((s) => s.key === "accepted")?.at).toBe("2026-01-01T10:00:00Z");
    expect(steps.find((s) => s.key === "resolved")?.at).toBe("2026-01-02T10:00:00Z");
  });
});
