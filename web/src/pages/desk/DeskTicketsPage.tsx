import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useDeskTickets, type DeskFilter } from "../../api/internal";
import { useOrgs } from "../../api/orgs";
import { useTagSuggestions } from "../../api/tags";
import { PRIORITIES, TICKET_STATUSES, type Priority, type StaffTicket, type TicketStatus } from "../../api/types";
import { useAssignees } from "../../api/users";
import {
  Button,
  ButtonLink,
  ChannelBadge,
  Checkbox,
  EmptyState,
  ErrorState,
  PageHeader,
  Panel,
  PRIORITY_LOOK,
  PriorityPill,
  SelectField,
  SkeletonRows,
  SlaSummaryChip,
  STATUS_LOOK,
  StatusPill,
  Table,
  TextField,
  formatDateTime,
  formatRelative,
  ticketNumber,
  useDebounced,
  useDocumentTitle,
  type Column,
} from "../../atum";
import "./desk.css";

const OPEN_STATUSES: TicketStatus[] = ["NEW", "ACCEPTED", "ASSIGNED", "IN_PROGRESS", "WAITING_CUSTOMER"];
const FINAL = new Set<TicketStatus>(["CLOSED", "CANCELLED"]);

export function filterFromParams(params: URLSearchParams): DeskFilter {
  const status = params.get("status") ?? "";
  const priority = params.get("priority") ?? "";
  return {
    status: status === "open" ? OPEN_STATUSES : status ? [status as TicketStatus] : undefined,
    priority: priority ? [priority as Priority] : undefined,
    org_id: params.get("org") ?? undefined,
    assigned_to: params.get("assignee") ?? undefined,
    breached: params.get("breached") === "1" ? true : undefined,
    q: params.get("q") ?? undefined,
    tag: params.get("tag") ?? undefined,
  };
}

