import { useState } from "react";
import { Link, useParams } from "react-router";
import { useMe } from "../../api/auth";
import { isStatus } from "../../api/client";
import { useAccept, useChangeStatus, useDeskCcCandidates, useDeskSetCc, useDeskTicket, useStaffComment } from "../../api/internal";
import { useServices } from "../../api/services";
import { useTeams } from "../../api/teams";
import { useAssignees } from "../../api/users";
import type { StaffTicketDetail } from "../../api/types";
import {
  ButtonLink,
  Card,
  ChannelBadge,
  ErrorPage,
  ErrorState,
  Icon,
  Loading,
  PriorityPill,
  SlaChip,
  StatusPill,
  Tabs,
  formatDateTime,
  formatRelative,
  ticketNumber,
  useDocumentTitle,
  useToast,
} from "../../atum";
import { AssignCard } from "./AssignCard";
import { AuditTrail } from "./AuditTrail";
import { Composer } from "./Composer";
import { PresenceBanner, useCollisionGuard } from "./Presence";
import { Conversation } from "./Conversation";
import { DeskAttachments } from "./DeskAttachments";
import { LinksCard } from "./LinksCard";
import { MacroMenu } from "./MacroMenu";
import { RequesterCard } from "./RequesterCard";
import { CopiedColleagues } from "../common/CopiedColleagues";
import { SuggestionPanel } from "./SuggestionPanel";
import { TicketActionBar } from "./TicketActionBar";
import { DeskCsatCard } from "../csat/DeskCsatCard";
import { TicketFieldsCard } from "./TicketFieldsCard";
import { useTicketShortcuts } from "./ticketShortcuts";
import "./desk.css";

export function DeskTicketPage() {
  const { id = "" } = useParams();
  const ticket = useDeskTicket(id);
  useDocumentTitle(ticket.data ? `${ticketNumber(ticket.data.number)} ${ticket.data.title}` : "Ticket");
  if (ticket.isPending) return <Loading label="Loading the ticket" lines={8} />;
  if (ticket.isError) {
    if (isStatus(ticket.error, 404, 422)) {
      return (
        <ErrorPage
          code={404}
          title="Ticket not found"
          actions={
            <ButtonLink to="/desk/tickets" icon="arrowLeft">
              All tickets
            </ButtonLink>
          }
        >
          There is no ticket with this id.
        </ErrorPage>
      );
    }
    if (isStatus(ticket.error, 403)) return <ErrorPage code={403} />;
    return <ErrorState error={ticket.error} onRetry={() => void ticket.refetch()} />;
  }
  return <DeskTicketView ticket={ticket.data} />;
}

/** "Follow-up to #1040": a mail answered a closed ticket and opened this one. */
function FollowUpOf({ id }: { id: string }) {
  const earlier = useDeskTicket(id);
  const number = earlier.data?.number;
  return (
    <p className="desk-ticket__follow-up">
      <Icon name="history" size="sm" />
      {typeof number === "number" ? (
        <Link to={`/desk/tickets/${id}`}>
          Follow-up to {ticketNumber(number)}
          {earlier.data?.title ? ` ${earlier.data.title}` : ""}
        </Link>
      ) : (
        <span>Follow-up to an earlier ticket</span>
      )}
    </p>
  );
}

const OPEN = new Set(["NEW", "ACCEPTED", "ASSIGNED", "IN_PROGRESS", "WAITING_CUSTOMER"]);

