/**
 * What the desk ticket page offers, read from the server's `actions` ONLY. The workflow rules
 * (who may do what, from which state) live in the API; this file just names the buttons.
 */
import type { StaffActions, TicketStatus } from "../../api/types";

export interface TransitionControl {
  to: TicketStatus;
  label: string;
  /** A dialog collects required fields first (resolution + root cause; a reason). */
  dialog: "resolve" | "reject" | null;
  variant: "primary" | "secondary" | "danger";
}

export function transitionLabel(from: TicketStatus, to: TicketStatus): string {
  switch (to) {
    case "IN_PROGRESS":
      return from === "RESOLVED" ? "Reopen" : from === "WAITING_CUSTOMER" ? "Resume work" : "Start work";
    case "WAITING_CUSTOMER":
      return "Wait for customer";
    case "RESOLVED":
      return "Resolve";
    case "CLOSED":
      return "Close ticket";
    case "CANCELLED":
      return "Reject";
    case "ACCEPTED":
      return "Accept";
    case "ASSIGNED":
      return "Mark assigned";
    case "NEW":
      return "Back to new";
  }
}

export function transitionControls(status: TicketStatus, actions: StaffActions): TransitionControl[] {
  return actions.transitions.map((to) => ({
    to,
    label: transitionLabel(status, to),
    dialog: to === "RESOLVED" ? "resolve" : to === "CANCELLED" ? "reject" : null,
    variant: to === "RESOLVED" || to === "CLOSED" ? "primary" : to === "CANCELLED" ? "danger" : "secondary",
  }));
}

export type ComposerMode = "public" | "internal";

/** The composer modes the user may use now, public first. */
export function composerModes(actions: StaffActions): ComposerMode[] {
  const modes: ComposerMode[] = [];
  if (actions.reply) modes.push("public");
  if (actions.note) modes.push("internal");
  return modes;
}

const AUDIT_LABEL: Record<string, string> = {
  "ticket.created": "Ticket created",
  "ticket.accepted": "Accepted",
  "ticket.assigned": "Assigned",
  "ticket.status_changed": "Status changed",
  "ticket.updated": "Ticket updated",
  "comment.created": "Comment added",
  "attachment.uploaded": "Attachment uploaded",
  "attachment.downloaded": "Attachment downloaded",
  "sla.breached": "SLA breached",
};

export function auditLabel(action: string): string {
  return AUDIT_LABEL[action] ?? action;
}
