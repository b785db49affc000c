import { useState } from "react";
import { auditExportUrl, useAuditLog, type AuditFilter } from "../../api/audit";
import { useOrgs } from "../../api/orgs";
import type { AuditEntry, User } from "../../api/types";
import { useUsers } from "../../api/users";
import {
  Button,
  EmptyState,
  ErrorState,
  Icon,
  PageHeader,
  Panel,
  SelectField,
  SkeletonRows,
  Table,
  TextField,
  formatDateTime,
  useDocumentTitle,
  type Column,
} from "../../atum";
import "./desk.css";

/** Every action the API writes to the audit trail (from `action="…"` in api/app). */
export const AUDIT_ACTIONS = [
  "attachment.downloaded",
  "attachment.uploaded",
  "audit.exported",
  "auth.break_glass",
  "auth.login",
  "auth.login_failed",
  "auth.logout",
  "auth.mfa_enrolled",
  "auth.mfa_failed",
  "auth.mfa_removed",
  "auth.password_changed",
  "auth.password_reset",
  "auth.password_reset_requested",
  "auth.recovery_code_used",
  "auth.session_revoked",
  "calendar.created",
  "calendar.deleted",
  "calendar.holidays_imported",
  "calendar.updated",
  "canned_reply.created",
  "canned_reply.deleted",
  "canned_reply.updated",
  "comment.created",
  "csat.submitted",
  "kb_article.created",
  "kb_article.deleted",
  "kb_article.updated",
  "macro.applied",
  "macro.created",
  "macro.deleted",
  "macro.updated",
  "mail.bounce_cleared",
  "mail.bounced",
  "mail.held",
  "mail.held_discarded",
  "mail.held_ticket",
  "mail.original_downloaded",
  "mail.received",
  "mail.retried",
  "mailbox.created",
  "mailbox.deleted",
  "mailbox.updated",
  "mfa.policy_updated",
  "notification.retried",
  "org.created",
  "org.updated",
  "report.exported",
  "sla.breached",
  "sla.warning",
  "sla.escalated",
  "sla_policy.created",
  "sla_policy.deleted",
  "sla_policy.updated",
  "sso.directory_synced",
  "sso.policy_updated",
  "sso.provider_created",
  "sso.provider_deleted",
  "sso.provider_updated",
  "tag.merged",
  "tag.renamed",
  "ticket.accepted",
  "ticket.assigned",
  "ticket.cc_changed",
  "ticket.created",
  "ticket.linked",
  "ticket.merged",
  "ticket.status_changed",
  "ticket.unlinked",
  "ticket.updated",
  "tickets.bulk",
  "user.created",
  "user.deactivated",
  "user.email_changed",
  "user.identity_approved",
  "user.identity_linked",
  "user.identity_unlinked",
  "user.invitation_accepted",
  "user.invited",
  "user.provisioned",
  "user.updated",
  "view.created",
  "view.deleted",
  "view.updated",
] as const;

export interface AuditForm {
  actorId: string;
  action: string;
  orgId: string;
  /** yyyy-mm-dd (the browser's local day), or "". */
  from: string;
  to: string;
}

const EMPTY: AuditForm = { actorId: "", action: "", orgId: "", from: "", to: "" };

/** Local midnight of a yyyy-mm-dd day, as an ISO instant; `days` later when given. */
function startOfDay(day: string, days = 0): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y!, m! - 1, d! + days).toISOString();
}

/** The form as API filters: "to" includes its whole day (the API's `until` is exclusive). */
export function toAuditFilter(form: AuditForm): AuditFilter {
  return {
    actor_id: form.actorId || undefined,
    action: form.action || undefined,
    org_id: form.orgId || undefined,
    since: form.from ? startOfDay(form.from) : undefined,
    until: form.to ? startOfDay(form.to, 1) : undefined,
  };
}

/** Staff members (the people whose actions are worth filtering by), by name. */
function useStaff() {
  const lists = [useUsers({ role: "agent" }), useUsers({ role: "manager" }), useUsers({ role: "admin" })];
  return lists.flatMap((l) => l.data?.items ?? []).sort((a: User, b: User) => a.name.localeCompare(b.name));
}

