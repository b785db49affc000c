import { useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { isChallenge, useLogin, useMe, type MfaChallenge, type SessionAnswer } from "../../api/auth";
import { Button, FormError, Panel, PublicLayout, TextField, useDocumentTitle } from "../../atum";
import { landingAfterLogin, profilePathFor, TWO_FACTOR_HASH } from "../../lib/session";
import { loginErrorText } from "./errors";
import { SecondFactorStep } from "./SecondFactorStep";
import "./login.css";

/** Where a completed sign-in goes: a session that may only set up a second factor goes there. */
export function landingAfterSession(answer: SessionAnswer, next: string | null): string {
  if (answer.restricted) return profilePathFor(answer.user.role) + TWO_FACTOR_HASH;
  return landingAfterLogin(answer.user, next);
}

export function LoginPage() {
  const [params] = useSearchParams();
  const next = params.get("next");
  const me = useMe();
  const login = useLogin();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [missing, setMissing] = useState(false);
  const [challenge, setChallenge] = useState<MfaChallenge | null>(null);
  useDocumentTitle(challenge ? "Two-factor sign-in" : "Sign in");

  if (me.data && !login.isPending && !login.isSuccess) {
    return <Navigate to={landingAfterLogin(me.data, next)} replace />;
  }

  const finish = (answer: SessionAnswer) => void navigate(landingAfterSession(answer, next), { replace: true });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!email.trim() || !password) {
      setMissing(true);
      return;
    }
    setMissing(false);
    login.mutate(
      { email: email.trim(), password },
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

  const restart = () => {
    setChallenge(null);
    login.reset();
  };

  return (
    <PublicLayout footer={false}>
      <div className="login">
        <Panel className="login__card" padding="lg" aria-labelledby="login-title">
          <img src="/brand/logo.svg" alt="" className="login__logo" width={48} height={48} />
          {challenge ? (
            <SecondFactorStep challenge={challenge} email={email.trim()} onDone={finish} onRestart={restart} />
          ) : (
            <>
              <h1 id="login-title" className="login__title">
                Sign in to ATUM DESK
              </h1>
              <p className="login__sub">Customers land in the portal, the support team in the desk.</p>
              <form className="atum-form login__form" onSubmit={onSubmit} noValidate>
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
                <TextField
                  label="Password"
                  type="password"
                  name="password"
                  autoComplete="current-password"
                  required
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                />
                <FormError>
                  {missing ? "Enter your e-mail and password." : login.isError ? loginErrorText(login.error) : null}
                </FormError>
                <Button type="submit" variant="primary" size="lg" block busy={login.isPending}>
                  Sign in
                </Button>
              </form>
              <p className="login__aside">
                <Link to="/forgot-password">Forgot password?</Link>
              </p>
            </>
          )}
        </Panel>
        {challenge ? null : (
          <p className="login__foot">New here? Your organization's administrator or the support team sends you an invitation.</p>
        )}
      </div>
    </PublicLayout>
  );
}
