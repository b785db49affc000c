import { useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import { useOrgs } from "../../api/orgs";
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
        <p className="muted">A policy per organization and priority; the global default applies otherwise. Clocks run in wall-clock minutes.</p>
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
  const [errors, setErrors] = useState<Record<string, string>>({});
  const pending = create.isPending || update.isPending;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const f = Number(first);
    const r = Number(resolution);
    const found: Record<string, string> = {};
    if (!Number.isInteger(f) || f <= 0) found.first_response_minutes = "A whole number of minutes above 0.";
    if (!Number.isInteger(r) || r <= 0) found.resolution_minutes = "A whole number of minutes above 0.";
    setErrors(found);
    if (Object.keys(found).length) return;
    const onError = (e: unknown) => e instanceof ApiError && setErrors(e.fieldErrors());
    if (policy) update.mutate({ id: policy.id, first_response_minutes: f, resolution_minutes: r }, { onSuccess: onClose, onError });
    else create.mutate({ org_id: orgId || null, priority, first_response_minutes: f, resolution_minutes: r }, { onSuccess: onClose, onError });
  };
  return (
    <Modal open onClose={onClose} busy={pending} title={policy ? "Edit SLA policy" : "New SLA policy"}>
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
