/**
 * Who is signed in, sign in (password, then a second factor when one is enrolled), sign out.
 * Query keys: ["me"] and ["session-notice"] (what the sign-in said about two-factor set-up).
 */
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { ApiError, hasSessionHint, request } from "./client";
import type { Me, Schemas } from "./types";

export const authKeys = {
  me: ["me"] as const,
  notice: ["session-notice"] as const,
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

/** A completed sign-in: the session cookie is set. */
export type SessionAnswer = Schemas["LoginResponse"];
/** The password was right and a second factor is enrolled: no session yet. */
export type MfaChallenge = Schemas["MfaChallengeOut"];
export type LoginAnswer = SessionAnswer | MfaChallenge;
export type MfaMethod = MfaChallenge["methods"][number];

export function isChallenge(answer: LoginAnswer): answer is MfaChallenge {
  return answer.mfa_required === true;
}

export function login(credentials: Credentials): Promise<LoginAnswer> {
  // The answer's access_token is deliberately ignored: the session lives in the httpOnly cookie.
  return request("post", "/api/auth/login", { body: credentials, handle401: true });
}

/** One second factor for the half-login of `mfa_token`: an app code, a recovery code or a key. */
export type SecondFactor =
  | { mfa_token: string; code: string }
  | { mfa_token: string; recovery_code: string }
  | { mfa_token: string; webauthn: Record<string, unknown> };

export function loginSecondFactor(body: SecondFactor): Promise<SessionAnswer> {
  return request("post", "/api/auth/login/mfa", { body, handle401: true });
}

// ---- What the sign-in said about two-factor set-up ------------------------------------------

/**
 * The role requires a second factor and none is enrolled: until when sign-in works without one,
 * and whether that time is over (`restricted`: the session may only enrol a factor). Kept for the
 * tab (sessionStorage) so a reload still shows the banner.
 */
export interface MfaNotice {
  setupRequired: boolean;
  graceUntil: string | null;
  restricted: boolean;
}

const NOTICE_STORAGE = "atum.mfaNotice";

export function readNotice(): MfaNotice | null {
  try {
    const raw = window.sessionStorage.getItem(NOTICE_STORAGE);
    if (!raw) return null;
    const value = JSON.parse(raw) as Partial<MfaNotice>;
    return {
      setupRequired: Boolean(value.setupRequired),
      graceUntil: typeof value.graceUntil === "string" ? value.graceUntil : null,
      restricted: Boolean(value.restricted),
    };
  } catch {
    return null;
  }
}

export function setNotice(client: QueryClient, notice: MfaNotice | null): void {
  try {
    if (notice && (notice.setupRequired || notice.restricted)) {
      window.sessionStorage.setItem(NOTICE_STORAGE, JSON.stringify(notice));
    } else {
      window.sessionStorage.removeItem(NOTICE_STORAGE);
    }
  } catch {
    // storage unavailable (private mode): the cache alone carries it
  }
  client.setQueryData(authKeys.notice, notice && (notice.setupRequired || notice.restricted) ? notice : null);
}

export function useMfaNotice(): MfaNotice | null {
  const query = useQuery({
    queryKey: authKeys.notice,
    queryFn: () => readNotice(),
    // Known at the first render (no request): the shells decide on it before drawing anything.
    initialData: readNotice,
    staleTime: Infinity,
    gcTime: Infinity,
  });
  return query.data ?? null;
}

export function noticeOf(answer: SessionAnswer): MfaNotice {
  return {
    setupRequired: Boolean(answer.mfa_setup_required),
    graceUntil: answer.mfa_grace_until ?? null,
    restricted: Boolean(answer.restricted),
  };
}

/** A session started: forget everything cached for whoever was here before. */
export function signedIn(client: QueryClient, answer: SessionAnswer): void {
  client.clear();
  client.setQueryData(authKeys.me, answer.user);
  setNotice(client, noticeOf(answer));
}

export function useLogin() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: login,
    meta: { silent: true }, // the sign-in form shows its own error
    onSuccess: (answer) => {
      if (!isChallenge(answer)) signedIn(queryClient, answer);
    },
  });
}

export function useLoginSecondFactor() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: loginSecondFactor,
    meta: { silent: true },
    onSuccess: (answer) => signedIn(queryClient, answer),
  });
}

export function useLogout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => request("post", "/api/auth/logout", { handle401: true }),
    onSettled: () => {
      queryClient.clear();
      queryClient.setQueryData(authKeys.me, null);
      setNotice(queryClient, null);
    },
    meta: { silent: true },
  });
}
