import { useState, type FormEvent } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { useLogin, useMe } from "../../api/auth";
import { ApiError, errorMessage } from "../../api/client";
import { Button, FormError, Panel, PublicLayout, TextField, useDocumentTitle } from "../../atum";
import { landingAfterLogin } from "../../lib/session";
import "./login.css";

export function loginErrorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return "The e-mail or password is not correct.";
    if (error.status === 429) {
      const wait = error.retryAfter ? ` in ${Math.ceil(error.retryAfter / 60)} min` : " later";
      return `Too many sign-in attempts. Please try again${wait}.`;
    }
    if (error.status === 422) return "Enter your e-mail and password.";
  }
  return errorMessage(error);
}

export function LoginPage() {
  useDocumentTitle("Sign in");
  const [params] = useSearchParams();
  const next = params.get("next");
  const me = useMe();
  const login = useLogin();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [missing, setMissing] = useState(false);

  if (me.data && !login.isPending && !login.isSuccess) {
    return <Navigate to={landingAfterLogin(me.data, next)} replace />;
  }

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!email.trim() || !password) {
      setMissing(true);
      return;
    }
    setMissing(false);
    login.mutate(
      { email: email.trim(), password },
      { onSuccess: (answer) => void navigate(landingAfterLogin(answer.user, next), { replace: true }) },
    );
  };

  return (
    <PublicLayout footer={false}>
      <div className="login">
        <Panel className="login__card" padding="lg" aria-labelledby="login-title">
          <img src="/brand/logo.svg" alt="" className="login__logo" width={48} height={48} />
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
        </Panel>
        <p className="login__foot">
          Forgot your password? Ask your organization's administrator or the support team to reset it.
        </p>
      </div>
    </PublicLayout>
  );
}
