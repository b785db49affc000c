/** Small pieces the admin pages share (inside this feature only). */
import { Icon, TextField, type IconName, type TextFieldProps } from "../../atum";

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

/** "Client secret" → "client secret"; an acronym ("IMAP password") stays as it is. */
function startLowercase(label: string): string {
  const [first = "", ...rest] = label.split(" ");
  return [first === first.toUpperCase() ? first : first.toLowerCase(), ...rest].join(" ");
}

/**
 * A secret the API never answers (a mailbox's or directory's password, a client secret): when
 * editing, left empty it keeps the stored one; the hint says whether one is stored.
 */
export function WriteOnlySecretField({
  label,
  editing,
  stored,
  noun = "password",
  newHint = "Stored encrypted; it is never shown again.",
  ...input
}: Omit<TextFieldProps, "label" | "type" | "hint"> & {
  label: string;
  editing: boolean;
  stored: boolean;
  noun?: "password" | "secret";
  newHint?: string;
}) {
  const hint = !editing
    ? newHint
    : stored
      ? `A ${noun} is stored. Leave empty to keep it.`
      : `No ${noun} is stored yet.`;
  return (
    <TextField
      {...input}
      label={editing ? `New ${startLowercase(label)}` : label}
      type="password"
      autoComplete="new-password"
      hint={hint}
    />
  );
}
