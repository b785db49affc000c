import { useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import {
  useBounces,
  useClearBounce,
  useCreateMailbox,
  useDeleteMailbox,
  useMailboxes,
  useQuarantined,
  useRetryQuarantined,
  useUpdateMailbox,
} from "../../api/mail";
import type { Bounce, Mailbox, MailboxCreate, MailboxUpdate, QuarantinedMail } from "../../api/types";
import {
  Button,
  Checkbox,
  EmptyState,
  ErrorState,
  FormError,
  Modal,
  Panel,
  SelectField,
  SkeletonRows,
  Table,
  TextField,
  formatDateTime,
  formatRelative,
  useDocumentTitle,
  type Column,
} from "../../atum";
import { ActivePill, WriteOnlySecretField } from "./shared";

type Kind = Mailbox["kind"];

const KIND_LABEL: Record<Kind, string> = { lmtp: "LMTP", imap: "IMAP" };

function When({ at }: { at: string | null }) {
  if (!at) return <span className="faint">Never</span>;
  return (
    <time dateTime={at} title={formatDateTime(at)} className="nowrap">
      {formatRelative(at)}
    </time>
  );
}

/** The mailboxes the desk reads, the addresses that bounce, and the mail it could not process. */
export function AdminMailPage() {
  useDocumentTitle("Mail");
  return (
    <div className="atum-stack atum-stack--lg">
      <MailboxesSection />
      <BouncesSection />
      <QuarantinedSection />
    </div>
  );
}

// ---- Mailboxes ------------------------------------------------------------------------------------

function MailboxesSection() {
  const mailboxes = useMailboxes();
  const remove = useDeleteMailbox();
  const [editing, setEditing] = useState<Mailbox | "new" | null>(null);
  const [deleting, setDeleting] = useState<Mailbox | null>(null);

  const columns: Column<Mailbox>[] = [
    { key: "address", header: "Address", rowHeader: true, cell: (m) => m.address },
    { key: "kind", header: "Kind", cell: (m) => KIND_LABEL[m.kind] },
    {
      key: "server",
      header: "Server",
      hideOnMobile: true,
      cell: (m) =>
        m.kind === "imap" ? (
          <span className="admin-cell-stack">
            <span>
              {m.imap_host ?? "—"}
              {m.imap_port ? `:${m.imap_port}` : ""} · {m.imap_tls ? "TLS" : "no TLS"}
            </span>
            <span className="admin-cell-meta">
              {m.imap_user ?? "—"} · {m.has_password ? "password stored" : "no password"}
            </span>
            <span className="admin-cell-meta">
              {m.imap_folder}
              {m.processed_folder ? ` → ${m.processed_folder}` : ""}
            </span>
          </span>
        ) : (
          <span className="faint">Delivered by the local mail server</span>
        ),
    },
    {
      key: "status",
      header: "Status",
      cell: (m) => (
        <span className="admin-cell-stack">
          <ActivePill active={m.active} />
          {m.last_error ? <span className="admin-cell-error">{m.last_error}</span> : null}
        </span>
      ),
    },
    {
      key: "checked",
      header: "Last checked",
      hideOnMobile: true,
      // LMTP mailboxes are delivered to, never polled.
      cell: (m) => (m.kind === "imap" ? <When at={m.last_checked_at} /> : <span className="faint">Delivered by the MTA</span>),
    },
    {
      key: "actions",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (m) => (
        <span className="atum-inline atum-inline--end">
          <Button size="sm" variant="ghost" onClick={() => setEditing(m)} aria-label={`Edit ${m.address}`}>
            Edit
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setDeleting(m)} aria-label={`Delete ${m.address}`}>
            Delete
          </Button>
        </span>
      ),
    },
  ];

  return (
    <Panel surface="content" padding="none" aria-labelledby="mailboxes-title">
      <div className="admin-toolbar">
        <div>
          <h2 id="mailboxes-title" className="admin-section-title">
            Mailboxes
          </h2>
          <p className="muted">Addresses the desk receives mail for: delivered to it (LMTP) or fetched by it (IMAP).</p>
        </div>
        <Button variant="primary" icon="plus" onClick={() => setEditing("new")}>
          New mailbox
        </Button>
      </div>
      {mailboxes.isPending ? (
        <SkeletonRows rows={3} />
      ) : mailboxes.isError ? (
        <div className="admin-pad">
          <ErrorState error={mailboxes.error} onRetry={() => void mailboxes.refetch()} />
        </div>
      ) : mailboxes.data.items.length === 0 ? (
        <EmptyState icon="mail" title="No mailboxes">
          Add the address customers write to.
        </EmptyState>
      ) : (
        <Table caption="Mailboxes" captionHidden columns={columns} rows={mailboxes.data.items} rowKey={(m) => m.id} />
      )}
      {editing ? <MailboxDialog mailbox={editing === "new" ? null : editing} onClose={() => setEditing(null)} /> : null}
      <Modal
        open={deleting !== null}
        onClose={() => setDeleting(null)}
        busy={remove.isPending}
        title="Delete this mailbox?"
        description={deleting ? `${deleting.address}. The desk stops reading it; mail already on tickets stays.` : undefined}
        footer={
          <>
            <Button variant="ghost" onClick={() => setDeleting(null)} disabled={remove.isPending}>
              Cancel
            </Button>
            <Button variant="danger" busy={remove.isPending} onClick={() => deleting && remove.mutate(deleting.id, { onSuccess: () => setDeleting(null) })}>
              Delete mailbox
            </Button>
          </>
        }
      />
    </Panel>
  );
}

