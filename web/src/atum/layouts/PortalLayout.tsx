import type { ReactNode } from "react";
import { HomeLink, NavList, SkipLink, UserBox, type NavItem, type ShellUser } from "./parts";

/** The customer portal: friendly, lighter density, one column. */
export function PortalLayout({
  nav,
  user,
  onSignOut,
  signingOut,
  userExtra,
  children,
}: {
  nav: NavItem[];
  user: ShellUser;
  onSignOut: () => void;
  signingOut?: boolean;
  userExtra?: ReactNode;
  children: ReactNode;
}) {
  return (
    <div className="atum-portal">
      <SkipLink />
      <header className="atum-topbar atum-topbar--portal">
        <div className="atum-topbar__inner">
          <HomeLink to="/portal" sub="Portal" />
          <NavList items={nav} label="Portal" variant="top" />
          <UserBox user={user} onSignOut={onSignOut} signingOut={signingOut} extra={userExtra} />
        </div>
      </header>
      <main id="main" tabIndex={-1} className="atum-portal__main">
        {children}
      </main>
    </div>
  );
}
