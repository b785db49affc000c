import { Link } from "react-router";
import type { StaffTicketDetail } from "../../api/types";
import { Card, StatusPill, ticketNumber } from "../../atum";

/** Who asked: name, address, organization and their other open tickets (staff only). */
export function RequesterCard({ ticket }: { ticket: StaffTicketDetail }) {
  const requester = ticket.requester;
  const others = ticket.requester_open_tickets ?? [];
  return (
    <Card title="Requester" titleId="requester-title" surface="content">
      <dl className="atum-kv">
        <dt>Name</dt>
        <dd>{requester?.name ?? "—"}</dd>
        <dt>E-mail</dt>
        <dd className="desk-requester__email">
          {requester ? <a href={`mailto:${requester.email}`}>{requester.email}</a> : "—"}
        </dd>
        <dt>Organization</dt>
        <dd>{ticket.org_name}</dd>
      </dl>
      <h3 className="desk-side-subhead">Other open tickets</h3>
      {others.length === 0 ? (
        <p className="desk-side-empty">None.</p>
      ) : (
        <ul className="desk-ticket-refs" aria-label="Other open tickets of the requester">
          {others.map((t) => (
            <li key={t.id}>
              <Link to={`/desk/tickets/${t.id}`}>
                <span className="atum-ticket-no">{ticketNumber(t.number)}</span> {t.title}
              </Link>
              <StatusPill status={t.status} />
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
