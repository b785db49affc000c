/**
 * /reset-password/:token — the link of a "forgot password" mail: a new password, twice. Every
 * session of the account ends; an enrolled second factor is still asked for at the next sign-in.
 */
import { useRef, useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useParams } from "react-router";
import { isInvalidToken, useResetPassword } from "../../api/account";
import { authKeys } from "../../api/auth";
import { ApiError, errorMessage } from "../../api/client";
import { Banner, Button, ButtonLink, FormError, useDocumentTitle } from "../../atum";
import { checkNewPassword, NewPasswordFields, type NewPasswordErrors } from "./NewPasswordFields";
import { PublicCard } from "./PublicCard";

export const INVALID_LINK = "This link is invalid or has expired. Links work once, for a limited time.";

export function ResetPasswordPage() {
  useDocumentTitle("Choose a new password");
  const { token = "" } = useParams();
  const queryClient = useQueryClient();
  const reset = useResetPassword();
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<NewPasswordErrors>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [state, setState] = useState<"form" | "done" | "invalid">("form");
  const titleRef = useRef<HTMLHeadingElement>(null);
  const moveFocus = () => window.setTimeout(() => titleRef.current?.focus());

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found = checkNewPassword(password, confirm);
    setErrors(found);
    setProblem(null);
    if (found.password || found.confirm) return;
    reset.mutate(
      { token, password },
      {
        onSuccess: () => {
          setState("done");
          // Any session in this browser ended with the others.
          void queryClient.invalidateQueries({ queryKey: authKeys.me });
          moveFocus();
        },
        onError: (error) => {
          if (isInvalidToken(error)) {
            setState("invalid");
            moveFocus();
          } else if (error instanceof ApiError && error.status === 422) {
            const fields = error.fieldErrors();
            setErrors({ password: fields.password ?? errorMessage(error) });
          } else {
            setProblem(errorMessage(error));
          }
        },
      },
    );
  };

  if (state === "done") {
    return (
      <PublicCard ref={titleRef} title="Your password was changed">
        <div className="atum-stack">
          <Banner tone="success">
            <p role="status">Sign in with your new password. For your safety, every session of your account was signed out.</p>
          </Banner>
          <ButtonLink to="/login" variant="primary" size="lg" block>
            Sign in
          </ButtonLink>
        </div>
      </PublicCard>
    );
  }

  if (state === "invalid") {
    return (
      <PublicCard ref={titleRef} title="This link does not work">
        <div className="atum-stack">
          <Banner tone="warning">
            <p role="alert">{INVALID_LINK}</p>
          </Banner>
          <ButtonLink to="/forgot-password" variant="primary" block>
            Ask for a new link
          </ButtonLink>
          <ButtonLink to="/login" variant="ghost" block>
            Back to sign in
          </ButtonLink>
        </div>
      </PublicCard>
    );
  }

  return (
    <PublicCard ref={titleRef} title="Choose a new password" sub="Your other sessions end when you save it.">
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <NewPasswordFields
          password={password}
          confirm={confirm}
          onPassword={setPassword}
          onConfirm={setConfirm}
          errors={errors}
          autoFocus
        />
        <FormError>{problem}</FormError>
        <Button type="submit" variant="primary" size="lg" block busy={reset.isPending}>
          Save the new password
        </Button>
      </form>
    </PublicCard>
  );
}
