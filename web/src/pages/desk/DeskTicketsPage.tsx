import { useEffect, useMemo, useRef, useState, type FormEvent, type RefObject } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { useMe } from "../../api/auth";
import { errorMessage } from "../../api/client";
import { useDeskTickets, type DeskFilter } from "../../api/internal";
import { useOrgs } from "../../api/orgs";
import { useTagSuggestions } from "../../api/tags";
import { useTeams } from "../../api/teams";
import { PRIORITIES, TICKET_STATUSES, type Channel, type Priority, type StaffTicket, type TicketStatus } from "../../api/types";
import { useAssignees } from "../../api/users";
import {
  deskFilterOf,
  fetchMatchingIds,
  filtersOf,
  useCreateView,
  useDeleteView,
  useUpdateView,
  useViews,
  useViewTickets,
  viewPath,
  type SavedView,
} from "../../api/views";
import {
  Button,
  ButtonLink,
  ChannelBadge,
  Checkbox,
  EmptyState,
  ErrorState,
  FormError,
  Modal,
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
import { useShortcuts } from "../../atum/keyboard";
import { BulkBar } from "./BulkBar";
import "./desk.css";

const OPEN_STATUSES: TicketStatus[] = ["NEW", "ACCEPTED", "ASSIGNED", "IN_PROGRESS", "WAITING_CUSTOMER"];
const FINAL = new Set<TicketStatus>(["CLOSED", "CANCELLED"]);
const CHANNELS: Channel[] = ["portal", "email", "phone", "api"];
const CHANNEL_LABEL: Record<Channel, string> = { portal: "Portal", email: "E-mail", phone: "Phone", api: "API" };
const DUE_CHOICES = [4, 8, 24, 72];
/** The URL parameters of the filter form (besides the search and tag fields). */
const FILTER_PARAMS = ["status", "priority", "org", "assignee", "team", "channel", "due", "breached", "sort"];

function list<T extends string>(value: string | null): T[] | undefined {
  return value ? (value.split(",").filter(Boolean) as T[]) : undefined;
}

export function filterFromParams(params: URLSearchParams): DeskFilter {
  const status = params.get("status") ?? "";
  const due = Number(params.get("due") ?? "");
  return {
    status: status === "open" ? OPEN_STATUSES : list<TicketStatus>(status),
    priority: list<Priority>(params.get("priority")),
    org_id: params.get("org") ?? undefined,
    assigned_to: params.get("assignee") ?? undefined,
    team_id: params.get("team") ?? undefined,
    channel: (params.get("channel") as Channel | null) ?? undefined,
    due_within_hours: Number.isInteger(due) && due > 0 ? due : undefined,
    breached: params.get("breached") === "1" ? true : undefined,
    q: params.get("q") ?? undefined,
    tag: params.get("tag") ?? undefined,
    sort: params.get("sort") === "sla_due" ? "sla_due" : undefined,
  };
}

/** The URL parameters that show *filter* in the filter form (the way back from a view). */
export function paramsFromFilter(filter: DeskFilter): URLSearchParams {
  const out = new URLSearchParams();
  const status = filter.status ?? [];
  const isOpen = status.length === OPEN_STATUSES.length && OPEN_STATUSES.every((s) => status.includes(s));
  if (status.length) out.set("status", isOpen ? "open" : status.join(","));
  if (filter.priority?.length) out.set("priority", filter.priority.join(","));
  if (filter.org_id) out.set("org", filter.org_id);
  if (filter.assigned_to) out.set("assignee", filter.assigned_to);
  if (filter.team_id) out.set("team", filter.team_id);
  if (filter.channel) out.set("channel", filter.channel);
  if (filter.due_within_hours) out.set("due", String(filter.due_within_hours));
  if (filter.breached) out.set("breached", "1");
  if (filter.q) out.set("q", filter.q);
  if (filter.tag) out.set("tag", filter.tag);
  if (filter.sort === "sla_due") out.set("sort", "sla_due");
  return out;
}

/** /desk/tickets (the filter form) and /desk/views/:viewId (a saved view) share the list. */
export function DeskTicketsPage() {
  const { viewId } = useParams();
  return viewId ? <ViewTickets key={viewId} id={viewId} /> : <FilteredTickets />;
}

function FilteredTickets() {
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
  const teams = useTeams();
  const { people } = useAssignees();
  const [saving, setSaving] = useState(false);
  const searchRef = useRef<HTMLInputElement>(null);

  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const anyFilter = FILTER_PARAMS.some((k) => params.get(k)) || Boolean(query || tagQuery);
  const statusValue = params.get("status") ?? "";
  const priorityValue = params.get("priority") ?? "";

  return (
    <>
      <PageHeader
        title="Tickets"
        subtitle="Every ticket of every organization. Filter, then open one to work it — or save the filters as a view."
        actions={
          <>
            <Button icon="plus" onClick={() => setSaving(true)} disabled={!anyFilter} title={anyFilter ? undefined : "Set a filter first"}>
              Save view
            </Button>
            <ButtonLink to="/desk/tickets/new" variant="primary" icon="plus">
              New ticket
            </ButtonLink>
          </>
        }
      />
      <Panel surface="content" padding="none">
        <form className="desk-filters" role="search" aria-label="Filter tickets" onSubmit={(e) => e.preventDefault()}>
          <TextField
            ref={searchRef}
            label="Search"
            type="search"
            placeholder="Title, text or number"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            fieldClassName="desk-filters__search"
          />
          <SelectField label="Status" value={statusValue.includes(",") ? "" : statusValue} onChange={(e) => set("status", e.target.value)}>
            <option value="">Any status</option>
            <option value="open">Open (not resolved)</option>
            {TICKET_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LOOK[s].label}
              </option>
            ))}
          </SelectField>
          <SelectField label="Priority" value={priorityValue.includes(",") ? "" : priorityValue} onChange={(e) => set("priority", e.target.value)}>
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
            <option value="me">Me</option>
            <option value="unassigned">Nobody (unassigned)</option>
            {people.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </SelectField>
          <SelectField label="Team" value={params.get("team") ?? ""} onChange={(e) => set("team", e.target.value)}>
            <option value="">Any team</option>
            {teams.data?.items.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </SelectField>
          <SelectField label="Channel" value={params.get("channel") ?? ""} onChange={(e) => set("channel", e.target.value)}>
            <option value="">Any channel</option>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {CHANNEL_LABEL[c]}
              </option>
            ))}
          </SelectField>
          <SelectField label="SLA due" value={params.get("due") ?? ""} onChange={(e) => set("due", e.target.value)}>
            <option value="">Any time</option>
            {DUE_CHOICES.map((h) => (
              <option key={h} value={String(h)}>
                Overdue or within {h} h
              </option>
            ))}
          </SelectField>
          <SelectField label="Order" value={params.get("sort") ?? ""} onChange={(e) => set("sort", e.target.value)}>
            <option value="">Newest first</option>
            <option value="sla_due">Next SLA due (paused last)</option>
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
        <TicketList
          query={tickets}
          anyFilter={anyFilter}
          total={null}
          matching={(signal) => fetchMatchingIds({ filter }, signal)}
          searchRef={searchRef}
        />
      </Panel>
      <SaveViewDialog open={saving} onClose={() => setSaving(false)} filter={filter} />
    </>
  );
}