export interface MailboxForm {
  address: string;
  kind: Kind;
  imap_host: string;
  imap_port: string;
  imap_tls: boolean;
  imap_user: string;
  imap_password: string;
  imap_folder: string;
  processed_folder: string;
  active: boolean;
}

/** The form's starting values: never the password (write-only). */
export function mailboxForm(m: Mailbox | null): MailboxForm {
  return {
    address: m?.address ?? "",
    kind: m?.kind ?? "imap",
    imap_host: m?.imap_host ?? "",
    imap_port: m?.imap_port ? String(m.imap_port) : "",
    imap_tls: m?.imap_tls ?? true,
    imap_user: m?.imap_user ?? "",
    imap_password: "",
    imap_folder: m?.imap_folder ?? "INBOX",
    processed_folder: m?.processed_folder ?? "",
    active: m?.active ?? true,
  };
}

/** Field problems found before anything is sent (the server checks again). */
export function checkMailbox(form: MailboxForm, editing: Mailbox | null): Record<string, string> {
  const found: Record<string, string> = {};
  if (!editing && !form.address.includes("@")) found.address = "Enter an e-mail address.";
  if (form.kind === "imap") {
    if (!form.imap_host.trim()) found.imap_host = "Enter the IMAP server.";
    if (!form.imap_user.trim()) found.imap_user = "Enter the IMAP user.";
    if (!editing && !form.imap_password) found.imap_password = "Enter the IMAP password.";
    const port = form.imap_port.trim();
    if (port && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) found.imap_port = "A port from 1 to 65535.";
    if (!form.imap_folder.trim()) found.imap_folder = "Enter the folder to read (usually INBOX).";
  }
  return found;
}

/** A new mailbox: IMAP fields only for IMAP. */
export function createBody(form: MailboxForm): MailboxCreate {
  const body: MailboxCreate = {
    address: form.address.trim(),
    kind: form.kind,
    active: form.active,
    imap_tls: form.imap_tls,
    imap_folder: form.imap_folder.trim() || "INBOX",
  };
  if (form.kind === "imap") {
    body.imap_host = form.imap_host.trim();
    body.imap_port = form.imap_port.trim() ? Number(form.imap_port) : null;
    body.imap_user = form.imap_user.trim();
    body.imap_password = form.imap_password;
    body.processed_folder = form.processed_folder.trim() || null;
  }
  return body;
}

/** A change: an empty password keeps the stored one (it is left out); an empty port or processed folder clears it. */
export function updateBody(form: MailboxForm): MailboxUpdate {
  if (form.kind !== "imap") return { active: form.active };
  return {
    imap_host: form.imap_host.trim(),
    imap_port: form.imap_port.trim() ? Number(form.imap_port) : null,
    imap_tls: form.imap_tls,
    imap_user: form.imap_user.trim(),
    imap_folder: form.imap_folder.trim(),
    processed_folder: form.processed_folder.trim() || null,
    active: form.active,
    ...(form.imap_password ? { imap_password: form.imap_password } : {}),
  };
}

