/**
 * Single sign-on: the providers on the sign-in page, directory (LDAP) sign-in, linking a local
 * account after an OpenID Connect sign-in, and (admins) the providers, the sign-in policy and
 * users' identities. Keys under ["sso"] (the public list under ["sso", "public"]).
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { signedIn, isChallenge, type LoginAnswer } from "./auth";
import { request } from "./client";
import type { Schemas } from "./types";
import { userKeys } from "./users";

export type PublicProvider = Schemas["PublicProvider"];
export type Provider = Schemas["ProviderOut"];
export type ProviderCreate = Schemas["ProviderCreate"];
export type ProviderUpdate = Schemas["ProviderUpdate"];
export type ProviderMapping = Schemas["Mapping"];
export type ProviderCheck = Schemas["ProviderCheckOut"];
export type SyncResult = Schemas["SyncOut"];
export type SigninPolicy = Schemas["SigninPolicyOut"];
export type RolePolicy = Schemas["RolePolicy"];
export type Identity = Schemas["IdentityOut"];

export const ssoKeys = {
  all: ["sso"] as const,
  public: ["sso", "public"] as const,
  providers: ["sso", "providers"] as const,
  policy: ["sso", "policy"] as const,
  identities: (userId: string) => ["sso", "identities", userId] as const,
};

// ---- Sign-in page (no session) ----------------------------------------------------------------

/** The enabled providers, for the sign-in page's buttons (an empty list when the call fails). */
export function usePublicProviders() {
  return useQuery({
    queryKey: ssoKeys.public,
    queryFn: ({ signal }) => request("get", "/api/auth/providers", { signal, handle401: true }),
    staleTime: 5 * 60_000,
    retry: false,
  });
}

/**
 * Where an OpenID Connect sign-in starts: a plain navigation (the server answers 303 to the
 * provider). The provider sends the browser back to `next`: the sign-in page itself, which then
 * sends the signed-in user where they wanted to go (or to their home).
 */
export function ssoStartUrl(slug: string, next: string | null): string {
  const back = next ? `/login?next=${encodeURIComponent(next)}` : "/login";
  return `/api/auth/sso/${encodeURIComponent(slug)}/start?next=${encodeURIComponent(back)}`;
}

/** The provider whose sign-in was started in this tab: the link page names it. */
const STARTED_STORAGE = "atum.ssoProvider";

export function rememberStartedProvider(name: string): void {
  try {
    window.sessionStorage.setItem(STARTED_STORAGE, name);
  } catch {
    // storage unavailable: the link page uses a neutral wording
  }
}

export function startedProvider(): string | null {
  try {
    return window.sessionStorage.getItem(STARTED_STORAGE);
  } catch {
    return null;
  }
}

export interface DirectoryCredentials {
  slug: string;
  username: string;
  password: string;
}

export function useLdapLogin() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ slug, username, password }: DirectoryCredentials): Promise<LoginAnswer> =>
      request("post", "/api/auth/ldap/{slug}/login", { path: { slug }, body: { username, password }, handle401: true }),
    meta: { silent: true },
    onSuccess: (answer) => {
      if (!isChallenge(answer)) signedIn(queryClient, answer);
    },
  });
}

/** Prove the local account's password to link it to the provider identity just used. */
export function useLinkAccount() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { link_token: string; password: string }): Promise<LoginAnswer> =>
      request("post", "/api/auth/sso/link", { body, handle401: true }),
    meta: { silent: true },
    onSuccess: (answer) => {
      if (!isChallenge(answer)) signedIn(queryClient, answer);
    },
  });
}

// ---- Administration: providers ------------------------------------------------------------------

export function useSsoProviders(enabled = true) {
  return useQuery({
    queryKey: ssoKeys.providers,
    queryFn: ({ signal }) => request("get", "/api/admin/sso/providers", { signal }),
    enabled,
  });
}

function useInvalidateProviders() {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ssoKeys.providers }),
      queryClient.invalidateQueries({ queryKey: ssoKeys.public }),
    ]);
}

export function useCreateProvider() {
  const invalidate = useInvalidateProviders();
  return useMutation({
    mutationFn: (body: ProviderCreate) => request("post", "/api/admin/sso/providers", { body }),
    meta: { silent: true, success: "Provider created" },
    onSuccess: invalidate,
  });
}

export function useUpdateProvider() {
  const invalidate = useInvalidateProviders();
  return useMutation({
    mutationFn: ({ id, ...body }: ProviderUpdate & { id: string }) =>
      request("patch", "/api/admin/sso/providers/{provider_id}", { path: { provider_id: id }, body }),
    meta: { silent: true, success: "Provider saved" },
    onSuccess: invalidate,
  });
}

export function useDeleteProvider() {
  const invalidate = useInvalidateProviders();
  return useMutation({
    mutationFn: (id: string) => request("delete", "/api/admin/sso/providers/{provider_id}", { path: { provider_id: id } }),
    meta: { silent: true, success: "Provider deleted" }, // the dialog shows a refusal
    onSuccess: invalidate,
  });
}

/** Try the provider with its stored settings (discovery, or bind and search). */
export function useCheckProvider() {
  const invalidate = useInvalidateProviders();
  return useMutation({
    mutationFn: (id: string) => request("post", "/api/admin/sso/providers/{provider_id}/check", { path: { provider_id: id } }),
    meta: { silent: true }, // the page shows the result
    onSettled: invalidate,
  });
}

/** Synchronise a directory's users now. */
export function useSyncProvider() {
  const queryClient = useQueryClient();
  const invalidate = useInvalidateProviders();
  return useMutation({
    mutationFn: (id: string) => request("post", "/api/admin/sso/providers/{provider_id}/sync", { path: { provider_id: id } }),
    meta: { silent: true }, // the page shows the result
    onSettled: () => Promise.all([invalidate(), queryClient.invalidateQueries({ queryKey: userKeys.all })]),
  });
}

// ---- Administration: the sign-in policy ----------------------------------------------------------

export function useSigninPolicy() {
  return useQuery({
    queryKey: ssoKeys.policy,
    queryFn: ({ signal }) => request("get", "/api/admin/signin-policy", { signal }),
  });
}

export function useSaveSigninPolicy() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { roles: RolePolicy[]; break_glass_user_id: string | null }) =>
      request("put", "/api/admin/signin-policy", { body }),
    meta: { silent: true, success: "Sign-in policy saved" },
    onSuccess: (policy) => queryClient.setQueryData(ssoKeys.policy, policy),
  });
}

// ---- Administration: a user's identities ---------------------------------------------------------

export function useIdentities(userId: string, enabled = true) {
  return useQuery({
    queryKey: ssoKeys.identities(userId),
    queryFn: ({ signal }) => request("get", "/api/users/{user_id}/identities", { path: { user_id: userId }, signal }),
    enabled,
  });
}

/** The link is made at the user's next sign-in there with the same e-mail address. */
export function useApproveIdentity(userId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (providerId: string) =>
      request("post", "/api/users/{user_id}/identities", { path: { user_id: userId }, body: { provider_id: providerId } }),
    meta: { success: "Link approved" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ssoKeys.identities(userId) }),
  });
}

export function useRemoveIdentity(userId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (identityId: string) =>
      request("delete", "/api/users/{user_id}/identities/{identity_id}", { path: { user_id: userId, identity_id: identityId } }),
    meta: { success: "Link removed" },
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ssoKeys.identities(userId) }),
        queryClient.invalidateQueries({ queryKey: ssoKeys.providers }),
      ]),
  });
}
