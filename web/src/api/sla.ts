/** SLA policies: /api/sla*. Keys under ["sla-policies"]. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import type { Priority } from "./types";

export const slaKeys = {
  all: ["sla-policies"] as const,
  list: () => [...slaKeys.all, "list"] as const,
};

export function useSlaPolicies() {
  return useQuery({
    queryKey: slaKeys.list(),
    queryFn: ({ signal }) => request("get", "/api/sla", { query: { limit: 200 }, signal }),
    staleTime: 60_000,
  });
}

/** When the clocks run, when they warn, and the second escalation after a breach. */
export interface PolicyTerms {
  /** null: around the clock. */
  calendar_id?: string | null;
  warn_pct?: number;
  warn_minutes?: number | null;
  escalate_after_minutes?: number | null;
  escalate_to_user_id?: string | null;
  escalate_to_team_id?: string | null;
}

export interface NewPolicy extends PolicyTerms {
  org_id?: string | null;
  priority: Priority;
  first_response_minutes: number;
  resolution_minutes: number;
  warn_pct: number;
}

export function useCreatePolicy() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: NewPolicy) => request("post", "/api/sla", { body }),
    meta: { success: "SLA policy created" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: slaKeys.all }),
  });
}

export function useUpdatePolicy() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: { id: string; first_response_minutes?: number; resolution_minutes?: number } & PolicyTerms) =>
      request("patch", "/api/sla/{policy_id}", { path: { policy_id: id }, body }),
    meta: { success: "SLA policy saved" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: slaKeys.all }),
  });
}

export function useDeletePolicy() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request("delete", "/api/sla/{policy_id}", { path: { policy_id: id } }),
    meta: { success: "SLA policy deleted" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: slaKeys.all }),
  });
}