function MailboxDialog({ mailbox, onClose }: { mailbox: Mailbox | null; onClose: () => void }) {
  const create = useCreateMailbox();
  const update = useUpdateMailbox();
  const [form, setForm] = useState<MailboxForm>(() => mailboxForm(mailbox));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const pending = create.isPending || update.isPending;
  const set = <K extends keyof MailboxForm>(key: K, value: MailboxForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const imap = form.kind === "imap";

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found = checkMailbox(form, mailbox);
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length) return;
    const onError = (e: unknown) => {
      if (!(e instanceof ApiError)) return;
      if (e.status === 409) {
        setErrors({ address: e.message });
        return;
      }
      const fields = e.fieldErrors();
      delete fields.body;
      setErrors(fields);
      if (Object.keys(fields).length === 0) setFormError(e.message);
    };
    if (mailbox) update.mutate({ id: mailbox.id, ...updateBody(form) }, { onSuccess: onClose, onError });
    else create.mutate(createBody(form), { onSuccess: onClose, onError });
  };

  return (
    <Modal open onClose={onClose} busy={pending} size="lg" title={mailbox ? `Edit ${mailbox.address}` : "New mailbox"}>
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <div className="atum-form__row">
          <TextField
            label="Address"
            type="email"
            value={form.address}
            onChange={(e) => set("address", e.target.value)}
            required
            disabled={Boolean(mailbox)}
            error={errors.address}
            autoComplete="off"
            maxLength={254}
            hint={mailbox ? undefined : "The address customers write to, e.g. support@example.com."}
          />
          <SelectField
            label="Kind"
            value={form.kind}
            onChange={(e) => set("kind", e.target.value as Kind)}
            disabled={Boolean(mailbox)}
            hint={imap ? "The desk fetches the mail from an IMAP server." : "The local mail server delivers the mail to the desk."}
          >
            <option value="imap">IMAP (fetched)</option>
            <option value="lmtp">LMTP (delivered)</option>
          </SelectField>
        </div>
        {imap ? (
          <>
            <div className="atum-form__row">
              <TextField
                label="IMAP server"
                value={form.imap_host}
                onChange={(e) => set("imap_host", e.target.value)}
                required
                error={errors.imap_host}
                autoComplete="off"
                placeholder="imap.example.com"
                maxLength={253}
              />
              <TextField
                label="IMAP port"
                type="number"
                inputMode="numeric"
                min={1}
                max={65535}
                value={form.imap_port}
                onChange={(e) => set("imap_port", e.target.value)}
                error={errors.imap_port}
                hint="Empty: 993 with TLS, 143 without."
              />
            </div>
            <Checkbox label="Use TLS" checked={form.imap_tls} onChange={(e) => set("imap_tls", e.target.checked)} />
            <div className="atum-form__row">
              <TextField
                label="IMAP user"
                value={form.imap_user}
                onChange={(e) => set("imap_user", e.target.value)}
                required
                error={errors.imap_user}
                autoComplete="off"
                maxLength={254}
              />
              <WriteOnlySecretField
                label="IMAP password"
                editing={Boolean(mailbox)}
                stored={Boolean(mailbox?.has_password)}
                value={form.imap_password}
                onChange={(e) => set("imap_password", e.target.value)}
                required={!mailbox}
                error={errors.imap_password}
                maxLength={1024}
              />
            </div>
            <div className="atum-form__row">
              <TextField
                label="Folder"
                value={form.imap_folder}
                onChange={(e) => set("imap_folder", e.target.value)}
                required
                error={errors.imap_folder}
                autoComplete="off"
                maxLength={200}
              />
              <TextField
                label="Processed folder"
                value={form.processed_folder}
                onChange={(e) => set("processed_folder", e.target.value)}
                error={errors.processed_folder}
                autoComplete="off"
                maxLength={200}
                hint="Mail is moved here once stored. Empty: it stays where it is."
              />
            </div>
          </>
        ) : null}
        <Checkbox label="Active (the desk reads this mailbox)" checked={form.active} onChange={(e) => set("active", e.target.checked)} />
        <FormError>{formError}</FormError>
        <div className="atum-form__actions">
          <Button variant="ghost" onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={pending}>
            {mailbox ? "Save mailbox" : "Create mailbox"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}

// ---- Bouncing addresses --------------------------------------------------------------------------

function BouncesSection() {
  const bounces = useBounces();
  const clear = useClearBounce();

  const columns: Column<Bounce>[] = [
    { key: "address", header: "Address", rowHeader: true, cell: (b) => b.address },
    { key: "status", header: "Status", cell: (b) => <span className="tnum">{b.status}</span> },
    {
      key: "diagnostic",
      header: "Diagnostic",
      hideOnMobile: true,
      cell: (b) => (b.diagnostic ? <span className="admin-cell-wrap">{b.diagnostic}</span> : <span className="faint">—</span>),
    },
    { key: "since", header: "Since", hideOnMobile: true, cell: (b) => <When at={b.created_at} /> },
    {
      key: "clear",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (b) => (
        <Button
          size="sm"
          variant="ghost"
          busy={clear.isPending && clear.variables === b.address}
          onClick={() => clear.mutate(b.address)}
          aria-label={`Clear ${b.address}`}
        >
          Clear
        </Button>
      ),
    },
  ];

  return (
    <Panel surface="content" padding="none" aria-labelledby="bounces-title">
      <div className="admin-toolbar">
        <div>
          <h2 id="bounces-title" className="admin-section-title">
            Bouncing addresses
          </h2>
          <p className="muted">Addresses that answered with a permanent failure, newest first. Nothing is sent to them until cleared.</p>
        </div>
      </div>
      {bounces.isPending ? (
        <SkeletonRows rows={3} />
      ) : bounces.isError ? (
        <div className="admin-pad">
          <ErrorState error={bounces.error} onRetry={() => void bounces.refetch()} />
        </div>
      ) : bounces.data.items.length === 0 ? (
        <EmptyState icon="checkCircle" title="No bouncing addresses" />
      ) : (
        <Table caption="Bouncing addresses" captionHidden columns={columns} rows={bounces.data.items} rowKey={(b) => b.address} dense />
      )}
    </Panel>
  );
}

// ---- Quarantined mail ----------------------------------------------------------------------------

function QuarantinedSection() {
  const quarantined = useQuarantined();
  const retry = useRetryQuarantined();
  const items = quarantined.data?.pages.flatMap((p) => p.items) ?? [];
  const label = (m: QuarantinedMail) => m.subject || `mail from ${m.from_address ?? "an unknown sender"}`;

  const columns: Column<QuarantinedMail>[] = [
    { key: "from", header: "From", rowHeader: true, cell: (m) => m.from_address ?? <span className="faint">Unknown sender</span> },
    {
      key: "subject",
      header: "Subject",
      cell: (m) => (
        <span className="admin-cell-stack">
          <span>{m.subject || <span className="faint">(no subject)</span>}</span>
          {m.error ? <span className="admin-cell-error">{m.error}</span> : null}
        </span>
      ),
    },
    { key: "received", header: "Received", hideOnMobile: true, cell: (m) => <When at={m.received_at} /> },
    { key: "attempts", header: "Attempts", align: "end", cell: (m) => <span className="tnum">{m.attempts}</span> },
    {
      key: "retry",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (m) => (
        <Button
          size="sm"
          variant="ghost"
          icon="refresh"
          busy={retry.isPending && retry.variables === m.id}
          onClick={() => retry.mutate(m.id)}
          aria-label={`Retry ${label(m)}`}
        >
          Retry
        </Button>
      ),
    },
  ];

  return (
    <Panel surface="content" padding="none" aria-labelledby="quarantined-title">
      <div className="admin-toolbar">
        <div>
          <h2 id="quarantined-title" className="admin-section-title">
            Quarantined mail
          </h2>
          <p className="muted">Mail that failed to process. It is kept as received; Retry runs it through again.</p>
        </div>
      </div>
      {quarantined.isPending ? (
        <SkeletonRows rows={3} />
      ) : quarantined.isError ? (
        <div className="admin-pad">
          <ErrorState error={quarantined.error} onRetry={() => void quarantined.refetch()} />
        </div>
      ) : items.length === 0 ? (
        <EmptyState icon="checkCircle" title="No quarantined mail" />
      ) : (
        <>
          <Table caption="Quarantined mail" captionHidden columns={columns} rows={items} rowKey={(m) => m.id} dense />
          {quarantined.hasNextPage ? (
            <div className="atum-load-more">
              <Button onClick={() => void quarantined.fetchNextPage()} busy={quarantined.isFetchingNextPage}>
                Load more
              </Button>
            </div>
          ) : null}
        </>
      )}
    </Panel>
  );
}
