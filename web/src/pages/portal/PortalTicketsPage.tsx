import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useMe } from "../../api/auth";
import { useTickets, type TicketFilter, type TicketScope } from "../../api/tickets";
import type { TicketStatus } from "../../api/types";
import {
  Button,
  ButtonLink,
  EmptyState,
  ErrorState,
  PageHeader,
  Panel,
  PriorityPill,
  SelectField,
  SkeletonRows,
  StatusPill,
  Tabs,
  TextField,
  formatRelative,
  ticketNumber,
  useDebounced,
  useDocumentTitle,
} from "../../atum";
import "./portal.css";

export const STATUS_FILTERS: { value: string; label: string; statuses?: TicketStatus[] }[] = [
  { value: "", label: "All tickets" },
  { value: "open", label: "Open", statuses: ["NEW", "ACCEPTED", "ASSIGNED", "IN_PROGRESS", "WAITING_CUSTOMER"] },
  { value: "waiting", label: "Waiting for you", statuses: ["WAITING_CUSTOMER"] },
  { value: "resolved", label: "Resolved", statuses: ["RESOLVED"] },
  { value: "closed", label: "Closed or withdrawn", statuses: ["CLOSED", "CANCELLED"] },
];

const SCOPE_TABS: { key: TicketScope; label: string }[] = [
  { key: "mine", label: "Opened by me" },
  { key: "organization", label: "My organization" },
];

export function PortalTicketsPage() {
  useDocumentTitle("Tickets");
  const me = useMe().data;
  const [params, setParams] = useSearchParams();
  const statusKey = params.get("status") ?? "";
  const [q, setQ] = useState(params.get("q") ?? "");
  const query = useDebounced(q.trim(), 300);
  // A customer user of an organization whose portal shows "own tickets" has only their own list.
  const onlyMine = me?.role === "customer_user" && me.portal_visibility === "own";
  const scope: TicketScope = onlyMine || params.get("scope") === "mine" ? "mine" : "organization";
  const filter: TicketFilter = {
    status: STATUS_FILTERS.find((f) => f.value === statusKey)?.statuses,
    q: query || undefined,
    scope,
  };
  // Which list to ask for depends on who is signed in: wait for it.
  const tickets = useTickets(filter, Boolean(me));
  const items = tickets.data?.pages.flatMap((p) => p.items) ?? [];
  const filtered = Boolean(statusKey || query);

  const setScope = (value: TicketScope) => {
    const next = new URLSearchParams(params);
    if (value === "mine") next.set("scope", "mine");
    else next.delete("scope");
    setParams(next, { replace: true });
  };

  const setStatus = (value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set("status", value);
    else next.delete("status");
    setParams(next, { replace: true });
  };

  const list = (
    <>
      <form className="portal-filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <SelectField label="Status" value={statusKey} onChange={(e) => setStatus(e.target.value)} fieldClassName="portal-filters__status">
          {STATUS_FILTERS.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </SelectField>
        <TextField
          label="Search tickets"
          type="search"
          placeholder="Title, description or number"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          fieldClassName="portal-filters__search"
        />
      </form>
      {tickets.isPending ? (
        <SkeletonRows rows={5} />
      ) : tickets.isError ? (
        <div className="portal-list__pad">
          <ErrorState error={tickets.error} onRetry={() => void tickets.refetch()} />
        </div>
      ) : items.length === 0 ? (
        filtered ? (
          <EmptyState icon="search" title="No tickets match">
            Try another status or search term.
          </EmptyState>
        ) : (
          <EmptyState
            icon="ticket"
            title="No tickets yet"
            action={
              <ButtonLink to="/portal/tickets/new" variant="primary" icon="plus">
                Open your first ticket
              </ButtonLink>
            }
          >
            When something needs the support team's attention, open a ticket and follow it here.
          </EmptyState>
        )
      ) : (
        <>
          <ul className="portal-tickets" aria-label="Tickets">
            {items.map((t) => (
              <li key={t.id} className="portal-ticket">
                <div className="portal-ticket__main">
                  <Link to={`/portal/tickets/${t.id}`} className="portal-ticket__title">
                    <span className="atum-ticket-no">{ticketNumber(t.number)}</span> {t.title}
                  </Link>
                  <p className="portal-ticket__meta">
                    Opened by {t.created_by?.name ?? "someone"} · updated {formatRelative(t.updated_at)}
                  </p>
                </div>
                <div className="portal-ticket__pills">
                  <StatusPill status={t.status} audience="customer" />
                  <PriorityPill priority={t.priority} />
                </div>
              </li>
            ))}
          </ul>
          {tickets.hasNextPage ? (
            <div className="atum-load-more">
              <Button onClick={() => void tickets.fetchNextPage()} busy={tickets.isFetchingNextPage}>
                Load more
              </Button>
            </div>
          ) : null}
        </>
      )}
    </>
  );

  return (
    <>
      <PageHeader
        eyebrow={me?.org_name ?? undefined}
        title="Tickets"
        subtitle={
          scope === "mine"
            ? "The tickets you opened or were copied on."
            : "Everything your organization has asked the support team."
        }
        actions={
          <ButtonLink to="/portal/tickets/new" variant="primary" icon="plus">
            New ticket
          </ButtonLink>
        }
      />
      <Panel surface="content" padding="none" className="portal-list">
        {!me || onlyMine ? (
          list
        ) : (
          <Tabs tabs={SCOPE_TABS} active={scope} onChange={setScope} label="Whose tickets" panelLabel="Tickets">
            {list}
          </Tabs>
        )}
      </Panel>
    </>
  );
}
