import { useState, type FormEvent } from "react";
import { useMe } from "../../api/auth";
import { ApiError, errorMessage } from "../../api/client";
import { useTeams } from "../../api/teams";
import type { Priority, TicketStatus } from "../../api/types";
import {
  PLACEHOLDERS,
  describeAction,
  useCannedReplies,
  useDeleteCannedReply,
  useDeleteMacro,
  useMacroList,
  useSaveCannedReply,
  useSaveMacro,
  type CannedReply,
  type Macro,
  type MacroAction,
  type WorkspaceScope,
} from "../../api/workspace";
import {
  Button,
  Card,
  EmptyState,
  ErrorState,
  FormError,
  Modal,
  PageHeader,
  SelectField,
  SkeletonRows,
  Tabs,
  TextArea,
  TextField,
  useDocumentTitle,
} from "../../atum";
import "./workspace.css";

const SCOPES: { value: WorkspaceScope; label: string }[] = [
  { value: "personal", label: "Personal — only me" },
  { value: "team", label: "Team — the team's members" },
  { value: "shared", label: "Shared — every agent (managers and admins)" },
];
const SCOPE_NAME: Record<WorkspaceScope, string> = { personal: "Personal", team: "Team", shared: "Shared" };
const STATUSES: TicketStatus[] = ["IN_PROGRESS", "WAITING_CUSTOMER", "RESOLVED", "CLOSED"];
const PRIORITIES: Priority[] = ["P1", "P2", "P3", "P4"];

function scopeLine(item: { scope: WorkspaceScope; team_name?: string | null; owner?: { name: string } | null }) {
  const where = item.scope === "team" && item.team_name ? `${SCOPE_NAME.team}: ${item.team_name}` : SCOPE_NAME[item.scope];
  return item.owner ? `${where} · by ${item.owner.name}` : where;
}

/** The API's 422 message for a field, if any (e.g. an unknown placeholder in the body). */
function fieldError(error: unknown): string | null {
  if (!(error instanceof ApiError)) return error ? errorMessage(error) : null;
  return error.message;
}

/** "Replies & macros": the agent's canned replies and macros, personal, team and shared. */
export function RepliesPage() {
  useDocumentTitle("Replies & macros");
  const [tab, setTab] = useState<"replies" | "macros">("replies");
  return (
    <>
      <PageHeader
        title="Replies & macros"
        subtitle="Canned replies fill in placeholders for the ticket; macros apply several actions in one click."
      />
      <Tabs
        label="Replies and macros"
        active={tab}
        onChange={setTab}
        tabs={[
          { key: "replies", label: "Canned replies" },
          { key: "macros", label: "Macros" },
        ]}
      >
        {tab === "replies" ? <RepliesTab /> : <MacrosTab />}
      </Tabs>
    </>
  );
}

