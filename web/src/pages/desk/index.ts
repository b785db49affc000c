/** The desk (lazy-loaded as one chunk). */
export { DashboardPage } from "./DashboardPage";
export { DeskTicketPage } from "./DeskTicketPage";
export { DeskTicketsPage } from "./DeskTicketsPage";
export { NewDeskTicketPage } from "./NewDeskTicketPage";
export { HeldMailPage } from "./HeldMailPage";
export { InboxPage } from "./InboxPage";
export { KbPage } from "./KbPage";
export { AuditPage } from "./AuditPage";
export { ReportsPage } from "./ReportsPage";
export { RepliesPage } from "./RepliesPage";
