import { commentOriginalUrl, ticketOriginalUrl } from "../../api/mail";
import type { StaffComment, StaffTicketDetail } from "../../api/types";
import { AutomaticBadge, ChannelBadge, Message, OriginalMailLink } from "../../atum";

type ThreadTicket = Pick<StaffTicketDetail, "id" | "description" | "created_at" | "created_by" | "channel">;

/** Who wrote a comment: automatic mail has no user, its name is the sender's address. */
export function commentAuthor(c: StaffComment): string {
  return c.author.name || c.from_address || "Unknown sender";
}

/** The whole thread for staff: the description, public replies and internal notes (marked). */
export function Conversation({ ticket, comments }: { ticket: ThreadTicket; comments: StaffComment[] }) {
  const byMail = ticket.channel === "email";
  return (
    <ol className="atum-thread" aria-label="Conversation">
      <li>
        <Message
          author={ticket.created_by?.name ?? "Customer"}
          side="customer"
          at={ticket.created_at}
          badge={
            <>
              <span className="atum-pill atum-pill--sm atum-role-badge">Description</span>
              {byMail ? <ChannelBadge channel="email" /> : null}
            </>
          }
          footer={byMail ? <OriginalMailLink href={ticketOriginalUrl(ticket.id)} /> : null}
        >
          {ticket.description}
        </Message>
      </li>
      {comments.map((c) => (
        <li key={c.id}>
          <Message
            author={commentAuthor(c)}
            side={c.author.is_staff ? "staff" : "customer"}
            at={c.created_at}
            internal={c.is_internal}
            badge={
              <>
                {c.automatic ? (
                  <AutomaticBadge />
                ) : !c.author.is_staff ? (
                  <span className="atum-pill atum-pill--sm atum-role-badge">Customer</span>
                ) : null}
                {c.channel !== "portal" ? <ChannelBadge channel={c.channel} /> : null}
              </>
            }
            quoted={c.quoted}
            refused={c.refused_files}
            footer={
              c.has_original ? (
                <OriginalMailLink
                  href={commentOriginalUrl(c.ticket_id || ticket.id, c.id)}
                  title={[c.from_address && `From ${c.from_address}`, c.message_id && `Message-ID ${c.message_id}`].filter(Boolean).join(" · ") || undefined}
                />
              ) : null
            }
          >
            {c.body}
          </Message>
        </li>
      ))}
    </ol>
  );
}
