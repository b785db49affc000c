import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { ApiError, errorMessage } from "../../api/client";
import { useDiscardHeld, useHeldMail, useHeldToTicket } from "../../api/mail";
import { useOrgs } from "../../api/orgs";
import type { HeldMail } from "../../api/types";
import {
  Button,
  EmptyState,
  ErrorState,
  FormError,
  Modal,
  PageHeader,
  Panel,
  SelectField,
  SkeletonRows,
  Table,
  TextField,
  formatDateTime,
  formatRelative,
  useDebounced,
  useDocumentTitle,
  type Column,
} from "../../atum";
import "./desk.css";

/** How a held mail is named in buttons and dialogs. */
export function heldLabel(m: HeldMail): string {
  const from = m.from_address || "an unknown sender";
  return m.subject ? `"${m.subject}" from ${from}` : `mail from ${from}`;
}

/** Mail the desk could not place on its own waits here for a manager (or an admin). */
export function HeldMailPage() {
  useDocumentTitle("Held mail");
  const held = useHeldMail();
  const [creating, setCreating] = useState<HeldMail | null>(null);
  const [discarding, setDiscarding] = useState<HeldMail | null>(null);
  const discard = useDiscardHeld();
  const items = held.data?.pages.flatMap((p) => p.items) ?? [];

  const columns: Column<HeldMail>[] = [
    {
      key: "from",
      header: "From",
      rowHeader: true,
      cell: (m) => (
        <span className="desk-held__from">
          {m.from_address || <span className="faint">Unknown sender</span>}
          {m.mailbox ? <span className="desk-held__meta">to {m.mailbox}</span> : null}
        </span>
      ),
    },
    {
      key: "subject",
      header: "Subject",
      cell: (m) => (
        <span className="desk-held__subject">
          <span className="desk-held__title">{m.subject || <span className="faint">(no subject)</span>}</span>
          {m.excerpt ? <span className="desk-held__excerpt">{m.excerpt}</span> : null}
        </span>
      ),
    },
    {
      key: "reason",
      header: "Why it waits",
      hideOnMobile: true,
      cell: (m) => <span className="desk-held__reason">{m.reason ?? <span className="faint">—</span>}</span>,
    },
    {
      key: "received",
      header: "Received",
      hideOnMobile: true,
      cell: (m) => (
        <time dateTime={m.received_at} title={formatDateTime(m.received_at)} className="nowrap">
          {formatRelative(m.received_at)}
        </time>
      ),
    },
    {
      key: "actions",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (m) => (
        <span className="atum-inline atum-inline--end">
          <Button size="sm" variant="secondary" icon="ticket" onClick={() => setCreating(m)} aria-label={`Create ticket from ${heldLabel(m)}`}>
            Create ticket…
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setDiscarding(m)} aria-label={`Discard ${heldLabel(m)}`}>
            Discard
          </Button>
        </span>
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title="Held mail"
        subtitle="Mail the desk could not place on its own. Create a ticket for the right organization, or discard it."
      />
      <Panel surface="content" padding="none">
        {held.isPending ? (
          <SkeletonRows rows={4} />
        ) : held.isError ? (
          <div className="desk-pad">
            <ErrorState error={held.error} onRetry={() => void held.refetch()} />
          </div>
        ) : items.length === 0 ? (
          <EmptyState icon="mail" title="No held mail">
            Mail from unknown senders, or from people who may not answer the ticket they reply to, waits here.
          </EmptyState>
        ) : (
          <>
            <Table caption="Held mail" captionHidden columns={columns} rows={items} rowKey={(m) => m.id} dense />
            {held.hasNextPage ? (
              <div className="atum-load-more">
                <Button onClick={() => void held.fetchNextPage()} busy={held.isFetchingNextPage}>
                  Load more
                </Button>
              </div>
            ) : null}
          </>
        )}
      </Panel>
      {creating ? <CreateTicketDialog mail={creating} onClose={() => setCreating(null)} /> : null}
      <Modal
        open={discarding !== null}
        onClose={() => setDiscarding(null)}
        busy={discard.isPending}
        title="Discard this mail?"
        description={discarding ? `${heldLabel(discarding)}. No ticket is created and nobody is told.` : undefined}
        footer={
          <>
            <Button variant="ghost" onClick={() => setDiscarding(null)} disabled={discard.isPending}>
              Cancel
            </Button>
            <Button
              variant="danger"
              busy={discard.isPending}
              onClick={() => discarding && discard.mutate(discarding.id, { onSuccess: () => setDiscarding(null) })}
            >
              Discard mail
            </Button>
          </>
        }
      />
    </>
  );
}

function CreateTicketDialog({ mail, onClose }: { mail: HeldMail; onClose: () => void }) {
  const navigate = useNavigate();
  const create = useHeldToTicket();
  const [q, setQ] = useState("");
  const query = useDebounced(q.trim());
  const orgs = useOrgs(query);
  const [orgId, setOrgId] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  // Suspended organizations take no new tickets.
  const choices = (orgs.data?.items ?? []).filter((o) => o.status === "active");
  // A choice the search no longer lists is no choice.
  const chosen = choices.some((o) => o.id === orgId) ? orgId : "";

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!chosen) {
      setError("Choose an organization.");
      return;
    }
    setError(null);
    setFormError(null);
    create.mutate(
      { id: mail.id, org_id: chosen },
      {
        onSuccess: (ticket) => {
          onClose();
          void navigate(`/desk/tickets/${ticket.id}`);
        },
        onError: (e) => {
          if (e instanceof ApiError && e.fieldErrors().org_id) setError(e.fieldErrors().org_id ?? null);
          else setFormError(errorMessage(e));
        },
      },
    );
  };

  return (
    <Modal
      open
      onClose={onClose}
      busy={create.isPending}
      title="Create ticket for organization…"
      description={`${heldLabel(mail)}. The sender becomes (or already is) a customer user of that organization, and the ticket is theirs.`}
    >
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <TextField label="Find organization" type="search" value={q} onChange={(e) => setQ(e.target.value)} autoComplete="off" />
        <SelectField
          label="Organization"
          value={chosen}
          onChange={(e) => setOrgId(e.target.value)}
          required
          error={error}
          hint={orgs.isError ? errorMessage(orgs.error) : undefined}
        >
          <option value="">{orgs.isPending ? "Loading…" : choices.length === 0 ? "No organization matches" : "Choose…"}</option>
          {choices.map((o) => (
            <option key={o.id} value={o.id}>
              {o.name}
            </option>
          ))}
        </SelectField>
        <FormError>{formError}</FormError>
        <div className="atum-form__actions">
          <Button variant="ghost" onClick={onClose} disabled={create.isPending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create ticket
          </Button>
        </div>
      </form>
    </Modal>
  );
}
