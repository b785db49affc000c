/**
 * Security keys and passkeys through @simplewebauthn/browser, loaded only when a key is used
 * (the sign-in page stays small). The server's options and the browser's answers are JSON with
 * base64url fields; they pass through untouched.
 */
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/browser";

export function keysSupported(): boolean {
  return typeof window !== "undefined" && typeof window.PublicKeyCredential === "function";
}

/** Sign a sign-in challenge with a registered key (navigator.credentials.get). */
export async function signWithKey(options: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { startAuthentication } = await import("@simplewebauthn/browser");
  const answer = await startAuthentication({ optionsJSON: options as unknown as PublicKeyCredentialRequestOptionsJSON });
  return answer as unknown as Record<string, unknown>;
}

/** Create a new credential on a key (navigator.credentials.create). */
export async function createKey(options: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { startRegistration } = await import("@simplewebauthn/browser");
  const answer = await startRegistration({ optionsJSON: options as unknown as PublicKeyCredentialCreationOptionsJSON });
  return answer as unknown as Record<string, unknown>;
}

/** What went wrong with the key, in words (the browser's errors are terse DOMExceptions). */
export function keyErrorText(error: unknown): string {
  if (!keysSupported()) return "This browser cannot use security keys. Use another way to sign in.";
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED") return "This security key is already registered.";
    if (code === "ERROR_INVALID_DOMAIN" || code === "ERROR_INVALID_RP_ID" || error.name === "SecurityError") {
      return "Security keys do not work at this address. Open ATUM DESK at its public address and try again.";
    }
    if (error.name === "NotAllowedError" || error.name === "AbortError" || code === "ERROR_CEREMONY_ABORTED") {
      return "The security key did not answer, or the request was cancelled. Try again.";
    }
  }
  return "The security key could not be used. Try again, or use another way.";
}
