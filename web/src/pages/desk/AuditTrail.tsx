import { useAudit } from "../../api/internal";
import type { AuditEntry } from "../../api/types";
import { EmptyState, ErrorState, InternalBadge, Loading, formatDateTime } from "../../atum";
import { auditLabel } from "./controls";

const FIELD: Record<string, string> = {
  status: "Status",
  priority: "Priority",
  title: "Title",
  category: "Category",
  service_id: "Service",
  assigned_to: "Assignee",
  assigned_team_id: "Team",
  sla_first_response_due_at: "First response due",
  sla_resolution_due_at: "Resolution due",
  resolution: "Resolution",
  root_cause: "Root cause",
  reason: "Reason",
  file_name: "File",
  size_bytes: "Size",
  number: "Number",
};
const HIDDEN = new Set(["is_internal", "sha256", "comment_id", "ticket_id", "mime_type"]);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function formatAuditValue(value: unknown, names: Record<string, string>): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "string") {
    if (UUID.test(value)) return names[value] ?? `…${value.slice(-6)}`;
    if (ISO.test(value)) return formatDateTime(value);
    return value.length > 80 ? `${value.slice(0, 79)}…` : value;
  }
  if (typeof value === "object") return JSON.stringify(value).slice(0, 80);
  return String(value);
}

/** "Status: NEW → ACCEPTED · Resolution due: 26 Nov 2026, 12:52" from old/new values. */
export function auditDetail(entry: Pick<AuditEntry, "old_value" | "new_value">, names: Record<string, string> = {}): string {
  const oldV = (entry.old_value ?? {}) as Record<string, unknown>;
  const newV = (entry.new_value ?? {}) as Record<string, unknown>;
  const keys = Array.from(new Set([...Object.keys(oldV), ...Object.keys(newV)])).filter((k) => !HIDDEN.has(k));
  return keys
    .slice(0, 5)
    .map((k) => {
      const label = FIELD[k] ?? k.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
      const after = formatAuditValue(newV[k], names);
      return k in oldV ? `${label}: ${formatAuditValue(oldV[k], names)} → ${after}` : `${label}: ${after}`;
    })
    .join(" · ");
}

function isInternal(entry: AuditEntry): boolean {
  return Boolean((entry.new_value as { is_internal?: boolean } | null)?.is_internal);
}

/** Every audit entry about the ticket, its comments and attachments, oldest first. */
export function AuditTrail({ ticketId, names = {} }: { ticketId: string; names?: Record<string, string> }) {
  const audit = useAudit(ticketId, true);
  if (audit.isPending) return <Loading label="Loading the audit trail" />;
  if (audit.isError) return <ErrorState error={audit.error} onRetry={() => void audit.refetch()} />;
  if (audit.data.items.length === 0) return <EmptyState icon="history" title="No audit entries yet" />;
  return (
    <ol className="desk-audit" aria-label="Audit trail">
      {audit.data.items.map((e) => (
        <li key={e.id} className={["desk-audit__entry", isInternal(e) && "atum-internal"].filter(Boolean).join(" ")}>
          <time className="desk-audit__time tnum" dateTime={e.created_at}>
            {formatDateTime(e.created_at)}
          </time>
          <div className="desk-audit__main">
            <p className="desk-audit__line">
              <strong>{auditLabel(e.action)}</strong> <span className="muted">by {e.actor_name ?? "the system"}</span>
              {isInternal(e) ? <> <InternalBadge /></> : null}
            </p>
            {auditDetail(e, names) ? <p className="desk-audit__detail">{auditDetail(e, names)}</p> : null}
          </div>
          <code className="desk-audit__action">{e.action}</code>
        </li>
      ))}
    </ol>
  );
}
