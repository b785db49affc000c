import { NavLink, Outlet } from "react-router";
import { PageHeader } from "../../atum";
import "./admin.css";

const SECTIONS = [
  { to: "/desk/admin/orgs", label: "Organizations" },
  { to: "/desk/admin/users", label: "Users" },
  { to: "/desk/admin/teams", label: "Teams" },
  { to: "/desk/admin/tags", label: "Tags" },
  { to: "/desk/admin/sla", label: "SLA policies" },
  { to: "/desk/admin/calendars", label: "Business hours" },
  { to: "/desk/admin/services", label: "Services" },
  { to: "/desk/admin/notifications", label: "Notifications" },
  { to: "/desk/admin/mail", label: "Mail" },
  { to: "/desk/admin/security", label: "Security" },
  { to: "/desk/admin/sso", label: "Sign-in & SSO" },
];

export function AdminLayout() {
  return (
    <>
      <PageHeader title="Administration" subtitle="Organizations, people, teams, ticket tags, SLA policies and business hours, the service catalogue, outgoing mail, the mailboxes the desk reads, two-factor sign-in, and single sign-on." />
      <nav aria-label="Administration" className="admin-nav">
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.to}>
              <NavLink to={s.to} className="admin-nav__link">
                {s.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <Outlet />
    </>
  );
}
