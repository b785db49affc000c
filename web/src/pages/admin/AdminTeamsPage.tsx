import { useState, type FormEvent } from "react";
import { ApiError, errorMessage } from "../../api/client";
import { useCreateTeam, useTeams, useUpdateTeam } from "../../api/teams";
import type { Team, User } from "../../api/types";
import { useUsers } from "../../api/users";
import {
  Button,
  Checkbox,
  EmptyState,
  ErrorState,
  FormError,
  Modal,
  Panel,
  ROLE_LABEL,
  SkeletonRows,
  Table,
  TextField,
  useDocumentTitle,
  useToast,
  type Column,
} from "../../atum";

/** Active staff members, by name (only they can be team members). */
function useStaff() {
  const lists = [useUsers({ role: "agent" }), useUsers({ role: "manager" }), useUsers({ role: "admin" })];
  const people = lists
    .flatMap((l) => l.data?.items ?? [])
    .filter((u) => u.is_active)
    .sort((a: User, b: User) => a.name.localeCompare(b.name));
  return { people, all: lists.flatMap((l) => l.data?.items ?? []), pending: lists.some((l) => l.isPending) };
}

/** Teams of staff members (tickets can be assigned to a team). */
export function AdminTeamsPage() {
  useDocumentTitle("Teams");
  const teams = useTeams();
  const staff = useStaff();
  const [editing, setEditing] = useState<Team | "new" | null>(null);
  const nameOf = (id: string) => staff.all.find((u) => u.id === id)?.name ?? "Unknown user";

  const columns: Column<Team>[] = [
    { key: "name", header: "Team", rowHeader: true, cell: (t) => t.name },
    {
      key: "members",
      header: "Members",
      cell: (t) =>
        t.member_ids.length ? (
          <span className="admin-cell-wrap">{t.member_ids.map(nameOf).join(", ")}</span>
        ) : (
          <span className="faint">No members</span>
        ),
    },
    {
      key: "edit",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (t) => (
        <Button size="sm" variant="ghost" onClick={() => setEditing(t)} aria-label={`Edit ${t.name}`}>
          Edit
        </Button>
      ),
    },
  ];

  return (
    <Panel surface="content" padding="none">
      <div className="admin-toolbar">
        <div className="admin-toolbar__filters" />
        <Button variant="primary" icon="plus" onClick={() => setEditing("new")}>
          New team
        </Button>
      </div>
      {teams.isPending ? (
        <SkeletonRows rows={4} />
      ) : teams.isError ? (
        <div className="admin-pad">
          <ErrorState error={teams.error} onRetry={() => void teams.refetch()} />
        </div>
      ) : teams.data.items.length === 0 ? (
        <EmptyState icon="users" title="No teams yet">
          A team groups agents and managers; tickets can be assigned to it.
        </EmptyState>
      ) : (
        <Table caption="Teams" captionHidden columns={columns} rows={teams.data.items} rowKey={(t) => t.id} />
      )}
      {editing ? (
        <TeamDialog team={editing === "new" ? null : editing} people={staff.people} onClose={() => setEditing(null)} />
      ) : null}
    </Panel>
  );
}

function TeamDialog({ team, people, onClose }: { team: Team | null; people: User[]; onClose: () => void }) {
  const create = useCreateTeam();
  const update = useUpdateTeam();
  const toast = useToast();
  const [name, setName] = useState(team?.name ?? "");
  const [members, setMembers] = useState<string[]>(team?.member_ids ?? []);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const pending = create.isPending || update.isPending;
  const toggle = (id: string, on: boolean) => setMembers((m) => (on ? [...m, id] : m.filter((x) => x !== id)));

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    if (!name.trim()) {
      setErrors({ name: "Enter a name." });
      return;
    }
    setErrors({});
    const body = { name: name.trim(), member_ids: members };
    const onError = (e: unknown) => {
      const fields = e instanceof ApiError ? e.fieldErrors() : {};
      if (Object.keys(fields).length) setErrors(fields);
      else setFailure(errorMessage(e));
    };
    const onSuccess = (saved: Team) => {
      toast.success(team ? `Team ${saved.name} saved` : `Team ${saved.name} created`);
      onClose();
    };
    if (team) update.mutate({ id: team.id, ...body }, { onSuccess, onError });
    else create.mutate(body, { onSuccess, onError });
  };

  return (
    <Modal open onClose={onClose} busy={pending} title={team ? `Edit ${team.name}` : "New team"}>
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} required error={errors.name} autoComplete="off" />
        <fieldset className="admin-account-actions">
          <legend className="admin-account-actions__legend">Members</legend>
          {people.length === 0 ? <p className="admin-cell-meta">No active staff members yet.</p> : null}
          {people.map((u) => (
            <Checkbox
              key={u.id}
              label={`${u.name} (${ROLE_LABEL[u.role]})`}
              checked={members.includes(u.id)}
              onChange={(e) => toggle(u.id, e.target.checked)}
            />
          ))}
          {errors.member_ids ? <p className="admin-cell-error">{errors.member_ids}</p> : null}
        </fieldset>
        {failure ? <FormError>{failure}</FormError> : null}
        <div className="atum-form__actions">
          <Button variant="ghost" onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={pending}>
            {team ? "Save team" : "Create team"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
