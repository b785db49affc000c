/** A new password twice, with the strength meter between (reset, welcome, profile). */
import { TextField } from "../../atum";
import { PasswordStrength } from "./PasswordStrength";
import { lengthProblem } from "./strength";

export interface NewPasswordErrors {
  password?: string;
  confirm?: string;
}

/** What is wrong before asking the server: the length and the repetition. */
export function checkNewPassword(password: string, confirm: string): NewPasswordErrors {
  const found: NewPasswordErrors = {};
  const short = lengthProblem(password);
  if (short) found.password = short;
  else if (confirm !== password) found.confirm = "The two passwords are not the same.";
  return found;
}

export function NewPasswordFields({
  password,
  confirm,
  onPassword,
  onConfirm,
  errors,
  userInputs,
  label = "New password",
  autoFocus,
}: {
  password: string;
  confirm: string;
  onPassword: (value: string) => void;
  onConfirm: (value: string) => void;
  errors: NewPasswordErrors;
  userInputs?: string[];
  label?: string;
  autoFocus?: boolean;
}) {
  return (
    <>
      <TextField
        label={label}
        type="password"
        autoComplete="new-password"
        required
        minLength={12}
        maxLength={256}
        value={password}
        onChange={(e) => onPassword(e.target.value)}
        error={errors.password}
        autoFocus={autoFocus}
      />
      <PasswordStrength password={password} userInputs={userInputs} />
      <TextField
        label={`Repeat the ${label.toLowerCase()}`}
        type="password"
        autoComplete="new-password"
        required
        value={confirm}
        onChange={(e) => onConfirm(e.target.value)}
        error={errors.confirm}
      />
    </>
  );
}
