/** Administration (admin only; lazy-loaded as one chunk). */
export { AdminCalendarsPage } from "./AdminCalendarsPage";
export { AdminLayout } from "./AdminLayout";
export { AdminMailPage } from "./AdminMailPage";
export { AdminNotificationsPage } from "./AdminNotificationsPage";
export { AdminOrgsPage } from "./AdminOrgsPage";
export { AdminSecurityPage } from "./AdminSecurityPage";
export { AdminServicesPage } from "./AdminServicesPage";
export { AdminSlaPage } from "./AdminSlaPage";
export { AdminSsoPage } from "./AdminSsoPage";
export { AdminTagsPage } from "./AdminTagsPage";
export { AdminTeamsPage } from "./AdminTeamsPage";
export { AdminUsersPage } from "./AdminUsersPage";