export function DeskTicketView({ ticket }: { ticket: StaffTicketDetail }) {
  const [tab, setTab] = useState<"conversation" | "audit">("conversation");
  const [replyDraft, setReplyDraft] = useState<{ text: string; key: number } | null>(null);
  const accept = useAccept();
  const status = useChangeStatus(ticket.id);
  const comment = useStaffComment(ticket.id);
  const services = useServices();
  const toast = useToast();
  const internalCount = (ticket.comments ?? []).filter((c) => c.is_internal).length;
  const { people } = useAssignees();
  const teams = useTeams();
  const names: Record<string, string> = Object.fromEntries([
    ...people.map((p) => [p.id, p.name]),
    ...(teams.data?.items ?? []).map((t) => [t.id, t.name]),
    ...(services.data?.items ?? []).map((sv) => [sv.id, sv.name]),
    ...[ticket.created_by, ticket.accepted_by, ticket.assigned_to, ticket.assigned_team].filter(Boolean).map((r) => [r!.id, r!.name]),
  ]);
  const slaContext = { resolvedAt: ticket.resolved_at, open: OPEN.has(ticket.status) };
  // Collision warnings: who else is here, and a confirmation when someone replied meanwhile.
  const meId = useMe().data?.id;
  const collision = useCollisionGuard(ticket.id, ticket.comments ?? [], meId);
  // Keys: r reply, n internal note, a assign to me (the list of keys: "?").
  useTicketShortcuts(ticket);

  return (
    <div className="desk-ticket">
      <Link to="/desk/tickets" className="desk-back">
        <Icon name="arrowLeft" size="sm" /> Tickets
      </Link>
      <header className="desk-ticket__head">
        <p className="desk-ticket__eyebrow">
          <span className="atum-ticket-no">{ticketNumber(ticket.number)}</span> · {ticket.org_name} · opened{" "}
          <time dateTime={ticket.created_at} title={formatDateTime(ticket.created_at)}>
            {formatRelative(ticket.created_at)}
          </time>{" "}
          by {ticket.created_by?.name ?? "—"}
        </p>
        <h1 className="desk-ticket__title">{ticket.title}</h1>
        {ticket.follow_up_of ? <FollowUpOf id={ticket.follow_up_of} /> : null}
        <div className="atum-inline desk-ticket__pills">
          <StatusPill status={ticket.status} size="md" />
          <PriorityPill priority={ticket.priority} size="md" />
          <ChannelBadge channel={ticket.channel} size="md" />
          <SlaChip kind="first_response" sla={ticket.sla} context={slaContext} />
          <SlaChip kind="resolution" sla={ticket.sla} context={slaContext} />
        </div>
      </header>

      <PresenceBanner ticketId={ticket.id} meId={meId} />
      {collision.dialog}

      <TicketActionBar
        key={`${ticket.status}-${ticket.priority}`}
        ticket={ticket}
        busy={accept.isPending || status.isPending}
        onAccept={(input) => accept.mutateAsync({ id: ticket.id, ...input })}
        onTransition={(input) => status.mutateAsync(input)}
      />
      <div className="ws-macro-bar">
        <MacroMenu ticketId={ticket.id} />
      </div>

      <div className="desk-ticket__grid">
        <div className="desk-ticket__main">
          <Tabs
            label="Ticket views"
            active={tab}
            onChange={setTab}
            tabs={[
              {
                key: "conversation",
                label: (
                  <>
                    <Icon name="message" size="sm" /> Conversation
                    <span className="desk-count tnum">{(ticket.comments ?? []).length + 1}</span>
                  </>
                ),
              },
              { key: "audit", label: <><Icon name="history" size="sm" /> Audit trail</> },
            ]}
          >
            {tab === "conversation" ? (
              <div className="atum-stack atum-stack--lg">
                {internalCount > 0 ? (
                  <p className="desk-legend">
                    <span className="desk-legend__swatch" aria-hidden="true" /> Striped entries are internal notes —
                    never shown to the customer.
                  </p>
                ) : null}
                <Conversation ticket={ticket} comments={(ticket.comments ?? [])} />
                <Composer
                  ticketId={ticket.id}
                  actions={ticket.actions}
                  insert={replyDraft}
                  onTypingChange={collision.onTypingChange}
                  confirmSend={collision.confirmSend}
                  onSubmit={(body, internal) =>
                    comment.mutateAsync({ body, is_internal: internal }).then(() =>
                      toast.success(internal ? "Internal note added" : "Public reply sent"),
                    )
                  }
                />
              </div>
            ) : (
              <AuditTrail ticketId={ticket.id} names={names} />
            )}
          </Tabs>
        </div>
        <aside className="desk-ticket__side" aria-label="Ticket details">
          {ticket.actions.assign ? <AssignCard key={`${ticket.assigned_to?.id}-${ticket.assigned_team?.id}`} ticket={ticket} /> : null}
          <TicketFieldsCard key={`${ticket.id}-${ticket.category ?? ""}`} ticket={ticket} />
          <RequesterCard ticket={ticket} />
          <CopiedColleagues
            cc={ticket.cc ?? []}
            useCandidates={(enabled) => useDeskCcCandidates(ticket.id, enabled)}
            useSave={() => useDeskSetCc(ticket.id)}
            organization={ticket.org_name}
          />
          {ticket.csat ? <DeskCsatCard csat={ticket.csat} /> : null}
          <LinksCard key={ticket.id} ticket={ticket} />
          <Card title="Details" titleId="details-title" surface="content">
            <dl className="atum-kv">
              <dt>Organization</dt>
              <dd>{ticket.org_name}</dd>
              <dt>Assignee</dt>
              <dd>{ticket.assigned_to?.name ?? "Nobody"}</dd>
              <dt>Accepted</dt>
              <dd className="tnum">
                {ticket.accepted_at ? `${formatDateTime(ticket.accepted_at)}${ticket.accepted_by ? ` by ${ticket.accepted_by.name}` : ""}` : "Not yet"}
              </dd>
              <dt>First response due</dt>
              <dd className="tnum">{formatDateTime(ticket.sla.first_response_due_at)}</dd>
              <dt>Resolution due</dt>
              <dd className="tnum">{formatDateTime(ticket.sla.resolution_due_at)}</dd>
              {ticket.resolved_at ? (
                <>
                  <dt>Resolved</dt>
                  <dd className="tnum">{formatDateTime(ticket.resolved_at)}</dd>
                </>
              ) : null}
            </dl>
          </Card>
          {ticket.resolution || ticket.root_cause ? (
            <Card title="Resolution" titleId="resolution-title" surface="content">
              <dl className="atum-kv atum-kv--stacked">
                <dt>Resolution (customer sees this)</dt>
                <dd className="pre-wrap">{ticket.resolution ?? "—"}</dd>
                <dt>Root cause (internal)</dt>
                <dd className="pre-wrap">{ticket.root_cause ?? "—"}</dd>
              </dl>
            </Card>
          ) : null}
          <SuggestionPanel
            ticket={ticket}
            onUseReply={(text) => {
              setTab("conversation");
              setReplyDraft({ text, key: Date.now() });
            }}
          />
          <DeskAttachments ticket={ticket} />
        </aside>
      </div>
    </div>
  );
}
