import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { isStatus } from "../../api/client";
import { useServices } from "../../api/services";
import {
  attachmentUrl,
  uploadTicketAttachment,
  useCcCandidates,
  useInvalidateTicket,
  useReply,
  useSetCc,
  useTicket,
  useWithdraw,
} from "../../api/tickets";
import type { CustomerTicketDetail } from "../../api/types";
import { PortalCsatCard } from "../csat/PortalCsatCard";
import {
  AttachmentList,
  Banner,
  Button,
  ButtonLink,
  Card,
  ChannelBadge,
  ErrorPage,
  ErrorState,
  FileDrop,
  Icon,
  Loading,
  Message,
  Modal,
  Panel,
  PriorityPill,
  StatusPill,
  TextArea,
  formatDateTime,
  ticketNumber,
  useDocumentTitle,
  useToast,
  useUploadQueue,
} from "../../atum";
import { Timeline } from "./Timeline";
import { customerStatusSentence } from "./timeline";
import { CopiedColleagues } from "../common/CopiedColleagues";
import "./portal.css";

export function PortalTicketPage() {
  const { id = "" } = useParams();
  const ticket = useTicket(id);
  useDocumentTitle(ticket.data ? `${ticketNumber(ticket.data.number)} ${ticket.data.title}` : "Ticket");

  if (ticket.isPending) return <Loading label="Loading the ticket" />;
  if (ticket.isError) {
    if (isStatus(ticket.error, 404, 422)) {
      return (
        <ErrorPage
          code={404}
          title="Ticket not found"
          actions={
            <ButtonLink to="/portal" icon="arrowLeft">
              All tickets
            </ButtonLink>
          }
        >
          This ticket does not exist or belongs to another organization.
        </ErrorPage>
      );
    }
    if (isStatus(ticket.error, 403)) return <ErrorPage code={403} />;
    return <ErrorState error={ticket.error} onRetry={() => void ticket.refetch()} />;
  }
  return <TicketView ticket={ticket.data} />;
}

function TicketView({ ticket }: { ticket: CustomerTicketDetail }) {
  const services = useServices();
  const service = services.data?.items.find((s) => s.id === ticket.service_id);
  const [withdrawOpen, setWithdrawOpen] = useState(false);

  return (
    <div className="portal-ticket-page">
      <Link to="/portal" className="portal-back">
        <Icon name="arrowLeft" size="sm" /> All tickets
      </Link>
      <header className="portal-ticket-head">
        <div className="portal-ticket-head__text">
          <p className="portal-ticket-head__eyebrow">
            <span className="atum-ticket-no">{ticketNumber(ticket.number)}</span> · {ticket.org_name}
          </p>
          <h1 className="portal-ticket-head__title">{ticket.title}</h1>
          {ticket.follow_up_of ? <FollowUpOf id={ticket.follow_up_of} /> : null}
          <div className="atum-inline portal-ticket-head__pills">
            <StatusPill status={ticket.status} audience="customer" size="md" />
            <PriorityPill priority={ticket.priority} size="md" />
            <ChannelBadge channel={ticket.channel} size="md" />
          </div>
          <p className="portal-ticket-head__sentence">{customerStatusSentence(ticket.status)}</p>
        </div>
        {ticket.actions.withdraw ? (
          <Button variant="secondary" icon="xCircle" onClick={() => setWithdrawOpen(true)}>
            Withdraw
          </Button>
        ) : null}
      </header>

      <Panel className="portal-progress" padding="md" aria-label="Progress">
        <Timeline ticket={ticket} />
      </Panel>

      <div className="portal-ticket-grid">
        <div className="atum-stack atum-stack--lg">
          {ticket.status === "RESOLVED" || ticket.status === "CLOSED" ? (
            ticket.resolution ? (
              <Banner tone="success">
                <strong>Resolution:</strong> <span className="pre-wrap">{ticket.resolution}</span>
              </Banner>
            ) : null
          ) : null}
          <section aria-labelledby="conversation-title" className="atum-stack">
            <h2 id="conversation-title" className="portal-section-title">
              Conversation
            </h2>
            <ol className="atum-thread">
              <li>
                <Message author={ticket.created_by?.name ?? "Customer"} side="customer" at={ticket.created_at}>
                  {ticket.description}
                </Message>
              </li>
              {(ticket.comments ?? []).map((c) => (
                <li key={c.id}>
                  <Message
                    author={c.author.name}
                    side={c.author.is_staff ? "staff" : "customer"}
                    at={c.created_at}
                    badge={
                      <>
                        {c.author.is_staff ? <span className="atum-pill atum-pill--sm atum-role-badge">Support</span> : null}
                        {c.channel === "email" ? <ChannelBadge channel="email" /> : null}
                      </>
                    }
                    quoted={c.quoted}
                    refused={c.refused_files}
                  >
                    {c.body}
                  </Message>
                </li>
              ))}
            </ol>
          </section>
          <ReplyBox ticket={ticket} />
        </div>
        <aside className="atum-stack" aria-label="Ticket details">
          {ticket.csat ? <PortalCsatCard ticketId={ticket.id} csat={ticket.csat} /> : null}
          <Card title="Details" titleId="details-title" headingLevel={2} surface="content">
            <dl className="atum-kv">
              <dt>Status</dt>
              <dd>
                <StatusPill status={ticket.status} audience="customer" />
              </dd>
              <dt>Priority</dt>
              <dd>
                <PriorityPill priority={ticket.priority} />
              </dd>
              <dt>Service</dt>
              <dd>{service?.name ?? (ticket.service_id ? "—" : "Not set")}</dd>
              <dt>Category</dt>
              <dd>{ticket.category ?? "Not set"}</dd>
              <dt>Opened by</dt>
              <dd>{ticket.created_by?.name ?? "—"}</dd>
              <dt>Opened</dt>
              <dd className="tnum">{formatDateTime(ticket.created_at)}</dd>
              <dt>Handled by</dt>
              <dd>{ticket.assigned_to?.name ?? "Support team"}</dd>
            </dl>
          </Card>
          <CopiedColleagues
              cc={ticket.cc ?? []}
              useCandidates={(enabled) => useCcCandidates(ticket.id, enabled)}
              useSave={() => useSetCc(ticket.id)}
              organization="your organization"
            />
          <Attachments ticket={ticket} />
        </aside>
      </div>
      <WithdrawDialog ticket={ticket} open={withdrawOpen} onClose={() => setWithdrawOpen(false)} />
    </div>
  );
}

