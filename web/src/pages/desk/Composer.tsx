import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import type { StaffActions } from "../../api/types";
import { Banner, Button, Icon, Tabs, TextArea } from "../../atum";
import { CannedPicker } from "./CannedPicker";
import { composerModes, type ComposerMode } from "./controls";

export interface ComposerProps {
  /** The ticket: canned replies are filled in for it (without it the picker is not offered). */
  ticketId?: string;
  actions: StaffActions;
  onSubmit: (body: string, internal: boolean) => Promise<unknown>;
  /** Text to put into the public reply (e.g. a suggested reply); a new `key` inserts it again. */
  insert?: { text: string; key: number } | null;
  /** Called when the draft becomes non-empty (true) or empty again (false): presence "replying". */
  onTypingChange?: (typing: boolean) => void;
  /** Asked before sending; false keeps the draft (e.g. someone else replied meanwhile). */
  confirmSend?: () => boolean | Promise<boolean>;
}

/** The window event the keyboard shortcuts r / n send: open the composer in that mode. */
export const COMPOSE_EVENT = "atum:compose";
export type ComposeDetail = { mode: "reply" | "note" };

/**
 * "Public reply" and "Internal note" are two clearly different modes: different tab, label,
 * button and look (the internal one carries the amber stripes and the lock).
 * Canned replies: "/" in an empty box, or the "Canned reply" button, opens the picker; the chosen
 * reply is filled in for the ticket on the server and inserted at the cursor.
 */
export function Composer({ ticketId, actions, onSubmit, insert, onTypingChange, confirmSend }: ComposerProps) {
  const modes = composerModes(actions);
  const [mode, setMode] = useState<ComposerMode>(modes[0] ?? "public");
  const [drafts, setDrafts] = useState<Record<ComposerMode, string>>({ public: "", internal: "" });
  const [picking, setPicking] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const [focusKey, setFocusKey] = useState(0);
  useEffect(() => {
    if (!insert) return;
    setDrafts((d) => ({ ...d, public: insert.text }));
    setMode("public");
  }, [insert]);
  const modesKey = modes.join(",");
  useEffect(() => {
    const onCompose = (event: Event) => {
      const wanted: ComposerMode = (event as CustomEvent<ComposeDetail>).detail?.mode === "note" ? "internal" : "public";
      if (!modesKey.split(",").includes(wanted)) return;
      setMode(wanted);
      setFocusKey((k) => k + 1);
    };
    window.addEventListener(COMPOSE_EVENT, onCompose);
    return () => window.removeEventListener(COMPOSE_EVENT, onCompose);
  }, [modesKey]);
  useEffect(() => {
    if (focusKey === 0) return;
    box.current?.focus();
    box.current?.scrollIntoView?.({ block: "center" });
  }, [focusKey]);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const typing = drafts.public.trim() !== "" || drafts.internal.trim() !== "";
  useEffect(() => {
    onTypingChange?.(typing);
  }, [typing, onTypingChange]);

  if (modes.length === 0) {
    return <Banner tone="info">No replies or notes can be added to this ticket in its current state.</Banner>;
  }
  const active: ComposerMode = modes.includes(mode) ? mode : modes[0]!;
  const internal = active === "internal";

  const insertText = (text: string) => {
    const el = box.current;
    setDrafts((d) => {
      const current = d[active];
      const at = el && el.value === current ? el.selectionStart ?? current.length : current.length;
      const end = el && el.value === current ? el.selectionEnd ?? at : at;
      return { ...d, [active]: current.slice(0, at) + text + current.slice(end) };
    });
    setPicking(false);
    setFocusKey((k) => k + 1);
  };

  const onBoxKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (ticketId && event.key === "/" && drafts[active] === "" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      setPicking(true);
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = drafts[active].trim();
    if (!body) {
      setError(internal ? "Write the note first." : "Write the reply first.");
      return;
    }
    setError(null);
    if (confirmSend && !(await confirmSend())) return;
    setPending(true);
    try {
      await onSubmit(body, internal);
      setDrafts((d) => ({ ...d, [active]: "" }));
    } catch {
      // toasted; keep the draft
    } finally {
      setPending(false);
    }
  };

  const form = (
    <form className={["desk-composer__form", internal && "atum-internal desk-composer__form--internal"].filter(Boolean).join(" ")} onSubmit={submit}>
      {internal ? (
        <p className="desk-composer__note">
          <Icon name="lock" size="sm" /> Internal — visible to the support team only, never to the customer.
        </p>
      ) : (
        <p className="desk-composer__note desk-composer__note--public">
          <Icon name="message" size="sm" /> Public — the customer sees this and is notified.
        </p>
      )}
      <TextArea
        key={active}
        ref={box}
        label={internal ? "Internal note" : "Public reply"}
        rows={5}
        value={drafts[active]}
        onChange={(e) => setDrafts((d) => ({ ...d, [active]: e.target.value }))}
        onKeyDown={onBoxKeyDown}
        error={error}
        maxLength={50000}
        hint={ticketId ? "Type / in an empty box to insert a canned reply." : undefined}
      />
      {picking && ticketId ? (
        <CannedPicker
          ticketId={ticketId}
          onPick={insertText}
          onClose={() => {
            setPicking(false);
            setFocusKey((k) => k + 1);
          }}
        />
      ) : null}
      <div className="atum-form__actions">
        {ticketId ? (
          <Button type="button" variant="ghost" icon="list" aria-expanded={picking} onClick={() => setPicking((p) => !p)}>
            Canned reply
          </Button>
        ) : null}
        {internal ? (
          <Button type="submit" variant="internal" icon="lock" busy={pending}>
            Add internal note
          </Button>
        ) : (
          <Button type="submit" variant="primary" icon="message" busy={pending}>
            Send public reply
          </Button>
        )}
      </div>
    </form>
  );

  return (
    <section className="desk-composer" aria-label="Write">
      {modes.length > 1 ? (
        <Tabs
          label="Message type"
          panelLabel="Message"
          active={active}
          onChange={(m) => {
            setMode(m);
            setError(null);
          }}
          tabs={modes.map((m) =>
            m === "public"
              ? { key: m, label: <><Icon name="message" size="sm" /> Public reply</> }
              : { key: m, label: <><Icon name="lock" size="sm" /> Internal note</>, className: "atum-tabs__tab--internal" },
          )}
        >
          {form}
        </Tabs>
      ) : (
        form
      )}
    </section>
  );
}
