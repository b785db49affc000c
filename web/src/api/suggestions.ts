/** AI triage suggestions of a desk ticket: GET /api/internal/tickets/{id}/suggestions (staff). */
import { useQuery } from "@tanstack/react-query";
import { request } from "./client";
import type { Schemas } from "./types";

export type Suggestions = Schemas["Suggestions"];

export const suggestionKeys = {
  detail: (id: string) => ["internal-tickets", "suggestions", id] as const,
};

/** While the worker has a job queued the answer is "pending": poll until it is not. */
export const SUGGESTION_POLL_MS = 5_000;

export function useSuggestions(ticketId: string) {
  return useQuery({
    queryKey: suggestionKeys.detail(ticketId),
    queryFn: ({ signal }) =>
      request("get", "/api/internal/tickets/{ticket_id}/suggestions", { path: { ticket_id: ticketId }, signal }),
    refetchInterval: (query) => (query.state.data?.status === "pending" ? SUGGESTION_POLL_MS : false),
  });
}