function ViewTickets({ id }: { id: string }) {
  const views = useViews();
  const view = views.data?.items.find((v) => v.id === id);
  useDocumentTitle(view?.name ?? "View");
  const tickets = useViewTickets(id);
  const [renaming, setRenaming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const editParams = view ? paramsFromFilter(deskFilterOf(view.filters)).toString() : "";
  return (
    <>
      <PageHeader
        eyebrow="Saved view"
        title={view?.name ?? (views.isPending ? "…" : "View")}
        subtitle={view ? describeView(view) : null}
        actions={
          view ? (
            <>
              <ButtonLink to={`/desk/tickets${editParams ? `?${editParams}` : ""}`} icon="search" variant="ghost">
                Change filters
              </ButtonLink>
              {view.editable ? (
                <>
                  <Button variant="ghost" onClick={() => setRenaming(true)}>
                    Rename
                  </Button>
                  <Button variant="danger" onClick={() => setDeleting(true)}>
                    Delete
                  </Button>
                </>
              ) : null}
            </>
          ) : null
        }
      />
      <Panel surface="content" padding="none">
        <TicketList
          query={tickets}
          anyFilter
          total={view?.count ?? null}
          matching={(signal) => fetchMatchingIds({ view: id }, signal)}
        />
      </Panel>
      {view ? <RenameViewDialog open={renaming} onClose={() => setRenaming(false)} view={view} /> : null}
      {view ? <DeleteViewDialog open={deleting} onClose={() => setDeleting(false)} view={view} /> : null}
    </>
  );
}

function describeView(view: SavedView): string {
  const f = view.filters;
  const parts: string[] = [];
  if (f.assigned_to === "me") parts.push("assigned to you");
  else if (f.assigned_to === "unassigned") parts.push("nobody assigned");
  else if (f.assigned_to) parts.push("one assignee");
  if (f.status?.length) {
    const open = f.status.length === OPEN_STATUSES.length && OPEN_STATUSES.every((s) => f.status?.includes(s));
    parts.push(open ? "open" : f.status.map((s) => STATUS_LOOK[s].label.toLowerCase()).join(" or "));
  }
  if (f.priority?.length) parts.push(f.priority.join("/"));
  if (f.due_within_hours) parts.push(`resolution due within ${f.due_within_hours} h or overdue`);
  if (f.breached) parts.push("breached");
  if (f.channel) parts.push(`via ${f.channel}`);
  if (f.tag) parts.push(`tagged ${f.tag}`);
  if (f.q) parts.push(`matching “${f.q}”`);
  if (f.sort === "sla_due") parts.push("next SLA due first");
  if (f.team_id) parts.push("one team");
  if (f.org_id) parts.push("one organization");
  const scope = view.builtin ? "Built-in" : view.scope === "team" ? "Team view" : "Your view";
  return `${scope}: ${parts.length ? parts.join(", ") : "every ticket"}.`;
}

type ListQuery = ReturnType<typeof useDeskTickets>;

/**
 * The ticket table with selection (checkboxes, "select all N matching"), the bulk bar and the
 * list shortcuts (j/k move, Enter opens, x selects, / searches).
 */
function TicketList({
  query,
  anyFilter,
  total,
  matching,
  searchRef,
}: {
  query: ListQuery;
  anyFilter: boolean;
  total: number | null;
  matching: (signal?: AbortSignal) => Promise<string[]>;
  searchRef?: RefObject<HTMLInputElement | null>;
}) {
  const navigate = useNavigate();
  const items = useMemo(() => query.data?.pages.flatMap((p) => p.items) ?? [], [query.data]);
  const [selected, setSelected] = useState<Set<string>>(() => new Set());
  const [allMatching, setAllMatching] = useState(false);
  const [active, setActive] = useState(-1);
  const current = active >= 0 && active < items.length ? items[active] : undefined;

  useEffect(() => {
    // (jsdom has no scrollIntoView)
    if (current) document.getElementById(`ticket-row-${current.id}`)?.scrollIntoView?.({ block: "nearest" });
  }, [current]);

  const toggle = (id: string) => {
    setAllMatching(false);
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  };
  const clear = () => {
    setSelected(new Set());
    setAllMatching(false);
  };
  const pageAll = items.length > 0 && items.every((t) => selected.has(t.id));

  useShortcuts({
    j: () => setActive((i) => Math.min(items.length - 1, i + 1)),
    k: () => setActive((i) => Math.max(0, i - 1)),
    Enter: () => {
      if (!current) return false;
      void navigate(`/desk/tickets/${current.id}`);
    },
    x: () => {
      if (!current) return false;
      toggle(current.id);
    },
    "/": () => {
      if (!searchRef?.current) return false;
      searchRef.current.focus();
    },
  });

  const columns: Column<StaffTicket>[] = [
    {
      key: "select",
      header: (
        <input
          type="checkbox"
          className="atum-check__box"
          aria-label="Select every ticket shown"
          checked={pageAll}
          onChange={() => (pageAll ? clear() : setSelected(new Set(items.map((t) => t.id))))}
        />
      ),
      width: "xs",
      cell: (t) => (
        <input
          type="checkbox"
          className="atum-check__box"
          aria-label={`Select ${ticketNumber(t.number)}`}
          checked={allMatching || selected.has(t.id)}
          onChange={() => toggle(t.id)}
        />
      ),
    },
    {
      key: "title",
      header: "Ticket",
      rowHeader: true,
      // Organization, channel and tags under the title: the table fits a 1024 px screen.
      cell: (t) => (
        <div className="desk-ticket-cell" id={`ticket-row-${t.id}`}>
          <Link to={`/desk/tickets/${t.id}`} className="atum-row-link">
            <span className="atum-ticket-no">{ticketNumber(t.number)}</span> {t.title}
          </Link>
          <span className="desk-ticket-cell__meta">
            <ChannelBadge channel={t.channel} compact />
            <span>{t.org_name}</span>
            {t.tags?.length ? (
              <ul className="desk-tags desk-tags--compact" aria-label="Tags">
                {t.tags.map((name) => (
                  <li key={name} className="desk-tag">
                    {name}
                  </li>
                ))}
              </ul>
            ) : null}
          </span>
        </div>
      ),
    },
    {
      // Status and priority stacked, assignee and last update stacked: the table fits 1024 px.
      key: "status",
      header: (
        <span className="desk-stack">
          <span>Status</span>
          <span>Priority</span>
        </span>
      ),
      cell: (t) => (
        <span className="desk-stack">
          <StatusPill status={t.status} />
          <PriorityPill priority={t.priority} />
        </span>
      ),
    },
    {
      key: "assignee",
      header: (
        <span className="desk-stack">
          <span>Assignee</span>
          <span>Updated</span>
        </span>
      ),
      hideOnMobile: true,
      cell: (t) => (
        <span className="desk-stack">
          <span className="desk-cell-clip">{t.assigned_to?.name ?? <span className="faint">Nobody</span>}</span>
          <time dateTime={t.updated_at} title={`Updated ${formatDateTime(t.updated_at)}`} className="nowrap faint">
            {formatRelative(t.updated_at)}
          </time>
        </span>
      ),
    },
    {
      key: "sla",
      header: "SLA",
      cell: (t) => <SlaSummaryChip sla={t.sla} context={{ resolvedAt: t.resolved_at, open: !FINAL.has(t.status) && t.status !== "RESOLVED" }} />,
    },
  ];

  if (query.isPending) return <SkeletonRows />;
  if (query.isError) {
    return (
      <div className="desk-pad">
        <ErrorState error={query.error} onRetry={() => void query.refetch()} />
      </div>
    );
  }
  const count = allMatching ? (total ?? null) : selected.size;
  const bulkBar =
    selected.size > 0 || allMatching ? (
      <BulkBar
        count={count}
        allMatching={allMatching}
        resolveIds={(signal) => (allMatching ? matching(signal) : Promise.resolve([...selected]))}
        tickets={items}
        onClear={clear}
      />
    ) : null;
  if (items.length === 0) {
    // A bulk action may have moved every ticket out of the list: its results stay on screen.
    return (
      <>
        {bulkBar}
        <EmptyState icon={anyFilter ? "search" : "ticket"} title={anyFilter ? "No tickets match these filters" : "No tickets yet"}>
          {anyFilter ? "Loosen a filter or clear the search." : "Tickets appear here once customers open them."}
        </EmptyState>
      </>
    );
  }
  const more = query.hasNextPage || (total !== null && total > items.length);
  return (
    <>
      {/* First in both branches, so the bar (and its results) survives the list emptying. */}
      {bulkBar}
      {pageAll && more && !allMatching ? (
        <p className="desk-select-all" role="status">
          All {items.length} tickets shown are selected.{" "}
          <Button variant="ghost" size="sm" onClick={() => setAllMatching(true)}>
            {total !== null ? `Select all ${total} matching` : "Select all matching"}
          </Button>
        </p>
      ) : null}
      <div className="desk-ticket-table">
        <Table
          caption="Tickets"
          captionHidden
          columns={columns}
          rows={items}
          rowKey={(t) => t.id}
          rowClassName={(t) => (current?.id === t.id ? "desk-row--active" : selected.has(t.id) ? "desk-row--selected" : undefined)}
          dense
        />
      </div>
      <div className="atum-load-more">
        {query.hasNextPage ? (
          <Button onClick={() => void query.fetchNextPage()} busy={query.isFetchingNextPage}>
            Load more
          </Button>
        ) : (
          <p className="faint">
            {items.length} ticket{items.length === 1 ? "" : "s"} — that is all.
          </p>
        )}
      </div>
      <p className="faint desk-shortcut-hint">
        Keys: <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>Enter</kbd> opens, <kbd>x</kbd> selects, <kbd>?</kbd> lists them all.
      </p>
    </>
  );
}

function SaveViewDialog({ open, onClose, filter }: { open: boolean; onClose: () => void; filter: DeskFilter }) {
  const me = useMe().data;
  const teams = useTeams(open);
  const create = useCreateView();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [scope, setScope] = useState("personal");
  const manager = me?.role === "manager" || me?.role === "admin";
  const mine = (teams.data?.items ?? []).filter((t) => manager || (me && t.member_ids.includes(me.id)));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(
      {
        name: name.trim(),
        scope: scope === "personal" ? "personal" : "team",
        team_id: scope === "personal" ? null : scope,
        filters: filtersOf(filter),
      },
      {
        onSuccess: (view) => {
          onClose();
          setName("");
          void navigate(viewPath(view.id));
        },
      },
    );
  };
  return (
    <Modal
      open={open}
      onClose={onClose}
      busy={create.isPending}
      title="Save these filters as a view"
      description="The view appears in the sidebar with its number of tickets."
      footer={
        <>
          <Button variant="ghost" onClick={onClose} disabled={create.isPending}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" form="save-view-form" busy={create.isPending} disabled={!name.trim()}>
            Save view
          </Button>
        </>
      }
    >
      <form id="save-view-form" className="desk-view-form" onSubmit={submit}>
        <TextField label="Name" value={name} maxLength={100} required onChange={(e) => setName(e.target.value)} data-autofocus />
        <SelectField label="Who sees it" value={scope} onChange={(e) => setScope(e.target.value)}>
          <option value="personal">Only me</option>
          {mine.map((t) => (
            <option key={t.id} value={t.id}>
              Team {t.name}
            </option>
          ))}
        </SelectField>
        {create.isError ? <FormError>{errorMessage(create.error)}</FormError> : null}
      </form>
    </Modal>
  );
}

