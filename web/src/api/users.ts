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
  /** Without one, the user is invited by mail to choose it. */
  password?: string | null;
}

export function useCreateUser() {
  const queryClient = useQueryClient();
  return useMutation({
    // The dialog says what happened (created, or invited by mail).
    mutationFn: (body: NewUser) => request("post", "/api/users", { body }),
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

/** A new invitation mail (the earlier link stops working). */
export function useResendInvitation() {
  return useMutation({
    mutationFn: (id: string) => request("post", "/api/users/{user_id}/invitation", { path: { user_id: id } }),
    meta: { success: "Invitation sent again" },
  });
}

/** Remove every second factor of a user (admins); their sessions end and they are told by mail. */
export function useResetUserMfa() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request("post", "/api/users/{user_id}/mfa/reset", { path: { user_id: id } }),
    meta: { success: "Two-factor sign-in reset" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: userKeys.all }),
  });
}

/** Sign a user out everywhere. */
export function useEndUserSessions() {
  return useMutation({
    mutationFn: (id: string) => request("delete", "/api/users/{user_id}/sessions", { path: { user_id: id } }),
    meta: { success: "Signed out everywhere" },
  });
}
