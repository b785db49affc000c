/**
 * Two-factor sign-in on the profile: an authenticator app (TOTP), security keys (WebAuthn) and
 * the ten recovery codes. Every change asks for the current password first (the server checks
 * it), and is followed by the offer to sign out every other session.
 */
import { useQueryClient } from "@tanstack/react-query";
import { forwardRef, useState, type FormEvent } from "react";
import {
  useBeginTotp,
  useConfirmTotp,
  useMfaStatus,
  useNewRecoveryCodes,
  useRegisterKey,
  useRemoveKey,
  useRemoveTotp,
  useRevokeOtherSessions,
  useWebAuthnOptions,
  type MfaStatus,
  type SecurityKey,
  type TotpSetup,
} from "../../api/account";
import { setNotice } from "../../api/auth";
import type { Me } from "../../api/types";
import { Banner, Button, ErrorState, formatDate, formatRelative, FormError, Icon, Loading, Modal, TextField } from "../../atum";
import { createKey, keyErrorText, keysSupported } from "../../lib/webauthn";
import { RecoveryCodes } from "./RecoveryCodes";
import { CurrentPasswordField, formErrors, NO_ERRORS, UsernameHint, type FormErrors } from "./shared";

type Dialog =
  | { kind: "totp-setup" }
  | { kind: "totp-remove" }
  | { kind: "key-add" }
  | { kind: "key-remove"; key: SecurityKey }
  | { kind: "codes" };

