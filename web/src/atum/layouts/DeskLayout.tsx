import type { ReactNode } from "react";
import { HomeLink, NavList, SkipLink, UserBox, type NavItem, type ShellUser } from "./parts";

/** The desk: a glass sidebar shell around dense content; *views* (saved views with their counts)
 * under the main navigation; *home* is where the brand links to. */
export function DeskLayout({
  nav,
  views,
  home = "/desk/inbox",
  user,
  onSignOut,
  signingOut,
  userExtra,
  children,
}: {
  nav: NavItem[];
  views?: { label: string; items: NavItem[] };
  home?: string;
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
            <HomeLink to={home} />
          </div>
          <div className="atum-desk__navs">
            <NavList items={nav} label="Desk" variant="side" />
            {views && views.items.length > 0 ? (
              <div className="atum-desk__views">
                <p className="atum-desk__nav-heading" aria-hidden="true">
                  {views.label}
                </p>
                <NavList items={views.items} label={views.label} variant="side" />
              </div>
            ) : null}
          </div>
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
