/** The profile's plain parts: name and language, the password, the e-mail address. */
import { useState, type FormEvent } from "react";
import { useChangeEmail, useChangePassword, useUpdateProfile } from "../../api/account";
import type { Me } from "../../api/types";
import { Banner, Button, Card, FormError, SelectField, TextField } from "../../atum";
import { checkNewPassword, NewPasswordFields } from "./NewPasswordFields";
import { CurrentPasswordField, formErrors, NO_ERRORS, UsernameHint, type FormErrors } from "./shared";
import { personalInputs } from "./strength";

export function DetailsSection({ me }: { me: Me }) {
  const update = useUpdateProfile();
  const [name, setName] = useState(me.name);
  const [language, setLanguage] = useState(me.language || "en");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) {
      setErrors({ fields: { name: "Enter your name." }, form: null });
      return;
    }
    setErrors(NO_ERRORS);
    update.mutate({ name: name.trim(), language }, { onError: (error) => setErrors(formErrors(error)) });
  };

  return (
    <Card surface="content" padding="lg" title="Your details" titleId="profile-details" className="acct-card">
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <div className="atum-form__row">
          <TextField label="Name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} error={errors.fields.name} />
          <SelectField
            label="Language"
            value={language}
            onChange={(e) => setLanguage(e.target.value)}
            hint="ATUM DESK speaks English for now; more languages will follow."
            error={errors.fields.language}
          >
            <option value="en">English</option>
          </SelectField>
        </div>
        <FormError>{errors.form}</FormError>
        <div className="atum-form__actions">
          <Button type="submit" variant="primary" busy={update.isPending}>
            Save details
          </Button>
        </div>
      </form>
    </Card>
  );
}

export function PasswordSection({ me }: { me: Me }) {
  const change = useChangePassword();
  const [current, setCurrent] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [done, setDone] = useState(false);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setDone(false);
    const found: Record<string, string> = {};
    if (!current) found.current_password = "Enter your current password.";
    const fresh = checkNewPassword(password, confirm);
    if (fresh.password) found.new_password = fresh.password;
    if (fresh.confirm) found.confirm = fresh.confirm;
    setErrors({ fields: found, form: null });
    if (Object.keys(found).length) return;
    change.mutate(
      { current_password: current, new_password: password },
      {
        onSuccess: () => {
          setCurrent("");
          setPassword("");
          setConfirm("");
          setDone(true);
        },
        onError: (error) => setErrors(formErrors(error)),
      },
    );
  };

  return (
    <Card surface="content" padding="lg" title="Password" titleId="profile-password" className="acct-card">
      <form className="atum-form" onSubmit={onSubmit} noValidate aria-labelledby="profile-password">
        <UsernameHint email={me.email} />
        <CurrentPasswordField value={current} onChange={setCurrent} error={errors.fields.current_password} />
        <NewPasswordFields
          password={password}
          confirm={confirm}
          onPassword={setPassword}
          onConfirm={setConfirm}
          errors={{ password: errors.fields.new_password, confirm: errors.fields.confirm }}
          userInputs={personalInputs(me.email, me.name)}
        />
        <FormError>{errors.form}</FormError>
        {done ? (
          <Banner tone="success">
            <p role="status">Your password was changed. Every other session of your account was signed out; you stay signed in here.</p>
          </Banner>
        ) : null}
        <div className="atum-form__actions">
          <Button type="submit" variant="primary" busy={change.isPending}>
            Change password
          </Button>
        </div>
      </form>
    </Card>
  );
}

export function EmailSection({ me }: { me: Me }) {
  const change = useChangeEmail();
  const [email, setEmail] = useState("");
  const [current, setCurrent] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [sentTo, setSentTo] = useState<string | null>(null);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setSentTo(null);
    const found: Record<string, string> = {};
    if (!email.includes("@")) found.new_email = "Enter the new e-mail address.";
    if (!current) found.current_password = "Enter your current password.";
    setErrors({ fields: found, form: null });
    if (Object.keys(found).length) return;
    const address = email.trim();
    change.mutate(
      { current_password: current, new_email: address },
      {
        onSuccess: () => {
          setSentTo(address);
          setEmail("");
          setCurrent("");
        },
        onError: (error) => setErrors(formErrors(error)),
      },
    );
  };

  return (
    <Card surface="content" padding="lg" title="E-mail address" titleId="profile-email" className="acct-card">
      <p className="acct-lead">
        You sign in with <strong>{me.email}</strong>; mail about your account and tickets goes there.
      </p>
      <form className="atum-form" onSubmit={onSubmit} noValidate aria-labelledby="profile-email">
        <UsernameHint email={me.email} />
        <TextField
          label="New e-mail address"
          type="email"
          inputMode="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={errors.fields.new_email}
        />
        <CurrentPasswordField value={current} onChange={setCurrent} error={errors.fields.current_password} />
        <FormError>{errors.form}</FormError>
        {sentTo ? (
          <Banner tone="success">
            <p role="status">
              We sent a link to <strong>{sentTo}</strong>. Your address changes when you open it; until then, keep using {me.email}.
            </p>
          </Banner>
        ) : null}
        <div className="atum-form__actions">
          <Button type="submit" variant="primary" busy={change.isPending}>
            Change e-mail address
          </Button>
        </div>
      </form>
    </Card>
  );
}
