/**
 * How ticket data is worded and formatted on screen (shared by portal and desk). No workflow
 * rules live here: what a user may do always comes from the API's `actions`.
 */
import type { Channel, Priority, Role, TicketStatus } from "../api/types";
import type { IconName } from "./components/Icon";

export interface StatusLook {
  /** Staff wording. */
  label: string;
  /** Customer wording (portal). */
  customerLabel: string;
  glyph: IconName;
  tone: string;
}

export const STATUS_LOOK: Record<TicketStatus, StatusLook> = {
  NEW: { label: "New", customerLabel: "Received", glyph: "spark", tone: "new" },
  ACCEPTED: { label: "Accepted", customerLabel: "Accepted by support", glyph: "checkCircle", tone: "accepted" },
  ASSIGNED: { label: "Assigned", customerLabel: "Being worked on", glyph: "user", tone: "assigned" },
  IN_PROGRESS: { label: "In progress", customerLabel: "Being worked on", glyph: "play", tone: "in-progress" },
  WAITING_CUSTOMER: {
    label: "Waiting on customer",
    customerLabel: "Waiting for you",
    glyph: "pauseCircle",
    tone: "waiting",
  },
  RESOLVED: { label: "Resolved", customerLabel: "Resolved", glyph: "check", tone: "resolved" },
  CLOSED: { label: "Closed", customerLabel: "Closed", glyph: "archive", tone: "closed" },
  CANCELLED: { label: "Cancelled", customerLabel: "Withdrawn or rejected", glyph: "xCircle", tone: "cancelled" },
};

export const PRIORITY_LOOK: Record<Priority, { label: string; level: number; hint: string }> = {
  P1: { label: "Critical", level: 4, hint: "Service down, no workaround" },
  P2: { label: "High", level: 3, hint: "Major impact, work is blocked" },
  P3: { label: "Normal", level: 2, hint: "Something is not working as it should" },
  P4: { label: "Low", level: 1, hint: "A question or a small request" },
};

/** How a ticket or a message reached the desk. */
export const CHANNEL_LOOK: Record<Channel, { label: string; via: string; glyph: IconName }> = {
  portal: { label: "Portal", via: "Via portal", glyph: "monitor" },
  email: { label: "E-mail", via: "Via e-mail", glyph: "mail" },
  phone: { label: "Phone", via: "Via phone", glyph: "phone" },
  api: { label: "API", via: "Via API", glyph: "code" },
};

export const ROLE_LABEL: Record<Role, string> = {
  customer_user: "Customer",
  customer_admin: "Customer admin",
  agent: "Agent",
  manager: "Manager",
  admin: "Administrator",
};

export function ticketNumber(n: number): string {
  return `#${n}`;
}

const dateTime = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
const dateOnly = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric" });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  return dateTime.format(new Date(iso));
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  return dateOnly.format(new Date(iso));
}

/** "3 min ago", "2 h ago", "5 days ago", then the date. */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "—";
  const diff = Math.round((now - new Date(iso).getTime()) / 1000);
  if (diff < 45) return "just now";
  const minutes = Math.round(diff / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 14) return `${days} day${days === 1 ? "" : "s"} ago`;
  return formatDate(iso);
}

/** A duration as "2d 4h", "3h 12m", "14m", "45s". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(Math.abs(ms) / 1000));
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Minutes as "30 min", "4 h", "1 day", "5 days" (SLA policies). */
export function formatMinutes(minutes: number): string {
  if (minutes % 1440 === 0) {
    const d = minutes / 1440;
    return `${d} day${d === 1 ? "" : "s"}`;
  }
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  if (minutes > 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  return `${minutes} min`;
}
