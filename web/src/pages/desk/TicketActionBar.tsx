import { useState, type FormEvent } from "react";
import { PRIORITIES, type Priority, type StaffTicketDetail } from "../../api/types";
import { Button, Modal, PRIORITY_LOOK, SelectField, TextArea, TextField, ticketNumber } from "../../atum";
import { transitionControls, type TransitionControl } from "./controls";
import type { AcceptInput, StatusInput } from "../../api/internal";

export interface TicketActionBarProps {
  ticket: Pick<StaffTicketDetail, "number" | "status" | "priority" | "category" | "actions">;
  onAccept: (input: AcceptInput) => Promise<unknown>;
  onTransition: (input: StatusInput) => Promise<unknown>;
  busy?: boolean;
}

/**
 * Accept (with an optional priority/category) and the status buttons — exactly the ones the
 * server's `actions` lists for this user, nothing derived here.
 */
export function TicketActionBar({ ticket, onAccept, onTransition, busy }: TicketActionBarProps) {
  const { actions } = ticket;
  const [priority, setPriority] = useState<Priority>(ticket.priority);
  const [category, setCategory] = useState(ticket.category ?? "");
  const [dialog, setDialog] = useState<TransitionControl | null>(null);
  const controls = transitionControls(ticket.status, actions);

  if (!actions.accept && controls.length === 0) return null;

  const run = (control: TransitionControl) => {
    if (control.dialog) setDialog(control);
    else void onTransition({ status: control.to });
  };

  return (
    <section className="desk-actionbar" aria-label="Ticket actions">
      {actions.accept ? (
        <form
          className="desk-accept"
          onSubmit={(event: FormEvent) => {
            event.preventDefault();
            void onAccept({
              priority: priority !== ticket.priority ? priority : null,
              category: category.trim() && category.trim() !== ticket.category ? category.trim() : null,
            });
          }}
        >
          <SelectField label="Priority" value={priority} onChange={(e) => setPriority(e.target.value as Priority)} fieldClassName="desk-accept__field">
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {p} — {PRIORITY_LOOK[p].label}
              </option>
            ))}
          </SelectField>
          <TextField
            label="Category"
            value={category}
            onChange={(e) => setCategory(e.target.value)}
            maxLength={100}
            placeholder="Optional"
            fieldClassName="desk-accept__field"
          />
          <Button type="submit" variant="primary" icon="checkCircle" busy={busy}>
            Accept
          </Button>
        </form>
      ) : null}
      {controls.length > 0 ? (
        <div
          className={["desk-transitions", actions.accept && "desk-transitions--end"].filter(Boolean).join(" ")}
          role="group"
          aria-label="Change status"
        >
          {!actions.accept ? (
            <span className="desk-transitions__label" aria-hidden="true">
              Next step
            </span>
          ) : null}
          {controls.map((c) => (
            <Button key={c.to} variant={c.variant} onClick={() => run(c)} disabled={busy} data-transition={c.to}>
              {c.label}
            </Button>
          ))}
        </div>
      ) : null}
      <ResolveDialog
        open={dialog?.dialog === "resolve"}
        number={ticket.number}
        onClose={() => setDialog(null)}
        onSubmit={(resolution, root_cause) =>
          onTransition({ status: "RESOLVED", resolution, root_cause }).then(() => setDialog(null))
        }
      />
      <RejectDialog
        open={dialog?.dialog === "reject"}
        number={ticket.number}
        onClose={() => setDialog(null)}
        onSubmit={(reason) => onTransition({ status: "CANCELLED", reason }).then(() => setDialog(null))}
      />
    </section>
  );
}

function ResolveDialog({
  open,
  number,
  onClose,
  onSubmit,
}: {
  open: boolean;
  number: number;
  onClose: () => void;
  onSubmit: (resolution: string, rootCause: string) => Promise<unknown>;
}) {
  const [resolution, setResolution] = useState("");
  const [rootCause, setRootCause] = useState("");
  const [errors, setErrors] = useState<{ resolution?: string; root_cause?: string }>({});
  const [pending, setPending] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = {
      resolution: resolution.trim() ? undefined : "Describe how it was resolved.",
      root_cause: rootCause.trim() ? undefined : "Name the root cause.",
    };
    setErrors(found);
    if (found.resolution || found.root_cause) return;
    setPending(true);
    try {
      await onSubmit(resolution.trim(), rootCause.trim());
      setResolution("");
      setRootCause("");
    } catch {
      // the error is toasted; keep the dialog open
    } finally {
      setPending(false);
    }
  };
  return (
    <Modal
      open={open}
      onClose={onClose}
      busy={pending}
      size="lg"
      title={`Resolve ticket ${ticketNumber(number)}`}
      description="The customer sees the resolution. The root cause stays internal."
    >
      <form className="atum-form" onSubmit={submit} noValidate>
        <TextArea
          label="Resolution"
          required
          rows={4}
          value={resolution}
          onChange={(e) => setResolution(e.target.value)}
          error={errors.resolution}
          maxLength={20000}
          hint="Shown to the customer."
        />
        <TextArea
          label="Root cause"
          required
          rows={3}
          value={rootCause}
          onChange={(e) => setRootCause(e.target.value)}
          error={errors.root_cause}
          maxLength={20000}
          hint="Internal: why it happened."
        />
        <div className="atum-form__actions">
          <Button variant="ghost" onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" icon="check" busy={pending}>
            Resolve ticket
          </Button>
        </div>
      </form>
    </Modal>
  );
}

function RejectDialog({
  open,
  number,
  onClose,
  onSubmit,
}: {
  open: boolean;
  number: number;
  onClose: () => void;
  onSubmit: (reason: string) => Promise<unknown>;
}) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!reason.trim()) {
      setError("Give the customer a reason.");
      return;
    }
    setError(null);
    setPending(true);
    try {
      await onSubmit(reason.trim());
      setReason("");
    } catch {
      // toasted
    } finally {
      setPending(false);
    }
  };
  return (
    <Modal
      open={open}
      onClose={onClose}
      busy={pending}
      title={`Reject ticket ${ticketNumber(number)}`}
      description="The ticket is cancelled and the customer is told why."
    >
      <form className="atum-form" onSubmit={submit} noValidate>
        <TextArea label="Reason" required rows={3} value={reason} onChange={(e) => setReason(e.target.value)} error={error} maxLength={2000} />
        <div className="atum-form__actions">
          <Button variant="ghost" onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" variant="danger" busy={pending}>
            Reject ticket
          </Button>
        </div>
      </form>
    </Modal>
  );
}
