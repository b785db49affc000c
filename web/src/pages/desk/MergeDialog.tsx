import { useState } from "react";
import { useNavigate } from "react-router";
import { useMergeTicket } from "../../api/internal";
import type { StaffTicket, StaffTicketDetail } from "../../api/types";
import { Banner, Button, Modal, ticketNumber } from "../../atum";
import { TicketPicker } from "./TicketPicker";

/** Merge this ticket (a duplicate) into another of the same organization (managers). */
export function MergeDialog({ ticket, open, onClose }: { ticket: StaffTicketDetail; open: boolean; onClose: () => void }) {
  const navigate = useNavigate();
  const merge = useMergeTicket(ticket.id);
  const [target, setTarget] = useState<StaffTicket | null>(null);
  const otherOrg = target !== null && target.org_id !== ticket.org_id;

  const close = () => {
    setTarget(null);
    onClose();
  };
  const confirm = () => {
    if (!target) return;
    // Awaited, not a mutate() callback: the merge closes this ticket, and the refreshed page may
    // unmount this dialog before per-call callbacks would run.
    merge
      .mutateAsync(target.id)
      .then((merged) => {
        close();
        void navigate(`/desk/tickets/${merged.id}`);
      })
      .catch(() => undefined); // the error toast says why
  };

  return (
    <Modal
      open={open}
      onClose={close}
      busy={merge.isPending}
      title={`Merge ${ticketNumber(ticket.number)} into another ticket`}
      description="Its comments and attachments move to the other ticket, its description is kept there as an internal note, and it is closed as a duplicate. The customer is told."
      footer={
        <>
          <Button type="button" variant="ghost" onClick={close} disabled={merge.isPending}>
            Cancel
          </Button>
          <Button type="button" variant="danger" icon="check" onClick={confirm} busy={merge.isPending} disabled={!target || otherOrg}>
            Merge
          </Button>
        </>
      }
    >
      {target ? (
        <div className="atum-stack">
          <p>
            Into <span className="atum-ticket-no">{ticketNumber(target.number)}</span> {target.title} ({target.org_name})
          </p>
          {otherOrg ? <Banner tone="warning">Tickets of different organizations cannot be merged. Link them instead.</Banner> : null}
          <Button type="button" variant="ghost" size="sm" onClick={() => setTarget(null)}>
            Choose another
          </Button>
        </div>
      ) : (
        <TicketPicker label="Merge into" exclude={ticket.id} onPick={setTarget} />
      )}
    </Modal>
  );
}
