/** Desk tickets: /api/internal/tickets*. Query keys under ["internal-tickets"]. */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import { nextCursor } from "./query";
import type { Channel, Priority, TicketStatus } from "./types";
import { uploadFile, type UploadOptions } from "./upload";

export interface DeskFilter {
  status?: TicketStatus[];
  priority?: Priority[];
  org_id?: string;
  assigned_to?: string;
  breached?: boolean;
  q?: string;
  tag?: string;
  team_id?: string;
  channel?: Channel;
  /** Open, unpaused tickets whose resolution is due within this many hours (or overdue). */
  due_within_hours?: number;
  /** "sla_due": the soonest SLA due first, clocks that do not run last (default newest first). */
  sort?: "created" | "sla_due";
}

export const internalKeys = {
  all: ["internal-tickets"] as const,
  lists: () => [...internalKeys.all, "list"] as const,
  list: (filter: DeskFilter) => [...internalKeys.lists(), filter] as const,
  queue: () => [...internalKeys.all, "queue"] as const,
  detail: (id: string) => [...internalKeys.all, "detail", id] as const,
  audit: (id: string) => [...internalKeys.all, "audit", id] as const,
};

export const DESK_PAGE_SIZE = 50;

export function fetchDeskTickets(filter: DeskFilter, cursor?: string, signal?: AbortSignal, limit = DESK_PAGE_SIZE) {
  return request("get", "/api/internal/tickets", {
    query: {
      status: filter.status,
      priority: filter.priority,
      org_id: filter.org_id || undefined,
      assigned_to: filter.assigned_to || undefined,
      breached: filter.breached || undefined,
      q: filter.q || undefined,
      tag: filter.tag || undefined,
      team_id: filter.team_id || undefined,
      channel: filter.channel || undefined,
      due_within_hours: filter.due_within_hours || undefined,
      sort: filter.sort === "sla_due" ? "sla_due" : undefined,
      cursor,
      limit,
    },
    signal,
  });
}

export function useDeskTickets(filter: DeskFilter) {
  return useInfiniteQuery({
    queryKey: internalKeys.list(filter),
    queryFn: ({ pageParam, signal }) => fetchDeskTickets(filter, pageParam, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
  });
}

export function useNewQueue(enabled = true) {
  return useInfiniteQuery({
    enabled,
    queryKey: internalKeys.queue(),
    queryFn: ({ pageParam, signal }) =>
      request("get", "/api/internal/tickets/new", { query: { cursor: pageParam, limit: DESK_PAGE_SIZE }, signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
    refetchInterval: 60_000,
  });
}

export function fetchDeskTicket(id: string, signal?: AbortSignal) {
  return request("get", "/api/internal/tickets/{ticket_id}", { path: { ticket_id: id }, signal });
}

export function useDeskTicket(id: string) {
  return useQuery({ queryKey: internalKeys.detail(id), queryFn: ({ signal }) => fetchDeskTicket(id, signal) });
}

export function useAudit(id: string, enabled: boolean) {
  return useQuery({
    queryKey: internalKeys.audit(id),
    queryFn: ({ signal }) =>
      request("get", "/api/internal/tickets/{ticket_id}/audit", { path: { ticket_id: id }, signal }),
    enabled,
  });
}

/** Everything a change to one ticket can affect: its detail, its audit, every list. */
function useInvalidateTicketViews() {
  const queryClient = useQueryClient();
  return (id: string) =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: internalKeys.detail(id) }),
      queryClient.invalidateQueries({ queryKey: internalKeys.audit(id) }),
      queryClient.invalidateQueries({ queryKey: internalKeys.lists() }),
      queryClient.invalidateQueries({ queryKey: internalKeys.queue() }),
      // The dashboard's counts (api/reports.ts; reports refresh on their own).
      queryClient.invalidateQueries({ queryKey: ["reports", "dashboard"] }),
      // The saved views' counts in the sidebar (api/views.ts).
      queryClient.invalidateQueries({ queryKey: ["views"] }),
    ]);
}

export interface AcceptInput {
  priority?: Priority | null;
  category?: string | null;
}

export function useAccept() {
  const invalidate = useInvalidateTicketViews();
  return useMutation({
    mutationFn: ({ id, ...body }: AcceptInput & { id: string }) =>
      request("post", "/api/internal/tickets/{ticket_id}/accept", {
        path: { ticket_id: id },
        body: { priority: body.priority ?? null, category: body.category || null },
      }),
    meta: { success: "Ticket accepted" },
    onSuccess: (_data, vars) => invalidate(vars.id),
  });
}

export interface AssignInput {
  assignee_id?: string | null;
  team_id?: string | null;
}

export function useAssign(id: string) {
  const invalidate = useInvalidateTicketViews();
  return useMutation({
    mutationFn: (body: AssignInput) =>
      request("post", "/api/internal/tickets/{ticket_id}/assign", {
        path: { ticket_id: id },
        body: { assignee_id: body.assignee_id || null, team_id: body.team_id || null },
      }),
    meta: { success: "Assignment saved" },
    onSuccess: () => invalidate(id),
  });
}

export interface StatusInput {
  status: TicketStatus;
  reason?: string | null;
  resolution?: string | null;
  root_cause?: string | null;
}

