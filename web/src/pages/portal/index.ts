/** The customer portal (lazy-loaded as one chunk). */
export { NewTicketPage } from "./NewTicketPage";
export { PortalTicketPage } from "./PortalTicketPage";
export { PortalTicketsPage } from "./PortalTicketsPage";
export { PortalUsersPage } from "./PortalUsersPage";
