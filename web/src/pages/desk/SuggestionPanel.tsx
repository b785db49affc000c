import { useId, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import { Link } from "react-router";
import type { StaffTicketDetail } from "../../api/types";
import {
  useApplySuggestion,
  useSuggestions,
  type KbPassage,
  type SimilarTicket,
  type SuggestionEngine,
  type SuggestionField,
  type SuggestionVote,
  type Suggestions,
} from "../../api/suggestions";
import { Button, Card, ErrorState, Icon, Loading, PriorityPill, ticketNumber } from "../../atum";
import { Markdown } from "../portal/Markdown";

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
/** How many resolved tickets "Why" lists. */
const WHY_TICKETS = 3;

export const ENGINE_LABEL: Record<SuggestionEngine, string> = {
  local: "Local model",
  lexical: "Full-text",
  ollama: "Language model (Ollama)",
};

function percent(fraction: number): string {
  return `${Math.round(Math.min(Math.max(fraction, 0), 1) * 100)}%`;
}

/** How a value was chosen, in plain words. */
export function methodWording(vote: Pick<SuggestionVote, "method" | "model_version">): string {
  switch (vote.method) {
    case "classifier":
      return vote.model_version === null ? "trained classifier" : `trained classifier v${vote.model_version}`;
    case "neighbours":
      return "nearest resolved tickets";
    default:
      return "language model";
  }
}

/** The desk's knowledge-base page, opened on the article. */
export function deskArticleHref(articleId: string): string {
  return `/desk/kb?${new URLSearchParams({ article: articleId }).toString()}`;
}

interface VoteRowProps {
  field: SuggestionField;
  vote: SuggestionVote | null;
  current: string | null;
  label: (value: string) => ReactNode;
  canApply: boolean;
  busy?: boolean;
  onApply?: (field: SuggestionField) => Promise<unknown>;
}

/** One suggested value with its confidence and how it was chosen, and Apply when it differs from
 * the ticket's. */
function VoteRow({ field, vote, current, label, canApply, busy, onApply }: VoteRowProps) {
  return (
    <dd className="desk-ai__row">
      {vote ? (
        <>
          <span className="desk-ai__vote">
            <span>{label(vote.value)}</span>{" "}
            <span className="desk-ai__muted">
              <span className="tnum">{percent(vote.confidence)}</span> likely · {methodWording(vote)}
            </span>
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
      <p className="desk-ai__engine">{ENGINE_LABEL[s.engine]} · advisory, review before use</p>
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
      <Why similar={s.similar} passage={s.kb[0]} showSimilarity={s.engine !== "lexical"} />
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
          <h3 className="desk-ai__label">Knowledge base</h3>
          <ul className="desk-ai__list">
            {s.kb.map((k, i) => (
              <KbPassageItem key={`${k.source}-${i}`} passage={k} />
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

/** A passage's title: a link to the article on the desk's knowledge-base page, or (operator
 * documentation) the title with its source file. */
function PassageTitle({ passage }: { passage: KbPassage }) {
  return passage.article_id ? (
    <Link to={deskArticleHref(passage.article_id)} className="desk-ai__passage-title">
      {passage.title}
    </Link>
  ) : (
    <>
      <strong className="desk-ai__passage-title">{passage.title}</strong>{" "}
      <small className="desk-ai__source">{passage.source}</small>
    </>
  );
}

/** The ticket's nearest resolved tickets (what the suggestion leans on) and the closest
 * knowledge-base passage; nothing at all when there are neither. `score` is a cosine similarity
 * only when the engine has embeddings: with full-text only it is a rank score, not shown. */
function Why({ similar, passage, showSimilarity }: { similar: SimilarTicket[]; passage?: KbPassage; showSimilarity: boolean }) {
  const resolved = similar.filter((t) => t.resolved).slice(0, WHY_TICKETS);
  if (resolved.length === 0 && !passage) return null;
  return (
    <section aria-label="Why" className="desk-ai__why">
      <h3 className="desk-ai__label">Why</h3>
      {resolved.length > 0 ? (
        <>
          <p className="desk-ai__muted">Nearest resolved tickets</p>
          <ul className="desk-ai__list" aria-label="Nearest resolved tickets">
            {resolved.map((t) => (
              <li key={t.id}>
                <Link to={`/desk/tickets/${t.id}`}>
                  <span className="atum-ticket-no">{ticketNumber(t.number)}</span> {t.title}
                </Link>
                <span className="desk-ai__meta">
                  <span>{t.category ?? "No category"}</span>
                  <PriorityPill priority={t.priority} />
                  <span>{t.org_name}</span>
                  {showSimilarity && t.score != null ? <span className="tnum">{percent(t.score)} similar</span> : null}
                </span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {passage ? (
        <p className="desk-ai__closest">
          <span className="desk-ai__muted">Closest article:</span> <PassageTitle passage={passage} />
        </p>
      ) : null}
    </section>
  );
}

/** A knowledge-base passage rendered as Markdown, compact: folded to a few lines with "Show more"
 * when it is taller than that. */
function KbPassageItem({ passage }: { passage: KbPassage }) {
  const id = useId();
  const body = useRef<HTMLDivElement>(null);
  const [open, setOpen] = useState(false);
  const [overflows, setOverflows] = useState(false);
  const source = passage.body.trim() ? passage.body : passage.excerpt;

  // Measured while folded (the fold is a max-height): re-measured when the text or the panel's
  // width changes; while open the toggle stays so it can fold again.
  useLayoutEffect(() => {
    const el = body.current;
    if (!el || open) return;
    const measure = () => setOverflows(el.scrollHeight > el.clientHeight + 1);
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [source, open]);

  return (
    <li className="desk-ai__passage">
      <PassageTitle passage={passage} />
      <div
        ref={body}
        id={id}
        className={open ? "desk-ai__passage-body" : "desk-ai__passage-body desk-ai__passage-body--folded"}
      >
        <Markdown source={source} className="kb-md--compact" headingLevel={4} />
      </div>
      {overflows || open ? (
        <Button
          size="sm"
          variant="ghost"
          icon="chevronDown"
          className="desk-ai__more"
          aria-expanded={open}
          aria-controls={id}
          aria-label={`${open ? "Show less" : "Show more"} of ${passage.title}`}
          onClick={() => setOpen((o) => !o)}
        >
          {open ? "Show less" : "Show more"}
        </Button>
      ) : null}
    </li>
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