/**
 * "Follow-up to #1040": a mail answered a closed ticket and opened this one. The link appears
 * only when the earlier ticket is visible to this customer.
 */
function FollowUpOf({ id }: { id: string }) {
  const earlier = useTicket(id);
  const number = earlier.data?.number;
  return (
    <p className="portal-ticket-head__follow-up">
      <Icon name="history" size="sm" />
      {typeof number === "number" ? (
        <Link to={`/portal/tickets/${id}`}>
          Follow-up to {ticketNumber(number)}
          {earlier.data?.title ? ` ${earlier.data.title}` : ""}
        </Link>
      ) : (
        <span>Follow-up to an earlier ticket</span>
      )}
    </p>
  );
}

function ReplyBox({ ticket }: { ticket: CustomerTicketDetail }) {
  const reply = useReply(ticket.id);
  const [body, setBody] = useState("");
  const [error, setError] = useState<string | null>(null);
  if (!ticket.actions.reply) {
    return (
      <Banner tone="info">
        {ticket.status === "NEW"
          ? "You can add messages once support has accepted the ticket."
          : "This ticket is no longer open for replies. Open a new ticket if you need more help."}
      </Banner>
    );
  }
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!body.trim()) {
      setError("Write a message first.");
      return;
    }
    setError(null);
    reply.mutate(body.trim(), { onSuccess: () => setBody("") });
  };
  return (
    <Panel as="section" surface="content" aria-labelledby="reply-title" className="portal-reply">
      <h2 id="reply-title" className="portal-section-title">
        Reply
      </h2>
      {ticket.status === "WAITING_CUSTOMER" ? (
        <Banner tone="warning">Support is waiting for your answer. Replying resumes work on the ticket.</Banner>
      ) : ticket.status === "RESOLVED" ? (
        <Banner tone="info">Replying reopens this ticket.</Banner>
      ) : null}
      <form className="atum-form" onSubmit={onSubmit}>
        <TextArea label="Your reply" rows={4} value={body} onChange={(e) => setBody(e.target.value)} error={error} maxLength={50000} />
        <div className="atum-form__actions">
          <Button type="submit" variant="primary" icon="message" busy={reply.isPending}>
            Send reply
          </Button>
        </div>
      </form>
    </Panel>
  );
}

function Attachments({ ticket }: { ticket: CustomerTicketDetail }) {
  const queue = useUploadQueue();
  const invalidate = useInvalidateTicket();
  const toast = useToast();
  const uploading = queue.items.some((i) => i.status === "uploading");
  // Files are uploaded as soon as they are picked, one by one, with progress.
  const onAdd = async (files: File[]) => {
    const added = queue.add(files);
    const failed = await queue.uploadAll((file, onProgress) => uploadTicketAttachment(ticket.id, file, { onProgress }), added);
    await invalidate(ticket.id);
    if (failed === 0) {
      toast.success(added.length === 1 ? "Attachment uploaded" : "Attachments uploaded");
      queue.clearDone();
    }
  };
  return (
    <Card title="Attachments" titleId="attachments-title" surface="content">
      <div className="atum-stack">
        <AttachmentList
          items={(ticket.attachments ?? []).map((a) => ({
            id: a.id,
            file_name: a.file_name,
            size_bytes: a.size_bytes,
            created_at: a.created_at,
            href: attachmentUrl(ticket.id, a.id),
          }))}
        />
        {ticket.actions.attach ? (
          <FileDrop
            label="Add attachments"
            hint="Images, PDF, office documents, text and zip files."
            items={queue.items}
            onAdd={(files) => void onAdd(files)}
            onRemove={queue.remove}
            disabled={uploading}
            compact
          />
        ) : null}
      </div>
    </Card>
  );
}

function WithdrawDialog({ ticket, open, onClose }: { ticket: CustomerTicketDetail; open: boolean; onClose: () => void }) {
  const withdraw = useWithdraw(ticket.id);
  const [reason, setReason] = useState("");
  return (
    <Modal
      open={open}
      onClose={onClose}
      busy={withdraw.isPending}
      title={`Withdraw ticket ${ticketNumber(ticket.number)}?`}
      description="Support will stop working on it. This cannot be undone; open a new ticket if you need help again."
      footer={
        <>
          <Button variant="ghost" onClick={onClose} disabled={withdraw.isPending}>
            Keep ticket
          </Button>
          <Button
            variant="danger"
            busy={withdraw.isPending}
            onClick={() => withdraw.mutate(reason.trim() || null, { onSuccess: onClose })}
          >
            Withdraw ticket
          </Button>
        </>
      }
    >
      <TextArea label="Reason (optional)" rows={3} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={2000} />
    </Modal>
  );
}
