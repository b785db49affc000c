/** Sign-in errors in words. */
import { ApiError, errorMessage } from "../../api/client";

export function tooManyText(error: ApiError): string {
  const wait = error.retryAfter ? ` in ${Math.ceil(error.retryAfter / 60)} min` : " later";
  return `Too many sign-in attempts. Please try again${wait}.`;
}

export function loginErrorText(error: unknown): string {
  if (error instanceof ApiError) {
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
