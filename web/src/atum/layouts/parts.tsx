import type { ReactNode } from "react";
import { Link, NavLink } from "react-router";
import { Button } from "../components/Button";
import { BrandLockup } from "../components/Brand";
import { Icon, type IconName } from "../components/Icon";

export interface NavItem {
  to: string;
  label: string;
  icon: IconName;
  end?: boolean;
  badge?: number | null;
  /** What the badge counts, for screen readers ("waiting" unless said). */
  badgeLabel?: string;
}

export interface ShellUser {
  name: string;
  detail: string;
}

export function SkipLink() {
  return (
    <a className="skip-link" href="#main">
      Skip to content
    </a>
  );
}

export function HomeLink({ to = "/", sub }: { to?: string; sub?: string }) {
  return (
    <Link to={to} className="atum-home-link" aria-label={sub ? `ATUM DESK ${sub} home` : "ATUM DESK home"}>
      <BrandLockup sub={sub} />
    </Link>
  );
}

export function NavList({ items, label, variant }: { items: NavItem[]; label: string; variant: "top" | "side" }) {
  return (
    <nav aria-label={label} className={`atum-nav atum-nav--${variant}`}>
      <ul>
        {items.map((item) => (
          <li key={item.to}>
            <NavLink to={item.to} end={item.end} className="atum-nav__link">
              <Icon name={item.icon} size="sm" />
              <span>{item.label}</span>
              {item.badge ? (
                <span className="atum-nav__badge tnum" aria-label={`${item.badge} ${item.badgeLabel ?? "waiting"}`}>
                  {item.badge}
                </span>
              ) : null}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function UserBox({
  user,
  onSignOut,
  signingOut,
  extra,
}: {
  user: ShellUser;
  onSignOut: () => void;
  signingOut?: boolean;
  extra?: ReactNode;
}) {
  return (
    <div className="atum-userbox">
      <span className="atum-avatar" aria-hidden="true">
        {initials(user.name)}
      </span>
      <span className="atum-userbox__text">
        <span className="atum-userbox__name">{user.name}</span>
        <span className="atum-userbox__detail">{user.detail}</span>
      </span>
      {extra}
      <Button size="sm" variant="ghost" icon="logout" onClick={onSignOut} busy={signingOut} className="atum-userbox__signout">
        <span className="atum-userbox__signout-text">Sign out</span>
      </Button>
    </div>
  );
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0]?.[0] ?? "?";
  const last = parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? "") : "";
  return (first + last).toUpperCase();
}

export function Footer({ children }: { children?: ReactNode }) {
  return (
    <footer className="atum-footer">
      <div className="atum-footer__inner">
        <BrandLockup />
        <p className="atum-footer__text">{children ?? "Self-hosted helpdesk. Your tickets stay on your server."}</p>
      </div>
    </footer>
  );
}
