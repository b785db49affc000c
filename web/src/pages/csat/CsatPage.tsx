/**
 * /csat/:token?rating=good — the page a "How did we do?" link of the resolved mail opens, without
 * signing in. The choice of the link is pre-selected; only "Send rating" records it (mail
 * scanners open every link). Afterwards: thanks, and it can be changed until the link expires.
 */
import { useState } from "react";
import { useParams, useSearchParams } from "react-router";
import { errorMessage } from "../../api/client";
import { isCsatRating, isDeadLink, useCsatLink, useSubmitCsatLink } from "../../api/csat";
import { Banner, Button, ButtonLink, ErrorState, Loading, formatDateTime, useDocumentTitle } from "../../atum";
import { PublicCard } from "../account/PublicCard";
import { CsatForm } from "./CsatForm";

const RATING_WORDS = { good: "good", okay: "okay", bad: "bad" } as const;

export function CsatPage() {
  const { token = "" } = useParams();
  const [params] = useSearchParams();
  const link = useCsatLink(token);
  const submit = useSubmitCsatLink(token);
  const [editing, setEditing] = useState(false);
  const [sent, setSent] = useState(false);
  useDocumentTitle("How did we do?");

  if (link.isPending) {
    return (
      <PublicCard title="How did we do?">
        <Loading label="Opening your rating" lines={3} />
      </PublicCard>
    );
  }
  if (isDeadLink(link.error) || isDeadLink(submit.error)) {
    return (
      <PublicCard title="This link does not work any more">
        <div className="atum-stack">
          <Banner tone="warning">
            <p role="alert">
              A rating link works for 14 days after the ticket was resolved, and only until the ticket is reopened. Sign in to
              see your tickets.
            </p>
          </Banner>
          <ButtonLink to="/login" variant="secondary" block>
            Go to sign in
          </ButtonLink>
        </div>
      </PublicCard>
    );
  }
  if (!link.data) {
    return (
      <PublicCard title="How did we do?">
        <ErrorState error={link.error} onRetry={() => void link.refetch()} />
      </PublicCard>
    );
  }

  const info = link.data;
  const sub = `Ticket #${info.ticket_number}: ${info.title}`;
  const until = formatDateTime(info.expires_at);
  if (info.rating && !editing && (sent || !params.get("rating"))) {
    return (
      <PublicCard title="Thank you" sub={sub}>
        <div className="atum-stack">
          <Banner tone="success">
            <p role="status">
              Your rating: <strong>{RATING_WORDS[info.rating]}</strong>. You can change it until {until}.
            </p>
          </Banner>
          {info.comment ? <p className="csat-summary">“{info.comment}”</p> : null}
          <Button variant="secondary" onClick={() => setEditing(true)}>
            Change my rating
          </Button>
        </div>
      </PublicCard>
    );
  }

  const asked = params.get("rating");
  const initial = isCsatRating(asked) ? asked : (info.rating ?? null);
  return (
    <PublicCard title="How did we do?" sub={sub}>
      <CsatForm
        key={`${initial}-${info.comment ?? ""}`}
        initialRating={initial}
        initialComment={info.comment ?? null}
        busy={submit.isPending}
        problem={submit.error ? errorMessage(submit.error) : null}
        onSubmit={(input) =>
          submit.mutate(input, {
            onSuccess: () => {
              setSent(true);
              setEditing(false);
            },
          })
        }
      />
      <p className="csat-summary">Nothing is recorded until you send it. You can change it until {until}.</p>
    </PublicCard>
  );
}
