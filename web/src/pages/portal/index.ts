/** The customer portal (lazy-loaded as one chunk). */
export { NewTicketPage } from "./NewTicketPage";
export { PortalKbArticlePage } from "./PortalKbArticlePage";
export { PortalKbPage } from "./PortalKbPage";
export { PortalTicketPage } from "./PortalTicketPage";
export { PortalTicketsPage } from "./PortalTicketsPage";
export { PortalUsersPage } from "./PortalUsersPage";
