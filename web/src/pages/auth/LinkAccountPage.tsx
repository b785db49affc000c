/**
 * /login/link#<token>: a provider signed someone in whose e-mail address already belongs to an
 * account here. Its password (and second factor, when it has one) proves it is the same person;
 * then the provider's identity is linked to it and the session starts. The token travels in the
 * fragment (never sent to a server) and is taken off the address bar at once.
 */
import { useEffect, useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { isChallenge, type MfaChallenge, type SessionAnswer } from "../../api/auth";
import { ApiError } from "../../api/client";
import { startedProvider, useLinkAccount } from "../../api/sso";
import { Button, ButtonLink, FormError, Panel, PublicLayout, TextField, useDocumentTitle } from "../../atum";
import { landingAfterSession } from "./LoginPage";
import { loginErrorText } from "./errors";
import { SecondFactorStep } from "./SecondFactorStep";
import "./login.css";

/** The link is unknown, expired or used: only a new sign-in at the provider helps. */
function linkExpired(error: unknown): boolean {
  return error instanceof ApiError && error.status === 400;
}

function linkErrorText(error: unknown): string {
  if (error instanceof ApiError && error.status === 401) return "The password is not correct.";
  return loginErrorText(error);
}

function fromHash(hash: string): string {
  try {
    return decodeURIComponent(hash.replace(/^#/, "")).trim();
  } catch {
    return "";
  }
}

export function LinkAccountPage() {
  const location = useLocation();
  const navigate = useNavigate();
  const [token] = useState(() => fromHash(location.hash));
  const [provider] = useState(() => startedProvider());
  const link = useLinkAccount();
  const [password, setPassword] = useState("");
  const [missing, setMissing] = useState(false);
  const [challenge, setChallenge] = useState<MfaChallenge | null>(null);
  useDocumentTitle(challenge ? "Two-factor sign-in" : "Link your account");

  // Keep the token out of the history and out of anything that reads the address bar.
  useEffect(() => {
    if (location.hash) void navigate({ pathname: location.pathname, search: location.search }, { replace: true });
  }, [location.hash, location.pathname, location.search, navigate]);

  const finish = (answer: SessionAnswer) => void navigate(landingAfterSession(answer, null), { replace: true });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!password) {
      setMissing(true);
      return;
    }
    setMissing(false);
    link.mutate(
      { link_token: token, password },
      {
        onSuccess: (answer) => {
          if (isChallenge(answer)) {
            setPassword("");
            setChallenge(answer);
          } else {
            finish(answer);
          }
        },
      },
    );
  };

  const expired = !token || (link.isError && linkExpired(link.error));
  const where = provider ? `${provider} sign-in` : "organization's sign-in";

  return (
    <PublicLayout footer={false}>
      <div className="login">
        <Panel className="login__card" padding="lg" aria-labelledby="login-title">
          <img src="/brand/logo.svg" alt="" className="login__logo" width={48} height={48} />
          {challenge ? (
            <SecondFactorStep
              challenge={challenge}
              onDone={finish}
              onRestart={() => {
                setChallenge(null);
                link.reset();
              }}
            />
          ) : expired ? (
            <>
              <h1 id="login-title" className="login__title">
                Link your account
              </h1>
              <div className="login__refusal">
                <FormError>This link has expired or was already used. Sign in again to start over.</FormError>
              </div>
              <div className="login__methods">
                <ButtonLink to="/login" variant="primary" size="lg" block>
                  Back to sign in
                </ButtonLink>
              </div>
            </>
          ) : (
            <>
              <h1 id="login-title" className="login__title">
                Link your account
              </h1>
              <p className="login__sub">
                An account with this e-mail already exists. Enter its password to link it to your {where}.
              </p>
              <form className="atum-form login__form" onSubmit={onSubmit} noValidate>
                <TextField
                  label="Password"
                  type="password"
                  name="password"
                  autoComplete="current-password"
                  required
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                  hint="The password of your account here, not the one of the provider."
                  autoFocus
                />
                <FormError>{missing ? "Enter the password." : link.isError ? linkErrorText(link.error) : null}</FormError>
                <Button type="submit" variant="primary" size="lg" block busy={link.isPending}>
                  Link and sign in
                </Button>
              </form>
              <p className="login__aside">
                <Link to="/login">Cancel</Link>
              </p>
            </>
          )}
        </Panel>
      </div>
    </PublicLayout>
  );
}
