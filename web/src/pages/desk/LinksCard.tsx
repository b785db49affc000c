import { useState } from "react";
import { Link } from "react-router";
import { useMe } from "../../api/auth";
import { useTicketLink } from "../../api/internal";
import type { StaffTicketDetail } from "../../api/types";
import { Button, Card, Icon, ticketNumber } from "../../atum";
import { MergeDialog } from "./MergeDialog";
import { TicketPicker } from "./TicketPicker";

const FINAL = new Set(["CLOSED", "CANCELLED"]);

/** Related tickets (staff-only links, any organization), the ticket this one was merged into,
 * and for managers the merge of this ticket into another. */
export function LinksCard({ ticket }: { ticket: StaffTicketDetail }) {
  const me = useMe().data;
  const link = useTicketLink(ticket.id);
  const unlink = useTicketLink(ticket.id, { unlink: true });
  const [adding, setAdding] = useState(false);
  const [merging, setMerging] = useState(false);
  const links = ticket.links ?? [];
  const mayMerge = (me?.role === "manager" || me?.role === "admin") && !ticket.merged_into && !FINAL.has(ticket.status);

  return (
    <Card title="Related tickets" titleId="links-title" surface="content">
      <div className="atum-stack">
        {ticket.merged_into ? (
          <p className="desk-ticket__follow-up">
            <Icon name="history" size="sm" />
            <Link to={`/desk/tickets/${ticket.merged_into}`}>Merged into another ticket — open it</Link>
          </p>
        ) : null}
        {links.length === 0 ? (
          <p className="desk-side-empty">No linked tickets.</p>
        ) : (
          <ul className="desk-ticket-refs" aria-label="Linked tickets">
            {links.map((t) => (
              <li key={t.id}>
                <Link to={`/desk/tickets/${t.id}`}>
                  <span className="atum-ticket-no">{ticketNumber(t.number)}</span> {t.title}
                </Link>
                <Button
                  type="button"
                  variant="ghost"
                  size="sm"
                  aria-label={`Unlink ${ticketNumber(t.number)}`}
                  onClick={() => unlink.mutate(t.id)}
                  disabled={unlink.isPending}
                >
                  Unlink
                </Button>
              </li>
            ))}
          </ul>
        )}
        {adding ? (
          <TicketPicker
            label="Link to"
            exclude={ticket.id}
            disabled={link.isPending}
            onPick={(other) => link.mutate(other.id, { onSuccess: () => setAdding(false) })}
          />
        ) : null}
        <div className="atum-inline">
          <Button type="button" variant="secondary" size="sm" icon="plus" onClick={() => setAdding((v) => !v)}>
            {adding ? "Cancel" : "Link a ticket"}
          </Button>
          {mayMerge ? (
            <Button type="button" variant="secondary" size="sm" onClick={() => setMerging(true)}>
              Merge into…
            </Button>
          ) : null}
        </div>
      </div>
      {/* Mounted while open, whatever the ticket becomes: a merge closes this very ticket. */}
      {merging ? <MergeDialog ticket={ticket} open onClose={() => setMerging(false)} /> : null}
    </Card>
  );
}
