import { useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import { useCalendars } from "../../api/calendars";
import { useOrgs } from "../../api/orgs";
import { useTeams } from "../../api/teams";
import { useAssignees } from "../../api/users";
import { useCreatePolicy, useDeletePolicy, useSlaPolicies, useUpdatePolicy } from "../../api/sla";
import { PRIORITIES, type Priority, type SlaPolicy } from "../../api/types";
import {
  Button,
  EmptyState,
  ErrorState,
  Modal,
  Panel,
  PRIORITY_LOOK,
  PriorityPill,
  SelectField,
  SkeletonRows,
  Table,
  TextField,
  formatMinutes,
  useDocumentTitle,
  type Column,
} from "../../atum";

export function AdminSlaPage() {
  useDocumentTitle("SLA policies");
  const policies = useSlaPolicies();
  const orgs = useOrgs();
  const remove = useDeletePolicy();
  const calendars = useCalendars();
  const calendarName = (id: string | null | undefined) =>
    id ? (calendars.data?.items.find((c) => c.id === id)?.name ?? "—") : "24/7";
  const [editing, setEditing] = useState<SlaPolicy | "new" | null>(null);
  const [deleting, setDeleting] = useState<SlaPolicy | null>(null);
  const orgName = (id: string | null) => (id ? (orgs.data?.items.find((o) => o.id === id)?.name ?? "—") : "Global default");
  const rows = [...(policies.data?.items ?? [])].sort(
    (a, b) => Number(a.org_id !== null) - Number(b.org_id !== null) || orgName(a.org_id).localeCompare(orgName(b.org_id)) || a.priority.localeCompare(b.priority),
  );

  const columns: Column<SlaPolicy>[] = [
    { key: "scope", header: "Applies to", rowHeader: true, cell: (p) => orgName(p.org_id) },
    { key: "priority", header: "Priority", cell: (p) => <PriorityPill priority={p.priority} /> },
    { key: "first", header: "First response", cell: (p) => <span className="tnum">{formatMinutes(p.first_response_minutes)}</span> },
    { key: "resolution", header: "Resolution", cell: (p) => <span className="tnum">{formatMinutes(p.resolution_minutes)}</span> },
    { key: "calendar", header: "Hours", hideOnMobile: true, cell: (p) => calendarName(p.calendar_id) },
    {
      key: "warn",
      header: "Warning",
      hideOnMobile: true,
      cell: (p) => (
        <span className="tnum">
          {p.warn_pct ?? 80} %{p.warn_minutes ? ` or ${formatMinutes(p.warn_minutes)} before` : ""}
        </span>
      ),
    },
    {
      key: "actions",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (p) => (
        <span className="atum-inline atum-inline--end">
          <Button size="sm" variant="ghost" onClick={() => setEditing(p)} aria-label={`Edit ${orgName(p.org_id)} ${p.priority}`}>
            Edit
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setDeleting(p)} aria-label={`Delete ${orgName(p.org_id)} ${p.priority}`}>
            Delete
          </Button>
        </span>
      ),
    },
  ];

  return (
    <Panel surface="content" padding="none">
      <div className="admin-toolbar">
        <p className="muted">A policy per organization and priority; the global default applies otherwise. Clocks count business minutes of the policy's calendar (an organization's own calendar first), around the clock without one.</p>
        <Button variant="primary" icon="plus" onClick={() => setEditing("new")}>
          New policy
        </Button>
      </div>
      {policies.isPending ? (
        <SkeletonRows rows={4} />
      ) : policies.isError ? (
        <div className="admin-pad">
          <ErrorState error={policies.error} onRetry={() => void policies.refetch()} />
        </div>
      ) : rows.length === 0 ? (
        <EmptyState icon="clock" title="No SLA policies" />
      ) : (
        <Table caption="SLA policies" captionHidden columns={columns} rows={rows} rowKey={(p) => p.id} />
      )}
      {editing ? <PolicyDialog policy={editing === "new" ? null : editing} onClose={() => setEditing(null)} /> : null}
      <Modal
        open={deleting !== null}
        onClose={() => setDeleting(null)}
        busy={remove.isPending}
        title="Delete this policy?"
        description={deleting ? `${orgName(deleting.org_id)} · ${deleting.priority}. Tickets already accepted keep their due times.` : undefined}
        footer={
          <>
            <Button variant="ghost" onClick={() => setDeleting(null)}>
              Cancel
            </Button>
            <Button variant="danger" busy={remove.isPending} onClick={() => deleting && remove.mutate(deleting.id, { onSuccess: () => setDeleting(null) })}>
              Delete policy
            </Button>
          </>
        }
      />
    </Panel>
  );
}

