/** Pieces the profile's sections share: the current-password field and error wording. */
import { forwardRef } from "react";
import { isWrongPassword } from "../../api/account";
import { ApiError, errorMessage } from "../../api/client";
import { TextField } from "../../atum";

/** Re-authentication before a sensitive change (the server asks for the current password). */
export const CurrentPasswordField = forwardRef<
  HTMLInputElement,
  { value: string; onChange: (value: string) => void; error?: string | null; autoFocus?: boolean; hint?: string }
>(function CurrentPasswordField({ value, onChange, error, autoFocus, hint }, ref) {
  return (
    <TextField
      ref={ref}
      label="Current password"
      type="password"
      autoComplete="current-password"
      required
      value={value}
      onChange={(e) => onChange(e.target.value)}
      error={error}
      autoFocus={autoFocus}
      hint={hint}
    />
  );
});

/** For password managers: which account a password form belongs to (not shown). */
export function UsernameHint({ email }: { email: string }) {
  return <input type="email" name="username" autoComplete="username" value={email} readOnly hidden aria-hidden="true" tabIndex={-1} />;
}

export interface FormErrors {
  fields: Record<string, string>;
  form: string | null;
}

/** An API error split into field messages (validation, wrong password) and one form message. */
export function formErrors(error: unknown): FormErrors {
  if (isWrongPassword(error)) return { fields: { current_password: "The current password is not correct." }, form: null };
  if (error instanceof ApiError && error.status === 422) {
    const fields = error.fieldErrors();
    if (Object.keys(fields).length) return { fields, form: null };
  }
  if (error instanceof ApiError && error.status === 429) {
    return { fields: {}, form: "Too many wrong passwords. Please wait a while and try again." };
  }
  return { fields: {}, form: errorMessage(error) };
}

export const NO_ERRORS: FormErrors = { fields: {}, form: null };
