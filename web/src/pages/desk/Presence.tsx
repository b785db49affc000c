/**
 * Collision warnings on the desk's ticket page: who else is viewing or replying to the ticket
 * (from the live stream's presence events) and, before sending, a confirmation when someone
 * else replied since this draft was started.
 */
import { useCallback, useRef, useState } from "react";
import type { StaffComment } from "../../api/types";
import { Banner, Button, Modal, formatRelative } from "../../atum";
import { usePresence, usePresenceHeartbeat, type Viewer } from "../../lib/live";
import { commentAuthor } from "./Conversation";

export function presenceText(viewers: Viewer[]): string {
  return viewers.map((v) => `${v.name} is ${v.state === "replying" ? "replying…" : "viewing"}`).join(" · ");
}

/** "Dana is viewing · Sam is replying…" (others only; nothing when the caller is alone). */
export function PresenceBanner({ ticketId, meId }: { ticketId: string; meId: string | undefined }) {
  const others = usePresence(ticketId).filter((v) => v.id !== meId);
  if (others.length === 0) return null;
  const replying = others.some((v) => v.state === "replying");
  return (
    <div className="desk-presence" role="status" aria-live="polite">
      <Banner tone={replying ? "warning" : "info"} icon="users">
        {presenceText(others)}
      </Banner>
    </div>
  );
}

/**
 * The ticket page's part of presence: heartbeats (viewing, or replying while a draft exists) and
 * `confirmSend` for the composer, which asks before sending when someone else's comment arrived
 * after the draft was started. Render `dialog` somewhere on the page.
 */
export function useCollisionGuard(ticketId: string, comments: StaffComment[], meId: string | undefined) {
  const [typing, setTyping] = useState(false);
  usePresenceHeartbeat(ticketId, typing, Boolean(meId));
  // The comments the page showed when the draft was started.
  const seen = useRef<Set<string> | null>(null);
  const latest = useRef(comments);
  latest.current = comments;
  const [asking, setAsking] = useState<{ comment: StaffComment; resolve: (ok: boolean) => void } | null>(null);

  const onTypingChange = useCallback((now: boolean) => {
    setTyping(now);
    seen.current = now ? new Set(latest.current.map((c) => c.id)) : null;
  }, []);

  const confirmSend = useCallback((): boolean | Promise<boolean> => {
    const before = seen.current;
    if (!before) return true;
    const newer = latest.current.filter((c) => !before.has(c.id) && c.author.id !== meId);
    const last = newer[newer.length - 1];
    if (!last) return true;
    return new Promise<boolean>((resolve) => setAsking({ comment: last, resolve }));
  }, [meId]);

  const answer = (ok: boolean) => {
    asking?.resolve(ok);
    if (ok) seen.current = new Set(latest.current.map((c) => c.id));
    setAsking(null);
  };

  const dialog = (
    <Modal
      open={asking !== null}
      onClose={() => answer(false)}
      title={asking ? `${commentAuthor(asking.comment)} replied ${formatRelative(asking.comment.created_at)} — send anyway?` : ""}
      description="A newer message arrived on this ticket while you were writing. Read it first, or send yours as it is."
      footer={
        <>
          <Button variant="ghost" onClick={() => answer(false)}>
            Go back
          </Button>
          <Button variant="primary" onClick={() => answer(true)}>
            Send anyway
          </Button>
        </>
      }
    />
  );
  return { onTypingChange, confirmSend, dialog };
}