function PolicyDialog({ policy, onClose }: { policy: SlaPolicy | null; onClose: () => void }) {
  const create = useCreatePolicy();
  const update = useUpdatePolicy();
  const orgs = useOrgs();
  const [orgId, setOrgId] = useState(policy?.org_id ?? "");
  const [priority, setPriority] = useState<Priority>(policy?.priority ?? "P3");
  const [first, setFirst] = useState(String(policy?.first_response_minutes ?? 480));
  const [resolution, setResolution] = useState(String(policy?.resolution_minutes ?? 4320));
  const calendars = useCalendars();
  const teams = useTeams();
  const staff = useAssignees();
  const [calendarId, setCalendarId] = useState(policy?.calendar_id ?? "");
  const [warnPct, setWarnPct] = useState(String(policy?.warn_pct ?? 80));
  const [warnMinutes, setWarnMinutes] = useState(policy?.warn_minutes ? String(policy.warn_minutes) : "");
  const [escalateAfter, setEscalateAfter] = useState(policy?.escalate_after_minutes ? String(policy.escalate_after_minutes) : "");
  const [escalateUser, setEscalateUser] = useState(policy?.escalate_to_user_id ?? "");
  const [escalateTeam, setEscalateTeam] = useState(policy?.escalate_to_team_id ?? "");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const pending = create.isPending || update.isPending;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const f = Number(first);
    const r = Number(resolution);
    const pct = Number(warnPct);
    const wm = warnMinutes.trim() ? Number(warnMinutes) : null;
    const ea = escalateAfter.trim() ? Number(escalateAfter) : null;
    const found: Record<string, string> = {};
    const minutes = "A whole number of minutes above 0.";
    if (!Number.isInteger(f) || f <= 0) found.first_response_minutes = minutes;
    if (!Number.isInteger(r) || r <= 0) found.resolution_minutes = minutes;
    if (!Number.isInteger(pct) || pct < 1 || pct > 100) found.warn_pct = "A whole percentage from 1 to 100.";
    if (wm !== null && (!Number.isInteger(wm) || wm <= 0)) found.warn_minutes = `${minutes} Leave empty for none.`;
    if (ea !== null && (!Number.isInteger(ea) || ea <= 0)) found.escalate_after_minutes = `${minutes} Leave empty for none.`;
    else if (ea !== null && !escalateUser && !escalateTeam) found.escalate_after_minutes = "Choose whom to escalate to: a person, a team or both.";
    setErrors(found);
    if (Object.keys(found).length) return;
    const onError = (e: unknown) => e instanceof ApiError && setErrors(e.fieldErrors());
    const terms = {
      calendar_id: calendarId || null,
      warn_pct: pct,
      warn_minutes: wm,
      escalate_after_minutes: ea,
      escalate_to_user_id: escalateUser || null,
      escalate_to_team_id: escalateTeam || null,
    };
    if (policy) update.mutate({ id: policy.id, first_response_minutes: f, resolution_minutes: r, ...terms }, { onSuccess: onClose, onError });
    else create.mutate({ org_id: orgId || null, priority, first_response_minutes: f, resolution_minutes: r, ...terms }, { onSuccess: onClose, onError });
  };
  return (
    <Modal open onClose={onClose} busy={pending} size="lg" title={policy ? "Edit SLA policy" : "New SLA policy"}>
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <div className="atum-form__row">
          <SelectField label="Applies to" value={orgId} onChange={(e) => setOrgId(e.target.value)} disabled={Boolean(policy)}>
            <option value="">Global default</option>
            {orgs.data?.items.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </SelectField>
          <SelectField label="Priority" value={priority} onChange={(e) => setPriority(e.target.value as Priority)} disabled={Boolean(policy)}>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {p} — {PRIORITY_LOOK[p].label}
              </option>
            ))}
          </SelectField>
        </div>
        <div className="atum-form__row">
          <TextField
            label="First response (minutes)"
            type="number"
            min={1}
            inputMode="numeric"
            value={first}
            onChange={(e) => setFirst(e.target.value)}
            error={errors.first_response_minutes}
            hint={Number(first) > 0 ? formatMinutes(Number(first)) : undefined}
          />
          <TextField
            label="Resolution (minutes)"
            type="number"
            min={1}
            inputMode="numeric"
            value={resolution}
            onChange={(e) => setResolution(e.target.value)}
            error={errors.resolution_minutes}
            hint={Number(resolution) > 0 ? formatMinutes(Number(resolution)) : undefined}
          />
        </div>
        <SelectField
          label="Business hours"
          value={calendarId}
          onChange={(e) => setCalendarId(e.target.value)}
          error={errors.calendar_id}
          hint="The calendar the clocks run on. An organization's own calendar takes precedence."
        >
          <option value="">24/7 (around the clock)</option>
          {calendars.data?.items.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name} ({c.timezone})
            </option>
          ))}
        </SelectField>
        <div className="atum-form__row">
          <TextField
            label="Warn at (% of the target used)"
            type="number"
            min={1}
            max={100}
            inputMode="numeric"
            value={warnPct}
            onChange={(e) => setWarnPct(e.target.value)}
            error={errors.warn_pct}
          />
          <TextField
            label="Or warn minutes before due"
            type="number"
            min={1}
            inputMode="numeric"
            value={warnMinutes}
            onChange={(e) => setWarnMinutes(e.target.value)}
            error={errors.warn_minutes}
            hint="Optional; whichever comes first."
          />
        </div>
        <div className="atum-form__row">
          <TextField
            label="Escalate after breach (minutes)"
            type="number"
            min={1}
            inputMode="numeric"
            value={escalateAfter}
            onChange={(e) => setEscalateAfter(e.target.value)}
            error={errors.escalate_after_minutes}
            hint="Optional: business minutes after a breach."
          />
          <SelectField label="Escalate to person" value={escalateUser} onChange={(e) => setEscalateUser(e.target.value)} error={errors.escalate_to_user_id}>
            <option value="">Nobody</option>
            {staff.people.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </SelectField>
          <SelectField label="Escalate to team" value={escalateTeam} onChange={(e) => setEscalateTeam(e.target.value)} error={errors.escalate_to_team_id}>
            <option value="">No team</option>
            {teams.data?.items.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </SelectField>
        </div>
        <div className="atum-form__actions">
          <Button variant="ghost" onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={pending}>
            {policy ? "Save policy" : "Create policy"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
