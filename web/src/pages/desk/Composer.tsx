import { useEffect, useState, type FormEvent } from "react";
import type { StaffActions } from "../../api/types";
import { Banner, Button, Icon, Tabs, TextArea } from "../../atum";
import { composerModes, type ComposerMode } from "./controls";

export interface ComposerProps {
  actions: StaffActions;
  onSubmit: (body: string, internal: boolean) => Promise<unknown>;
  /** Text to put into the public reply (e.g. a suggested reply); a new `key` inserts it again. */
  insert?: { text: string; key: number } | null;
  /** Called when the draft becomes non-empty (true) or empty again (false): presence "replying". */
  onTypingChange?: (typing: boolean) => void;
  /** Asked before sending; false keeps the draft (e.g. someone else replied meanwhile). */
  confirmSend?: () => boolean | Promise<boolean>;
}

/**
 * "Public reply" and "Internal note" are two clearly different modes: different tab, label,
 * button and look (the internal one carries the amber stripes and the lock).
 */
export function Composer({ actions, onSubmit, insert, onTypingChange, confirmSend }: ComposerProps) {
  const modes = composerModes(actions);
  const [mode, setMode] = useState<ComposerMode>(modes[0] ?? "public");
  const [drafts, setDrafts] = useState<Record<ComposerMode, string>>({ public: "", internal: "" });
  useEffect(() => {
    if (!insert) return;
    setDrafts((d) => ({ ...d, public: insert.text }));
    setMode("public");
  }, [insert]);
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
        label={internal ? "Internal note" : "Public reply"}
        rows={5}
        value={drafts[active]}
        onChange={(e) => setDrafts((d) => ({ ...d, [active]: e.target.value }))}
        error={error}
        maxLength={50000}
      />
      <div className="atum-form__actions">
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
