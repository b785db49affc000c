/**
 * The agent's workspace: canned replies (/api/internal/canned-replies), macros
 * (/api/internal/macros) and bulk actions (/api/internal/tickets/bulk).
 * Query keys: ["canned-replies", …] and ["macros", …]. Applying a macro or a bulk action
 * refreshes every ticket view (["internal-tickets", …]) and the saved views' counts (["views"]).
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import { internalKeys } from "./internal";
import type { Schemas } from "./types";

export type CannedReply = Schemas["CannedReplyOut"];
export type Macro = Schemas["MacroOut"];
export type MacroAction = Macro["actions"][number];
export type WorkspaceScope = CannedReply["scope"];
export type BulkRequestAction = Schemas["BulkRequest"]["action"];
export type BulkOutcome = Schemas["BulkResult"];

/** The most tickets one bulk request takes (the API's limit). */
export const BULK_MAX = 1000;

/** Every placeholder a canned reply or a macro's text may use (the server's list). */
export const PLACEHOLDERS = [
  "customer.name",
  "customer.first_name",
  "customer.email",
  "ticket.number",
  "ticket.title",
  "ticket.status",
  "ticket.priority",
  "ticket.category",
  "org.name",
  "agent.name",
  "agent.first_name",
  "agent.email",
  "assignee.name",
  "assignee.first_name",
  "team.name",
] as const;

export const workspaceKeys = {
  replies: ["canned-replies"] as const,
  replyList: (q: string) => [...workspaceKeys.replies, "list", q] as const,
  macros: ["macros"] as const,
  macroList: () => [...workspaceKeys.macros, "list"] as const,
};

export function useCannedReplies(q = "", enabled = true) {
  return useQuery({
    enabled,
    queryKey: workspaceKeys.replyList(q.trim()),
    queryFn: ({ signal }) =>
      request("get", "/api/internal/canned-replies", { query: { q: q.trim() || undefined }, signal }),
    staleTime: 30_000,
  });
}

export interface CannedReplyInput {
  title: string;
  body: string;
  scope: WorkspaceScope;
  team_id?: string | null;
}

export function useSaveCannedReply() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...input }: CannedReplyInput & { id?: string }) => {
      const body = { ...input, team_id: input.scope === "team" ? input.team_id ?? null : null };
      return id
        ? request("patch", "/api/internal/canned-replies/{reply_id}", { path: { reply_id: id }, body })
        : request("post", "/api/internal/canned-replies", { body });
    },
    meta: { success: "Canned reply saved", silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: workspaceKeys.replies }),
  });
}

export function useDeleteCannedReply() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request("delete", "/api/internal/canned-replies/{reply_id}", { path: { reply_id: id } }),
    meta: { success: "Canned reply deleted" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: workspaceKeys.replies }),
  });
}

/** The reply's text filled in for the ticket (counts one use). */
export function useRenderCannedReply(ticketId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (replyId: string) =>
      request("post", "/api/internal/tickets/{ticket_id}/canned-replies/{reply_id}/render", {
        path: { ticket_id: ticketId, reply_id: replyId },
      }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: workspaceKeys.replies }),
  });
}

export function useMacroList(enabled = true) {
  return useQuery({
    enabled,
    queryKey: workspaceKeys.macroList(),
    queryFn: ({ signal }) => request("get", "/api/internal/macros", { signal }),
    staleTime: 60_000,
  });
}

export interface MacroInput {
  name: string;
  actions: MacroAction[];
  scope: WorkspaceScope;
  team_id?: string | null;
}

export function useSaveMacro() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...input }: MacroInput & { id?: string }) => {
      const body = { ...input, team_id: input.scope === "team" ? input.team_id ?? null : null };
      return id
        ? request("patch", "/api/internal/macros/{macro_id}", { path: { macro_id: id }, body })
        : request("post", "/api/internal/macros", { body });
    },
    meta: { success: "Macro saved", silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: workspaceKeys.macros }),
  });
}

export function useDeleteMacro() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request("delete", "/api/internal/macros/{macro_id}", { path: { macro_id: id } }),
    meta: { success: "Macro deleted" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: workspaceKeys.macros }),
  });
}

function useInvalidateTickets() {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: internalKeys.all }),
      queryClient.invalidateQueries({ queryKey: ["views"] }),
      queryClient.invalidateQueries({ queryKey: workspaceKeys.macros }),
    ]);
}

/** All of the macro's actions on the ticket, or none (a refusal names the action). */
export function useApplyMacro(ticketId: string) {
  const invalidate = useInvalidateTickets();
  return useMutation({
    mutationFn: (macroId: string) =>
      request("post", "/api/internal/tickets/{ticket_id}/macros/{macro_id}", {
        path: { ticket_id: ticketId, macro_id: macroId },
      }),
    meta: { silent: true },
    onSettled: () => invalidate(),
  });
}

/** POST /internal/tickets/bulk: one action (or a saved macro) on many tickets; a result per ticket. */
export function useBulkAction() {
  const invalidate = useInvalidateTickets();
  return useMutation({
    mutationFn: (body: { ticket_ids: string[]; action: BulkRequestAction }) =>
      request("post", "/api/internal/tickets/bulk", { body }).then((answer) => answer.results),
    onSettled: () => invalidate(),
  });
}

/** A one-line description of a macro action (lists and menus). */
export function describeAction(action: MacroAction): string {
  switch (action.type) {
    case "comment":
      return `${action.is_internal ? "Internal note" : "Public reply"}${action.canned_reply_id ? " (canned reply)" : ""}`;
    case "status":
      return `Status → ${action.status.replace(/_/g, " ").toLowerCase()}`;
    case "priority":
      return `Priority → ${action.priority}`;
    case "tags": {
      const parts = [...(action.add ?? []).map((t) => `+${t}`), ...(action.remove ?? []).map((t) => `−${t}`)];
      return `Tags ${parts.join(" ")}`;
    }
    case "assign":
      return action.me ? "Assign to me" : action.assignee_id ? "Assign to a person" : "Assign to a team";
    default:
      return "Action";
  }
}
