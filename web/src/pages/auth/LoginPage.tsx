import { useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { isChallenge, useLogin, useMe, type LoginAnswer, type MfaChallenge, type SessionAnswer } from "../../api/auth";
import { hasSessionHint } from "../../api/client";
import { rememberStartedProvider, ssoStartUrl, useLdapLogin, usePublicProviders, type PublicProvider } from "../../api/sso";
import { Button, ButtonAnchor, FormError, Loading, Panel, PublicLayout, Tabs, TextField, useDocumentTitle } from "../../atum";
import { landingAfterLogin, profilePathFor, TWO_FACTOR_HASH } from "../../lib/session";
import { directoryErrorText, loginErrorText, passwordSignInDisabled, ssoRefusalText } from "./errors";
import { SecondFactorStep } from "./SecondFactorStep";
import "./login.css";

/** Where a completed sign-in goes: a session that may only set up a second factor goes there. */
export function landingAfterSession(answer: SessionAnswer, next: string | null): string {
  if (answer.restricted) return profilePathFor(answer.user.role) + TWO_FACTOR_HASH;
  return landingAfterLogin(answer.user, next);
}

/** The local account, or one of the directories (by slug). */
type Method = "password" | `ldap:${string}`;

const directoryLabel = (p: PublicProvider) => `Company directory (${p.name})`;

/** What to do when local passwords are off for the role: the providers offered on this page. */
function passwordsOffText(oidc: PublicProvider[], ldap: PublicProvider[]): string {
  const offered = [...oidc.map((p) => `“Sign in with ${p.name}”`), ...ldap.map((p) => `“${directoryLabel(p)}”`)];
  const lead = "Sign in with your organization's account: passwords are turned off for your role.";
  return offered.length ? `${lead} Use ${offered.join(" or ")} above.` : lead;
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
  const directory = useLdapLogin();
  const providers = usePublicProviders();
  const oidc = providers.data?.filter((p) => p.kind === "oidc") ?? [];
  const ldap = providers.data?.filter((p) => p.kind === "ldap") ?? [];
  const [method, setMethod] = useState<Method>("password");
  const [switched, setSwitched] = useState(false);
  const [username, setUsername] = useState("");
  const [challenge, setChallenge] = useState<MfaChallenge | null>(null);
  // A provider's refusal (?sso_error=) stays until another sign-in is tried.
  const ssoError = params.get("sso_error");
  const [refusalSeen, setRefusalSeen] = useState(false);
  useDocumentTitle(challenge ? "Two-factor sign-in" : "Sign in");

  const busy = login.isPending || directory.isPending;
  const done = login.isSuccess || directory.isSuccess;
  if (me.data && !busy && !done) {
    return <Navigate to={landingAfterLogin(me.data, next)} replace />;
  }
  if (me.isPending && hasSessionHint()) {
    // Back from a provider: the session is being read, then the user is sent on.
    return (
      <PublicLayout footer={false}>
        <div className="login">
          <Loading label="Signing in" />
        </div>
      </PublicLayout>
    );
  }

  const chosen = method === "password" ? null : (ldap.find((p) => `ldap:${p.slug}` === method) ?? null);
  const finish = (answer: SessionAnswer) => void navigate(landingAfterSession(answer, next), { replace: true });
  const answered = (answer: LoginAnswer) => {
    if (isChallenge(answer)) {
      setPassword("");
      setChallenge(answer);
    } else {
      finish(answer);
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setRefusalSeen(true);
    if (chosen) {
      if (!username.trim() || !password) {
        setMissing(true);
        return;
      }
      setMissing(false);
      directory.mutate({ slug: chosen.slug, username: username.trim(), password }, { onSuccess: answered });
      return;
    }
    if (!email.trim() || !password) {
      setMissing(true);
      return;
    }
    setMissing(false);
    login.mutate({ email: email.trim(), password }, { onSuccess: answered });
  };

  const restart = () => {
    setChallenge(null);
    login.reset();
    directory.reset();
  };

  const switchMethod = (to: Method) => {
    setMethod(to);
    setSwitched(true);
    setMissing(false);
    login.reset();
    directory.reset();
  };

  const problem = missing
    ? chosen
      ? "Enter your username and password."
      : "Enter your e-mail and password."
    : chosen
      ? directory.isError
        ? directoryErrorText(directory.error)
        : null
      : login.isError
        ? passwordSignInDisabled(login.error)
          ? passwordsOffText(oidc, ldap)
          : loginErrorText(login.error)
        : null;

  const form = (
    <form className="atum-form login__form" onSubmit={onSubmit} noValidate>
      {chosen ? (
        <TextField
          key={method}
          label="Username"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          hint={`Your ${chosen.name} username and password.`}
        />
      ) : (
        <TextField
          label="E-mail"
          type="email"
          name="email"
          autoComplete="username"
          inputMode="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          // Only on arrival: switching tabs keeps the focus on the tabs (arrow keys).
          autoFocus={!switched}
        />
      )}
      <TextField
        label="Password"
        type="password"
        name="password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <FormError>{problem}</FormError>
      <Button type="submit" variant="primary" size="lg" block busy={busy}>
        Sign in
      </Button>
    </form>
  );

  return (
    <PublicLayout footer={false}>
      <div className="login">
        <Panel className="login__card" padding="lg" aria-labelledby="login-title">
          <img src="/brand/logo.svg" alt="" className="login__logo" width={48} height={48} />
          {challenge ? (
            <SecondFactorStep challenge={challenge} email={chosen ? username.trim() : email.trim()} onDone={finish} onRestart={restart} />
          ) : (
            <>
              <h1 id="login-title" className="login__title">
                Sign in to ATUM DESK
              </h1>
              <p className="login__sub">Customers land in the portal, the support team in the desk.</p>
              {ssoError && !refusalSeen ? (
                <div className="login__refusal">
                  <FormError>{ssoRefusalText(ssoError)}</FormError>
                </div>
              ) : null}
              {oidc.length ? (
                <>
                  <ul className="login__providers" aria-label="Single sign-on">
                    {oidc.map((p) => (
                      <li key={p.slug}>
                        <ButtonAnchor
                          href={ssoStartUrl(p.slug, next)}
                          variant="secondary"
                          size="lg"
                          block
                          icon="shield"
                          onClick={() => rememberStartedProvider(p.name)}
                        >
                          Sign in with {p.name}
                        </ButtonAnchor>
                      </li>
                    ))}
                  </ul>
                  <p className="login__or">
                    <span>or</span>
                  </p>
                </>
              ) : null}
              {ldap.length ? (
                <Tabs
                  label="Sign in with"
                  active={method}
                  onChange={switchMethod}
                  tabs={[
                    { key: "password" as Method, label: "Helpdesk account" },
                    ...ldap.map((p) => ({ key: `ldap:${p.slug}` as Method, label: directoryLabel(p) })),
                  ]}
                  className="login__methods-tabs"
                >
                  {form}
                </Tabs>
              ) : (
                form
              )}
              {chosen ? null : (
                <p className="login__aside">
                  <Link to="/forgot-password">Forgot password?</Link>
                </p>
              )}
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
