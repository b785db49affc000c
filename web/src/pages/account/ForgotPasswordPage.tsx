/**
 * "Forgot password?": an address in, always the same answer out — whether the address belongs
 * to an account is never told (the server answers 202 either way).
 */
import { useRef, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useForgotPassword } from "../../api/account";
import { ApiError, errorMessage } from "../../api/client";
import { Banner, Button, ButtonLink, FormError, TextField, useDocumentTitle } from "../../atum";
import { PublicCard } from "./PublicCard";

export const FORGOT_SENT =
  "If this address belongs to an account, a link to choose a new password is on its way. It works once, for a short time; check your spam folder if nothing arrives.";

export function ForgotPasswordPage() {
  useDocumentTitle("Forgot password");
  const forgot = useForgotPassword();
  const [email, setEmail] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [sent, setSent] = useState(false);
  const titleRef = useRef<HTMLHeadingElement>(null);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!email.trim().includes("@")) {
      setProblem("Enter the e-mail address you sign in with.");
      return;
    }
    setProblem(null);
    forgot.mutate(email.trim(), {
      onSuccess: () => {
        setSent(true);
        window.setTimeout(() => titleRef.current?.focus());
      },
      onError: (error) =>
        setProblem(
          error instanceof ApiError && error.status === 429
            ? "Too many requests for a new password. Please wait a while and try again."
            : errorMessage(error),
        ),
    });
  };

  if (sent) {
    return (
      <PublicCard ref={titleRef} title="Check your mail">
        <div className="atum-stack">
          <Banner tone="success">
            <p role="status">{FORGOT_SENT}</p>
          </Banner>
          <ButtonLink to="/login" variant="secondary" block icon="arrowLeft">
            Back to sign in
          </ButtonLink>
        </div>
      </PublicCard>
    );
  }

  return (
    <PublicCard
      ref={titleRef}
      title="Forgot your password?"
      sub="Enter the address you sign in with. We send a link to choose a new password."
      foot={<Link to="/login">Back to sign in</Link>}
    >
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <TextField
          label="E-mail"
          type="email"
          name="email"
          autoComplete="username"
          inputMode="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          autoFocus
        />
        <FormError>{problem}</FormError>
        <Button type="submit" variant="primary" size="lg" block busy={forgot.isPending}>
          Send the link
        </Button>
      </form>
    </PublicCard>
  );
}
