/** Sign-in errors in words. */
import { ApiError, errorMessage } from "../../api/client";

export function tooManyText(error: ApiError): string {
  const wait = error.retryAfter ? ` in ${Math.ceil(error.retryAfter / 60)} min` : " later";
  return `Too many sign-in attempts. Please try again${wait}.`;
}

/** The sign-in policy turned local passwords off for the user's role: only providers remain. */
export function passwordSignInDisabled(error: unknown): boolean {
  return error instanceof ApiError && error.status === 403 && error.code === "password_sign_in_disabled";
}

export function loginErrorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (passwordSignInDisabled(error)) return "Sign in with your organization's account: passwords are turned off for your role.";
    if (error.status === 401) return "The e-mail or password is not correct.";
    if (error.status === 429) return tooManyText(error);
    if (error.status === 422) return "Enter your e-mail and password.";
  }
  return errorMessage(error);
}

export function secondFactorErrorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 429) return tooManyText(error);
    if (error.status === 401 && error.code === "invalid_second_factor") {
      // The server words the two cases: a wrong or used code, or a half-login that has expired.
      const detail = typeof error.detail === "string" ? error.detail.trim() : "";
      return detail ? (detail.endsWith(".") ? detail : `${detail}.`) : "The code was not accepted.";
    }
    if (error.status === 422) return "Enter the code.";
  }
  return errorMessage(error);
}

/** The half-login is over (expired, or too many wrong codes): only starting again helps. */
export function halfLoginExpired(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401 && typeof error.detail === "string" && /expired/i.test(error.detail);
}

/**
 * Why a sign-in through a provider was refused (`/login?sso_error=<code>`), as the server words it
 * (REFUSALS in api/app/services/sso.py); an unknown code gets the generic sentence.
 */
export const SSO_REFUSALS: Record<string, string> = {
  provider_unavailable:
    "The sign-in provider cannot be reached right now. Try again later, or sign in with a password if your account has one.",
  provider_misconfigured: "The sign-in provider is not set up correctly. Tell your administrator.",
  sso_state_invalid: "This sign-in link has expired or was already used. Start again.",
  sso_refused: "The sign-in provider did not sign you in.",
  token_refused: "The sign-in provider refused to complete the sign-in. Start again.",
  id_token_invalid: "The sign-in provider's answer could not be verified.",
  no_mapped_group: "Your account is not in a group that may use this helpdesk. Ask your administrator for access.",
  no_email: "The sign-in provider did not tell us your e-mail address.",
  email_unverified: "The sign-in provider has not verified your e-mail address.",
  email_in_use: "An account with your e-mail address exists here and cannot be linked automatically. Ask an administrator to link it.",
  account_disabled: "Your account is disabled.",
  organization_unavailable: "Your organization's access is suspended.",
  idp_mfa_required: "Your role requires two-factor authentication at the sign-in provider. Sign in there with a second factor.",
};

export const SSO_REFUSED_GENERIC = "Signing in through your organization's account did not work. Try again, or ask your administrator.";

export function ssoRefusalText(code: string): string {
  return Object.hasOwn(SSO_REFUSALS, code) ? SSO_REFUSALS[code]! : SSO_REFUSED_GENERIC;
}

/** A directory sign-in (username and directory password): 401, 403 with a refusal code, 503. */
export function directoryErrorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return "The username or password is not correct.";
    if (error.status === 429) return tooManyText(error);
    if (error.status === 422) return "Enter your username and password.";
    if (error.status === 503) return SSO_REFUSALS.provider_unavailable!;
    if (error.status === 403 && error.code && Object.hasOwn(SSO_REFUSALS, error.code)) return SSO_REFUSALS[error.code]!;
  }
  return errorMessage(error);
}
