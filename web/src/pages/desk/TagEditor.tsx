import { useId, useState, type KeyboardEvent } from "react";
import { ApiError, errorMessage } from "../../api/client";
import { Icon, TextField } from "../../atum";

/** The API's rule (schemas/tag.py): trimmed, lower-case, 1–40 of a–z 0–9 space _ . - ; ≤ 20. */
export const MAX_TAGS = 20;
const TAG_RE = /^[a-z0-9 _.-]{1,40}$/;

export function normaliseTag(raw: string): string {
  return raw.trim().toLowerCase();
}

export function tagProblem(name: string, current: string[]): string | null {
  if (!TAG_RE.test(name)) return "Tags are 1–40 letters, digits, spaces or _ . -";
  if (!current.includes(name) && current.length >= MAX_TAGS) return `At most ${MAX_TAGS} tags per ticket`;
  return null;
}

interface TagEditorProps {
  tags: string[];
  /** Names to offer while typing (from /internal/tags). */
  suggestions?: string[];
  onDraftChange?: (draft: string) => void;
  /** Saves the ticket's whole new set; a rejection is shown under the field. */
  onSave: (next: string[]) => Promise<unknown>;
  disabled?: boolean;
}

/** Tag chips: type and press Enter or comma to add, × to remove; each change saves at once. */
export function TagEditor({ tags, suggestions = [], onDraftChange, onSave, disabled }: TagEditorProps) {
  const listId = useId();
  const [draft, setDraft] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async (next: string[]) => {
    setBusy(true);
    try {
      await onSave([...new Set(next)].sort());
      setError(null);
      return true;
    } catch (e) {
      setError(e instanceof ApiError ? (e.fieldErrors().tags ?? e.message) : errorMessage(e));
      return false;
    } finally {
      setBusy(false);
    }
  };

  const add = async (raw: string) => {
    const names = raw.split(",").map(normaliseTag).filter(Boolean);
    if (names.length === 0) return;
    let next = [...tags];
    for (const name of names) {
      const problem = tagProblem(name, next);
      if (problem) {
        setError(problem);
        return;
      }
      if (!next.includes(name)) next = [...next, name];
    }
    if (next.length === tags.length) {
      setDraft("");
      onDraftChange?.("");
      return;
    }
    if (await save(next)) {
      setDraft("");
      onDraftChange?.("");
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter" || event.key === ",") {
      event.preventDefault();
      void add(draft);
    } else if (event.key === "Backspace" && draft === "" && tags.length > 0) {
      void save(tags.slice(0, -1));
    }
  };

  const offered = suggestions.filter((s) => !tags.includes(s));

  return (
    <div className="desk-tag-editor">
      {tags.length > 0 ? (
        <ul className="desk-tags" aria-label="Tags">
          {tags.map((tag) => (
            <li key={tag} className="desk-tag">
              <span>{tag}</span>
              <button
                type="button"
                className="desk-tag__remove"
                aria-label={`Remove tag ${tag}`}
                disabled={disabled || busy}
                onClick={() => void save(tags.filter((t) => t !== tag))}
              >
                <Icon name="x" size="sm" />
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <TextField
        label="Tags"
        hint="Enter or comma adds a tag."
        value={draft}
        list={listId}
        autoComplete="off"
        disabled={disabled || busy}
        error={error}
        onChange={(e) => {
          const value = e.target.value;
          if (value.includes(",")) {
            setDraft(value.replace(/,+$/, ""));
            void add(value);
            return;
          }
          setDraft(value);
          setError(null);
          onDraftChange?.(normaliseTag(value));
        }}
        onKeyDown={onKeyDown}
      />
      <datalist id={listId}>
        {offered.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
    </div>
  );
}
