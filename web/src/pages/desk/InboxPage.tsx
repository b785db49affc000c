import { useState } from "react";
import { Link } from "react-router";
import { useMe } from "../../api/auth";
import { useAccept, useNewQueue } from "../../api/internal";
import { PRIORITIES, type Priority, type StaffTicket } from "../../api/types";
import {
  Button,
  ChannelBadge,
  EmptyState,
  ErrorState,
  PageHeader,
  Panel,
  PRIORITY_LOOK,
  PriorityPill,
  SkeletonRows,
  Table,
  formatDateTime,
  formatDuration,
  ticketNumber,
  useDocumentTitle,
  useNow,
  type Column,
} from "../../atum";
import "./desk.css";

/** Accepting is a manager's (or admin's) call; the server checks it again. */
const ACCEPTORS = new Set(["manager", "admin"]);

function AcceptCell({ ticket }: { ticket: StaffTicket }) {
  const accept = useAccept();
  const [priority, setPriority] = useState<Priority>(ticket.priority);
  const selectId = `accept-priority-${ticket.id}`;
  return (
    <form
      className="desk-inbox-accept"
      onSubmit={(e) => {
        e.preventDefault();
        accept.mutate({ id: ticket.id, priority: priority !== ticket.priority ? priority : null });
      }}
    >
      <label htmlFor={selectId} className="visually-hidden">
        Priority for {ticketNumber(ticket.number)}
      </label>
      <div className="atum-select">
        <select
          id={selectId}
          className="atum-input atum-select__control desk-inbox-accept__select"
          value={priority}
          onChange={(e) => setPriority(e.target.value as Priority)}
        >
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p} {PRIORITY_LOOK[p].label}
            </option>
          ))}
        </select>
      </div>
      <Button type="submit" size="sm" variant="primary" busy={accept.isPending} aria-label={`Accept ${ticketNumber(ticket.number)}`}>
        Accept
      </Button>
    </form>
  );
}

export function InboxPage() {
  useDocumentTitle("Inbox");
  const me = useMe().data;
  const queue = useNewQueue();
  const now = useNow(30_000);
  const items = queue.data?.pages.flatMap((p) => p.items) ?? [];
  const canAccept = me ? ACCEPTORS.has(me.role) : false;

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
    { key: "channel", header: "Via", width: "xs", align: "center", cell: (t) => <ChannelBadge channel={t.channel} compact /> },
    { key: "org", header: "Organization", cell: (t) => t.org_name, hideOnMobile: true },
    { key: "by", header: "Opened by", cell: (t) => t.created_by?.name ?? "—", hideOnMobile: true },
    { key: "priority", header: "Requested", cell: (t) => <PriorityPill priority={t.priority} /> },
    {
      key: "age",
      header: "Waiting",
      cell: (t) => (
        <time className="tnum" dateTime={t.created_at} title={formatDateTime(t.created_at)}>
          {formatDuration(now - new Date(t.created_at).getTime())}
        </time>
      ),
    },
  ];
  if (canAccept) {
    columns.push({ key: "accept", header: "Accept with priority", align: "end", cell: (t) => <AcceptCell ticket={t} /> });
  }

  return (
    <>
      <PageHeader
        title="Inbox"
        subtitle={
          canAccept
            ? "New tickets waiting for acceptance, oldest first. Accepting starts the SLA clocks."
            : "New tickets waiting for a manager to accept them, oldest first."
        }
      />
      <Panel surface="content" padding="none">
        {queue.isPending ? (
          <SkeletonRows />
        ) : queue.isError ? (
          <div className="desk-pad">
            <ErrorState error={queue.error} onRetry={() => void queue.refetch()} />
          </div>
        ) : items.length === 0 ? (
          <EmptyState icon="checkCircle" title="Inbox zero">
            Every new ticket has been accepted. New ones appear here as customers open them.
          </EmptyState>
        ) : (
          <>
            <Table caption={`${items.length} new ticket${items.length === 1 ? "" : "s"} waiting for acceptance`} captionHidden columns={columns} rows={items} rowKey={(t) => t.id} />
            {queue.hasNextPage ? (
              <div className="atum-load-more">
                <Button onClick={() => void queue.fetchNextPage()} busy={queue.isFetchingNextPage}>
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
