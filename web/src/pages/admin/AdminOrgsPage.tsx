import { useState, type FormEvent } from "react";
import { useCalendars } from "../../api/calendars";
import { ApiError } from "../../api/client";
import { useCreateOrg, useOrgs, useUpdateOrg, type PortalVisibility } from "../../api/orgs";
import type { Org, OrgStatus } from "../../api/types";
import {
  Button,
  EmptyState,
  ErrorState,
  FormError,
  Modal,
  Panel,
  SelectField,
  SkeletonRows,
  Table,
  TextArea,
  TextField,
  formatDate,
  useDebounced,
  useDocumentTitle,
  type Column,
} from "../../atum";
import { ActivePill } from "./shared";

// The server's rule (app/schemas/mail.py): labels of letters, digits and hyphens, at least one dot.
const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** "Example.com, @b.org\nc.net" → ["example.com", "b.org", "c.net"]: commas, spaces or lines; no duplicates. */
export function parseDomains(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[\s,;]+/)) {
    const domain = part.trim().toLowerCase().replace(/^@+/, "");
    if (domain && !out.includes(domain)) out.push(domain);
  }
  return out;
}

/** The entries that are not e-mail domains (like example.com). */
export function invalidDomains(domains: string[]): string[] {
  return domains.filter((d) => !DOMAIN.test(d));
}

/** A domain error from the API: 409 (another organization has it) or 422 on email_domains[i]. */
function domainError(error: ApiError, domains: string[]): string | null {
  if (error.status === 409) return error.message;
  if (Array.isArray(error.detail)) {
    for (const item of error.detail as { loc?: (string | number)[]; msg?: string }[]) {
      const loc = item.loc ?? [];
      const at = loc.indexOf("email_domains");
      if (at < 0) continue;
      const index = loc[at + 1];
      const msg = (item.msg ?? "is not valid").replace(/^Value error, /, "");
      return typeof index === "number" && domains[index] ? `${domains[index]}: ${msg}` : msg;
    }
  }
  return null;
}

export const PORTAL_VISIBILITY_LABELS: Record<PortalVisibility, string> = {
  organization: "Whole organization",
  own: "Own tickets",
};

export function AdminOrgsPage() {
  useDocumentTitle("Organizations");
  const [q, setQ] = useState("");
  const query = useDebounced(q.trim());
  const orgs = useOrgs(query);
  const [editing, setEditing] = useState<Org | "new" | null>(null);

  const columns: Column<Org>[] = [
    { key: "name", header: "Name", rowHeader: true, cell: (o) => o.name },
    { key: "status", header: "Status", cell: (o) => <ActivePill active={o.status === "active"} off="Suspended" /> },
    {
      key: "portal",
      header: "Portal shows",
      hideOnMobile: true,
      cell: (o) => PORTAL_VISIBILITY_LABELS[o.portal_visibility ?? "organization"],
    },
    {
      key: "domains",
      header: "E-mail domains",
      hideOnMobile: true,
      cell: (o) => ((o.email_domains ?? []).length ? (o.email_domains ?? []).join(", ") : <span className="faint">—</span>),
    },
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
  const [domainsText, setDomainsText] = useState((org?.email_domains ?? []).join("\n"));
  const [visibility, setVisibility] = useState<PortalVisibility>(org?.portal_visibility ?? "organization");
  const calendars = useCalendars();
  const [calendarId, setCalendarId] = useState(org?.sla_calendar_id ?? "");
  const [calendarError, setCalendarError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [domainsError, setDomainsError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const pending = create.isPending || update.isPending;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const domains = parseDomains(domainsText);
    const bad = invalidDomains(domains);
    setError(name.trim() ? null : "Enter a name.");
    setDomainsError(bad.length ? `Not an e-mail domain (like example.com): ${bad.join(", ")}` : null);
    setFormError(null);
    if (!name.trim() || bad.length) return;
    const onError = (e: unknown) => {
      if (!(e instanceof ApiError)) return;
      const fields = e.fieldErrors();
      const forDomains = domainError(e, domains);
      setError(fields.name ?? null);
      setDomainsError(forDomains);
      setCalendarError(fields.sla_calendar_id ?? null);
      if (!fields.name && !forDomains && !fields.sla_calendar_id) setFormError(e.message);
    };
    const fields = {
      name: name.trim(),
      email_domains: domains,
      portal_visibility: visibility,
      // Sent only when changed: a change moves the deadlines of the organization's running clocks.
      ...(calendarId !== (org?.sla_calendar_id ?? "") ? { sla_calendar_id: calendarId || null } : {}),
    };
    if (org) update.mutate({ id: org.id, status, ...fields }, { onSuccess: onClose, onError });
    else create.mutate(fields, { onSuccess: onClose, onError });
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
        <SelectField
          label="Portal visibility"
          value={visibility}
          onChange={(e) => setVisibility(e.target.value as PortalVisibility)}
          hint="Which tickets a customer user sees in the portal: every ticket of the organization, or only the ones they opened or are copied on. Customer admins always see every ticket."
        >
          <option value="organization">{PORTAL_VISIBILITY_LABELS.organization}</option>
          <option value="own">{PORTAL_VISIBILITY_LABELS.own}</option>
        </SelectField>
        <SelectField
          label="Business hours"
          value={calendarId}
          onChange={(e) => setCalendarId(e.target.value)}
          error={calendarError}
          hint="The calendar this organization's SLA clocks run on, instead of the SLA policies' calendar."
        >
          <option value="">As the SLA policies say</option>
          {calendars.data?.items.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name} ({c.timezone})
            </option>
          ))}
        </SelectField>
        <TextArea
          label="E-mail domains"
          rows={3}
          value={domainsText}
          onChange={(e) => setDomainsText(e.target.value)}
          error={domainsError}
          placeholder="example.com"
          spellCheck={false}
          autoCapitalize="none"
          hint="Unknown senders from these domains become customer users of this organization. One per line, or separated by commas."
        />
        <FormError>{formError}</FormError>
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
