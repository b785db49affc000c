import type { Sla, StaffActions, StaffComment, StaffTicketDetail } from "../api/types";

export const NO_SLA: Sla = {
  first_response_due_at: null,
  resolution_due_at: null,
  first_responded_at: null,
  paused: false,
  paused_since: null,
  paused_seconds: 0,
  first_response_breached: false,
  resolution_breached: false,
  outside_hours: false,
};

export const NO_ACTIONS: StaffActions = {
  transitions: [],
  accept: false,
  assign: false,
  reply: false,
  note: false,
  attach: false,
};

export function staffTicket(overrides: Partial<StaffTicketDetail> = {}): StaffTicketDetail {
  return {
    id: "11111111-1111-4111-8111-111111111111",
    number: 1042,
    org_id: "22222222-2222-4222-8222-222222222222",
    org_name: "Acme Corp",
    service_id: null,
    title: "VPN drops every few minutes",
    description: "Since this morning.",
    status: "ASSIGNED",
    priority: "P2",
    category: null,
    created_by: { id: "c1", name: "Cody Customer" },
    accepted_by: { id: "m1", name: "Maya Manager" },
    assigned_to: { id: "a1", name: "Arun Agent" },
    assigned_team: null,
    accepted_at: "2026-01-01T10:00:00Z",
    resolved_at: null,
    closed_at: null,
    created_at: "2026-01-01T09:00:00Z",
    updated_at: "2026-01-01T10:00:00Z",
    resolution: null,
    root_cause: null,
    channel: "portal",
    follow_up_of: null,
    sla: NO_SLA,
    comments: [],
    attachments: [],
    actions: NO_ACTIONS,
    ...overrides,
  };
}

export function comment(overrides: Partial<StaffComment> = {}): StaffComment {
  return {
    id: `c-${Math.random().toString(16).slice(2)}`,
    ticket_id: "11111111-1111-4111-8111-111111111111",
    author: { id: "a1", name: "Arun Agent", is_staff: true },
    body: "Hello",
    is_internal: false,
    channel: "portal",
    automatic: false,
    has_original: false,
    created_at: "2026-01-01T11:00:00Z",
    ...overrides,
  };
}

/** A fetch stub answering JSON by URL prefix; records the calls. */
export function stubFetch(routes: Record<string, unknown> = {}) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    calls.push({ url, init });
    const key = Object.keys(routes).find((k) => url.startsWith(k));
    const body = key ? routes[key] : { items: [], next_cursor: null };
    return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fn);
  return { fn, calls };
}

export interface StubAnswer {
  status?: number;
  body?: unknown;
}

/** GETs that answer a plain list (not a page): their default answer is an empty list. */
const LIST_ENDPOINTS = [/^\/api\/auth\/providers$/, /^\/api\/admin\/sso\/providers$/, /^\/api\/users\/[^/?]+\/identities$/];

/**
 * A fetch stub answering by "METHOD /path" prefix (the longest matching key wins), e.g.
 * `{ "POST /api/x": { status: 204 }, "GET /api/x": { body: {...} } }`; records the calls.
 * Anything else answers an empty page (an empty list for LIST_ENDPOINTS).
 */
export function stubApi(routes: Record<string, StubAnswer>) {
  const calls: { method: string; url: string; body: unknown }[] = [];
  const keys = Object.keys(routes).sort((a, b) => b.length - a.length);
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    const method = (init.method ?? "GET").toUpperCase();
    calls.push({ method, url, body: typeof init.body === "string" ? JSON.parse(init.body) : undefined });
    // A list endpoint is answered only by a key naming it (not by a shorter prefix such as "/api/users").
    const list = method === "GET" ? LIST_ENDPOINTS.find((re) => re.test(url.split("?")[0]!)) : undefined;
    const key = keys.find((k) => {
      const [m, path] = k.split(" ");
      if (m !== method || path === undefined || !url.startsWith(path)) return false;
      return !list || list.test(path.split("?")[0]!);
    });
    const answer = key ? routes[key]! : { body: list ? [] : { items: [], next_cursor: null } };
    const status = answer.status ?? 200;
    if (status === 204) return new Response(null, { status });
    return new Response(JSON.stringify(answer.body ?? null), { status, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fn);
  return { fn, calls };
}