export function useChangeStatus(id: string) {
  const invalidate = useInvalidateTicketViews();
  return useMutation({
    mutationFn: (body: StatusInput) =>
      request("post", "/api/internal/tickets/{ticket_id}/status", {
        path: { ticket_id: id },
        body: {
          status: body.status,
          reason: body.reason || null,
          resolution: body.resolution || null,
          root_cause: body.root_cause || null,
        },
      }),
    meta: { success: "Status updated" },
    onSuccess: () => invalidate(id),
  });
}

export function useStaffComment(id: string) {
  const invalidate = useInvalidateTicketViews();
  return useMutation({
    mutationFn: (body: { body: string; is_internal: boolean }) =>
      request("post", "/api/internal/tickets/{ticket_id}/comments", { path: { ticket_id: id }, body }),
    onSuccess: () => invalidate(id),
  });
}

/** The desk's in-place edit (PATCH): each field alone; `tags` is the ticket's whole set. */
export interface TicketUpdate {
  priority?: Priority | null;
  category?: string | null;
  service_id?: string | null;
  team_id?: string;
  tags?: string[];
}

/** `inlineErrors`: the caller shows refusals next to the field (no error toast). */
export function useUpdateTicket(id: string, { inlineErrors = false }: { inlineErrors?: boolean } = {}) {
  const invalidate = useInvalidateTicketViews();
  return useMutation({
    mutationFn: (body: TicketUpdate) =>
      request("patch", "/api/internal/tickets/{ticket_id}", { path: { ticket_id: id }, body }),
    meta: inlineErrors ? { success: "Ticket updated", silent: true } : { success: "Ticket updated" },
    onSuccess: () => invalidate(id),
  });
}

export function deskAttachmentUrl(ticketId: string, attachmentId: string): string {
  return `/api/internal/tickets/${encodeURIComponent(ticketId)}/attachments/${encodeURIComponent(attachmentId)}`;
}

export function uploadDeskAttachment(ticketId: string, file: File, internal: boolean, options?: UploadOptions) {
  const qs = internal ? "?is_internal=true" : "";
  return uploadFile(`/api/internal/tickets/${encodeURIComponent(ticketId)}/attachments${qs}`, file, options);
}

export function useRefreshDeskTicket() {
  const invalidate = useInvalidateTicketViews();
  return (id: string) => invalidate(id);
}

// --- Tickets recorded for a customer, merging duplicates, links between tickets ---------------

/** POST /api/internal/tickets: a ticket recorded for a customer who phoned or wrote (exactly one
 * of `customer_id` and `new_contact`). */
export interface DeskTicketCreate {
  customer_id?: string | null;
  new_contact?: { org_id: string; email: string; name: string } | null;
  title: string;
  description: string;
  priority: Priority;
  category?: string | null;
  service_id?: string | null;
  channel: "phone" | "email";
  accept: boolean;
}

export function useCreateDeskTicket() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: DeskTicketCreate) => request("post", "/api/internal/tickets", { body }),
    meta: { success: "Ticket created" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: internalKeys.all }),
  });
}

/** Merge ticket `id` (the duplicate) into another; answers the target's staff view. */
export function useMergeTicket(id: string) {
  const invalidate = useInvalidateTicketViews();
  return useMutation({
    mutationFn: (intoId: string) =>
      request("post", "/api/internal/tickets/{ticket_id}/merge", { path: { ticket_id: id }, body: { into_id: intoId } }),
    meta: { success: "Tickets merged" },
    onSuccess: (_data, intoId) => Promise.all([invalidate(id), invalidate(intoId)]),
  });
}

/** Link (or with `unlink`, unlink) ticket `id` and another; both detail views change. */
export function useTicketLink(id: string, { unlink = false }: { unlink?: boolean } = {}) {
  const invalidate = useInvalidateTicketViews();
  return useMutation({
    mutationFn: (otherId: string) => {
      const path = { ticket_id: id, other_id: otherId };
      return unlink
        ? request("delete", "/api/internal/tickets/{ticket_id}/links/{other_id}", { path })
        : request("post", "/api/internal/tickets/{ticket_id}/links/{other_id}", { path });
    },
    meta: { success: unlink ? "Link removed" : "Tickets linked" },
    onSuccess: (_data, otherId) => Promise.all([invalidate(id), invalidate(otherId)]),
  });
}

/** A few tickets matching `q` (number or words) for a picker; nothing is asked while it is empty. */
export function useTicketSearch(q: string) {
  return useQuery({
    queryKey: [...internalKeys.all, "pick", q],
    queryFn: ({ signal }) => fetchDeskTickets({ q }, undefined, signal, 10),
    enabled: q.length > 0,
  });
}

/** Colleagues of the requester's organization who may be copied on the ticket. */
export function useDeskCcCandidates(id: string, enabled = true) {
  return useQuery({
    queryKey: [...internalKeys.detail(id), "cc-candidates"] as const,
    queryFn: ({ signal }) =>
      request("get", "/api/internal/tickets/{ticket_id}/cc/candidates", { path: { ticket_id: id }, signal }),
    enabled,
    staleTime: 60_000,
  });
}

/** Replace the ticket's CC list from the desk (audited as the staff member). */
export function useDeskSetCc(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (userIds: string[]) =>
      request("put", "/api/internal/tickets/{ticket_id}/cc", { path: { ticket_id: id }, body: { user_ids: userIds } }),
    meta: { success: "Copied colleagues saved" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: internalKeys.detail(id) }),
  });
}
