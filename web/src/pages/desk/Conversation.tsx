import type { StaffComment, StaffTicketDetail } from "../../api/types";
import { Message } from "../../atum";

/** The whole thread for staff: the description, public replies and internal notes (marked). */
export function Conversation({ ticket, comments }: { ticket: Pick<StaffTicketDetail, "description" | "created_at" | "created_by">; comments: StaffComment[] }) {
  return (
    <ol className="atum-thread" aria-label="Conversation">
      <li>
        <Message author={ticket.created_by?.name ?? "Customer"} side="customer" at={ticket.created_at} badge={<span className="atum-pill atum-pill--sm atum-role-badge">Description</span>}>
          {ticket.description}
        </Message>
      </li>
      {comments.map((c) => (
        <li key={c.id}>
          <Message
            author={c.author.name}
            side={c.author.is_staff ? "staff" : "customer"}
            at={c.created_at}
            internal={c.is_internal}
            badge={!c.author.is_staff ? <span className="atum-pill atum-pill--sm atum-role-badge">Customer</span> : null}
          >
            {c.body}
          </Message>
        </li>
      ))}
    </ol>
  );
}
