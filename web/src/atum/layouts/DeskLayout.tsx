import type { ReactNode } from "react";
import { HomeLink, NavList, SkipLink, UserBox, type NavItem, type ShellUser } from "./parts";

/** The desk: a glass sidebar shell around dense content. */
export function DeskLayout({
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
    <div className="atum-desk">
      <SkipLink />
      <header className="atum-desk__side">
        <div className="atum-desk__side-inner">
          <div className="atum-desk__brand">
            <HomeLink to="/desk/inbox" />
          </div>
          <NavList items={nav} label="Desk" variant="side" />
          <div className="atum-desk__user">
            <UserBox user={user} onSignOut={onSignOut} signingOut={signingOut} extra={userExtra} />
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="atum-desk__main">
        {children}
      </main>
    </div>
  );
}

/** Page heading row used by desk pages. */
export function PageHeader({ title, subtitle, actions, eyebrow }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode; eyebrow?: ReactNode }) {
  return (
    <div className="atum-page-head">
      <div className="atum-page-head__text">
        {eyebrow ? <div className="atum-page-head__eyebrow">{eyebrow}</div> : null}
        <h1 className="atum-page-head__title">{title}</h1>
        {subtitle ? <p className="atum-page-head__sub">{subtitle}</p> : null}
      </div>
      {actions ? <div className="atum-page-head__actions">{actions}</div> : null}
    </div>
  );
}
