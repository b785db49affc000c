/** Who is signed in, sign in, sign out. Query key: ["me"]. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, hasSessionHint, request } from "./client";
import type { Me } from "./types";

export const authKeys = {
  me: ["me"] as const,
};

/** The signed-in user, or null (401 → not signed in; no request at all without a session cookie). */
export async function fetchMe(signal?: AbortSignal): Promise<Me | null> {
  if (!hasSessionHint()) return null;
  try {
    return await request("get", "/api/me", { signal, handle401: true });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export function useMe() {
  return useQuery({
    queryKey: authKeys.me,
    queryFn: ({ signal }) => fetchMe(signal),
    staleTime: 5 * 60_000,
    retry: false,
  });
}

export interface Credentials {
  email: string;
  password: string;
}

export function login(credentials: Credentials) {
  // The answer's access_token is deliberately ignored: the session lives in the httpOnly cookie.
  return request("post", "/api/auth/login", { body: credentials, handle401: true });
}

export function useLogin() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: login,
    meta: { silent: true }, // the sign-in form shows its own error
    onSuccess: (answer) => {
      queryClient.clear();
      queryClient.setQueryData(authKeys.me, answer.user);
    },
  });
}

export function useLogout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => request("post", "/api/auth/logout", { handle401: true }),
    onSettled: () => {
      queryClient.clear();
      queryClient.setQueryData(authKeys.me, null);
    },
    meta: { silent: true },
  });
}
