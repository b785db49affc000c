/**
 * One action on the selected tickets (POST /internal/tickets/bulk): assign, status, priority, a
 * tag, a macro. Every ticket is decided on its own; the result lists what was done and what was
 * refused, with the reason.
 */
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { errorMessage } from "../../api/client";
import { PRIORITIES, TICKET_STATUSES, type Priority, type StaffTicket, type TicketStatus } from "../../api/types";
import { useTeams } from "../../api/teams";
import { useAssignees } from "../../api/users";
import { BULK_MAX, useBulkAction, useMacroList, type BulkOutcome, type BulkRequestAction } from "../../api/workspace";
import { Banner, Button, FormError, PRIORITY_LOOK, SelectField, STATUS_LOOK, TextField, ticketNumber } from "../../atum";

type Kind = "assign" | "status" | "priority" | "tag" | "macro";

const KINDS: { value: Kind; label: string }[] = [
  { value: "assign", label: "Assign" },
  { value: "status", label: "Change status" },
  { value: "priority", label: "Set priority" },
  { value: "tag", label: "Add tag" },
  { value: "macro", label: "Apply macro" },
];

/** The bulk request's action for the bar's choices, or null while one is missing. */
export function bulkAction(kind: Kind, value: string, resolution: string, rootCause = ""): BulkRequestAction | null {
  if (!value.trim()) return null;
  switch (kind) {
    case "assign":
      if (value === "me") return { type: "assign", me: true };
      if (value.startsWith("team:")) return { type: "assign", me: false, team_id: value.slice(5) };
      return { type: "assign", me: false, assignee_id: value };
    case "status":
      if (value !== "RESOLVED") return { type: "status", status: value as TicketStatus };
      // Resolving asks for what the customer is told and the (internal) root cause, as on a ticket.
      if (!resolution.trim() || !rootCause.trim()) return null;
      return { type: "status", status: "RESOLVED", resolution: resolution.trim(), root_cause: rootCause.trim() };
    case "priority":
      return { type: "priority", priority: value as Priority };
    case "tag":
      return { type: "tags", add: [value.trim().toLowerCase()], remove: [] };
    case "macro":
      return { type: "macro", macro_id: value };
  }
}

export function BulkBar({
  count,
  allMatching,
  resolveIds,
  tickets,
  onClear,
}: {
  /** How many tickets are selected (null: all matching, number unknown). */
  count: number | null;
  allMatching: boolean;
  resolveIds: (signal?: AbortSignal) => Promise<string[]>;
  /** The rows on screen, to name the tickets in the results. */
  tickets: StaffTicket[];
  onClear: () => void;
}) {
  const [kind, setKind] = useState<Kind>("assign");
  const [value, setValue] = useState("");
  const [resolution, setResolution] = useState("");
  const [rootCause, setRootCause] = useState("");
  const [results, setResults] = useState<BulkOutcome[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [working, setWorking] = useState(false);
  const bulk = useBulkAction();
  const { people } = useAssignees();
  const teams = useTeams();
  const macros = useMacroList(kind === "macro");
  const action = bulkAction(kind, value, resolution, rootCause);
  const byId = new Map(tickets.map((t) => [t.id, t]));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!action) return;
    setWorking(true);
    setFailure(null);
    setResults(null);
    try {
      const ids = await resolveIds();
      setResults(await bulk.mutateAsync({ ticket_ids: ids.slice(0, BULK_MAX), action }));
    } catch (error) {
      setFailure(errorMessage(error));
    } finally {
      setWorking(false);
    }
  };

  const done = results?.filter((r) => r.ok).length ?? 0;
  const refused = results?.filter((r) => !r.ok) ?? [];
  const label = allMatching ? (count !== null ? `All ${Math.min(count, BULK_MAX)} matching` : "All matching") : `${count ?? 0} selected`;

  return (
    <section className="desk-bulk" aria-label="Bulk actions">
      <form className="desk-bulk__bar" onSubmit={(e) => void submit(e)}>
        <strong className="desk-bulk__count tnum">{label}</strong>
        <SelectField
          label="Action"
          hideLabel
          value={kind}
          onChange={(e) => {
            setKind(e.target.value as Kind);
            setValue("");
          }}
        >
          {KINDS.map((k) => (
            <option key={k.value} value={k.value}>
              {k.label}
            </option>
          ))}
        </SelectField>
        {kind === "assign" ? (
          <SelectField label="Assign to" hideLabel value={value} onChange={(e) => setValue(e.target.value)}>
            <option value="">Assign to…</option>
            <option value="me">Me</option>
            {people.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
            {(teams.data?.items ?? []).map((t) => (
              <option key={t.id} value={`team:${t.id}`}>
                Team {t.name}
              </option>
            ))}
          </SelectField>
        ) : kind === "status" ? (
          <SelectField label="New status" hideLabel value={value} onChange={(e) => setValue(e.target.value)}>
            <option value="">New status…</option>
            {TICKET_STATUSES.filter((s) => s !== "NEW" && s !== "ACCEPTED" && s !== "ASSIGNED").map((s) => (
              <option key={s} value={s}>
                {STATUS_LOOK[s].label}
              </option>
            ))}
          </SelectField>
        ) : kind === "priority" ? (
          <SelectField label="Priority" hideLabel value={value} onChange={(e) => setValue(e.target.value)}>
            <option value="">Priority…</option>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {p} — {PRIORITY_LOOK[p].label}
              </option>
            ))}
          </SelectField>
        ) : kind === "tag" ? (
          <TextField label="Tag" hideLabel placeholder="Tag to add" maxLength={40} value={value} onChange={(e) => setValue(e.target.value)} />
        ) : (
          <SelectField label="Macro" hideLabel value={value} onChange={(e) => setValue(e.target.value)}>
            <option value="">Macro…</option>
            {(macros.data?.items ?? []).map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </SelectField>
        )}
        {kind === "status" && value === "RESOLVED" ? (
          <>
            <TextField label="Resolution" hideLabel placeholder="Resolution, the customer sees it (required)" value={resolution} onChange={(e) => setResolution(e.target.value)} />
            <TextField label="Root cause" hideLabel placeholder="Root cause, internal (required)" value={rootCause} onChange={(e) => setRootCause(e.target.value)} />
          </>
        ) : null}
        <Button type="submit" variant="primary" size="sm" busy={working} disabled={!action}>
          Apply
        </Button>
        <Button type="button" variant="ghost" size="sm" onClick={onClear} disabled={working}>
          Clear selection
        </Button>
      </form>
      {failure ? <FormError>{failure}</FormError> : null}
      {results ? (
        <div className="desk-bulk__results" role="status">
          <Banner tone={refused.length ? "warning" : "success"} icon={refused.length ? "alert" : "check"}>
            {done} done{refused.length ? `, ${refused.length} refused` : ""}.
          </Banner>
          {refused.length ? (
            <ul className="desk-bulk__refused" aria-label="Refused tickets">
              {refused.map((r) => {
                const t = byId.get(r.ticket_id);
                return (
                  <li key={r.ticket_id}>
                    <Link to={`/desk/tickets/${r.ticket_id}`}>{t ? `${ticketNumber(t.number)} ${t.title}` : r.ticket_id}</Link>
                    {" — "}
                    <span className="faint">{r.detail ?? `refused (${r.status_code})`}</span>
                  </li>
                );
              })}
            </ul>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
