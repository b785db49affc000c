/** Users: /api/users* (admins: everyone; customer admins: their organization). Keys under ["users"]. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import type { Role } from "./types";

export interface UserFilter {
  org_id?: string;
  role?: Role;
  q?: string;
}

export const userKeys = {
  all: ["users"] as const,
  list: (filter: UserFilter) => [...userKeys.all, "list", filter] as const,
};

export function fetchUsers(filter: UserFilter, signal?: AbortSignal) {
  return request("get", "/api/users", {
    query: { org_id: filter.org_id || undefined, role: filter.role, q: filter.q || undefined, limit: 200 },
    signal,
  });
}

export function useUsers(filter: UserFilter, enabled = true) {
  return useQuery({
    queryKey: userKeys.list(filter),
    queryFn: ({ signal }) => fetchUsers(filter, signal),
    enabled,
    staleTime: 60_000,
  });
}

/** Agents and managers: the people a ticket can be assigned to. */
export function useAssignees() {
  const agents = useUsers({ role: "agent" });
  const managers = useUsers({ role: "manager" });
  const people = [...(agents.data?.items ?? []), ...(managers.data?.items ?? [])]
    .filter((u) => u.is_active)
    .sort((a, b) => a.name.localeCompare(b.name));
  return { people, isLoading: agents.isLoading || managers.isLoading };
}

export interface NewUser {
  email: string;
  name: string;
  role: Role;
  org_id?: string | null;
  password: string;
}

export function useCreateUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: NewUser) => request("post", "/api/users", { body }),
    meta: { success: "User created" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: userKeys.all }),
  });
}

export interface UserPatch {
  name?: string;
  role?: Role;
  is_active?: boolean;
  password?: string;
}

export function useUpdateUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: UserPatch & { id: string }) =>
      request("patch", "/api/users/{user_id}", { path: { user_id: id }, body }),
    meta: { success: "User saved" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: userKeys.all }),
  });
}
