import { useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import { useCreateOrg, useOrgs, useUpdateOrg } from "../../api/orgs";
import type { Org, OrgStatus } from "../../api/types";
import {
  Button,
  EmptyState,
  ErrorState,
  Modal,
  Panel,
  SelectField,
  SkeletonRows,
  Table,
  TextField,
  formatDate,
  useDebounced,
  useDocumentTitle,
  type Column,
} from "../../atum";
import { ActivePill } from "./shared";

export function AdminOrgsPage() {
  useDocumentTitle("Organizations");
  const [q, setQ] = useState("");
  const query = useDebounced(q.trim());
  const orgs = useOrgs(query);
  const [editing, setEditing] = useState<Org | "new" | null>(null);

  const columns: Column<Org>[] = [
    { key: "name", header: "Name", rowHeader: true, cell: (o) => o.name },
    { key: "status", header: "Status", cell: (o) => <ActivePill active={o.status === "active"} off="Suspended" /> },
    { key: "created", header: "Created", cell: (o) => formatDate(o.created_at), hideOnMobile: true },
    {
      key: "edit",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (o) => (
        <Button size="sm" variant="ghost" onClick={() => setEditing(o)} aria-label={`Edit ${o.name}`}>
          Edit
        </Button>
      ),
    },
  ];

  return (
    <Panel surface="content" padding="none">
      <div className="admin-toolbar">
        <div className="admin-toolbar__filters">
          <TextField label="Search organizations" type="search" value={q} onChange={(e) => setQ(e.target.value)} />
        </div>
        <Button variant="primary" icon="plus" onClick={() => setEditing("new")}>
          New organization
        </Button>
      </div>
      {orgs.isPending ? (
        <SkeletonRows rows={4} />
      ) : orgs.isError ? (
        <div className="admin-pad">
          <ErrorState error={orgs.error} onRetry={() => void orgs.refetch()} />
        </div>
      ) : orgs.data.items.length === 0 ? (
        <EmptyState icon="building" title="No organizations" />
      ) : (
        <Table caption="Organizations" captionHidden columns={columns} rows={orgs.data.items} rowKey={(o) => o.id} />
      )}
      {editing ? <OrgDialog org={editing === "new" ? null : editing} onClose={() => setEditing(null)} /> : null}
    </Panel>
  );
}

function OrgDialog({ org, onClose }: { org: Org | null; onClose: () => void }) {
  const create = useCreateOrg();
  const update = useUpdateOrg();
  const [name, setName] = useState(org?.name ?? "");
  const [status, setStatus] = useState<OrgStatus>(org?.status ?? "active");
  const [error, setError] = useState<string | null>(null);
  const pending = create.isPending || update.isPending;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) {
      setError("Enter a name.");
      return;
    }
    const onError = (e: unknown) => e instanceof ApiError && setError(e.fieldErrors().name ?? null);
    if (org) update.mutate({ id: org.id, name: name.trim(), status }, { onSuccess: onClose, onError });
    else create.mutate(name.trim(), { onSuccess: onClose, onError });
  };
  return (
    <Modal open onClose={onClose} busy={pending} title={org ? `Edit ${org.name}` : "New organization"}>
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} required error={error} maxLength={200} />
        {org ? (
          <SelectField
            label="Status"
            value={status}
            onChange={(e) => setStatus(e.target.value as OrgStatus)}
            hint="Suspending signs out and locks every user of the organization."
          >
            <option value="active">Active</option>
            <option value="suspended">Suspended</option>
          </SelectField>
        ) : null}
        <div className="atum-form__actions">
          <Button variant="ghost" onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={pending}>
            {org ? "Save organization" : "Create organization"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
