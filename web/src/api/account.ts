/**
 * The account: links from mails (invitation, password reset, e-mail confirmation), the profile,
 * the user's sessions, two-factor sign-in and (admins) the two-factor policy.
 * Keys under ["account"]; the signed-in user stays under ["me"].
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { authKeys } from "./auth";
import { ApiError, request } from "./client";
import type { Me, Schemas } from "./types";

export type MfaStatus = Schemas["MfaStatus"];
export type SecurityKey = Schemas["WebAuthnKeyOut"];
export type TotpSetup = Schemas["TotpSetupOut"];
export type AccountSession = Schemas["SessionOut"];
export type MfaPolicyItem = Schemas["MfaPolicyItem"];
export type InvitationInfo = Schemas["InvitationInfo"];

export const accountKeys = {
  all: ["account"] as const,
  invitation: (token: string) => ["account", "invitation", token] as const,
  mfa: ["account", "mfa"] as const,
  sessions: ["account", "sessions"] as const,
  policy: ["account", "mfa-policy"] as const,
};

/** A link that is unknown, expired or used: one neutral sentence whatever the reason. */
export function isInvalidToken(error: unknown): boolean {
  return error instanceof ApiError && error.status === 400 && error.code === "invalid_token";
}

/** The current password given to confirm a change was wrong. */
export function isWrongPassword(error: unknown): boolean {
  return error instanceof ApiError && error.code === "wrong_password";
}

// ---- Links from mails (no session) ----------------------------------------------------------

/** Whom an invitation is for. Off once it was accepted (the link is used up then). */
export function useInvitation(token: string, enabled = true) {
  return useQuery({
    queryKey: accountKeys.invitation(token),
    enabled,
    queryFn: () => request("post", "/api/auth/invitation/inspect", { body: { token }, handle401: true }),
    retry: false,
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
}

export function useAcceptInvitation() {
  return useMutation({
    mutationFn: (body: { token: string; password: string }) =>
      request("post", "/api/auth/invitation/accept", { body, handle401: true }),
    meta: { silent: true },
  });
}

export function useForgotPassword() {
  return useMutation({
    mutationFn: (email: string) => request("post", "/api/auth/password/forgot", { body: { email }, handle401: true }),
    meta: { silent: true },
  });
}

export function useResetPassword() {
  return useMutation({
    mutationFn: (body: { token: string; password: string }) =>
      request("post", "/api/auth/password/reset", { body, handle401: true }),
    meta: { silent: true },
  });
}

export function useConfirmEmail() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (token: string) => request("post", "/api/auth/email/confirm", { body: { token }, handle401: true }),
    meta: { silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: authKeys.me }),
  });
}

// ---- The profile ----------------------------------------------------------------------------

export function useUpdateProfile() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { name?: string; language?: string }) => request("patch", "/api/me", { body }),
    meta: { silent: true, success: "Profile saved" },
    onSuccess: (me: Me) => queryClient.setQueryData(authKeys.me, me),
  });
}

export function useChangePassword() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { current_password: string; new_password: string }) =>
      request("post", "/api/me/password", { body }),
    meta: { silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: accountKeys.sessions }),
  });
}

export function useChangeEmail() {
  return useMutation({
    mutationFn: (body: { current_password: string; new_email: string }) => request("post", "/api/me/email", { body }),
    meta: { silent: true },
  });
}

// ---- Sessions -------------------------------------------------------------------------------

export function useSessions(enabled = true) {
  return useQuery({
    queryKey: accountKeys.sessions,
    queryFn: ({ signal }) => request("get", "/api/me/sessions", { signal }),
    enabled,
    staleTime: 30_000,
  });
}

export function useRevokeSession() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request("delete", "/api/me/sessions/{session_id}", { path: { session_id: id } }),
    meta: { success: "Session signed out" },
    onSettled: () => queryClient.invalidateQueries({ queryKey: accountKeys.sessions }),
  });
}

export function useRevokeOtherSessions() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => request("post", "/api/me/sessions/revoke-others"),
    meta: { success: "Signed out everywhere else" },
    onSettled: () => queryClient.invalidateQueries({ queryKey: accountKeys.sessions }),
  });
}

// ---- Two-factor sign-in ---------------------------------------------------------------------

export function useMfaStatus(enabled = true) {
  return useQuery({
    queryKey: accountKeys.mfa,
    queryFn: ({ signal }) => request("get", "/api/me/mfa", { signal }),
    enabled,
    staleTime: 30_000,
  });
}

/** Every factor change refreshes the status. Errors are shown by the dialog that asked. */
function useFactorMutation<V, R>(fn: (vars: V) => Promise<R>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: fn,
    meta: { silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: accountKeys.mfa }),
  });
}

export function useBeginTotp() {
  return useMutation({
    mutationFn: (current_password: string) => request("post", "/api/me/mfa/totp", { body: { current_password } }),
    meta: { silent: true },
  });
}

export function useConfirmTotp() {
  return useFactorMutation((code: string) => request("post", "/api/me/mfa/totp/confirm", { body: { code } }));
}

export function useRemoveTotp() {
  return useFactorMutation((body: { current_password: string; code: string }) =>
    request("delete", "/api/me/mfa/totp", { body }),
  );
}

export function useWebAuthnOptions() {
  return useMutation({
    mutationFn: (current_password: string) =>
      request("post", "/api/me/mfa/webauthn/register/options", { body: { current_password } }),
    meta: { silent: true },
  });
}

export function useRegisterKey() {
  return useFactorMutation((body: { credential: Record<string, unknown>; name: string }) =>
    request("post", "/api/me/mfa/webauthn/register", { body }),
  );
}

export function useRemoveKey() {
  return useFactorMutation(({ id, current_password }: { id: string; current_password: string }) =>
    request("delete", "/api/me/mfa/webauthn/keys/{key_id}", { path: { key_id: id }, body: { current_password } }),
  );
}

export function useNewRecoveryCodes() {
  return useFactorMutation((current_password: string) =>
    request("post", "/api/me/mfa/recovery-codes", { body: { current_password } }),
  );
}

// ---- The two-factor policy (admins) ---------------------------------------------------------

export function useMfaPolicy() {
  return useQuery({
    queryKey: accountKeys.policy,
    queryFn: ({ signal }) => request("get", "/api/admin/mfa-policy", { signal }),
  });
}

export function useSaveMfaPolicy() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (items: MfaPolicyItem[]) => request("put", "/api/admin/mfa-policy", { body: { items } }),
    meta: { success: "Two-factor policy saved" },
    onSuccess: (answer) => queryClient.setQueryData(accountKeys.policy, answer),
  });
}
