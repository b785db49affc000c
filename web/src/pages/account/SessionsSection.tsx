/** Where the user is signed in: device, address, since when, last seen; sign any other out. */
import { useRevokeOtherSessions, useRevokeSession, useSessions, type AccountSession } from "../../api/account";
import { Button, Card, EmptyState, ErrorState, formatDateTime, formatRelative, SkeletonRows, Table, type Column } from "../../atum";

export function SessionsSection() {
  const sessions = useSessions();
  const revoke = useRevokeSession();
  const revokeOthers = useRevokeOtherSessions();
  const items = sessions.data?.items ?? [];
  const others = items.filter((s) => !s.current).length;

  const columns: Column<AccountSession>[] = [
    {
      key: "device",
      header: "Device",
      rowHeader: true,
      cell: (s) => (
        <span className="acct-session">
          <span>{s.device}</span>
          {s.current ? <span className="atum-pill atum-pill--sm atum-status--resolved">This device</span> : null}
        </span>
      ),
    },
    { key: "ip", header: "IP address", cell: (s) => <span className="tnum">{s.ip ?? "—"}</span> },
    { key: "created", header: "Signed in", cell: (s) => formatDateTime(s.created_at), hideOnMobile: true },
    { key: "seen", header: "Last seen", cell: (s) => (s.current ? "Now" : formatRelative(s.last_seen_at)) },
    {
      key: "actions",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (s) =>
        s.current ? null : (
          <Button
            size="sm"
            variant="ghost"
            icon="logout"
            busy={revoke.isPending && revoke.variables === s.id}
            onClick={() => revoke.mutate(s.id)}
            aria-label={`Sign out ${s.device}${s.ip ? ` (${s.ip})` : ""}, signed in ${formatDateTime(s.created_at)}`}
          >
            Sign out
          </Button>
        ),
    },
  ];

  return (
    <Card
      surface="content"
      padding="lg"
      title="Where you are signed in"
      titleId="profile-sessions"
      className="acct-card"
      actions={
        <Button variant="secondary" size="sm" icon="logout" disabled={others === 0} busy={revokeOthers.isPending} onClick={() => revokeOthers.mutate()}>
          Sign out all other sessions
        </Button>
      }
    >
      {sessions.isPending ? (
        <SkeletonRows rows={2} />
      ) : sessions.isError ? (
        <ErrorState error={sessions.error} onRetry={() => void sessions.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState icon="monitor" title="No sessions" />
      ) : (
        <Table caption="Your sessions" captionHidden columns={columns} rows={items} rowKey={(s) => s.id} />
      )}
    </Card>
  );
}
