/**
 * Saved views of the desk's ticket list (/api/internal/views) and bulk actions on tickets.
 * The views list (with its live counts) is under ["views"]; a view's tickets under the desk lists'
 * key (["internal-tickets", "list", …]) so that whatever refreshes the lists refreshes them too.
 */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import { DESK_PAGE_SIZE, fetchDeskTickets, internalKeys, type DeskFilter } from "./internal";
import { nextCursor } from "./query";
import { BULK_MAX } from "./workspace";
import type { Schemas } from "./types";

export type SavedView = Schemas["SavedViewOut"];
export type ViewFilters = Schemas["ViewFilters"];

/** The built-in "My open" view: where agents land. */
export const MY_OPEN_VIEW = "5a7ed000-0000-4000-8000-000000000001";
export const viewPath = (id: string) => `/desk/views/${id}`;

/** The most tickets one bulk request takes (the API's limit). */


export const viewKeys = {
  all: ["views"] as const,
  list: () => [...viewKeys.all, "list"] as const,
  tickets: (id: string) => [...internalKeys.lists(), { view: id }] as const,
};

export function useViews(enabled = true) {
  return useQuery({
    enabled,
    queryKey: viewKeys.list(),
    queryFn: ({ signal }) => request("get", "/api/internal/views", { signal }),
    staleTime: 15_000,
    refetchInterval: 60_000,
  });
}

export function useViewTickets(id: string) {
  return useInfiniteQuery({
    queryKey: viewKeys.tickets(id),
    queryFn: ({ pageParam, signal }) =>
      request("get", "/api/internal/views/{view_id}/tickets", {
        path: { view_id: id },
        query: { cursor: pageParam, limit: DESK_PAGE_SIZE },
        signal,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
  });
}

/** The desk list's filter as a view's filters (the same names as the list query). */
export function filtersOf(filter: DeskFilter): ViewFilters {
  const out: ViewFilters = {};
  if (filter.status?.length) out.status = filter.status;
  if (filter.priority?.length) out.priority = filter.priority;
  if (filter.org_id) out.org_id = filter.org_id;
  if (filter.assigned_to) out.assigned_to = filter.assigned_to;
  if (filter.team_id) out.team_id = filter.team_id;
  if (filter.channel) out.channel = filter.channel;
  if (filter.breached) out.breached = true;
  if (filter.due_within_hours) out.due_within_hours = filter.due_within_hours;
  if (filter.tag) out.tag = filter.tag;
  if (filter.q) out.q = filter.q;
  if (filter.sort === "sla_due") out.sort = "sla_due";
  return out;
}

/** A view's filters as the desk list's filter. */
export function deskFilterOf(filters: ViewFilters): DeskFilter {
  return {
    status: filters.status ?? undefined,
    priority: filters.priority ?? undefined,
    org_id: filters.org_id ?? undefined,
    assigned_to: filters.assigned_to ?? undefined,
    team_id: filters.team_id ?? undefined,
    channel: filters.channel ?? undefined,
    breached: filters.breached ?? undefined,
    due_within_hours: filters.due_within_hours ?? undefined,
    tag: filters.tag ?? undefined,
    q: filters.q ?? undefined,
    sort: filters.sort ?? undefined,
  };
}

export interface ViewInput {
  name: string;
  scope: "personal" | "team";
  team_id?: string | null;
  filters: ViewFilters;
}

export function useCreateView() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ViewInput) =>
      request("post", "/api/internal/views", { body: { ...body, team_id: body.scope === "team" ? body.team_id : null } }),
    meta: { success: "View saved", silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: viewKeys.all }),
  });
}

export function useUpdateView(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { name?: string; filters?: ViewFilters }) =>
      request("patch", "/api/internal/views/{view_id}", { path: { view_id: id }, body }),
    meta: { success: "View updated" },
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: viewKeys.all }),
        queryClient.invalidateQueries({ queryKey: viewKeys.tickets(id) }),
      ]),
  });
}

export function useDeleteView() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request("delete", "/api/internal/views/{view_id}", { path: { view_id: id } }),
    meta: { success: "View deleted" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: viewKeys.all }),
  });
}

/**
 * Every ticket id of a list ("select all N matching"), page by page through the list endpoint,
 * at most BULK_MAX.
 */
export async function fetchMatchingIds(source: { view: string } | { filter: DeskFilter }, signal?: AbortSignal): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  while (ids.length < BULK_MAX) {
    const limit = Math.min(200, BULK_MAX - ids.length);
    const page =
      "view" in source
        ? await request("get", "/api/internal/views/{view_id}/tickets", { path: { view_id: source.view }, query: { cursor, limit }, signal })
        : await fetchDeskTickets(source.filter, cursor, signal, limit);
    ids.push(...page.items.map((t) => t.id));
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return ids.slice(0, BULK_MAX);
}
