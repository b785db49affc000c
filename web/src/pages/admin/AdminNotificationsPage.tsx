import { useState } from "react";
import { useOutbox, useRetryNotification, type OutboxMessage, type OutboxStatus } from "../../api/notifications";
import { Button, EmptyState, ErrorState, Panel, SelectField, SkeletonRows, Table, formatDateTime, useDocumentTitle, type Column } from "../../atum";

const STATUS_CLASS: Record<OutboxStatus, string> = {
  pending: "atum-status--waiting",
  sending: "atum-status--in-progress",
  sent: "atum-status--resolved",
  failed: "atum-status--cancelled",
};

export function AdminNotificationsPage() {
  useDocumentTitle("Notifications");
  const [status, setStatus] = useState<OutboxStatus | "">("");
  const outbox = useOutbox(status);
  const retry = useRetryNotification();
  const items = outbox.data?.pages.flatMap((p) => p.items) ?? [];

  const columns: Column<OutboxMessage>[] = [
    { key: "subject", header: "Subject", rowHeader: true, cell: (m) => m.subject },
    { key: "to", header: "To", cell: (m) => m.recipient_email },
    {
      key: "status",
      header: "Status",
      cell: (m) => (
        <span className={`atum-pill atum-pill--sm ${STATUS_CLASS[m.status]}`} title={m.last_error ?? undefined}>
          {m.status}
          {m.attempts > 1 ? ` · ${m.attempts} tries` : ""}
        </span>
      ),
    },
    { key: "when", header: "Queued", hideOnMobile: true, cell: (m) => <span className="tnum">{formatDateTime(m.created_at)}</span> },
    {
      key: "retry",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (m) =>
        m.status === "failed" ? (
          <Button size="sm" variant="ghost" icon="refresh" onClick={() => retry.mutate(m.id)} aria-label={`Retry ${m.subject}`}>
            Retry
          </Button>
        ) : null,
    },
  ];

  return (
    <Panel surface="content" padding="none">
      <div className="admin-toolbar">
        <div className="admin-toolbar__filters">
          <SelectField label="Delivery status" value={status} onChange={(e) => setStatus(e.target.value as OutboxStatus | "")}>
            <option value="">Any</option>
            <option value="pending">Pending</option>
            <option value="sending">Sending</option>
            <option value="sent">Sent</option>
            <option value="failed">Failed</option>
          </SelectField>
        </div>
        <p className="muted">Mail waiting in the outbox, delivered by the worker with retries.</p>
      </div>
      {outbox.isPending ? (
        <SkeletonRows rows={5} />
      ) : outbox.isError ? (
        <div className="admin-pad">
          <ErrorState error={outbox.error} onRetry={() => void outbox.refetch()} />
        </div>
      ) : items.length === 0 ? (
        <EmptyState icon="message" title="No messages" />
      ) : (
        <>
          <Table caption="Outgoing notifications" captionHidden columns={columns} rows={items} rowKey={(m) => m.id} dense />
          {outbox.hasNextPage ? (
            <div className="atum-load-more">
              <Button onClick={() => void outbox.fetchNextPage()} busy={outbox.isFetchingNextPage}>
                Load more
              </Button>
            </div>
          ) : null}
        </>
      )}
    </Panel>
  );
}