export function DeskTicketsPage() {
  useDocumentTitle("Tickets");
  const [params, setParams] = useSearchParams();
  const [q, setQ] = useState(params.get("q") ?? "");
  const query = useDebounced(q.trim(), 300);
  const [tag, setTag] = useState(params.get("tag") ?? "");
  const tagQuery = useDebounced(tag.trim().toLowerCase(), 300);
  const tagSuggestions = useTagSuggestions(tagQuery);
  const filter = { ...filterFromParams(params), q: query || undefined, tag: tagQuery || undefined };
  const tickets = useDeskTickets(filter);
  const orgs = useOrgs();
  const { people } = useAssignees();
  const items = tickets.data?.pages.flatMap((p) => p.items) ?? [];

  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const anyFilter = ["status", "priority", "org", "assignee", "breached"].some((k) => params.get(k)) || Boolean(query || tagQuery);

  const columns: Column<StaffTicket>[] = [
    {
      key: "title",
      header: "Ticket",
      rowHeader: true,
      cell: (t) => (
        <Link to={`/desk/tickets/${t.id}`} className="atum-row-link">
          <span className="atum-ticket-no">{ticketNumber(t.number)}</span> {t.title}
        </Link>
      ),
    },
    {
      key: "tags",
      header: "Tags",
      hideOnMobile: true,
      cell: (t) =>
        t.tags?.length ? (
          <ul className="desk-tags desk-tags--compact" aria-label="Tags">
            {t.tags.map((name) => (
              <li key={name} className="desk-tag">
                {name}
              </li>
            ))}
          </ul>
        ) : (
          <span className="faint">—</span>
        ),
    },
    { key: "channel", header: "Via", width: "xs", align: "center", cell: (t) => <ChannelBadge channel={t.channel} compact /> },
    { key: "org", header: "Organization", cell: (t) => t.org_name, hideOnMobile: true },
    { key: "status", header: "Status", cell: (t) => <StatusPill status={t.status} /> },
    { key: "priority", header: "Priority", cell: (t) => <PriorityPill priority={t.priority} /> },
    { key: "assignee", header: "Assignee", cell: (t) => t.assigned_to?.name ?? <span className="faint">—</span>, hideOnMobile: true },
    {
      key: "sla",
      header: "SLA",
      cell: (t) => <SlaSummaryChip sla={t.sla} context={{ resolvedAt: t.resolved_at, open: !FINAL.has(t.status) && t.status !== "RESOLVED" }} />,
    },
    {
      key: "updated",
      header: "Updated",
      hideOnMobile: true,
      cell: (t) => (
        <time dateTime={t.updated_at} title={formatDateTime(t.updated_at)} className="nowrap">
          {formatRelative(t.updated_at)}
        </time>
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title="Tickets"
        subtitle="Every ticket of every organization. Filter, then open one to work it."
        actions={
          <ButtonLink to="/desk/tickets/new" variant="primary" icon="plus">
            New ticket
          </ButtonLink>
        }
      />
      <Panel surface="content" padding="none">
        <form className="desk-filters" role="search" aria-label="Filter tickets" onSubmit={(e) => e.preventDefault()}>
          <TextField label="Search" type="search" placeholder="Title, text or number" value={q} onChange={(e) => setQ(e.target.value)} fieldClassName="desk-filters__search" />
          <SelectField label="Status" value={params.get("status") ?? ""} onChange={(e) => set("status", e.target.value)}>
            <option value="">Any status</option>
            <option value="open">Open (not resolved)</option>
            {TICKET_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LOOK[s].label}
              </option>
            ))}
          </SelectField>
          <SelectField label="Priority" value={params.get("priority") ?? ""} onChange={(e) => set("priority", e.target.value)}>
            <option value="">Any priority</option>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {p} — {PRIORITY_LOOK[p].label}
              </option>
            ))}
          </SelectField>
          <SelectField label="Organization" value={params.get("org") ?? ""} onChange={(e) => set("org", e.target.value)}>
            <option value="">Any organization</option>
            {orgs.data?.items.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </SelectField>
          <SelectField label="Assignee" value={params.get("assignee") ?? ""} onChange={(e) => set("assignee", e.target.value)}>
            <option value="">Anyone</option>
            {people.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </SelectField>
          <TextField
            label="Tag"
            type="search"
            placeholder="Any tag"
            value={tag}
            list="desk-tag-filter-suggestions"
            autoComplete="off"
            onChange={(e) => setTag(e.target.value)}
          />
          <datalist id="desk-tag-filter-suggestions">
            {(tagSuggestions.data?.items ?? []).map((t) => (
              <option key={t.id} value={t.name} />
            ))}
          </datalist>
          <div className="desk-filters__check">
            <Checkbox label="Breached only" checked={params.get("breached") === "1"} onChange={(e) => set("breached", e.target.checked ? "1" : "")} />
          </div>
        </form>
        {tickets.isPending ? (
          <SkeletonRows />
        ) : tickets.isError ? (
          <div className="desk-pad">
            <ErrorState error={tickets.error} onRetry={() => void tickets.refetch()} />
          </div>
        ) : items.length === 0 ? (
          <EmptyState icon={anyFilter ? "search" : "ticket"} title={anyFilter ? "No tickets match these filters" : "No tickets yet"}>
            {anyFilter ? "Loosen a filter or clear the search." : "Tickets appear here once customers open them."}
          </EmptyState>
        ) : (
          <>
            <Table caption="Tickets" captionHidden columns={columns} rows={items} rowKey={(t) => t.id} dense />
            <div className="atum-load-more">
              {tickets.hasNextPage ? (
                <Button onClick={() => void tickets.fetchNextPage()} busy={tickets.isFetchingNextPage}>
                  Load more
                </Button>
              ) : (
                <p className="faint">
                  {items.length} ticket{items.length === 1 ? "" : "s"} — that is all.
                </p>
              )}
            </div>
          </>
        )}
      </Panel>
    </>
  );
}
