/** Small pieces the admin pages share (inside this feature only). */
import { Icon, type IconName } from "../../atum";

export function ActivePill({ active, on = "Active", off = "Inactive" }: { active: boolean; on?: string; off?: string }) {
  return (
    <span className={`atum-pill atum-pill--sm ${active ? "atum-status--resolved" : "atum-status--closed"}`}>
      {active ? on : off}
    </span>
  );
}

export type UserStatus = "invited" | "active" | "deactivated";

const USER_STATUS: Record<UserStatus, { label: string; tone: string; glyph: IconName }> = {
  invited: { label: "Invited", tone: "atum-status--waiting", glyph: "mail" },
  active: { label: "Active", tone: "atum-status--resolved", glyph: "checkCircle" },
  deactivated: { label: "Deactivated", tone: "atum-status--closed", glyph: "xCircle" },
};

/** An account's state: invited (no password chosen yet), active, or deactivated. */
export function UserStatusPill({ status }: { status: UserStatus }) {
  const look = USER_STATUS[status];
  return (
    <span className={`atum-pill atum-pill--sm ${look.tone}`}>
      <Icon name={look.glyph} size="sm" />
      <span>{look.label}</span>
    </span>
  );
}

/** Whether the user signs in with a second factor. */
export function TwoFactorPill({ enabled }: { enabled: boolean }) {
  return enabled ? (
    <span className="atum-pill atum-pill--sm atum-status--resolved">
      <Icon name="lock" size="sm" />
      <span>On</span>
    </span>
  ) : (
    <span className="faint">Off</span>
  );
}
