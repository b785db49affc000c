/**
 * Live updates: ONE EventSource per tab on GET /api/events (started by the desk and portal
 * shells). Events carry ticket ids only; the matching TanStack Query keys are invalidated
 * (throttled: at most one refetch round a second) and the pages refetch through the ordinary
 * endpoints. Presence (`event: presence`, staff only) is kept in a small store the desk's ticket
 * page reads; the page sends its own heartbeats with `usePresenceHeartbeat`.
 */
import { useEffect, useSyncExternalStore } from "react";
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { request } from "../api/client";
import { internalKeys } from "../api/internal";
import { ticketKeys } from "../api/tickets";

export const EVENTS_URL = "/api/events";
/** Minimum time between two rounds of invalidations. */
export const THROTTLE_MS = 1000;
/** A presence heartbeat every ~10 s while the page is visible (the server keeps it ~30 s). */
export const HEARTBEAT_MS = 10_000;

export type Audience = "desk" | "portal";
export interface TicketEvent {
  id: string;
  kind: "created" | "updated" | "comment";
}
export interface Viewer {
  id: string;
  name: string;
  state: "viewing" | "replying";
}

// ---------------------------------------------------------------- presence store

const presence = new Map<string, Viewer[]>();
const listeners = new Set<() => void>();
const NOBODY: Viewer[] = [];

export function setPresence(ticketId: string, viewers: Viewer[]): void {
  if (viewers.length) presence.set(ticketId, viewers);
  else presence.delete(ticketId);
  for (const listener of listeners) listener();
}

function subscribePresence(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Who (else) is on the ticket now, as the last `presence` event said. */
export function usePresence(ticketId: string): Viewer[] {
  return useSyncExternalStore(subscribePresence, () => presence.get(ticketId) ?? NOBODY);
}

// ---------------------------------------------------------------- invalidation

/** Collects ticket ids and invalidates their queries at most once per THROTTLE_MS. */
export class Invalidator {
  private pending = new Set<string>();
  private everything = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private last = -Infinity;

  constructor(
    private readonly client: QueryClient,
    private readonly audience: Audience,
    private readonly now: () => number = () => Date.now(),
  ) {}

  ticket(id: string): void {
    this.pending.add(id);
    this.schedule();
  }

  all(): void {
    this.everything = true;
    this.schedule();
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const wait = Math.max(50, this.last + THROTTLE_MS - this.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  flush(): void {
    this.timer = null;
    this.last = this.now();
    const ids = [...this.pending];
    const everything = this.everything;
    this.pending.clear();
    this.everything = false;
    const invalidate = (queryKey: readonly unknown[]) => void this.client.invalidateQueries({ queryKey });
    if (this.audience === "desk") {
      if (everything) invalidate(internalKeys.all);
      else {
        for (const id of ids) {
          invalidate(internalKeys.detail(id));
          invalidate(internalKeys.audit(id));
        }
        invalidate(internalKeys.lists());
        invalidate(internalKeys.queue());
      }
      // Saved views' counts; the dashboard's counts (reports refresh on their own).
      invalidate(["views"]);
      invalidate(["reports", "dashboard"]);
    } else if (everything) invalidate(ticketKeys.all);
    else {
      for (const id of ids) invalidate(ticketKeys.detail(id));
      invalidate(ticketKeys.lists());
    }
  }
}

// ---------------------------------------------------------------- the stream

function parse<T>(event: MessageEvent): T | null {
  try {
    return JSON.parse(String(event.data)) as T;
  } catch {
    return null;
  }
}

/**
 * Opens the tab's stream while *enabled*. The browser reconnects by itself (sending
 * Last-Event-ID); when it gives up (the answer was not a stream: signed out, a proxy error), the
 * session is checked once (a 401 goes to the sign-in page) and the stream reopened with back-off.
 */
export function useLiveUpdates(enabled: boolean, audience: Audience): void {
  const client = useQueryClient();
  useEffect(() => {
    if (!enabled || typeof EventSource === "undefined") return;
    const invalidator = new Invalidator(client, audience);
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let backoff = 2000;
    let stopped = false;

    const open = () => {
      source = new EventSource(EVENTS_URL, { withCredentials: true });
      source.addEventListener("open", () => {
        backoff = 2000;
      });
      source.addEventListener("ticket", (event) => {
        const data = parse<TicketEvent>(event);
        if (data?.id) invalidator.ticket(data.id);
      });
      source.addEventListener("reset", () => invalidator.all());
      source.addEventListener("presence", (event) => {
        const data = parse<{ ticket_id: string; viewers: Viewer[] }>(event);
        if (data?.ticket_id) setPresence(data.ticket_id, data.viewers ?? []);
      });
      source.addEventListener("error", () => {
        if (!source || source.readyState !== EventSource.CLOSED || stopped) return;
        source = null;
        // What happened meanwhile is refetched once the stream is back.
        invalidator.all();
        void request("get", "/api/me").catch(() => undefined);
        retry = setTimeout(open, backoff);
        backoff = Math.min(backoff * 2, 60_000);
      });
    };
    open();
    return () => {
      stopped = true;
      if (retry !== null) clearTimeout(retry);
      source?.close();
      invalidator.dispose();
    };
  }, [enabled, audience, client]);
}

// ---------------------------------------------------------------- heartbeats

/** Tells the desk that this person is viewing (or replying to) the ticket, every ~10 s while
 * the page is visible, and at once when *replying* changes. */
export function usePresenceHeartbeat(ticketId: string, replying: boolean, enabled = true): void {
  useEffect(() => {
    if (!enabled || !ticketId) return;
    const state = replying ? "replying" : "viewing";
    const beat = () => {
      if (typeof document !== "undefined" && document.visibilityState === "hidden") return;
      void request("post", "/api/internal/tickets/{ticket_id}/presence", {
        path: { ticket_id: ticketId },
        body: { state },
      }).catch(() => undefined);
    };
    beat();
    const timer = setInterval(beat, HEARTBEAT_MS);
    const onVisible = () => {
      if (document.visibilityState === "visible") beat();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [ticketId, replying, enabled]);
}
