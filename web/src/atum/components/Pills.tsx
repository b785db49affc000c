import type { Channel, Priority, TicketStatus } from "../../api/types";
import { CHANNEL_LOOK, PRIORITY_LOOK, STATUS_LOOK } from "../domain";
import { Icon } from "./Icon";

export interface StatusPillProps {
  status: TicketStatus;
  /** Customer wording in the portal. */
  audience?: "staff" | "customer";
  size?: "sm" | "md";
}

/** Ticket status: glyph + label, never colour alone. */
export function StatusPill({ status, audience = "staff", size = "sm" }: StatusPillProps) {
  const look = STATUS_LOOK[status];
  const label = audience === "customer" ? look.customerLabel : look.label;
  return (
    <span className={`atum-pill atum-pill--${size} atum-status atum-status--${look.tone}`} data-status={status}>
      <Icon name={look.glyph} size="sm" />
      <span>{label}</span>
    </span>
  );
}

/** Priority: signal bars + "P1 Critical". */
export function PriorityPill({ priority, size = "sm" }: { priority: Priority; size?: "sm" | "md" }) {
  const look = PRIORITY_LOOK[priority];
  return (
    <span className={`atum-pill atum-pill--${size} atum-priority atum-priority--${priority.toLowerCase()}`} data-priority={priority}>
      <svg className="atum-priority__bars" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
        {[0, 1, 2, 3].map((i) => (
          <rect
            key={i}
            x={1 + i * 4}
            y={12 - i * 3.5}
            width="2.6"
            height={3 + i * 3.5}
            rx="0.8"
            className={i < look.level ? "atum-priority__bar--on" : "atum-priority__bar--off"}
          />
        ))}
      </svg>
      <span>
        <span className="tnum">{priority}</span> {look.label}
      </span>
    </span>
  );
}

/** The marker every internal item carries: lock glyph + "Internal". */
export function InternalBadge() {
  return (
    <span className="atum-pill atum-pill--sm atum-internal-badge">
      <Icon name="lock" size="sm" />
      <span>Internal</span>
    </span>
  );
}

/**
 * Where a ticket or message came from: glyph + "Via e-mail". `compact` (dense lists) shows the
 * glyph alone, still named for assistive tech and in a tooltip.
 */
export function ChannelBadge({ channel, size = "sm", compact }: { channel: Channel; size?: "sm" | "md"; compact?: boolean }) {
  const look = CHANNEL_LOOK[channel] ?? CHANNEL_LOOK.portal;
  if (compact) {
    return (
      <span className={`atum-channel atum-channel--compact atum-channel--${channel}`} data-channel={channel} title={look.via}>
        <Icon name={look.glyph} size="sm" label={look.via} />
      </span>
    );
  }
  return (
    <span className={`atum-pill atum-pill--${size} atum-channel atum-channel--${channel}`} data-channel={channel}>
      <Icon name={look.glyph} size="sm" />
      <span>{look.via}</span>
    </span>
  );
}

/** A mail the desk recognised as automatic (an out-of-office, a bounce): kept as an internal note. */
export function AutomaticBadge() {
  return (
    <span className="atum-pill atum-pill--sm atum-auto-badge">
      <Icon name="mail" size="sm" />
      <span>Automatic mail</span>
    </span>
  );
}
