/** Services (what a ticket is about): /api/services*. Keys under ["services"]. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import type { Schemas, Service } from "./types";

export const serviceKeys = {
  all: ["services"] as const,
  list: (orgId?: string) => [...serviceKeys.all, "list", orgId ?? ""] as const,
};

export function fetchServices(orgId?: string, signal?: AbortSignal) {
  return request("get", "/api/services", { query: { org_id: orgId || undefined, limit: 200 }, signal });
}

/** Staff answers carry each service's default team, customers' never (two schemas): the staff view
 * of a list, for the admin page. */
export function asStaffServices(items: (Service | Schemas["CustomerService"])[]): Service[] {
  return items.map((s) => ("default_team_id" in s ? s : { ...s, default_team_id: null }));
}

export function useServices(orgId?: string) {
  return useQuery({
    queryKey: serviceKeys.list(orgId),
    queryFn: ({ signal }) => fetchServices(orgId, signal),
    staleTime: 5 * 60_000,
  });
}

export function useCreateService() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; org_id?: string | null; default_team_id?: string | null }) =>
      request("post", "/api/services", { body }),
    meta: { success: "Service created" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: serviceKeys.all }),
  });
}

export function useUpdateService() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: { id: string; name?: string; is_active?: boolean; default_team_id?: string | null }) =>
      request("patch", "/api/services/{service_id}", { path: { service_id: id }, body }),
    meta: { success: "Service saved" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: serviceKeys.all }),
  });
}
