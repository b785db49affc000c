/** Customer portal tickets: /api/tickets*. Query keys under ["tickets"]. */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import { nextCursor } from "./query";
import type { Priority, TicketStatus } from "./types";
import { uploadFile, type UploadOptions } from "./upload";

/** "mine": the tickets the caller opened or is copied on; "organization": every ticket they may see. */
export type TicketScope = "mine" | "organization";

export interface TicketFilter {
  status?: TicketStatus[];
  q?: string;
  scope?: TicketScope;
}

export const ticketKeys = {
  all: ["tickets"] as const,
  lists: () => [...ticketKeys.all, "list"] as const,
  list: (filter: TicketFilter) => [...ticketKeys.lists(), filter] as const,
  detail: (id: string) => [...ticketKeys.all, "detail", id] as const,
  ccCandidates: (id: string) => [...ticketKeys.all, "cc-candidates", id] as const,
};

export const PAGE_SIZE = 25;

export function fetchTickets(filter: TicketFilter, cursor?: string, signal?: AbortSignal) {
  return request("get", "/api/tickets", {
    query: { status: filter.status, q: filter.q || undefined, scope: filter.scope, cursor, limit: PAGE_SIZE },
    signal,
  });
}

export function useTickets(filter: TicketFilter, enabled = true) {
  return useInfiniteQuery({
    queryKey: ticketKeys.list(filter),
    queryFn: ({ pageParam, signal }) => fetchTickets(filter, pageParam, signal),
    enabled,
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
  });
}

export function fetchTicket(id: string, signal?: AbortSignal) {
  return request("get", "/api/tickets/{ticket_id}", { path: { ticket_id: id }, signal });
}

export function useTicket(id: string) {
  return useQuery({ queryKey: ticketKeys.detail(id), queryFn: ({ signal }) => fetchTicket(id, signal) });
}

export interface NewTicket {
  title: string;
  description: string;
  priority: Priority;
  category?: string | null;
  service_id?: string | null;
}

export function useCreateTicket() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: NewTicket) => request("post", "/api/tickets", { body }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ticketKeys.lists() }),
  });
}

export function useReply(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: string) =>
      request("post", "/api/tickets/{ticket_id}/comments", { path: { ticket_id: id }, body: { body } }),
    meta: { success: "Reply sent" },
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ticketKeys.detail(id) }),
        queryClient.invalidateQueries({ queryKey: ticketKeys.lists() }),
      ]),
  });
}

export function useWithdraw(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (reason: string | null) =>
      request("post", "/api/tickets/{ticket_id}/withdraw", {
        path: { ticket_id: id },
        body: { reason: reason || null },
      }),
    meta: { success: "Ticket withdrawn" },
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ticketKeys.detail(id) }),
        queryClient.invalidateQueries({ queryKey: ticketKeys.lists() }),
      ]),
  });
}

export function attachmentUrl(ticketId: string, attachmentId: string): string {
  return `/api/tickets/${encodeURIComponent(ticketId)}/attachments/${encodeURIComponent(attachmentId)}`;
}

export function uploadTicketAttachment(ticketId: string, file: File, options?: UploadOptions) {
  return uploadFile(`/api/tickets/${encodeURIComponent(ticketId)}/attachments`, file, options);
}

/** Call after uploads finish so the ticket shows them. */
export function useInvalidateTicket() {
  const queryClient = useQueryClient();
  return (id: string) => queryClient.invalidateQueries({ queryKey: ticketKeys.detail(id) });
}

/** Colleagues of the organization who may be copied on the ticket (its requester left out). */
export function useCcCandidates(id: string, enabled = true) {
  return useQuery({
    queryKey: ticketKeys.ccCandidates(id),
    queryFn: ({ signal }) =>
      request("get", "/api/tickets/{ticket_id}/cc/candidates", { path: { ticket_id: id }, signal }),
    enabled,
    staleTime: 60_000,
  });
}

/** Replace the ticket's CC list (the people copied see the ticket and receive its e-mails). */
export function useSetCc(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (userIds: string[]) =>
      request("put", "/api/tickets/{ticket_id}/cc", { path: { ticket_id: id }, body: { user_ids: userIds } }),
    meta: { success: "Copied colleagues saved" },
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ticketKeys.detail(id) }),
        queryClient.invalidateQueries({ queryKey: ticketKeys.lists() }),
      ]),
  });
}