function RenameViewDialog({ open, onClose, view }: { open: boolean; onClose: () => void; view: SavedView }) {
  const update = useUpdateView(view.id);
  const [name, setName] = useState(view.name);
  return (
    <Modal
      open={open}
      onClose={onClose}
      busy={update.isPending}
      title="Rename view"
      footer={
        <>
          <Button variant="ghost" onClick={onClose} disabled={update.isPending}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" form="rename-view-form" busy={update.isPending} disabled={!name.trim()}>
            Rename
          </Button>
        </>
      }
    >
      <form
        id="rename-view-form"
        onSubmit={(e) => {
          e.preventDefault();
          update.mutate({ name: name.trim() }, { onSuccess: onClose });
        }}
      >
        <TextField label="Name" value={name} maxLength={100} required onChange={(e) => setName(e.target.value)} data-autofocus />
      </form>
    </Modal>
  );
}

function DeleteViewDialog({ open, onClose, view }: { open: boolean; onClose: () => void; view: SavedView }) {
  const remove = useDeleteView();
  const navigate = useNavigate();
  return (
    <Modal
      open={open}
      onClose={onClose}
      busy={remove.isPending}
      title={`Delete “${view.name}”?`}
      description={view.scope === "team" ? "The view goes for the whole team. The tickets stay as they are." : "The tickets stay as they are."}
      footer={
        <>
          <Button variant="ghost" onClick={onClose} disabled={remove.isPending}>
            Cancel
          </Button>
          <Button
            variant="danger"
            busy={remove.isPending}
            onClick={() =>
              remove.mutate(view.id, {
                onSuccess: () => {
                  onClose();
                  void navigate("/desk/tickets");
                },
              })
            }
          >
            Delete view
          </Button>
        </>
      }
    />
  );
}
