/**
 * /welcome/:token — the link of an invitation: "Welcome, <name>", choose a password, and you
 * are signed in with it. A role that requires two-factor sign-in goes straight to its set-up.
 */
import { useRef, useState, type FormEvent } from "react";
import { useNavigate, useParams } from "react-router";
import { isInvalidToken, useAcceptInvitation, useInvitation, type InvitationInfo } from "../../api/account";
import { isChallenge, useLogin } from "../../api/auth";
import { ApiError, errorMessage } from "../../api/client";
import { Banner, Button, ButtonLink, ErrorState, FormError, Loading, TextField, useDocumentTitle } from "../../atum";
import { homeFor, profilePathFor, TWO_FACTOR_HASH } from "../../lib/session";
import { checkNewPassword, NewPasswordFields, type NewPasswordErrors } from "./NewPasswordFields";
import { PublicCard } from "./PublicCard";
import { INVALID_LINK } from "./ResetPasswordPage";
import { personalInputs } from "./strength";

export function WelcomePage() {
  const { token = "" } = useParams();
  const [accepted, setAccepted] = useState(false);
  // Signing in clears the query cache: the page keeps what it learnt, and never asks again
  // about a link it has used up.
  const invitation = useInvitation(token, !accepted);
  const [known, setKnown] = useState<InvitationInfo | null>(null);
  const accept = useAcceptInvitation();
  const login = useLogin();
  const navigate = useNavigate();
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<NewPasswordErrors>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [invalid, setInvalid] = useState(false);
  const titleRef = useRef<HTMLHeadingElement>(null);
  const info = invitation.data ?? known;
  if (invitation.data && invitation.data !== known) setKnown(invitation.data);
  useDocumentTitle(info ? `Welcome, ${info.name}` : "Welcome");

  if (!info && invitation.isPending) {
    return (
      <PublicCard title="Welcome">
        <Loading label="Opening your invitation" lines={3} />
      </PublicCard>
    );
  }

  if (invalid || isInvalidToken(invitation.error)) {
    return (
      <PublicCard ref={titleRef} title="This invitation does not work">
        <div className="atum-stack">
          <Banner tone="warning">
            <p role="alert">{INVALID_LINK} Ask whoever invited you to send a new invitation.</p>
          </Banner>
          <ButtonLink to="/login" variant="secondary" block>
            Go to sign in
          </ButtonLink>
        </div>
      </PublicCard>
    );
  }

  if (!info) {
    return (
      <PublicCard title="Welcome">
        <ErrorState error={invitation.error} onRetry={() => void invitation.refetch()} />
      </PublicCard>
    );
  }

  const signIn = () => {
    login.mutate(
      { email: info.email, password },
      {
        onSuccess: (answer) => {
          if (isChallenge(answer)) {
            void navigate("/login", { replace: true });
            return;
          }
          const role = answer.user.role;
          void navigate(info.mfa_required || answer.restricted ? profilePathFor(role) + TWO_FACTOR_HASH : homeFor(role), {
            replace: true,
          });
        },
        onError: (error) =>
          setProblem(`Your password is set, but signing in did not work: ${errorMessage(error)} Sign in from the sign-in page.`),
      },
    );
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (accepted) {
      signIn();
      return;
    }
    const found = checkNewPassword(password, confirm);
    setErrors(found);
    setProblem(null);
    if (found.password || found.confirm) return;
    accept.mutate(
      { token, password },
      {
        onSuccess: () => {
          setAccepted(true);
          signIn();
        },
        onError: (error) => {
          if (isInvalidToken(error)) {
            setInvalid(true);
            window.setTimeout(() => titleRef.current?.focus());
          } else if (error instanceof ApiError && error.status === 422) {
            setErrors({ password: error.fieldErrors().password ?? errorMessage(error) });
          } else {
            setProblem(errorMessage(error));
          }
        },
      },
    );
  };

  return (
    <PublicCard
      ref={titleRef}
      title={`Welcome, ${info.name}`}
      sub={
        info.mfa_required
          ? "Choose a password to sign in. Your role also asks for a second factor: you set it up right after."
          : "Choose a password to sign in to ATUM DESK."
      }
    >
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <TextField label="E-mail" type="email" name="email" autoComplete="username" value={info.email} readOnly />
        <NewPasswordFields
          label="Password"
          password={password}
          confirm={confirm}
          onPassword={setPassword}
          onConfirm={setConfirm}
          errors={errors}
          userInputs={personalInputs(info.email, info.name)}
          autoFocus
        />
        <FormError>{problem}</FormError>
        <Button type="submit" variant="primary" size="lg" block busy={accept.isPending || login.isPending} disabled={accepted && !problem}>
          {accepted ? "Sign in" : "Set password and sign in"}
        </Button>
      </form>
    </PublicCard>
  );
}
