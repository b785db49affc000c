/** Short names for the generated schema types (the only place that spells the long paths). */
import type { components } from "./schema";

export type Schemas = components["schemas"];

export type Me = Schemas["Me"];
export type Role = Schemas["Role"];
export type TicketStatus = Schemas["TicketStatus"];
export type Priority = Schemas["Priority"];
export type PersonRef = Schemas["PersonRef"];

export type CustomerTicket = Schemas["CustomerTicket"];
export type CustomerTicketDetail = Schemas["CustomerTicketDetail"];
export type CustomerComment = Schemas["CustomerComment"];
export type CustomerAttachment = Schemas["CustomerAttachment"];
export type CustomerActions = Schemas["CustomerActions"];

export type StaffTicket = Schemas["StaffTicket"];
export type StaffTicketDetail = Schemas["StaffTicketDetail"];
export type StaffComment = Schemas["StaffComment"];
export type StaffAttachment = Schemas["StaffAttachment"];
export type StaffActions = Schemas["StaffActions"];
export type Sla = Schemas["Sla"];
export type AuditEntry = Schemas["AuditEntry"];

export type Channel = StaffTicket["channel"];
export type RefusedFile = Schemas["RefusedFile"];

export type Org = Schemas["OrgOut"];
export type OrgStatus = Schemas["OrgStatus"];
export type User = Schemas["UserOut"];
export type Service = Schemas["ServiceOut"];
export type SlaPolicy = Schemas["SlaPolicyOut"];
export type Team = Schemas["TeamOut"];

export type HeldMail = Schemas["HeldOut"];
export type QuarantinedMail = Schemas["QuarantinedOut"];
export type Bounce = Schemas["BounceOut"];
export type Mailbox = Schemas["MailboxOut"];
export type MailboxCreate = Schemas["MailboxCreate"];
export type MailboxUpdate = Schemas["MailboxUpdate"];

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export const TICKET_STATUSES: readonly TicketStatus[] = [
  "NEW",
  "ACCEPTED",
  "ASSIGNED",
  "IN_PROGRESS",
  "WAITING_CUSTOMER",
  "RESOLVED",
  "CLOSED",
  "CANCELLED",
];
export const PRIORITIES: readonly Priority[] = ["P1", "P2", "P3", "P4"];
export const STAFF_ROLES: readonly Role[] = ["agent", "manager", "admin"];
export const CUSTOMER_ROLES: readonly Role[] = ["customer_user", "customer_admin"];

export function isStaffRole(role: Role): boolean {
  return STAFF_ROLES.includes(role);
}
