/** Services (what a ticket is about): /api/services*. Keys under ["services"]. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";

export const serviceKeys = {
  all: ["services"] as const,
  list: (orgId?: string) => [...serviceKeys.all, "list", orgId ?? ""] as const,
};

export function fetchServices(orgId?: string, signal?: AbortSignal) {
  return request("get", "/api/services", { query: { org_id: orgId || undefined, limit: 200 }, signal });
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