function ScopeFields({
  scope,
  teamId,
  onScope,
  onTeam,
}: {
  scope: WorkspaceScope;
  teamId: string;
  onScope: (s: WorkspaceScope) => void;
  onTeam: (id: string) => void;
}) {
  const me = useMe().data;
  const teams = useTeams(scope === "team");
  const sharer = me?.role === "manager" || me?.role === "admin";
  return (
    <>
      <SelectField label="Who may use it" value={scope} onChange={(e) => onScope(e.target.value as WorkspaceScope)}>
        {SCOPES.filter((s) => s.value !== "shared" || sharer || scope === "shared").map((s) => (
          <option key={s.value} value={s.value}>
            {s.label}
          </option>
        ))}
      </SelectField>
      {scope === "team" ? (
        <SelectField label="Team" value={teamId} onChange={(e) => onTeam(e.target.value)} required>
          <option value="">Choose a team…</option>
          {(teams.data?.items ?? []).map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </SelectField>
      ) : null}
    </>
  );
}

// ---------------------------------------------------------------- canned replies

function RepliesTab() {
  const [q, setQ] = useState("");
  const replies = useCannedReplies(q);
  const remove = useDeleteCannedReply();
  const [editing, setEditing] = useState<CannedReply | "new" | null>(null);
  const items = replies.data?.items ?? [];
  return (
    <div className="atum-stack">
      <div className="ws-macro-bar">
        <TextField label="Search" hideLabel type="search" placeholder="Search replies…" value={q} onChange={(e) => setQ(e.target.value)} />
        <Button variant="primary" icon="plus" onClick={() => setEditing("new")}>
          New canned reply
        </Button>
      </div>
      {replies.isPending ? (
        <SkeletonRows rows={3} />
      ) : replies.isError ? (
        <ErrorState error={replies.error} onRetry={() => void replies.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState title="No canned replies" icon="message">
          Save the answers you give often; type / in the composer to insert one.
        </EmptyState>
      ) : (
        <ul className="ws-page__list" aria-label="Canned replies">
          {items.map((reply) => (
            <li key={reply.id} className="ws-page__row">
              <div>
                <strong>{reply.title}</strong>
                <div className="ws-page__meta">
                  {scopeLine(reply)} · used {reply.usage_count}×
                </div>
                <p className="ws-page__body">{reply.body}</p>
              </div>
              {reply.can_edit ? (
                <div className="ws-page__actions">
                  <Button size="sm" onClick={() => setEditing(reply)}>
                    Edit
                  </Button>
                  <Button
                    size="sm"
                    variant="danger"
                    busy={remove.isPending && remove.variables === reply.id}
                    onClick={() => {
                      if (window.confirm(`Delete the canned reply “${reply.title}”?`)) remove.mutate(reply.id);
                    }}
                  >
                    Delete
                  </Button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {editing ? <ReplyDialog reply={editing === "new" ? null : editing} onClose={() => setEditing(null)} /> : null}
    </div>
  );
}

function ReplyDialog({ reply, onClose }: { reply: CannedReply | null; onClose: () => void }) {
  const save = useSaveCannedReply();
  const [title, setTitle] = useState(reply?.title ?? "");
  const [body, setBody] = useState(reply?.body ?? "");
  const [scope, setScope] = useState<WorkspaceScope>(reply?.scope ?? "personal");
  const [teamId, setTeamId] = useState(reply?.team_id ?? "");
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await save.mutateAsync({ id: reply?.id, title, body, scope, team_id: teamId || null });
      onClose();
    } catch {
      // shown below
    }
  };
  return (
    <Modal open onClose={onClose} busy={save.isPending} title={reply ? "Edit canned reply" : "New canned reply"} size="lg">
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <TextField label="Title" value={title} onChange={(e) => setTitle(e.target.value)} required maxLength={200} />
        <TextArea
          label="Text (Markdown)"
          rows={8}
          value={body}
          onChange={(e) => setBody(e.target.value)}
          required
          maxLength={20000}
          hint={`Placeholders: ${PLACEHOLDERS.map((p) => `{{ ${p} }}`).join(", ")}`}
        />
        <ScopeFields scope={scope} teamId={teamId} onScope={setScope} onTeam={setTeamId} />
        <FormError>{save.isError ? fieldError(save.error) : null}</FormError>
        <div className="atum-form__actions">
          <Button type="button" variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={save.isPending}>
            Save
          </Button>
        </div>
      </form>
    </Modal>
  );
}

// ---------------------------------------------------------------- macros

function MacrosTab() {
  const macros = useMacroList();
  const remove = useDeleteMacro();
  const [editing, setEditing] = useState<Macro | "new" | null>(null);
  const items = macros.data?.items ?? [];
  return (
    <div className="atum-stack">
      <div className="ws-macro-bar">
        <Button variant="primary" icon="plus" onClick={() => setEditing("new")}>
          New macro
        </Button>
      </div>
      {macros.isPending ? (
        <SkeletonRows rows={3} />
      ) : macros.isError ? (
        <ErrorState error={macros.error} onRetry={() => void macros.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState title="No macros" icon="play">
          A macro applies several actions — a reply, a status, tags, an assignment — in one click.
        </EmptyState>
      ) : (
        <ul className="ws-page__list" aria-label="Macros">
          {items.map((macro) => (
            <li key={macro.id} className="ws-page__row">
              <div>
                <strong>{macro.name}</strong>
                <div className="ws-page__meta">
                  {scopeLine(macro)} · used {macro.usage_count}×
                </div>
                <p className="ws-page__body">{macro.actions.map(describeAction).join(" · ")}</p>
              </div>
              {macro.can_edit ? (
                <div className="ws-page__actions">
                  <Button size="sm" onClick={() => setEditing(macro)}>
                    Edit
                  </Button>
                  <Button
                    size="sm"
                    variant="danger"
                    busy={remove.isPending && remove.variables === macro.id}
                    onClick={() => {
                      if (window.confirm(`Delete the macro “${macro.name}”?`)) remove.mutate(macro.id);
                    }}
                  >
                    Delete
                  </Button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {editing ? <MacroDialog macro={editing === "new" ? null : editing} onClose={() => setEditing(null)} /> : null}
    </div>
  );
}

const NEW_ACTION: Record<MacroAction["type"], MacroAction> = {
  comment: { type: "comment", body: "", is_internal: false },
  status: { type: "status", status: "WAITING_CUSTOMER" },
  priority: { type: "priority", priority: "P3" },
  tags: { type: "tags", add: [], remove: [] },
  assign: { type: "assign", me: true },
};

function tagList(value: string): string[] {
  return value
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
}

function ActionFields({
  action,
  replies,
  onChange,
}: {
  action: MacroAction;
  replies: CannedReply[];
  onChange: (a: MacroAction) => void;
}) {
  const teams = useTeams(action.type === "assign");
  switch (action.type) {
    case "comment":
      return (
        <>
          <SelectField
            label="Kind"
            value={action.is_internal ? "note" : "reply"}
            onChange={(e) => onChange({ ...action, is_internal: e.target.value === "note" })}
          >
            <option value="reply">Public reply</option>
            <option value="note">Internal note</option>
          </SelectField>
          <SelectField
            label="From"
            value={action.canned_reply_id ?? ""}
            onChange={(e) =>
              onChange(
                e.target.value
                  ? { type: "comment", is_internal: action.is_internal, canned_reply_id: e.target.value }
                  : { type: "comment", is_internal: action.is_internal, body: "" },
              )
            }
          >
            <option value="">Text written here</option>
            {replies.map((r) => (
              <option key={r.id} value={r.id}>
                Canned reply: {r.title}
              </option>
            ))}
          </SelectField>
          {action.canned_reply_id ? null : (
            <TextArea
              label="Text"
              rows={3}
              fieldClassName="ws-action__wide"
              value={action.body ?? ""}
              onChange={(e) => onChange({ ...action, body: e.target.value })}
              hint="Placeholders work here too, e.g. {{ customer.first_name }}."
            />
          )}
        </>
      );
    case "status":
      return (
        <>
          <SelectField label="Status" value={action.status} onChange={(e) => onChange({ ...action, status: e.target.value as TicketStatus })}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace(/_/g, " ").toLowerCase()}
              </option>
            ))}
          </SelectField>
          {action.status === "RESOLVED" ? (
            <>
              <TextField label="Resolution" value={action.resolution ?? ""} onChange={(e) => onChange({ ...action, resolution: e.target.value })} />
              <TextField label="Root cause" value={action.root_cause ?? ""} onChange={(e) => onChange({ ...action, root_cause: e.target.value })} />
            </>
          ) : null}
        </>
      );
    case "priority":
      return (
        <SelectField label="Priority" value={action.priority} onChange={(e) => onChange({ ...action, priority: e.target.value as Priority })}>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </SelectField>
      );
    case "tags":
      return (
        <>
          <TextField label="Add tags (comma-separated)" value={(action.add ?? []).join(", ")} onChange={(e) => onChange({ ...action, add: tagList(e.target.value) })} />
          <TextField
            label="Remove tags (comma-separated)"
            value={(action.remove ?? []).join(", ")}
            onChange={(e) => onChange({ ...action, remove: tagList(e.target.value) })}
          />
        </>
      );
    case "assign":
      return (
        <>
          <SelectField
            label="Person"
            value={action.me ? "me" : ""}
            onChange={(e) => onChange({ type: "assign", me: e.target.value === "me", team_id: action.team_id ?? null })}
          >
            <option value="me">Whoever applies it</option>
            <option value="">Nobody (team only)</option>
          </SelectField>
          <SelectField label="Team" value={action.team_id ?? ""} onChange={(e) => onChange({ ...action, team_id: e.target.value || null })}>
            <option value="">No team</option>
            {(teams.data?.items ?? []).map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </SelectField>
        </>
      );
    default:
      return null;
  }
}

function MacroDialog({ macro, onClose }: { macro: Macro | null; onClose: () => void }) {
  const save = useSaveMacro();
  const replies = useCannedReplies();
  const [name, setName] = useState(macro?.name ?? "");
  const [actions, setActions] = useState<MacroAction[]>(macro?.actions ?? [NEW_ACTION.comment]);
  const [scope, setScope] = useState<WorkspaceScope>(macro?.scope ?? "personal");
  const [teamId, setTeamId] = useState(macro?.team_id ?? "");
  const [adding, setAdding] = useState<MacroAction["type"]>("status");
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await save.mutateAsync({ id: macro?.id, name, actions, scope, team_id: teamId || null });
      onClose();
    } catch {
      // shown below
    }
  };
  const set = (index: number, action: MacroAction) => setActions((all) => all.map((a, i) => (i === index ? action : a)));
  return (
    <Modal open onClose={onClose} busy={save.isPending} title={macro ? "Edit macro" : "New macro"} size="lg">
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        <ScopeFields scope={scope} teamId={teamId} onScope={setScope} onTeam={setTeamId} />
        <ol className="ws-page__list" aria-label="Actions, in order">
          {actions.map((action, index) => (
            <li key={index}>
              <Card
                title={`${index + 1}. ${describeAction(action)}`}
                titleId={`macro-action-${index}`}
                headingLevel={3}
                surface="content"
                actions={
                  <Button size="sm" variant="ghost" icon="x" onClick={() => setActions((all) => all.filter((_, i) => i !== index))}>
                    Remove
                  </Button>
                }
              >
                <div className="ws-action">
                  <ActionFields action={action} replies={replies.data?.items ?? []} onChange={(a) => set(index, a)} />
                </div>
              </Card>
            </li>
          ))}
        </ol>
        <div className="ws-macro-bar">
          <SelectField label="Add an action" hideLabel value={adding} onChange={(e) => setAdding(e.target.value as MacroAction["type"])}>
            <option value="comment">Reply or note</option>
            <option value="status">Status</option>
            <option value="priority">Priority</option>
            <option value="tags">Tags</option>
            <option value="assign">Assign</option>
          </SelectField>
          <Button icon="plus" onClick={() => setActions((all) => [...all, NEW_ACTION[adding]])}>
            Add action
          </Button>
        </div>
        <FormError>{save.isError ? fieldError(save.error) : null}</FormError>
        <div className="atum-form__actions">
          <Button type="button" variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={save.isPending} disabled={actions.length === 0}>
            Save
          </Button>
        </div>
      </form>
    </Modal>
  );
}
