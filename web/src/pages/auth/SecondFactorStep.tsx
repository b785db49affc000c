/**
 * The second step of a sign-in: the password was right, now one second factor — a code from an
 * authenticator app, a security key, or one of the recovery codes. No session exists until the
 * server accepts it; a wrong code keeps the step (the server ends it after a few).
 */
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useLoginSecondFactor, type MfaChallenge, type SecondFactor, type SessionAnswer } from "../../api/auth";
import { Button, FormError, TextField } from "../../atum";
import { keyErrorText, signWithKey } from "../../lib/webauthn";
import { halfLoginExpired, secondFactorErrorText } from "./errors";

type Mode = "totp" | "key" | "recovery";

export function SecondFactorStep({
  challenge,
  email,
  onDone,
  onRestart,
}: {
  challenge: MfaChallenge;
  /** Whose password was right (the e-mail or directory username), when the page knows it. */
  email?: string;
  onDone: (answer: SessionAnswer) => void;
  onRestart: () => void;
}) {
  const verify = useLoginSecondFactor();
  const offers = (method: MfaChallenge["methods"][number]) => challenge.methods.includes(method);
  const hasKey = offers("webauthn") && Boolean(challenge.webauthn_options);
  const [mode, setMode] = useState<Mode>(offers("totp") ? "totp" : hasKey ? "key" : "recovery");
  const [code, setCode] = useState("");
  const [recovery, setRecovery] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [keyBusy, setKeyBusy] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);

  // Focus follows the step: the field to type into, or the heading when a key is the way.
  useEffect(() => {
    if (mode === "key") headingRef.current?.focus();
    else inputRef.current?.focus();
  }, [mode]);

  const send = (body: SecondFactor) => {
    setProblem(null);
    verify.mutate(body, {
      onSuccess: onDone,
      onError: (error) => {
        setProblem(secondFactorErrorText(error));
        setCode("");
        setRecovery("");
      },
    });
  };

  const onCode = (event: FormEvent) => {
    event.preventDefault();
    const clean = code.replace(/\s+/g, "");
    if (!/^\d{6}$/.test(clean)) {
      setProblem("Enter the 6-digit code your authenticator app shows.");
      return;
    }
    send({ mfa_token: challenge.mfa_token, code: clean });
  };

  const onRecovery = (event: FormEvent) => {
    event.preventDefault();
    if (!recovery.trim()) {
      setProblem("Enter one of your recovery codes.");
      return;
    }
    send({ mfa_token: challenge.mfa_token, recovery_code: recovery.trim() });
  };

  const signInWithKey = async () => {
    if (!challenge.webauthn_options) return;
    setProblem(null);
    setKeyBusy(true);
    try {
      const credential = await signWithKey(challenge.webauthn_options);
      send({ mfa_token: challenge.mfa_token, webauthn: credential });
    } catch (error) {
      setProblem(keyErrorText(error));
    } finally {
      setKeyBusy(false);
    }
  };

  const switchTo = (next: Mode) => {
    setProblem(null);
    verify.reset();
    setMode(next);
  };

  const busy = verify.isPending || keyBusy;
  const over = verify.isError && halfLoginExpired(verify.error);

  return (
    <div className="login__step">
      <h1 id="login-title" className="login__title" ref={headingRef} tabIndex={-1}>
        Two-factor sign-in
      </h1>
      <p className="login__sub">
        {email ? (
          <>
            The password for <strong className="login__who">{email}</strong> was right.
          </>
        ) : (
          "The password was right."
        )}{" "}
        Confirm it is you with your second factor.
      </p>

      {mode === "totp" ? (
        <form className="atum-form login__form" onSubmit={onCode} noValidate>
          <TextField
            ref={inputRef}
            label="Code from your authenticator app"
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9 ]*"
            maxLength={8}
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
            hint="Six digits; a new one every 30 seconds."
            className="login__code"
          />
          <FormError>{problem}</FormError>
          <Button type="submit" variant="primary" size="lg" block busy={verify.isPending} disabled={over}>
            Verify
          </Button>
        </form>
      ) : null}

      {mode === "recovery" ? (
        <form className="atum-form login__form" onSubmit={onRecovery} noValidate>
          <TextField
            ref={inputRef}
            label="Recovery code"
            name="recovery_code"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={recovery}
            onChange={(e) => setRecovery(e.target.value)}
            hint="One of the ten codes you saved when you set up two-factor sign-in. Each works once."
            className="login__code"
          />
          <FormError>{problem}</FormError>
          <Button type="submit" variant="primary" size="lg" block busy={verify.isPending} disabled={over}>
            Verify
          </Button>
        </form>
      ) : null}

      {mode === "key" ? (
        <div className="atum-form login__form">
          <p className="login__hint">Insert or touch your security key when your browser asks.</p>
          <FormError>{problem}</FormError>
        </div>
      ) : null}

      <div className="login__methods">
        {hasKey ? (
          <Button variant={mode === "key" ? "primary" : "secondary"} size={mode === "key" ? "lg" : "md"} block icon="shield" busy={keyBusy} disabled={busy || over} onClick={() => {
            if (mode !== "key") switchTo("key");
            void signInWithKey();
          }}>
            Use a security key
          </Button>
        ) : null}
        {mode !== "totp" && offers("totp") ? (
          <button type="button" className="login__link" onClick={() => switchTo("totp")}>
            Use a code from your authenticator app
          </button>
        ) : null}
        {mode !== "recovery" && offers("recovery_code") ? (
          <button type="button" className="login__link" onClick={() => switchTo("recovery")}>
            Use a recovery code
          </button>
        ) : null}
        <button type="button" className="login__link" onClick={onRestart}>
          {over ? "Enter your password again" : "Sign in as someone else"}
        </button>
      </div>
    </div>
  );
}
