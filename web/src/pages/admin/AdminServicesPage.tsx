import { useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import { useOrgs } from "../../api/orgs";
import { asStaffServices, useCreateService, useServices, useUpdateService } from "../../api/services";
import { useTeams } from "../../api/teams";
import type { Service } from "../../api/types";
import { Button, Checkbox, EmptyState, ErrorState, Modal, Panel, SelectField, SkeletonRows, Table, TextField, useDocumentTitle, type Column } from "../../atum";
import { ActivePill } from "./shared";

export function AdminServicesPage() {
  useDocumentTitle("Services");
  const services = useServices();
  const orgs = useOrgs();
  const orgName = (id: string | null) => (id ? (orgs.data?.items.find((o) => o.id === id)?.name ?? "—") : "All organizations");
  const teams = useTeams();
  const teamName = (id: string | null | undefined) => (id ? (teams.data?.items.find((t) => t.id === id)?.name ?? "—") : "None");
  const [editing, setEditing] = useState<Service | "new" | null>(null);

  const columns: Column<Service>[] = [
    { key: "name", header: "Service", rowHeader: true, cell: (s) => s.name },
    { key: "org", header: "Offered to", cell: (s) => orgName(s.org_id) },
    { key: "team", header: "Default team", cell: (s) => teamName(s.default_team_id), hideOnMobile: true },
    { key: "active", header: "Status", cell: (s) => <ActivePill active={s.is_active} /> },
    {
      key: "edit",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (s) => (
        <Button size="sm" variant="ghost" onClick={() => setEditing(s)} aria-label={`Edit ${s.name}`}>
          Edit
        </Button>
      ),
    },
  ];

  return (
    <Panel surface="content" padding="none">
      <div className="admin-toolbar">
        <p className="muted">What customers can pick when they open a ticket.</p>
        <Button variant="primary" icon="plus" onClick={() => setEditing("new")}>
          New service
        </Button>
      </div>
      {services.isPending ? (
        <SkeletonRows rows={4} />
      ) : services.isError ? (
        <div className="admin-pad">
          <ErrorState error={services.error} onRetry={() => void services.refetch()} />
        </div>
      ) : services.data.items.length === 0 ? (
        <EmptyState icon="list" title="No services yet" />
      ) : (
        <Table caption="Services" captionHidden columns={columns} rows={asStaffServices(services.data.items)} rowKey={(s) => s.id} />
      )}
      {editing ? <ServiceDialog service={editing === "new" ? null : editing} onClose={() => setEditing(null)} /> : null}
    </Panel>
  );
}

function ServiceDialog({ service, onClose }: { service: Service | null; onClose: () => void }) {
  const create = useCreateService();
  const update = useUpdateService();
  const orgs = useOrgs();
  const teams = useTeams();
  const [name, setName] = useState(service?.name ?? "");
  const [teamId, setTeamId] = useState(service?.default_team_id ?? "");
  const [orgId, setOrgId] = useState(service?.org_id ?? "");
  const [active, setActive] = useState(service?.is_active ?? true);
  const [error, setError] = useState<string | null>(null);
  const pending = create.isPending || update.isPending;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) {
      setError("Enter a name.");
      return;
    }
    const onError = (e: unknown) => e instanceof ApiError && setError(e.fieldErrors().name ?? null);
    const default_team_id = teamId || null;
    if (service) update.mutate({ id: service.id, name: name.trim(), is_active: active, default_team_id }, { onSuccess: onClose, onError });
    else create.mutate({ name: name.trim(), org_id: orgId || null, default_team_id }, { onSuccess: onClose, onError });
  };
  return (
    <Modal open onClose={onClose} busy={pending} title={service ? `Edit ${service.name}` : "New service"}>
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} required error={error} maxLength={200} />
        {service ? (
          <Checkbox label="Active (customers can pick it)" checked={active} onChange={(e) => setActive(e.target.checked)} />
        ) : (
          <SelectField label="Offered to" value={orgId} onChange={(e) => setOrgId(e.target.value)}>
            <option value="">All organizations</option>
            {orgs.data?.items.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </SelectField>
        )}
        <SelectField
          label="Default team"
          value={teamId}
          onChange={(e) => setTeamId(e.target.value)}
          hint="New tickets for this service go to this team (staff only; customers never see it)."
        >
          <option value="">None</option>
          {teams.data?.items.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </SelectField>
        <div className="atum-form__actions">
          <Button variant="ghost" onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={pending}>
            {service ? "Save service" : "Create service"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
