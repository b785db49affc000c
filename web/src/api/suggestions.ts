/** AI triage suggestions of a desk ticket: GET /api/internal/tickets/{id}/suggestions (staff),
 * and POST …/suggestions/apply to take one (the staff member's own, audited ticket update). */
import { useMutation, useQuery } from "@tanstack/react-query";
import { request } from "./client";
import { useRefreshDeskTicket } from "./internal";
import type { Schemas } from "./types";

export type Suggestions = Schemas["Suggestions"];
/** A suggested category or priority: its value, a calibrated probability (0..1) and how it was
 * chosen (a trained classifier of `model_version`, a vote of the nearest resolved tickets, or the
 * language model). */
export type SuggestionVote = Schemas["CategorySuggestion"] | Schemas["PrioritySuggestion"];
export type SuggestionEngine = Suggestions["engine"];
export type SimilarTicket = Schemas["SimilarTicket"];
/** A knowledge-base passage: `body` is Markdown; `article_id` is null for operator documentation. */
export type KbPassage = Schemas["KbPassage"];
export type SuggestionField = Schemas["ApplySuggestion"]["field"];

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

/** Apply the stored category or priority suggestion; the server takes the value from the stored
 * suggestion (409 when there is none) and answers the updated staff ticket. */
export function useApplySuggestion(ticketId: string) {
  const refresh = useRefreshDeskTicket();
  return useMutation({
    mutationFn: (field: SuggestionField) =>
      request("post", "/api/internal/tickets/{ticket_id}/suggestions/apply", {
        path: { ticket_id: ticketId },
        body: { field },
      }),
    meta: { success: "Suggestion applied" },
    onSuccess: () => refresh(ticketId),
  });
}
