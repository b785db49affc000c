import { useId, useState } from "react";
import { ApiError, errorMessage } from "../../api/client";
import { useUpdateTicket, type TicketUpdate } from "../../api/internal";
import { useServices } from "../../api/services";
import { useCategorySuggestions, useTagSuggestions } from "../../api/tags";
import { useTeams } from "../../api/teams";
import { PRIORITIES, type Priority, type StaffTicketDetail } from "../../api/types";
import { Card, PRIORITY_LOOK, SelectField, TextField, useDebounced } from "../../atum";
import { TagEditor } from "./TagEditor";

const FINAL = new Set(["CLOSED", "CANCELLED"]);
type FieldName = "priority" | "category" | "service_id" | "team_id";

/** Priority, category, service, team and tags, edited in place: each change saves on its own
 * through PATCH /internal/tickets/{id}; a refusal shows under its field. */
export function TicketFieldsCard({ ticket }: { ticket: StaffTicketDetail }) {
  const update = useUpdateTicket(ticket.id, { inlineErrors: true });
  const services = useServices();
  const teams = useTeams();
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [category, setCategory] = useState(ticket.category ?? "");
  const [tagDraft, setTagDraft] = useState("");
  const categoryQuery = useDebounced(category.trim(), 250);
  const tagQuery = useDebounced(tagDraft, 250);
  const categories = useCategorySuggestions(categoryQuery);
  const tagSuggestions = useTagSuggestions(tagQuery);
  const categoryList = useId();
  const locked = FINAL.has(ticket.status);

  const save = async (field: FieldName, body: TicketUpdate) => {
    try {
      await update.mutateAsync(body);
      setErrors((e) => ({ ...e, [field]: undefined }));
    } catch (e) {
      const message = e instanceof ApiError ? (e.fieldErrors()[field] ?? e.message) : errorMessage(e);
      setErrors((old) => ({ ...old, [field]: message }));
    }
  };

  const saveCategory = () => {
    const value = category.trim();
    if (value === (ticket.category ?? "")) return;
    void save("category", { category: value || null });
  };

  return (
    <Card title="Classification" titleId="classification-title" surface="content">
      <div className="atum-form">
        <SelectField
          label="Priority"
          value={ticket.priority}
          disabled={locked}
          error={errors.priority}
          onChange={(e) => void save("priority", { priority: e.target.value as Priority })}
        >
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p} — {PRIORITY_LOOK[p].label}
            </option>
          ))}
        </SelectField>
        <TextField
          label="Category"
          value={category}
          list={categoryList}
          autoComplete="off"
          maxLength={100}
          disabled={locked}
          error={errors.category}
          onChange={(e) => setCategory(e.target.value)}
          onBlur={saveCategory}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              saveCategory();
            }
          }}
        />
        <datalist id={categoryList}>
          {(categories.data?.items ?? []).map((c) => (
            <option key={c.name} value={c.name} />
          ))}
        </datalist>
        <SelectField
          label="Service"
          value={ticket.service_id ?? ""}
          disabled={locked || services.isPending}
          error={errors.service_id}
          onChange={(e) => void save("service_id", { service_id: e.target.value || null })}
        >
          <option value="">No service</option>
          {services.data?.items.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </SelectField>
        <SelectField
          label="Team"
          value={ticket.assigned_team?.id ?? ""}
          hint={ticket.actions.assign ? undefined : "A team is set once the ticket is accepted."}
          disabled={locked || teams.isPending || !ticket.actions.assign}
          error={errors.team_id}
          onChange={(e) => {
            if (e.target.value) void save("team_id", { team_id: e.target.value });
          }}
        >
          {ticket.assigned_team ? null : <option value="">No team</option>}
          {ticket.assigned_team && !teams.data?.items.some((t) => t.id === ticket.assigned_team?.id) ? (
            <option value={ticket.assigned_team.id}>{ticket.assigned_team.name}</option>
          ) : null}
          {teams.data?.items.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </SelectField>
        <TagEditor
          tags={ticket.tags ?? []}
          suggestions={(tagSuggestions.data?.items ?? []).map((t) => t.name)}
          onDraftChange={setTagDraft}
          onSave={(tags) => update.mutateAsync({ tags })}
          disabled={locked}
        />
      </div>
    </Card>
  );
}
