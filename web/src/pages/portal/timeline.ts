/**
 * The customer-facing status timeline. Customers see plain words, not workflow states:
 * NEW "Received" → ACCEPTED "Accepted by support" → ASSIGNED/IN_PROGRESS "Being worked on"
 * → WAITING_CUSTOMER "Waiting for you" → RESOLVED "Resolved" → CLOSED "Closed";
 * CANCELLED "Withdrawn or rejected". "Waiting for you" only appears while it is the case.
 */
import type { TicketStatus } from "../../api/types";

export type StepState = "done" | "current" | "upcoming";

export interface TimelineStep {
  key: "received" | "accepted" | "working" | "waiting" | "resolved" | "closed" | "cancelled";
  label: string;
  state: StepState;
  at: string | null;
}

export interface TimelineTicket {
  status: TicketStatus;
  created_at: string;
  accepted_at: string | null;
  resolved_at: string | null;
  closed_at: string | null;
  updated_at: string;
}

/** Index of the current step in the full chain (the waiting step sits between working and resolved). */
const POSITION: Record<TicketStatus, number> = {
  NEW: 0,
  ACCEPTED: 1,
  ASSIGNED: 2,
  IN_PROGRESS: 2,
  WAITING_CUSTOMER: 3,
  RESOLVED: 4,
  CLOSED: 5,
  CANCELLED: -1,
};

export function customerTimeline(ticket: TimelineTicket): TimelineStep[] {
  if (ticket.status === "CANCELLED") {
    return [
      { key: "received", label: "Received", state: "done", at: ticket.created_at },
      { key: "cancelled", label: "Withdrawn or rejected", state: "current", at: ticket.closed_at ?? ticket.updated_at },
    ];
  }
  const chain: Omit<TimelineStep, "state">[] = [
    { key: "received", label: "Received", at: ticket.created_at },
    { key: "accepted", label: "Accepted by support", at: ticket.accepted_at },
    { key: "working", label: "Being worked on", at: null },
    { key: "waiting", label: "Waiting for you", at: null },
    { key: "resolved", label: "Resolved", at: ticket.resolved_at },
    { key: "closed", label: "Closed", at: ticket.closed_at },
  ];
  const current = POSITION[ticket.status];
  return chain
    .map((step, index) => ({
      ...step,
      state: (index < current ? "done" : index === current ? "current" : "upcoming") as StepState,
    }))
    .filter((step) => step.key !== "waiting" || ticket.status === "WAITING_CUSTOMER");
}

/** The one-line "where is my ticket" sentence under the title. */
export function customerStatusSentence(status: TicketStatus): string {
  switch (status) {
    case "NEW":
      return "We have received your ticket. A support manager will review it shortly.";
    case "ACCEPTED":
      return "Support has accepted your ticket and is assigning it.";
    case "ASSIGNED":
    case "IN_PROGRESS":
      return "Your ticket is being worked on.";
    case "WAITING_CUSTOMER":
      return "Support is waiting for your answer. Reply below to continue.";
    case "RESOLVED":
      return "Your ticket is resolved. Reply if the problem is not solved and it will reopen.";
    case "CLOSED":
      return "This ticket is closed.";
    case "CANCELLED":
      return "This ticket was withdrawn or rejected.";
  }
}
