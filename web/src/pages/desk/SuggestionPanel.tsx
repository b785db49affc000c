import type { ReactNode } from "react";
import { Link } from "react-router";
import type { StaffTicketDetail } from "../../api/types";
import { useApplySuggestion, useSuggestions, type SuggestionField, type Suggestions } from "../../api/suggestions";
import { Button, Card, ErrorState, Icon, Loading, PriorityPill, ticketNumber } from "../../atum";

export interface SuggestionViewProps {
  suggestions: Suggestions;
  ticket: Pick<StaffTicketDetail, "id" | "priority" | "category" | "status">;
  /** Apply = the staff member's own, audited update of the ticket to the stored suggestion
   * (absent: no Apply buttons). */
  onApply?: (field: SuggestionField) => Promise<unknown>;
  onUseReply?: (reply: string) => void;
  busy?: boolean;
}

const FINAL = new Set(["RESOLVED", "CLOSED", "CANCELLED"]);

function percent(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}

interface VoteRowProps {
  field: SuggestionField;
  vote: { value: string; confidence: number } | null;
  current: string | null;
  label: (value: string) => ReactNode;
  canApply: boolean;
  busy?: boolean;
  onApply?: (field: SuggestionField) => Promise<unknown>;
}

/** One suggested value with its confidence, and Apply when it differs from the ticket's. */
function VoteRow({ field, vote, current, label, canApply, busy, onApply }: VoteRowProps) {
  return (
    <dd className="desk-ai__row">
      {vote ? (
        <>
          <span>
            {label(vote.value)} <span className="desk-ai__muted tnum">({percent(vote.confidence)})</span>
          </span>
          {canApply && vote.value !== current ? (
            <Button
              size="sm"
              variant="ghost"
              busy={busy}
              aria-label={`Apply ${field} ${vote.value}`}
              onClick={() => void onApply?.(field)}
            >
              Apply
            </Button>
          ) : null}
        </>
      ) : (
        <span className="desk-ai__muted">No suggestion</span>
      )}
    </dd>
  );
}

/** Advisory only: every suggestion is shown with its confidence; nothing changes the ticket
 * unless a staff member presses Apply (an ordinary, audited ticket update). */
export function SuggestionView({ suggestions: s, ticket, onApply, onUseReply, busy }: SuggestionViewProps) {
  if (s.status === "unavailable") {
    return <p className="desk-ai__muted">No suggestions for this ticket yet.</p>;
  }
  if (s.status === "pending" && s.summary === null) {
    return (
      <p className="desk-ai__muted" role="status">
        <Icon name="clock" size="sm" /> Analysing the ticket… suggestions appear here in a moment.
      </p>
    );
  }
  const canApply = Boolean(onApply) && !FINAL.has(ticket.status);
  return (
    <div className="atum-stack desk-ai">
      {s.status === "pending" ? (
        <p className="desk-ai__muted" role="status">
          <Icon name="refresh" size="sm" /> Updating after new activity…
        </p>
      ) : null}
      <p className="desk-ai__engine">
        {s.engine === "ollama" ? "Local language model" : "Keyword engine"} · advisory, review before use
      </p>
      {s.summary ? (
        <section aria-label="Summary">
          <h3 className="desk-ai__label">Summary</h3>
          <p className="pre-wrap">{s.summary}</p>
        </section>
      ) : null}
      <dl className="atum-kv">
        <dt>Category</dt>
        <VoteRow
          field="category"
          vote={s.category}
          current={ticket.category}
          label={(value) => value}
          canApply={canApply}
          busy={busy}
          onApply={onApply}
        />
        <dt>Priority</dt>
        <VoteRow
          field="priority"
          vote={s.priority}
          current={ticket.priority}
          label={(value) => <PriorityPill priority={value as StaffTicketDetail["priority"]} />}
          canApply={canApply}
          busy={busy}
          onApply={onApply}
        />
      </dl>
      {s.similar.length > 0 ? (
        <section aria-label="Similar tickets">
          <h3 className="desk-ai__label">Similar tickets</h3>
          <ul className="desk-ai__list">
            {s.similar.map((t) => (
              <li key={t.id}>
                <Link to={`/desk/tickets/${t.id}`}>
                  <span className="atum-ticket-no">{ticketNumber(t.number)}</span> {t.title}
                </Link>
                <span className="desk-ai__muted"> · {t.org_name}</span>
                {t.resolution ? <p className="desk-ai__excerpt">Resolution: {t.resolution}</p> : null}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {s.kb.length > 0 ? (
        <section aria-label="Knowledge base">
          <h3 className="desk-ai__label">Runbook and docs</h3>
          <ul className="desk-ai__list">
            {s.kb.map((k) => (
              <li key={`${k.source}-${k.title}`}>
                <strong>{k.title}</strong> <span className="desk-ai__muted">({k.source})</span>
                <p className="desk-ai__excerpt">{k.excerpt}</p>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {s.reply ? (
        <section aria-label="Suggested reply">
          <h3 className="desk-ai__label">Suggested reply</h3>
          <p className="pre-wrap desk-ai__excerpt">{s.reply}</p>
          {onUseReply ? (
            <Button size="sm" variant="secondary" icon="message" onClick={() => onUseReply(s.reply!)}>
              Use as reply draft
            </Button>
          ) : null}
        </section>
      ) : null}
    </div>
  );
}

export function SuggestionPanel({
  ticket,
  onUseReply,
}: {
  ticket: StaffTicketDetail;
  onUseReply?: (reply: string) => void;
}) {
  const suggestions = useSuggestions(ticket.id);
  const apply = useApplySuggestion(ticket.id);
  return (
    <Card title={<><Icon name="spark" size="sm" /> Suggestions</>} titleId="suggestions-title" surface="content">
      {suggestions.isPending ? (
        <Loading label="Loading suggestions" lines={3} />
      ) : suggestions.isError ? (
        <ErrorState error={suggestions.error} onRetry={() => void suggestions.refetch()} />
      ) : (
        <SuggestionView
          suggestions={suggestions.data}
          ticket={ticket}
          onApply={(field) => apply.mutateAsync(field)}
          onUseReply={ticket.actions.reply ? onUseReply : undefined}
          busy={apply.isPending}
        />
      )}
    </Card>
  );
}
