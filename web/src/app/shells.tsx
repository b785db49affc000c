/** The signed-in shells: layout + navigation for the user's role, + profile and sign out. */
import { Link, Navigate, NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { useLogout, useMe, useMfaNotice, type MfaNotice } from "../api/auth";
import { useNewQueue } from "../api/internal";
import { useViews, viewPath } from "../api/views";
import { ShortcutsHelp } from "./ShortcutsHelp";
import type { Me } from "../api/types";
import { PreferencesButton } from "./PreferencesButton";
import { useLiveUpdates } from "../lib/live";
import { Banner, DeskLayout, formatDateTime, Icon, PortalLayout, ROLE_LABEL, type NavItem } from "../atum";
import { homeFor, profilePathFor, TWO_FACTOR_HASH } from "../lib/session";
import "./shells.css";

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

/** The user box's link to the profile (next to the notification bell). */
function ProfileLink({ me }: { me: Me }) {
  return (
    <NavLink
      to={profilePathFor(me.role)}
      className="atum-icon-btn shell-profile-link"
      aria-label="Your profile and security"
      title="Your profile and security"
    >
      <Icon name="user" />
    </NavLink>
  );
}

/**
 * The role requires a second factor: a banner until it is set up (on every page but the profile,
 * which says it itself); once the grace period is over, the profile is the only page there is.
 */
function useTwoFactorGate(me: Me | null | undefined): { notice: MfaNotice | null; redirect: string | null; onProfile: boolean } {
  const notice = useMfaNotice();
  const location = useLocation();
  const profile = me ? profilePathFor(me.role) : null;
  const onProfile = profile !== null && location.pathname === profile;
  const redirect = notice?.restricted && profile && !onProfile ? profile + TWO_FACTOR_HASH : null;
  return { notice, redirect, onProfile };
}

function TwoFactorBanner({ me, notice }: { me: Me; notice: MfaNotice }) {
  if (!notice.setupRequired || notice.restricted) return null;
  if (notice.graceUntil && new Date(notice.graceUntil).getTime() < Date.now()) return null;
  return (
    <div className="shell-notice">
      <Banner tone="warning" icon="shield">
        Your role requires two-factor sign-in.{" "}
        {notice.graceUntil ? `Set it up before ${formatDateTime(notice.graceUntil)}; after that you can only sign in to set it up. ` : null}
        <Link to={profilePathFor(me.role) + TWO_FACTOR_HASH}>Set up two-factor sign-in</Link>
      </Banner>
    </div>
  );
}

export function PortalShell() {
  // Tolerates a missing user for one render (sign out / 401 clear the cache before leaving).
  const me = useMe().data;
  const { signOut, signingOut } = useSignOut();
  const gate = useTwoFactorGate(me);
  // One live-update stream per tab: ticket lists and pages refresh when something changes.
  useLiveUpdates(Boolean(me) && !gate.notice?.restricted, "portal");
  if (!me) return null;
  if (gate.redirect) return <Navigate to={gate.redirect} replace />;
  const nav: NavItem[] = [
    { to: "/portal", label: "Tickets", icon: "ticket", end: true },
    { to: "/portal/tickets/new", label: "New ticket", icon: "plus" },
    { to: "/portal/kb", label: "Help articles", icon: "file" },
  ];
  if (me.role === "customer_admin") nav.push({ to: "/portal/users", label: "Users", icon: "users" });
  const restricted = Boolean(gate.notice?.restricted);
  return (
    <PortalLayout
      nav={restricted ? [] : nav}
      user={shellUser(me)}
      onSignOut={signOut}
      signingOut={signingOut}
      userExtra={
        <>
          <ProfileLink me={me} />
          {restricted ? null : <PreferencesButton />}
        </>
      }
    >
      {gate.notice && !gate.onProfile ? <TwoFactorBanner me={me} notice={gate.notice} /> : null}
      <Outlet />
    </PortalLayout>
  );
}

export function DeskShell() {
  const me = useMe().data;
  const { signOut, signingOut } = useSignOut();
  const gate = useTwoFactorGate(me);
  const restricted = Boolean(gate.notice?.restricted);
  const queue = useNewQueue(Boolean(me) && !restricted);
  useLiveUpdates(Boolean(me) && !restricted, "desk");
  const views = useViews(Boolean(me) && !restricted);
  if (!me) return null;
  if (gate.redirect) return <Navigate to={gate.redirect} replace />;
  const first = queue.data?.pages[0];
  const waiting = first ? first.items.length : null;
  const nav: NavItem[] = [
    { to: "/desk/inbox", label: "Inbox", icon: "inbox", badge: waiting },
    { to: "/desk/tickets", label: "Tickets", icon: "ticket" },
    { to: "/desk/dashboard", label: "Dashboard", icon: "dashboard" },
    { to: "/desk/kb", label: "Knowledge base", icon: "file" },
    { to: "/desk/replies", label: "Replies & macros", icon: "message" },
  ];
  // Held mail waits for a manager; the API checks the role again.
  if (me.role === "manager" || me.role === "admin") {
    nav.push({ to: "/desk/mail/held", label: "Held mail", icon: "mail" });
    nav.push({ to: "/desk/reports", label: "Reports", icon: "dashboard" });
    nav.push({ to: "/desk/audit", label: "Audit", icon: "history" });
  }
  if (me.role === "admin") nav.push({ to: "/desk/admin", label: "Admin", icon: "settings" });
  // The saved views with their live counts (refreshed whenever a ticket changes).
  const viewItems: NavItem[] = (views.data?.items ?? []).map((v) => ({
    to: viewPath(v.id),
    label: v.name,
    icon: v.builtin ? "list" : v.scope === "team" ? "users" : "user",
    badge: v.count,
    badgeLabel: v.count === 1 ? "ticket" : "tickets",
  }));
  return (
    <DeskLayout
      nav={restricted ? [] : nav}
      views={restricted ? undefined : { label: "Views", items: viewItems }}
      home={homeFor(me.role)}
      user={shellUser(me)}
      onSignOut={signOut}
      signingOut={signingOut}
      userExtra={
        <>
          <ProfileLink me={me} />
          {restricted ? null : <PreferencesButton />}
        </>
      }
    >
      {gate.notice && !gate.onProfile ? <TwoFactorBanner me={me} notice={gate.notice} /> : null}
      {restricted ? null : <ShortcutsHelp />}
      <Outlet />
    </DeskLayout>
  );
}
