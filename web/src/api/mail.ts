/**
 * The e-mail channel: held mail (managers and admins), quarantined mail, bouncing addresses and
 * mailboxes (admins), and the original .eml of a mail on a ticket. Keys under ["mail"].
 */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import { internalKeys } from "./internal";
import { nextCursor } from "./query";
import type { MailboxCreate, MailboxUpdate } from "./types";

export const mailKeys = {
  all: ["mail"] as const,
  held: () => [...mailKeys.all, "held"] as const,
  quarantined: () => [...mailKeys.all, "quarantined"] as const,
  bounces: () => [...mailKeys.all, "bounces"] as const,
  mailboxes: () => [...mailKeys.all, "mailboxes"] as const,
};

export const MAIL_PAGE_SIZE = 50;

// ---- Held mail (managers, admins) ----------------------------------------------------------

export function useHeldMail() {
  return useInfiniteQuery({
    queryKey: mailKeys.held(),
    queryFn: ({ pageParam, signal }) =>
      request("get", "/api/internal/mail/held", { query: { cursor: pageParam, limit: MAIL_PAGE_SIZE }, signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
  });
}

/** A held mail becomes a NEW ticket of the chosen organization (201: the staff ticket). */
export function useHeldToTicket() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, org_id }: { id: string; org_id: string }) =>
      request("post", "/api/internal/mail/held/{held_id}/ticket", { path: { held_id: id }, body: { org_id } }),
    meta: { success: "Ticket created from the mail" },
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: mailKeys.held() }),
        queryClient.invalidateQueries({ queryKey: internalKeys.lists() }),
        queryClient.invalidateQueries({ queryKey: internalKeys.queue() }),
      ]),
  });
}

export function useDiscardHeld() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request("post", "/api/internal/mail/held/{held_id}/discard", { path: { held_id: id } }),
    meta: { success: "Mail discarded" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: mailKeys.held() }),
  });
}

// ---- Quarantined mail and bounces (admins) ---------------------------------------------------

export function useQuarantined() {
  return useInfiniteQuery({
    queryKey: mailKeys.quarantined(),
    queryFn: ({ pageParam, signal }) =>
      request("get", "/api/admin/mail/quarantined", { query: { cursor: pageParam, limit: MAIL_PAGE_SIZE }, signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
  });
}

export function useRetryQuarantined() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      request("post", "/api/admin/mail/quarantined/{message_id}/retry", { path: { message_id: id } }),
    meta: { success: "Queued for another attempt" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: mailKeys.quarantined() }),
  });
}

export function useBounces() {
  return useQuery({
    queryKey: mailKeys.bounces(),
    queryFn: ({ signal }) => request("get", "/api/admin/mail/bounces", { signal }),
  });
}

/** The address is a path segment: `request` URL-encodes it (`a+b@x` → `a%2Bb%40x`). */
export function useClearBounce() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (address: string) => request("delete", "/api/admin/mail/bounces/{address}", { path: { address } }),
    meta: { success: "Address cleared: mail to it is sent again" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: mailKeys.bounces() }),
  });
}

// ---- Mailboxes (admins) -----------------------------------------------------------------------

export function useMailboxes() {
  return useQuery({
    queryKey: mailKeys.mailboxes(),
    queryFn: ({ signal }) => request("get", "/api/admin/mailboxes", { signal }),
  });
}

export function useCreateMailbox() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: MailboxCreate) => request("post", "/api/admin/mailboxes", { body }),
    meta: { success: "Mailbox created" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: mailKeys.mailboxes() }),
  });
}

export function useUpdateMailbox() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: MailboxUpdate & { id: string }) =>
      request("patch", "/api/admin/mailboxes/{mailbox_id}", { path: { mailbox_id: id }, body }),
    meta: { success: "Mailbox saved" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: mailKeys.mailboxes() }),
  });
}

export function useDeleteMailbox() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request("delete", "/api/admin/mailboxes/{mailbox_id}", { path: { mailbox_id: id } }),
    meta: { success: "Mailbox deleted" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: mailKeys.mailboxes() }),
  });
}

// ---- The original .eml (staff) ------------------------------------------------------------------

/** The first mail of an e-mail ticket (404 when there is none). A download: cookie auth. */
export function ticketOriginalUrl(ticketId: string): string {
  return `/api/internal/tickets/${encodeURIComponent(ticketId)}/original`;
}

/** The mail a comment came from (when `has_original`). */
export function commentOriginalUrl(ticketId: string, commentId: string): string {
  return `/api/internal/tickets/${encodeURIComponent(ticketId)}/comments/${encodeURIComponent(commentId)}/original`;
}
