import { useState, type FormEvent } from "react";
import { useAssign } from "../../api/internal";
import { useTeams } from "../../api/teams";
import type { StaffTicketDetail } from "../../api/types";
import { useAssignees } from "../../api/users";
import { Button, Card, SelectField } from "../../atum";

/** Assignee + team picker, shown only when the server says `actions.assign`. */
export function AssignCard({ ticket }: { ticket: StaffTicketDetail }) {
  const { people, isLoading } = useAssignees();
  const teams = useTeams();
  const assign = useAssign(ticket.id);
  const [assignee, setAssignee] = useState(ticket.assigned_to?.id ?? "");
  const [team, setTeam] = useState(ticket.assigned_team?.id ?? "");
  const [error, setError] = useState<string | null>(null);
  const known = people.some((p) => p.id === assignee);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!assignee && !team) {
      setError("Pick a person or a team.");
      return;
    }
    setError(null);
    assign.mutate({ assignee_id: assignee || null, team_id: team || null });
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
        <SelectField label="Team" value={team} onChange={(e) => setTeam(e.target.value)} disabled={teams.isPending}>
          <option value="">No team</option>
          {teams.data?.items.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
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