/** The server's QR code (an inline SVG it drew) as an image: no markup of ours is injected. */
export function qrImageSource(svg: string): string {
  let markup = svg.trim();
  if (!/^<svg[^>]*\sxmlns=/.test(markup)) markup = markup.replace(/^<svg/, '<svg xmlns="http://www.w3.org/2000/svg"');
  // Without a viewBox an SVG image does not scale with its box.
  if (!/^<svg[^>]*\sviewBox=/.test(markup)) {
    const w = /^<svg[^>]*\swidth="(\d+(?:\.\d+)?)"/.exec(markup)?.[1];
    const h = /^<svg[^>]*\sheight="(\d+(?:\.\d+)?)"/.exec(markup)?.[1];
    if (w && h) markup = markup.replace(/^<svg/, `<svg viewBox="0 0 ${w} ${h}"`);
  }
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(markup)}`;
}

/** "JBSW Y3DP EHPK 3PXP": the secret in groups of four, easier to type. */
export function groupSecret(secret: string): string {
  return secret.replace(/\s+/g, "").replace(/(.{4})(?=.)/g, "$1 ");
}

export const TwoFactorSection = forwardRef<HTMLHeadingElement, { me: Me; restricted: boolean }>(function TwoFactorSection(
  { me, restricted },
  headingRef,
) {
  const status = useMfaStatus();
  const queryClient = useQueryClient();
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [changed, setChanged] = useState<string | null>(null);

  const afterChange = (what: string, enabledNow: boolean) => {
    // A factor is enrolled now: the sign-in's reminder is done, and a session that could only
    // enrol one is a full session again (the server lifts it with the enrolment).
    if (enabledNow) {
      setNotice(queryClient, null);
      if (restricted) what += " You can use ATUM DESK again.";
    }
    setChanged(what);
  };

  const data = status.data;
  const enabled = data ? data.totp || data.webauthn.length > 0 : false;

  return (
    <section className="atum-panel atum-panel--content atum-pad--lg acct-card acct-twofactor" aria-labelledby="two-factor" id="two-factor-section">
      <div className="atum-card__head">
        <h2 id="two-factor" className="atum-card__title" ref={headingRef} tabIndex={-1}>
          Two-factor sign-in
        </h2>
        {data ? <FactorPill on={enabled} /> : null}
      </div>
      {status.isPending ? (
        <Loading label="Loading your two-factor settings" lines={3} />
      ) : status.isError ? (
        <ErrorState error={status.error} onRetry={() => void status.refetch()} />
      ) : (
        <div className="atum-stack">
          <Summary status={status.data} enabled={enabled} restricted={restricted} />
          {changed ? <AfterChange what={changed} onDismiss={() => setChanged(null)} /> : null}

          <div className="acct-factor">
            <div className="acct-factor__text">
              <h3 className="acct-factor__title">Authenticator app</h3>
              <p className="acct-factor__desc">
                {status.data.totp
                  ? "Set up: sign-ins ask for the 6-digit code your app shows."
                  : "An app on your phone (such as Aegis, Google Authenticator or 1Password) shows a new 6-digit code every 30 seconds."}
              </p>
            </div>
            <div className="acct-factor__actions">
              {status.data.totp ? (
                <Button variant="ghost" size="sm" onClick={() => setDialog({ kind: "totp-remove" })}>
                  Remove app
                </Button>
              ) : (
                <Button variant="primary" size="sm" icon="plus" onClick={() => setDialog({ kind: "totp-setup" })}>
                  Set up authenticator app
                </Button>
              )}
            </div>
          </div>

          <div className="acct-factor">
            <div className="acct-factor__text">
              <h3 className="acct-factor__title">Security keys</h3>
              <p className="acct-factor__desc">A USB or NFC key, or a passkey on this device: touch it to sign in.</p>
              {status.data.webauthn.length ? (
                <ul className="acct-keys" aria-label="Your security keys">
                  {status.data.webauthn.map((key) => (
                    <li key={key.id} className="acct-keys__item">
                      <Icon name="shield" size="sm" />
                      <span className="acct-keys__name">{key.name}</span>
                      <span className="acct-keys__meta">
                        added {formatDate(key.created_at)} · {key.last_used_at ? `last used ${formatRelative(key.last_used_at)}` : "never used"}
                      </span>
                      <Button variant="ghost" size="sm" onClick={() => setDialog({ kind: "key-remove", key })} aria-label={`Remove security key ${key.name}`}>
                        Remove
                      </Button>
                    </li>
                  ))}
                </ul>
              ) : null}
            </div>
            <div className="acct-factor__actions">
              <Button variant="secondary" size="sm" icon="plus" onClick={() => setDialog({ kind: "key-add" })}>
                Add a security key
              </Button>
            </div>
          </div>

          <div className="acct-factor">
            <div className="acct-factor__text">
              <h3 className="acct-factor__title">Recovery codes</h3>
              <p className="acct-factor__desc">
                {enabled
                  ? `${status.data.recovery_codes_left} of 10 unused. Each one signs you in once when your app or key is not at hand.`
                  : "You get ten single-use codes when you set up your first app or key."}
              </p>
            </div>
            {enabled && !restricted ? (
              <div className="acct-factor__actions">
                <Button variant="ghost" size="sm" icon="refresh" onClick={() => setDialog({ kind: "codes" })}>
                  Generate new codes
                </Button>
              </div>
            ) : null}
          </div>
        </div>
      )}

      {dialog?.kind === "totp-setup" ? (
        <TotpSetupDialog me={me} onClose={() => setDialog(null)} onDone={() => afterChange("Your authenticator app is set up.", true)} />
      ) : null}
      {dialog?.kind === "totp-remove" ? (
        <TotpRemoveDialog me={me} onClose={() => setDialog(null)} onDone={() => afterChange("Your authenticator app was removed.", false)} />
      ) : null}
      {dialog?.kind === "key-add" ? (
        <KeyAddDialog me={me} onClose={() => setDialog(null)} onDone={(name) => afterChange(`The security key “${name}” was added.`, true)} />
      ) : null}
      {dialog?.kind === "key-remove" ? (
        <KeyRemoveDialog
          me={me}
          securityKey={dialog.key}
          onClose={() => setDialog(null)}
          onDone={() => afterChange(`The security key “${dialog.key.name}” was removed.`, false)}
        />
      ) : null}
      {dialog?.kind === "codes" ? (
        <NewCodesDialog me={me} onClose={() => setDialog(null)} onDone={() => afterChange("You have ten new recovery codes; the old ones no longer work.", true)} />
      ) : null}
    </section>
  );
});

function FactorPill({ on }: { on: boolean }) {
  return (
    <span className={`atum-pill atum-pill--sm ${on ? "atum-status--resolved" : "atum-status--closed"}`}>
      <Icon name={on ? "lock" : "unlock"} size="sm" />
      <span>{on ? "On" : "Off"}</span>
    </span>
  );
}

function Summary({ status, enabled, restricted }: { status: MfaStatus; enabled: boolean; restricted: boolean }) {
  if (restricted && !enabled) {
    return (
      <Banner tone="danger" icon="shield">
        <p role="alert">
          Your role requires two-factor sign-in and the time to set it up is over. Set up an authenticator app or a security key
          to continue; until then, this is the only page you can use.
        </p>
      </Banner>
    );
  }
  if (status.required && !enabled) {
    return (
      <Banner tone="warning" icon="shield">
        Your role requires two-factor sign-in.
        {status.grace_until ? ` Set it up before ${formatDate(status.grace_until)}; after that you can only sign in to set it up.` : " Set it up now."}
      </Banner>
    );
  }
  return (
    <p className="acct-lead">
      {enabled
        ? "Two-factor sign-in is on: after your password, each sign-in asks for your app's code or your security key."
        : "Two-factor sign-in is off. With it, a stolen password alone is not enough to get into your account."}
      {status.required && enabled ? " Your role requires it." : null}
    </p>
  );
}

/** After a factor change: the offer to end every other session (ASVS 7.4.3). */
function AfterChange({ what, onDismiss }: { what: string; onDismiss: () => void }) {
  const revoke = useRevokeOtherSessions();
  return (
    <Banner tone="success">
      <p role="status">
        {what} {revoke.isSuccess ? "Every other session was signed out." : "If anyone else could be signed in to your account, sign out every other session now."}
      </p>
      {revoke.isSuccess ? null : (
        <div className="acct-banner-actions">
          <Button variant="secondary" size="sm" icon="logout" busy={revoke.isPending} onClick={() => revoke.mutate()}>
            Sign out everywhere else
          </Button>
          <Button variant="ghost" size="sm" onClick={onDismiss}>
            Not now
          </Button>
        </div>
      )}
    </Banner>
  );
}

// ---- Dialogs ----------------------------------------------------------------------------------

function DialogActions({ onCancel, busy, submit, cancelText = "Cancel", danger }: { onCancel: () => void; busy: boolean; submit: string; cancelText?: string; danger?: boolean }) {
  return (
    <div className="atum-form__actions">
      <Button variant="ghost" onClick={onCancel} disabled={busy}>
        {cancelText}
      </Button>
      <Button type="submit" variant={danger ? "danger" : "primary"} busy={busy}>
        {submit}
      </Button>
    </div>
  );
}

function TotpSetupDialog({ me, onClose, onDone }: { me: Me; onClose: () => void; onDone: () => void }) {
  const begin = useBeginTotp();
  const confirm = useConfirmTotp();
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [setup, setSetup] = useState<TotpSetup | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const busy = begin.isPending || confirm.isPending;

  const onPassword = (event: FormEvent) => {
    event.preventDefault();
    if (!password) return setErrors({ fields: { current_password: "Enter your current password." }, form: null });
    setErrors(NO_ERRORS);
    begin.mutate(password, { onSuccess: setSetup, onError: (error) => setErrors(formErrors(error)) });
  };

  const onCode = (event: FormEvent) => {
    event.preventDefault();
    const clean = code.replace(/\s+/g, "");
    if (!/^\d{6}$/.test(clean)) return setErrors({ fields: { code: "Enter the 6-digit code your app shows." }, form: null });
    setErrors(NO_ERRORS);
    confirm.mutate(clean, {
      onSuccess: (answer) => {
        setCodes(answer.recovery_codes);
        onDone();
      },
      onError: (error) => {
        setCode("");
        setErrors(formErrors(error));
      },
    });
  };

  return (
    <Modal open onClose={onClose} busy={busy} size="lg" title="Set up an authenticator app">
      {codes ? (
        <div className="atum-stack">
          <Banner tone="success">
            <p role="status">Your authenticator app is set up. From now on, sign-ins ask for its code.</p>
          </Banner>
          <RecoveryCodes codes={codes} />
          <div className="atum-form__actions">
            <Button variant="primary" onClick={onClose} data-autofocus="">
              I saved my recovery codes
            </Button>
          </div>
        </div>
      ) : setup ? (
        <form className="atum-form" onSubmit={onCode} noValidate>
          <ol className="acct-steps">
            <li>Open your authenticator app and add an account.</li>
            <li>Scan this QR code, or type the setup key below.</li>
            <li>Enter the 6-digit code the app now shows.</li>
          </ol>
          <div className="acct-qr">
            <img src={qrImageSource(setup.qr_svg)} alt="QR code to scan with your authenticator app" className="acct-qr__img" />
            <div className="acct-qr__key">
              <p id="totp-secret-label" className="acct-qr__label">
                Setup key (if you cannot scan)
              </p>
              <code className="acct-secret" aria-labelledby="totp-secret-label" data-secret={setup.secret}>
                {groupSecret(setup.secret)}
              </code>
              <p className="acct-qr__hint">Account: {me.email} · Time-based, 6 digits</p>
            </div>
          </div>
          <TextField
            label="Code from the app"
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9 ]*"
            maxLength={8}
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
            error={errors.fields.code}
            autoFocus
            className="acct-code-input"
          />
          <FormError>{errors.form}</FormError>
          <DialogActions onCancel={onClose} busy={busy} submit="Turn on" />
        </form>
      ) : (
        <form className="atum-form" onSubmit={onPassword} noValidate>
          <p className="acct-lead">Confirm it is you: enter your current password.</p>
          <UsernameHint email={me.email} />
          <CurrentPasswordField value={password} onChange={setPassword} error={errors.fields.current_password} autoFocus />
          <FormError>{errors.form}</FormError>
          <DialogActions onCancel={onClose} busy={busy} submit="Continue" />
        </form>
      )}
    </Modal>
  );
}

function TotpRemoveDialog({ me, onClose, onDone }: { me: Me; onClose: () => void; onDone: () => void }) {
  const remove = useRemoveTotp();
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!password) found.current_password = "Enter your current password.";
    if (!/^\d{6}$/.test(code.replace(/\s+/g, ""))) found.code = "Enter the 6-digit code your app shows.";
    setErrors({ fields: found, form: null });
    if (Object.keys(found).length) return;
    remove.mutate(
      { current_password: password, code: code.replace(/\s+/g, "") },
      {
        onSuccess: () => {
          onDone();
          onClose();
        },
        onError: (error) => setErrors(formErrors(error)),
      },
    );
  };
  return (
    <Modal open onClose={onClose} busy={remove.isPending} title="Remove the authenticator app?" description="Sign-ins no longer ask for its codes. A code from it confirms you still have it.">
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <UsernameHint email={me.email} />
        <CurrentPasswordField value={password} onChange={setPassword} error={errors.fields.current_password} autoFocus />
        <TextField
          label="Code from the app"
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={8}
          required
          value={code}
          onChange={(e) => setCode(e.target.value)}
          error={errors.fields.code}
        />
        <FormError>{errors.form}</FormError>
        <DialogActions onCancel={onClose} busy={remove.isPending} submit="Remove app" danger />
      </form>
    </Modal>
  );
}

function KeyAddDialog({ me, onClose, onDone }: { me: Me; onClose: () => void; onDone: (name: string) => void }) {
  const options = useWebAuthnOptions();
  const register = useRegisterKey();
  const [name, setName] = useState("Security key");
  const [password, setPassword] = useState("");
  const [waiting, setWaiting] = useState(false);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [added, setAdded] = useState(false);
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const busy = options.isPending || register.isPending || waiting;
  const supported = keysSupported();

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!name.trim()) found.name = "Give the key a name.";
    if (!password) found.current_password = "Enter your current password.";
    setErrors({ fields: found, form: null });
    if (Object.keys(found).length) return;
    let creation: Record<string, unknown>;
    try {
      creation = await options.mutateAsync(password);
    } catch (error) {
      setErrors(formErrors(error));
      return;
    }
    let credential: Record<string, unknown>;
    setWaiting(true);
    try {
      credential = await createKey(creation);
    } catch (error) {
      setErrors({ fields: {}, form: keyErrorText(error) });
      return;
    } finally {
      setWaiting(false);
    }
    register.mutate(
      { credential, name: name.trim() },
      {
        onSuccess: (answer) => {
          setAdded(true);
          onDone(answer.key.name);
          if (answer.recovery_codes) setCodes(answer.recovery_codes);
          else onClose();
        },
        onError: (error) => setErrors(formErrors(error)),
      },
    );
  };

  return (
    <Modal open onClose={onClose} busy={busy} size={codes ? "lg" : "md"} title="Add a security key">
      {added && codes ? (
        <div className="atum-stack">
          <Banner tone="success">
            <p role="status">Your security key was added. From now on, sign-ins ask for it.</p>
          </Banner>
          <RecoveryCodes codes={codes} />
          <div className="atum-form__actions">
            <Button variant="primary" onClick={onClose} data-autofocus="">
              I saved my recovery codes
            </Button>
          </div>
        </div>
      ) : (
        <form className="atum-form" onSubmit={(e) => void onSubmit(e)} noValidate>
          {supported ? null : (
            <Banner tone="warning">
              <p>This browser cannot use security keys.</p>
            </Banner>
          )}
          <TextField
            label="Name of the key"
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            maxLength={100}
            error={errors.fields.name}
            hint="So you can tell your keys apart, e.g. “Blue YubiKey”."
            autoFocus
          />
          <UsernameHint email={me.email} />
          <CurrentPasswordField value={password} onChange={setPassword} error={errors.fields.current_password} />
          {waiting ? (
            <p className="acct-lead" role="status">
              Insert or touch your security key now.
            </p>
          ) : null}
          <FormError>{errors.form ?? errors.fields.credential ?? null}</FormError>
          <DialogActions onCancel={onClose} busy={busy} submit="Add key" />
        </form>
      )}
    </Modal>
  );
}

function KeyRemoveDialog({ me, securityKey, onClose, onDone }: { me: Me; securityKey: SecurityKey; onClose: () => void; onDone: () => void }) {
  const remove = useRemoveKey();
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!password) return setErrors({ fields: { current_password: "Enter your current password." }, form: null });
    setErrors(NO_ERRORS);
    remove.mutate(
      { id: securityKey.id, current_password: password },
      {
        onSuccess: () => {
          onDone();
          onClose();
        },
        onError: (error) => setErrors(formErrors(error)),
      },
    );
  };
  return (
    <Modal open onClose={onClose} busy={remove.isPending} title={`Remove “${securityKey.name}”?`} description="This key no longer signs you in.">
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <UsernameHint email={me.email} />
        <CurrentPasswordField value={password} onChange={setPassword} error={errors.fields.current_password} autoFocus />
        <FormError>{errors.form}</FormError>
        <DialogActions onCancel={onClose} busy={remove.isPending} submit="Remove key" danger />
      </form>
    </Modal>
  );
}

function NewCodesDialog({ me, onClose, onDone }: { me: Me; onClose: () => void; onDone: () => void }) {
  const renew = useNewRecoveryCodes();
  const [password, setPassword] = useState("");
  const [codes, setCodes] = useState<string[] | null>(null);
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!password) return setErrors({ fields: { current_password: "Enter your current password." }, form: null });
    setErrors(NO_ERRORS);
    renew.mutate(password, {
      onSuccess: (answer) => {
        setCodes(answer.recovery_codes);
        onDone();
      },
      onError: (error) => setErrors(formErrors(error)),
    });
  };
  return (
    <Modal open onClose={onClose} busy={renew.isPending} size={codes ? "lg" : "md"} title="New recovery codes">
      {codes ? (
        <div className="atum-stack">
          <RecoveryCodes codes={codes} />
          <div className="atum-form__actions">
            <Button variant="primary" onClick={onClose} data-autofocus="">
              I saved my recovery codes
            </Button>
          </div>
        </div>
      ) : (
        <form className="atum-form" onSubmit={onSubmit} noValidate>
          <p className="acct-lead">Ten new codes replace the old ones, used or not.</p>
          <UsernameHint email={me.email} />
          <CurrentPasswordField value={password} onChange={setPassword} error={errors.fields.current_password} autoFocus />
          <FormError>{errors.form}</FormError>
          <DialogActions onCancel={onClose} busy={renew.isPending} submit="Generate new codes" />
        </form>
      )}
    </Modal>
  );
}
