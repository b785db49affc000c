import { useState, type FormEvent } from "react";
import { useAssign } from "../../api/internal";
import type { StaffTicketDetail } from "../../api/types";
import { useAssignees } from "../../api/users";
import { Button, Card, SelectField } from "../../atum";

/** Assignee picker, shown only when the server says `actions.assign` (the team is edited in the
 * Classification card, through the same assign command). */
export function AssignCard({ ticket }: { ticket: StaffTicketDetail }) {
  const { people, isLoading } = useAssignees();
  const assign = useAssign(ticket.id);
  const [assignee, setAssignee] = useState(ticket.assigned_to?.id ?? "");
  const [error, setError] = useState<string | null>(null);
  const known = people.some((p) => p.id === assignee);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!assignee) {
      setError("Pick a person.");
      return;
    }
    setError(null);
    assign.mutate({ assignee_id: assignee });
  };

  return (
    <Card title="Assignment" titleId="assign-title" surface="content">
      <form className="atum-form" onSubmit={onSubmit}>
        <SelectField label="Assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)} disabled={isLoading} error={error}>
          <option value="">Nobody</option>
          {assignee && !known && ticket.assigned_to ? <option value={ticket.assigned_to.id}>{ticket.assigned_to.name}</option> : null}
          {people.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </SelectField>
        <div className="atum-form__actions">
          <Button type="submit" variant="secondary" icon="user" busy={assign.isPending}>
            Assign
          </Button>
        </div>
      </form>
    </Card>
  );
}
