/**
 * Routes. Landing and sign-in are in the first bundle; the portal, the desk and the admin
 * pages are split out with React.lazy so the initial JS stays small.
 */
import { lazy, Suspense, type ComponentType, type ReactNode } from "react";
import { createBrowserRouter, Navigate, type RouteObject } from "react-router";
import { Loading } from "../atum";
import { LandingPage } from "../pages/landing/LandingPage";
import { LoginPage } from "../pages/auth/LoginPage";
import { useMe } from "../api/auth";
import { homeFor } from "../lib/session";
import { RequireArea } from "./guards";
import { NotFoundPage, RouteErrorPage } from "./pages";
import { DeskShell, PortalShell } from "./shells";

function lazyPage<M extends Record<string, unknown>>(load: () => Promise<M>, name: keyof M & string) {
  return lazy(async () => ({ default: (await load())[name] as ComponentType }));
}

const PortalTickets = lazyPage(() => import("../pages/portal"), "PortalTicketsPage");
const PortalNewTicket = lazyPage(() => import("../pages/portal"), "NewTicketPage");
const PortalTicket = lazyPage(() => import("../pages/portal"), "PortalTicketPage");
const PortalUsers = lazyPage(() => import("../pages/portal"), "PortalUsersPage");
const PortalKb = lazyPage(() => import("../pages/portal"), "PortalKbPage");
const PortalKbArticle = lazyPage(() => import("../pages/portal"), "PortalKbArticlePage");

const DeskInbox = lazyPage(() => import("../pages/desk"), "InboxPage");
const DeskTickets = lazyPage(() => import("../pages/desk"), "DeskTicketsPage");
const DeskTicket = lazyPage(() => import("../pages/desk"), "DeskTicketPage");
const DeskNewTicket = lazyPage(() => import("../pages/desk"), "NewDeskTicketPage");
const DeskDashboard = lazyPage(() => import("../pages/desk"), "DashboardPage");
const DeskKb = lazyPage(() => import("../pages/desk"), "KbPage");
const DeskHeldMail = lazyPage(() => import("../pages/desk"), "HeldMailPage");
const DeskAudit = lazyPage(() => import("../pages/desk"), "AuditPage");
const DeskReports = lazyPage(() => import("../pages/desk"), "ReportsPage");
const DeskReplies = lazyPage(() => import("../pages/desk"), "RepliesPage");

const Profile = lazyPage(() => import("../pages/account"), "ProfilePage");
const ForgotPassword = lazyPage(() => import("../pages/account"), "ForgotPasswordPage");
const ResetPassword = lazyPage(() => import("../pages/account"), "ResetPasswordPage");
const Welcome = lazyPage(() => import("../pages/account"), "WelcomePage");
const ConfirmEmail = lazyPage(() => import("../pages/account"), "ConfirmEmailPage");
const Csat = lazyPage(() => import("../pages/csat"), "CsatPage");
const LinkAccount = lazyPage(() => import("../pages/auth/LinkAccountPage"), "LinkAccountPage");

const AdminLayout = lazyPage(() => import("../pages/admin"), "AdminLayout");
const AdminOrgs = lazyPage(() => import("../pages/admin"), "AdminOrgsPage");
const AdminUsers = lazyPage(() => import("../pages/admin"), "AdminUsersPage");
const AdminSla = lazyPage(() => import("../pages/admin"), "AdminSlaPage");
const AdminCalendars = lazyPage(() => import("../pages/admin"), "AdminCalendarsPage");
const AdminServices = lazyPage(() => import("../pages/admin"), "AdminServicesPage");
const AdminNotifications = lazyPage(() => import("../pages/admin"), "AdminNotificationsPage");
const AdminMail = lazyPage(() => import("../pages/admin"), "AdminMailPage");
const AdminSecurity = lazyPage(() => import("../pages/admin"), "AdminSecurityPage");
const AdminTeams = lazyPage(() => import("../pages/admin"), "AdminTeamsPage");
const AdminTags = lazyPage(() => import("../pages/admin"), "AdminTagsPage");
const AdminSso = lazyPage(() => import("../pages/admin"), "AdminSsoPage");

function Page({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Loading label="Loading page" />}>{children}</Suspense>;
}

