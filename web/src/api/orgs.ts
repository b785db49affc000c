/** Organizations: /api/orgs*. Query keys under ["orgs"]. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import type { OrgStatus } from "./types";

/** What a customer_user of the organization sees in the portal (a customer_admin sees everything). */
export type PortalVisibility = "own" | "organization";

export const orgKeys = {
  all: ["orgs"] as const,
  list: (q?: string) => [...orgKeys.all, "list", q ?? ""] as const,
};

export function fetchOrgs(q?: string, signal?: AbortSignal) {
  return request("get", "/api/orgs", { query: { q: q || undefined, limit: 200 }, signal });
}

export function useOrgs(q?: string, enabled = true) {
  return useQuery({ queryKey: orgKeys.list(q), queryFn: ({ signal }) => fetchOrgs(q, signal), enabled, staleTime: 60_000 });
}

export function useCreateOrg() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; email_domains?: string[]; portal_visibility: PortalVisibility; sla_calendar_id?: string | null }) =>
      request("post", "/api/orgs", { body }),
    meta: { success: "Organization created" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: orgKeys.all }),
  });
}

export function useUpdateOrg() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({
      id,
      ...body
    }: {
      id: string;
      name?: string;
      status?: OrgStatus;
      email_domains?: string[];
      portal_visibility?: PortalVisibility;
      /** null: the SLA policies' calendar. */
      sla_calendar_id?: string | null;
    }) =>
      request("patch", "/api/orgs/{org_id}", { path: { org_id: id }, body }),
    meta: { success: "Organization saved" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: orgKeys.all }),
  });
}
