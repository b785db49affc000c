/** The portal ticket page's rating card: a resolved ticket's "How did we do?" (the viewer's own). */
import { useState } from "react";
import { errorMessage } from "../../api/client";
import { useRateTicket, type CustomerCsat } from "../../api/csat";
import { Button, Card, formatDateTime } from "../../atum";
import { CsatForm } from "./CsatForm";
import "./csat.css";

export function PortalCsatCard({ ticketId, csat }: { ticketId: string; csat: CustomerCsat }) {
  const rate = useRateTicket(ticketId);
  const [editing, setEditing] = useState(false);
  const until = formatDateTime(csat.expires_at);
  const showForm = csat.can_rate && (editing || !csat.rating);
  return (
    <Card title="How did we do?" titleId="csat-title" headingLevel={2} surface="content">
      {showForm ? (
        <>
          <CsatForm
            initialRating={csat.rating ?? null}
            initialComment={csat.comment ?? null}
            busy={rate.isPending}
            problem={rate.error ? errorMessage(rate.error) : null}
            onSubmit={(input) => rate.mutate(input, { onSuccess: () => setEditing(false) })}
          />
          <p className="csat-summary">You can change it until {until}.</p>
        </>
      ) : (
        <div className="atum-stack">
          <p role="status">
            {csat.rating ? (
              <>
                Your rating: <strong>{csat.rating}</strong>.
              </>
            ) : (
              "Not rated."
            )}{" "}
            {csat.can_rate ? `You can change it until ${until}.` : "Rating has closed for this ticket."}
          </p>
          {csat.comment ? <p className="csat-summary">“{csat.comment}”</p> : null}
          {csat.can_rate ? (
            <Button variant="secondary" size="sm" onClick={() => setEditing(true)}>
              Change my rating
            </Button>
          ) : null}
        </div>
      )}
    </Card>
  );
}