/** /desk: the signed-in staff member's start page (RequireArea has loaded the user). */
function DeskHome() {
  const me = useMe().data;
  return <Navigate to={me ? homeFor(me.role) : "/desk/inbox"} replace />;
}

const el = (C: ComponentType) => (
  <Page>
    <C />
  </Page>
);

export const routes: RouteObject[] = [
  {
    errorElement: <RouteErrorPage />,
    children: [
      { path: "/", element: <LandingPage /> },
      { path: "/login", element: <LoginPage /> },
      // A provider signed in someone whose e-mail address has an account here (token in the hash).
      { path: "/login/link", element: el(LinkAccount) },
      // Opened from mails; no session needed.
      { path: "/forgot-password", element: el(ForgotPassword) },
      { path: "/reset-password/:token", element: el(ResetPassword) },
      { path: "/welcome/:token", element: el(Welcome) },
      { path: "/confirm-email/:token", element: el(ConfirmEmail) },
      { path: "/csat/:token", element: el(Csat) },
      {
        path: "/portal",
        element: (
          <RequireArea area="portal">
            <PortalShell />
          </RequireArea>
        ),
        children: [
          { index: true, element: el(PortalTickets) },
          { path: "tickets", element: <Navigate to="/portal" replace /> },
          { path: "tickets/new", element: el(PortalNewTicket) },
          { path: "tickets/:id", element: el(PortalTicket) },
          { path: "kb", element: el(PortalKb) },
          { path: "kb/:id", element: el(PortalKbArticle) },
          { path: "profile", element: el(Profile) },
          {
            path: "users",
            element: (
              <RequireArea area="portal-admin" inline>
                {el(PortalUsers)}
              </RequireArea>
            ),
          },
          { path: "*", element: <NotFoundPage inline /> },
        ],
      },
      {
        path: "/desk",
        element: (
          <RequireArea area="desk">
            <DeskShell />
          </RequireArea>
        ),
        children: [
          // Agents start on "My open", managers and admins on the acceptance inbox.
          { index: true, element: <DeskHome /> },
          { path: "inbox", element: el(DeskInbox) },
          { path: "tickets", element: el(DeskTickets) },
          { path: "views/:viewId", element: el(DeskTickets) },
          { path: "tickets/new", element: el(DeskNewTicket) },
          { path: "tickets/:id", element: el(DeskTicket) },
          { path: "dashboard", element: el(DeskDashboard) },
          { path: "kb", element: el(DeskKb) },
          { path: "replies", element: el(DeskReplies) },
          { path: "profile", element: el(Profile) },
          { path: "mail", element: <Navigate to="/desk/mail/held" replace /> },
          {
            path: "mail/held",
            element: (
              <RequireArea area="desk-manager" inline>
                {el(DeskHeldMail)}
              </RequireArea>
            ),
          },
          {
            path: "audit",
            element: (
              <RequireArea area="desk-manager" inline>
                {el(DeskAudit)}
              </RequireArea>
            ),
          },
          {
            path: "reports",
            element: (
              <RequireArea area="desk-manager" inline>
                {el(DeskReports)}
              </RequireArea>
            ),
          },
          {
            path: "admin",
            element: (
              <RequireArea area="admin" inline>
                <Page>
                  <AdminLayout />
                </Page>
              </RequireArea>
            ),
            children: [
              { index: true, element: <Navigate to="/desk/admin/orgs" replace /> },
              { path: "orgs", element: el(AdminOrgs) },
              { path: "users", element: el(AdminUsers) },
              { path: "teams", element: el(AdminTeams) },
              { path: "tags", element: el(AdminTags) },
              { path: "sla", element: el(AdminSla) },
              { path: "calendars", element: el(AdminCalendars) },
              { path: "services", element: el(AdminServices) },
              { path: "notifications", element: el(AdminNotifications) },
              { path: "mail", element: el(AdminMail) },
              { path: "security", element: el(AdminSecurity) },
              { path: "sso", element: el(AdminSso) },
              { path: "*", element: <NotFoundPage inline /> },
            ],
          },
          { path: "*", element: <NotFoundPage inline /> },
        ],
      },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
];

export function createAppRouter() {
  return createBrowserRouter(routes);
}

