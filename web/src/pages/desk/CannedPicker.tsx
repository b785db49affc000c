import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { errorMessage } from "../../api/client";
import { useCannedReplies, useRenderCannedReply, type CannedReply } from "../../api/workspace";
import { Button, Icon } from "../../atum";
import "./workspace.css";

export interface CannedPickerProps {
  ticketId: string;
  /** The chosen reply, filled in for the ticket by the server. */
  onPick: (text: string) => void;
  onClose: () => void;
}

const SCOPE_LABEL: Record<CannedReply["scope"], string> = { personal: "Mine", team: "Team", shared: "Shared" };

/**
 * Search the canned replies the agent may use and insert one, its placeholders filled in on the
 * server for this ticket. Arrow keys move, Enter inserts, Escape closes.
 */
export function CannedPicker({ ticketId, onPick, onClose }: CannedPickerProps) {
  const [q, setQ] = useState("");
  const [debounced, setDebounced] = useState("");
  const [active, setActive] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const listId = useId();
  useEffect(() => {
    input.current?.focus();
  }, []);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(q), 150);
    return () => window.clearTimeout(timer);
  }, [q]);
  const replies = useCannedReplies(debounced);
  const render = useRenderCannedReply(ticketId);
  const items = replies.data?.items ?? [];
  const current = Math.min(active, Math.max(items.length - 1, 0));

  const pick = async (reply: CannedReply | undefined) => {
    if (!reply) return;
    setError(null);
    try {
      const answer = await render.mutateAsync(reply.id);
      onPick(answer.body);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      setActive((i) => Math.min(i + 1, items.length - 1));
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      setActive((i) => Math.max(i - 1, 0));
    } else if (event.key === "Enter") {
      event.preventDefault();
      void pick(items[current]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      onClose();
    }
  };

  return (
    <div className="ws-picker" role="dialog" aria-label="Canned replies">
      <div className="ws-picker__search">
        <Icon name="search" size="sm" />
        <input
          ref={input}
          className="ws-picker__input"
          type="search"
          role="combobox"
          aria-label="Search canned replies"
          aria-expanded="true"
          aria-controls={listId}
          aria-activedescendant={items[current] ? `${listId}-${items[current]!.id}` : undefined}
          placeholder="Search canned replies…"
          value={q}
          onChange={(e) => {
            setQ(e.target.value);
            setActive(0);
          }}
          onKeyDown={onKeyDown}
        />
        <Button size="sm" variant="ghost" onClick={onClose}>
          Close
        </Button>
      </div>
      {error ? (
        <p className="ws-picker__error" role="alert">
          {error}
        </p>
      ) : null}
      <ul className="ws-picker__list" id={listId} role="listbox" aria-label="Canned replies" aria-busy={replies.isFetching}>
        {items.map((reply, index) => (
          <li
            key={reply.id}
            id={`${listId}-${reply.id}`}
            role="option"
            aria-selected={index === current}
            className={["ws-picker__item", index === current && "ws-picker__item--active"].filter(Boolean).join(" ")}
            onMouseEnter={() => setActive(index)}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => void pick(reply)}
          >
            <span className="ws-picker__title">{reply.title}</span>
            <span className="ws-picker__scope">{SCOPE_LABEL[reply.scope]}</span>
            <span className="ws-picker__preview">{reply.body.split("\n")[0]}</span>
          </li>
        ))}
        {!replies.isPending && items.length === 0 ? (
          <li className="ws-picker__empty">
            {debounced ? "No canned reply matches." : "No canned replies yet — add some under Replies & macros."}
          </li>
        ) : null}
      </ul>
    </div>
  );
}
