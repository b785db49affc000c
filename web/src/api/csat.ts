/**
 * Customer satisfaction: the rating link from the resolved mail (no session) and the portal's own
 * rating of a resolved ticket. Opening a link reads only; only a submit records (mail scanners
 * open links). Keys under ["csat"].
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, request } from "./client";
import { ticketKeys } from "./tickets";
import type { Schemas } from "./types";

export type CsatRating = "good" | "okay" | "bad";
export type CsatLinkView = Schemas["CsatLinkView"];
export type CustomerCsat = Schemas["CustomerCsat"];
export type StaffCsat = Schemas["StaffCsat"];
export interface CsatInput {
  rating: CsatRating;
  comment: string | null;
}

export const CSAT_RATINGS: { value: CsatRating; label: string }[] = [
  { value: "good", label: "Good" },
  { value: "okay", label: "Okay" },
  { value: "bad", label: "Bad" },
];
export const CSAT_COMMENT_MAX = 2000;

export function isCsatRating(value: string | null | undefined): value is CsatRating {
  return value === "good" || value === "okay" || value === "bad";
}

export const csatKeys = {
  link: (token: string) => ["csat", "link", token] as const,
};

/** A bad, expired or superseded link (the API answers 404 for all of them alike). */
export function isDeadLink(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

export function useCsatLink(token: string) {
  return useQuery({
    queryKey: csatKeys.link(token),
    queryFn: () => request("get", "/api/csat/{token}", { path: { token }, handle401: true }),
    retry: false,
    refetchOnWindowFocus: false,
  });
}

export function useSubmitCsatLink(token: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: CsatInput) => request("post", "/api/csat/{token}", { path: { token }, body, handle401: true }),
    meta: { silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: csatKeys.link(token) }),
  });
}

/** A signed-in customer rates a resolved ticket they see. */
export function useRateTicket(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: CsatInput) => request("post", "/api/tickets/{ticket_id}/csat", { path: { ticket_id: id }, body }),
    meta: { success: "Thank you for your rating" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ticketKeys.detail(id) }),
  });
}