function compact(value: Record<string, unknown> | null | undefined): string {
  if (!value) return "";
  return Object.entries(value)
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(", ");
}

/** "old → new", or just one side when the other is empty. */
export function auditDetails(entry: Pick<AuditEntry, "old_value" | "new_value">): string {
  const before = compact(entry.old_value);
  const after = compact(entry.new_value);
  if (before && after) return `${before} → ${after}`;
  return before ? `${before} → (removed)` : after;
}

/** The whole audit trail, for managers and admins: filters, keyset pages and a CSV export. */
export function AuditPage() {
  useDocumentTitle("Audit trail");
  const staff = useStaff();
  const orgs = useOrgs();
  const [form, setForm] = useState<AuditForm>(EMPTY);
  const set = (patch: Partial<AuditForm>) => setForm((f) => ({ ...f, ...patch }));
  const badDates = Boolean(form.from && form.to && form.from > form.to);
  const filter = toAuditFilter(badDates ? { ...form, from: "", to: "" } : form);
  const log = useAuditLog(filter);
  const items = log.data?.pages.flatMap((p) => p.items) ?? [];
  const orgName = (id: string | null) => (id ? (orgs.data?.items.find((o) => o.id === id)?.name ?? null) : null);

  const columns: Column<AuditEntry>[] = [
    { key: "time", header: "Time", cell: (e) => <time dateTime={e.created_at}>{formatDateTime(e.created_at)}</time> },
    { key: "actor", header: "Actor", cell: (e) => e.actor_name ?? <span className="faint">System</span> },
    { key: "action", header: "Action", rowHeader: true, cell: (e) => <code>{e.action}</code> },
    {
      key: "target",
      header: "Target",
      hideOnMobile: true,
      cell: (e) => (
        <span className="desk-audit__target">
          <span>{e.entity_type}</span>
          {orgName(e.org_id) ? <span className="desk-audit__meta">{orgName(e.org_id)}</span> : null}
        </span>
      ),
    },
    { key: "details", header: "Details", cell: (e) => <span className="desk-audit__details">{auditDetails(e)}</span> },
  ];

  return (
    <>
      <PageHeader
        title="Audit trail"
        subtitle="Every recorded action across the desk, newest first. The export is recorded too."
        actions={
          <a className="atum-btn atum-btn--secondary atum-btn--md" href={auditExportUrl(filter)} download>
            <Icon name="download" size="sm" />
            Export CSV
          </a>
        }
      />
      <Panel surface="content" padding="none">
        <div className="desk-filters">
          <SelectField label="Actor" value={form.actorId} onChange={(e) => set({ actorId: e.target.value })}>
            <option value="">Anyone</option>
            {staff.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name} ({u.email})
              </option>
            ))}
          </SelectField>
          <SelectField label="Action" value={form.action} onChange={(e) => set({ action: e.target.value })}>
            <option value="">Any action</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </SelectField>
          <SelectField label="Organization" value={form.orgId} onChange={(e) => set({ orgId: e.target.value })}>
            <option value="">Any organization</option>
            {orgs.data?.items.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </SelectField>
          <TextField label="From" type="date" value={form.from} onChange={(e) => set({ from: e.target.value })} />
          <TextField
            label="To"
            type="date"
            value={form.to}
            onChange={(e) => set({ to: e.target.value })}
            error={badDates ? "The end is before the start." : undefined}
          />
          <Button variant="ghost" onClick={() => setForm(EMPTY)}>
            Clear filters
          </Button>
        </div>
        {log.isPending ? (
          <SkeletonRows rows={5} />
        ) : log.isError ? (
          <div className="desk-pad">
            <ErrorState error={log.error} onRetry={() => void log.refetch()} />
          </div>
        ) : items.length === 0 ? (
          <EmptyState icon="history" title="No entries match" />
        ) : (
          <>
            <Table caption="Audit entries" captionHidden columns={columns} rows={items} rowKey={(e) => e.id} dense />
            {log.hasNextPage ? (
              <div className="atum-load-more">
                <Button onClick={() => void log.fetchNextPage()} busy={log.isFetchingNextPage}>
                  Load more
                </Button>
              </div>
            ) : null}
          </>
        )}
      </Panel>
    </>
  );
}
