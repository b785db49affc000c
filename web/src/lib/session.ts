/** Where each role lands, and the safe use of a ?next= return path. */
import type { Me, Role } from "../api/types";
import { isStaffRole } from "../api/types";
import { MY_OPEN_VIEW, viewPath } from "../api/views";

/** Agents land on their own open work ("My open"); managers and admins on the acceptance inbox. */
export function homeFor(role: Role): string {
  if (role === "agent") return viewPath(MY_OPEN_VIEW);
  return isStaffRole(role) ? "/desk/inbox" : "/portal";
}

/** The signed-in user's profile (inside their shell); `#two-factor` opens its two-factor part. */
export function profilePathFor(role: Role): string {
  return isStaffRole(role) ? "/desk/profile" : "/portal/profile";
}

export const TWO_FACTOR_HASH = "#two-factor";

export type Area = "portal" | "portal-admin" | "desk" | "desk-manager" | "admin";

export function mayEnter(user: Me, area: Area): boolean {
  switch (area) {
    case "portal":
      return !isStaffRole(user.role);
    case "portal-admin":
      return user.role === "customer_admin";
    case "desk":
      return isStaffRole(user.role);
    case "desk-manager":
      return user.role === "manager" || user.role === "admin";
    case "admin":
      return user.role === "admin";
  }
}

/** A same-site path from ?next=, or null (never an absolute or protocol-relative URL). */
export function safeNext(next: string | null): string | null {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return null;
  if (next.startsWith("/login")) return null;
  return next;
}

/** After sign in: the return path when this user may open it, else the role's home. */
export function landingAfterLogin(user: Me, next: string | null): string {
  const target = safeNext(next);
  if (target) {
    if (target.startsWith("/desk/admin")) return mayEnter(user, "admin") ? target : homeFor(user.role);
    if (target.startsWith("/desk/mail") || target.startsWith("/desk/audit")) return mayEnter(user, "desk-manager") ? target : homeFor(user.role);
    if (target.startsWith("/desk")) return mayEnter(user, "desk") ? target : homeFor(user.role);
    if (target.startsWith("/portal/users")) return mayEnter(user, "portal-admin") ? target : homeFor(user.role);
    if (target.startsWith("/portal")) return mayEnter(user, "portal") ? target : homeFor(user.role);
    return target === "/" ? homeFor(user.role) : target;
  }
  return homeFor(user.role);
}

export function loginPathFor(location: { pathname: string; search: string }): string {
  const here = location.pathname + location.search;
  if (here === "/" || here.startsWith("/login")) return "/login";
  return `/login?next=${encodeURIComponent(here)}`;
}
