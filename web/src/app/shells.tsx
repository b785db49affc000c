/** The signed-in shells: layout + navigation for the user's role, + sign out. */
import { Outlet, useNavigate } from "react-router";
import { useLogout, useMe } from "../api/auth";
import { useNewQueue } from "../api/internal";
import type { Me } from "../api/types";
import { PreferencesButton } from "./PreferencesButton";
import { DeskLayout, PortalLayout, ROLE_LABEL, type NavItem } from "../atum";

function useSignOut() {
  const logout = useLogout();
  const navigate = useNavigate();
  return {
    signOut: () => logout.mutate(undefined, { onSettled: () => void navigate("/", { replace: true }) }),
    signingOut: logout.isPending,
  };
}

function shellUser(me: Me) {
  return { name: me.name, detail: me.org_name ? `${ROLE_LABEL[me.role]} · ${me.org_name}` : ROLE_LABEL[me.role] };
}

export function PortalShell() {
  // Tolerates a missing user for one render (sign out / 401 clear the cache before leaving).
  const me = useMe().data;
  const { signOut, signingOut } = useSignOut();
  if (!me) return null;
  const nav: NavItem[] = [
    { to: "/portal", label: "My tickets", icon: "ticket", end: true },
    { to: "/portal/tickets/new", label: "New ticket", icon: "plus" },
  ];
  if (me.role === "customer_admin") nav.push({ to: "/portal/users", label: "Users", icon: "users" });
  return (
    <PortalLayout nav={nav} user={shellUser(me)} onSignOut={signOut} signingOut={signingOut} userExtra={<PreferencesButton />}>
      <Outlet />
    </PortalLayout>
  );
}

export function DeskShell() {
  const me = useMe().data;
  const { signOut, signingOut } = useSignOut();
  const queue = useNewQueue();
  if (!me) return null;
  const first = queue.data?.pages[0];
  const waiting = first ? first.items.length : null;
  const nav: NavItem[] = [
    { to: "/desk/inbox", label: "Inbox", icon: "inbox", badge: waiting },
    { to: "/desk/tickets", label: "Tickets", icon: "ticket" },
    { to: "/desk/dashboard", label: "Dashboard", icon: "dashboard" },
    { to: "/desk/kb", label: "Knowledge base", icon: "file" },
  ];
  // Held mail waits for a manager; the API checks the role again.
  if (me.role === "manager" || me.role === "admin") nav.push({ to: "/desk/mail/held", label: "Held mail", icon: "mail" });
  if (me.role === "admin") nav.push({ to: "/desk/admin", label: "Admin", icon: "settings" });
  return (
    <DeskLayout nav={nav} user={shellUser(me)} onSignOut={signOut} signingOut={signingOut} userExtra={<PreferencesButton />}>
      <Outlet />
    </DeskLayout>
  );
}
