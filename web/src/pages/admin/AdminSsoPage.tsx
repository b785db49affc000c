/**
 * Administration › Sign-in & SSO: the identity providers (OpenID Connect and LDAP directories)
 * with their group → role mappings, a connection check and a directory sync; and the sign-in
 * policy per role (local passwords allowed, second factor required at the provider) with the
 * break-glass administrator.
 */
import { useState, type FormEvent } from "react";
import { ApiError, errorMessage } from "../../api/client";
import { useOrgs } from "../../api/orgs";
import {
  useCheckProvider,
  useCreateProvider,
  useDeleteProvider,
  useSaveSigninPolicy,
  useSigninPolicy,
  useSsoProviders,
  useSyncProvider,
  useUpdateProvider,
  type Provider,
  type RolePolicy,
  type SigninPolicy,
} from "../../api/sso";
import { CUSTOMER_ROLES, STAFF_ROLES, type Role } from "../../api/types";
import { useUsers } from "../../api/users";
import {
  Banner,
  Button,
  Checkbox,
  EmptyState,
  ErrorState,
  FormError,
  Modal,
  Panel,
  ROLE_LABEL,
  SelectField,
  SkeletonRows,
  Table,
  TextArea,
  TextField,
  formatDateTime,
  formatRelative,
  useDocumentTitle,
  type Column,
} from "../../atum";
import { ActivePill, WriteOnlySecretField } from "./shared";
import {
  KIND_LABEL,
  LDAP_PRESETS,
  OIDC_PRESETS,
  applyPreset,
  checkProvider,
  createBody,
  mappingRow,
  providerForm,
  serverFieldErrors,
  slugify,
  updateBody,
  type Kind,
  type MappingRow,
  type Preset,
  type ProviderForm,
} from "./ssoForm";

const ALL_ROLES: Role[] = [...STAFF_ROLES, ...CUSTOMER_ROLES];

export function AdminSsoPage() {
  useDocumentTitle("Sign-in & SSO");
  return (
    <div className="atum-stack atum-stack--lg">
      <ProvidersSection />
      <PolicySection />
    </div>
  );
}

function When({ at }: { at: string | null }) {
  if (!at) return <span className="faint">Never</span>;
  return (
    <time dateTime={at} title={formatDateTime(at)} className="nowrap">
      {formatRelative(at)}
    </time>
  );
}

function syncSummary(result: Record<string, unknown>): string {
  const n = (key: string) => (typeof result[key] === "number" ? (result[key] as number) : 0);
  return `${n("checked")} checked, ${n("updated")} updated, ${n("deactivated")} deactivated, ${n("reactivated")} reactivated`;
}

/** The address to register at the provider, with a copy button. */
function RedirectUri({ uri }: { uri: string }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(uri);
      setCopied("Copied.");
    } catch {
      setCopied("Copying did not work here: select the address and copy it.");
    }
  };
  return (
    <span className="sso-uri">
      <code className="sso-uri__value">{uri}</code>
      <span className="atum-inline">
        <Button size="sm" variant="ghost" icon="file" onClick={() => void copy()}>
          Copy redirect URI
        </Button>
        <span className="admin-cell-meta" aria-live="polite">
          {copied}
        </span>
      </span>
    </span>
  );
}

// ---- Providers ------------------------------------------------------------------------------------

type Outcome = { tone: "success" | "danger"; text: string };

function ProvidersSection() {
  const providers = useSsoProviders();
  const check = useCheckProvider();
  const sync = useSyncProvider();
  const [editing, setEditing] = useState<Provider | Kind | null>(null);
  const [deleting, setDeleting] = useState<Provider | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  const runCheck = (p: Provider) => {
    setOutcome(null);
    check.mutate(p.id, {
      onSuccess: (r) => setOutcome({ tone: r.ok ? "success" : "danger", text: `${p.name}: ${r.ok ? "the connection works" : "the connection failed"}. ${r.detail}` }),
      onError: (e) => setOutcome({ tone: "danger", text: `${p.name}: the check did not run. ${errorMessage(e)}` }),
    });
  };
  const runSync = (p: Provider) => {
    setOutcome(null);
    sync.mutate(p.id, {
      onSuccess: (r) => setOutcome({ tone: "success", text: `${p.name} synchronised: ${syncSummary(r)}.` }),
      onError: (e) => setOutcome({ tone: "danger", text: `${p.name}: the sync failed. ${errorMessage(e)}` }),
    });
  };

  const columns: Column<Provider>[] = [
    {
      key: "name",
      header: "Provider",
      rowHeader: true,
      cell: (p) => (
        <span className="admin-cell-stack">
          <span>{p.name}</span>
          <span className="admin-cell-meta">
            {KIND_LABEL[p.kind]} · {p.slug}
          </span>
          {p.redirect_uri ? <RedirectUri uri={p.redirect_uri} /> : null}
        </span>
      ),
    },
    {
      key: "status",
      header: "Status",
      cell: (p) => (
        <span className="admin-cell-stack">
          <ActivePill active={p.enabled} on="Enabled" off="Disabled" />
          {p.last_error ? <span className="admin-cell-error admin-cell-wrap">{p.last_error}</span> : null}
        </span>
      ),
    },
    {
      key: "mappings",
      header: "Groups → roles",
      hideOnMobile: true,
      cell: (p) =>
        p.mappings.length ? (
          <ul className="sso-mapping-list">
            {p.mappings.map((m, i) => (
              <li key={`${m.group}-${i}`}>
                {m.group} → {ROLE_LABEL[m.role]}
              </li>
            ))}
          </ul>
        ) : (
          <span className="admin-cell-error">No group mapped: nobody can sign in</span>
        ),
    },
    { key: "users", header: "Users", align: "end", cell: (p) => <span className="tnum">{p.users}</span> },
    {
      key: "sync",
      header: "Last sync",
      hideOnMobile: true,
      cell: (p) =>
        p.kind === "ldap" ? (
          <span className="admin-cell-stack">
            <When at={p.last_sync_at} />
            {p.last_sync_result ? <span className="admin-cell-meta">{syncSummary(p.last_sync_result)}</span> : null}
          </span>
        ) : (
          <span className="faint">Not synchronised</span>
        ),
    },
    {
      key: "actions",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (p) => (
        <span className="admin-row-actions">
          <Button size="sm" variant="ghost" onClick={() => setEditing(p)} aria-label={`Edit ${p.name}`}>
            Edit
          </Button>
          <Button
            size="sm"
            variant="ghost"
            icon="server"
            busy={check.isPending && check.variables === p.id}
            onClick={() => runCheck(p)}
            aria-label={`Check connection of ${p.name}`}
          >
            Check connection
          </Button>
          {p.kind === "ldap" ? (
            <Button
              size="sm"
              variant="ghost"
              icon="refresh"
              busy={sync.isPending && sync.variables === p.id}
              onClick={() => runSync(p)}
              aria-label={`Sync ${p.name} now`}
            >
              Sync now
            </Button>
          ) : null}
          <Button size="sm" variant="ghost" onClick={() => setDeleting(p)} aria-label={`Delete ${p.name}`}>
            Delete
          </Button>
        </span>
      ),
    },
  ];

  return (
    <Panel surface="content" padding="none" aria-labelledby="sso-providers-title">
      <div className="admin-toolbar">
        <div className="admin-cell-stack">
          <h2 id="sso-providers-title" className="admin-section-title">
            Sign-in providers
          </h2>
          <p className="muted">
            People sign in with their organization's account: an OpenID Connect provider (a button on the sign-in page) or an LDAP directory
            (username and directory password). Their groups decide their role here.
          </p>
        </div>
        <span className="atum-inline">
          <Button variant="primary" icon="plus" onClick={() => setEditing("oidc")}>
            New OpenID Connect provider
          </Button>
          <Button variant="secondary" icon="plus" onClick={() => setEditing("ldap")}>
            New LDAP directory
          </Button>
        </span>
      </div>
      <div className="admin-pad sso-outcome" role="status" aria-live="polite">
        {outcome ? <Banner tone={outcome.tone}>{outcome.text}</Banner> : null}
      </div>
      {providers.isPending ? (
        <SkeletonRows rows={2} />
      ) : providers.isError ? (
        <div className="admin-pad">
          <ErrorState error={providers.error} onRetry={() => void providers.refetch()} />
        </div>
      ) : providers.data.length === 0 ? (
        <EmptyState icon="shield" title="No sign-in providers">
          Everyone signs in with an e-mail address and a password.
        </EmptyState>
      ) : (
        <Table caption="Sign-in providers" captionHidden columns={columns} rows={providers.data} rowKey={(p) => p.id} />
      )}
      {editing ? (
        <ProviderDialog
          provider={typeof editing === "string" ? null : editing}
          kind={typeof editing === "string" ? editing : editing.kind}
          onClose={() => setEditing(null)}
        />
      ) : null}
      {deleting ? <DeleteDialog provider={deleting} onClose={() => setDeleting(null)} /> : null}
    </Panel>
  );
}

function DeleteDialog({ provider, onClose }: { provider: Provider; onClose: () => void }) {
  const remove = useDeleteProvider();
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <Modal
      open
      onClose={onClose}
      busy={remove.isPending}
      title={`Delete ${provider.name}?`}
      description="Only a provider nobody has signed in with can be deleted; otherwise disable it (Edit)."
      footer={
        <>
          <Button variant="ghost" onClick={onClose} disabled={remove.isPending}>
            Cancel
          </Button>
          <Button
            variant="danger"
            busy={remove.isPending}
            onClick={() =>
              remove.mutate(provider.id, {
                onSuccess: onClose,
                onError: (e) => setProblem(e instanceof ApiError ? e.message : "The provider was not deleted."),
              })
            }
          >
            Delete provider
          </Button>
        </>
      }
    >
      <FormError>{problem}</FormError>
    </Modal>
  );
}

function PresetButtons({ presets, onApply }: { presets: Preset[]; onApply: (preset: Preset) => void }) {
  return (
    <div className="sso-presets" role="group" aria-label="Presets">
      <span className="admin-cell-meta">Start from:</span>
      {presets.map((p) => (
        <Button key={p.label} size="sm" variant="secondary" onClick={() => onApply(p)}>
          {p.label}
        </Button>
      ))}
    </div>
  );
}

function ProviderDialog({ provider, kind, onClose }: { provider: Provider | null; kind: Kind; onClose: () => void }) {
  const create = useCreateProvider();
  const update = useUpdateProvider();
  const [form, setForm] = useState<ProviderForm>(() => providerForm(provider, kind));
  const [slugTouched, setSlugTouched] = useState(Boolean(provider));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const pending = create.isPending || update.isPending;
  const oidc = form.kind === "oidc";
  const set = <K extends keyof ProviderForm>(key: K, value: ProviderForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const field = <K extends keyof ProviderForm>(key: K) => ({
    value: form[key] as string,
    onChange: (e: { target: { value: string } }) => set(key, e.target.value as ProviderForm[K]),
    error: errors[key],
  });

  const onName = (name: string) =>
    setForm((f) => ({ ...f, name, ...(slugTouched ? {} : { slug: slugify(name) }) }));

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found = checkProvider(form, Boolean(provider));
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length) {
      setFormError("Some fields need attention.");
      return;
    }
    const onError = (e: unknown) => {
      if (!(e instanceof ApiError)) {
        setFormError("The provider was not saved.");
        return;
      }
      if (e.status === 409) {
        setErrors({ slug: e.message });
        return;
      }
      const fields = serverFieldErrors(e.fieldErrors());
      setErrors(fields);
      setFormError(e.message);
    };
    if (provider) update.mutate({ id: provider.id, ...updateBody(form) }, { onSuccess: onClose, onError });
    else create.mutate(createBody(form), { onSuccess: onClose, onError });
  };

  const title = provider ? `Edit ${provider.name}` : oidc ? "New OpenID Connect provider" : "New LDAP directory";

  return (
    <Modal open onClose={onClose} busy={pending} size="lg" title={title}>
      <form className="atum-form" onSubmit={onSubmit} noValidate aria-label={title}>
        {provider ? null : (
          <>
            <PresetButtons
              presets={oidc ? OIDC_PRESETS : LDAP_PRESETS}
              onApply={(preset) => {
                setForm((f) => applyPreset(f, preset));
                setNote(preset.note);
              }}
            />
            {note ? <Banner tone="info">{note}</Banner> : null}
          </>
        )}
        <div className="atum-form__row">
          <TextField
            label="Name"
            value={form.name}
            onChange={(e) => onName(e.target.value)}
            required
            error={errors.name}
            autoComplete="off"
            maxLength={100}
            hint={oidc ? "On the sign-in page: “Sign in with <name>”." : "On the sign-in page: “Company directory (<name>)”."}
          />
          <TextField
            label="Slug"
            value={form.slug}
            onChange={(e) => {
              setSlugTouched(true);
              set("slug", e.target.value);
            }}
            required
            disabled={Boolean(provider)}
            error={errors.slug}
            autoComplete="off"
            maxLength={40}
            hint={provider ? "Part of the redirect URI: it cannot change." : "Lower-case letters, digits and dashes; part of the addresses."}
          />
        </div>
        <Checkbox label="Enabled (offered on the sign-in page)" checked={form.enabled} onChange={(e) => set("enabled", e.target.checked)} />

        {oidc ? (
          <fieldset className="sso-fieldset">
            <legend className="sso-legend">OpenID Connect</legend>
            {provider?.redirect_uri ? (
              <div className="atum-field">
                <span className="atum-field__label">Redirect URI</span>
                <RedirectUri uri={provider.redirect_uri} />
                <p className="atum-field__hint">Register this address at the provider as the client's redirect (callback) URI.</p>
              </div>
            ) : (
              <p className="atum-field__hint">The redirect URI to register at the provider is shown once the provider is saved.</p>
            )}
            <TextField
              label="Issuer"
              type="url"
              {...field("issuer")}
              required
              autoComplete="off"
              maxLength={500}
              placeholder="https://…"
              hint="Exactly as the provider's discovery document names it (…/.well-known/openid-configuration)."
            />
            <div className="atum-form__row">
              <TextField label="Client ID" {...field("client_id")} required autoComplete="off" maxLength={300} />
              <WriteOnlySecretField
                label="Client secret"
                noun="secret"
                editing={Boolean(provider)}
                stored={Boolean(provider?.has_secret)}
                value={form.secret}
                onChange={(e) => set("secret", e.target.value)}
                error={errors.secret}
                maxLength={2000}
              />
            </div>
            <div className="atum-form__row">
              <TextField label="Scopes" {...field("scopes")} autoComplete="off" hint="Separated by spaces; must include openid." />
              <SelectField
                label="Client authentication"
                value={form.token_auth_method}
                onChange={(e) => set("token_auth_method", e.target.value as ProviderForm["token_auth_method"])}
              >
                <option value="client_secret_basic">client_secret_basic (HTTP Basic)</option>
                <option value="client_secret_post">client_secret_post (in the body)</option>
              </SelectField>
            </div>
            <details className="sso-details">
              <summary>Claims and second factor</summary>
              <div className="atum-form">
                <div className="atum-form__row">
                  <TextField label="Groups claim" {...field("groups_claim")} autoComplete="off" maxLength={200} />
                  <TextField label="E-mail claim" {...field("email_claim")} autoComplete="off" maxLength={200} />
                  <TextField label="Name claim" {...field("name_claim")} autoComplete="off" maxLength={200} />
                </div>
                <Checkbox
                  label="Require a verified e-mail address (email_verified)"
                  checked={form.require_verified_email}
                  onChange={(e) => set("require_verified_email", e.target.checked)}
                  hint="Turn off only for providers that never send email_verified (Entra ID)."
                />
                <div className="atum-form__row">
                  <TextField label="ACR values to ask for" {...field("acr_values")} autoComplete="off" maxLength={300} hint="Optional (acr_values)." />
                  <TextField
                    label="Values that mean a second factor"
                    {...field("mfa_values")}
                    autoComplete="off"
                    hint="amr or acr values, separated by commas; used where the policy requires a second factor at the provider."
                  />
                </div>
              </div>
            </details>
          </fieldset>
        ) : (
          <fieldset className="sso-fieldset">
            <legend className="sso-legend">LDAP directory</legend>
            <TextField
              label="Server URL"
              {...field("url")}
              required
              autoComplete="off"
              maxLength={300}
              placeholder="ldaps://ldap.example.com:636"
              hint="ldaps://, or ldap:// upgraded with StartTLS."
            />
            <div className="sso-checks">
              <Checkbox label="StartTLS (for ldap://)" checked={form.starttls} onChange={(e) => set("starttls", e.target.checked)} />
              <Checkbox
                label="Allow plain LDAP (passwords in clear)"
                checked={form.allow_plain}
                onChange={(e) => set("allow_plain", e.target.checked)}
              />
            </div>
            <div className="atum-form__row">
              <TextField label="Bind DN" {...field("bind_dn")} required autoComplete="off" maxLength={500} placeholder="cn=atum,ou=services,dc=example,dc=com" />
              <WriteOnlySecretField
                label="Bind password"
                editing={Boolean(provider)}
                stored={Boolean(provider?.has_secret)}
                newHint="The search account's password; stored encrypted, never shown again."
                value={form.secret}
                onChange={(e) => set("secret", e.target.value)}
                error={errors.secret}
                maxLength={2000}
              />
            </div>
            <div className="atum-form__row">
              <TextField label="User base" {...field("user_base")} required autoComplete="off" maxLength={500} placeholder="ou=people,dc=example,dc=com" />
              <TextField label="User filter" {...field("user_filter")} autoComplete="off" maxLength={500} />
            </div>
            <div className="atum-form__row">
              <SelectField label="Groups" value={form.group_mode} onChange={(e) => set("group_mode", e.target.value as ProviderForm["group_mode"])}>
                <option value="memberof">memberOf on the user entry</option>
                <option value="search">Search group entries</option>
              </SelectField>
              <TextField
                label="Sync every (minutes)"
                type="number"
                inputMode="numeric"
                min={5}
                max={10080}
                {...field("sync_minutes")}
                hint="Deactivates people who left the directory or its groups."
              />
            </div>
            {form.group_mode === "search" ? (
              <div className="atum-form__row">
                <TextField label="Group base" {...field("group_base")} required autoComplete="off" maxLength={500} />
                <TextField label="Group filter" {...field("group_filter")} autoComplete="off" maxLength={500} hint="{dn} is the user's DN." />
              </div>
            ) : null}
            <details className="sso-details">
              <summary>Attributes, disabled accounts and certificate</summary>
              <div className="atum-form">
                <div className="atum-form__row">
                  <TextField label="Login attribute" {...field("login_attribute")} autoComplete="off" hint="What people type (uid, sAMAccountName)." />
                  <TextField label="E-mail attribute" {...field("email_attribute")} autoComplete="off" />
                  <TextField label="Name attribute" {...field("name_attribute")} autoComplete="off" />
                  <TextField label="ID attribute" {...field("id_attribute")} autoComplete="off" hint="Stable across renames (entryUUID, objectGUID)." />
                </div>
                <div className="atum-form__row">
                  <TextField
                    label="Disabled accounts filter"
                    {...field("disabled_filter")}
                    autoComplete="off"
                    maxLength={500}
                    hint="Entries that match cannot sign in. Optional."
                  />
                  <TextField label="Timeout (seconds)" type="number" min={1} max={30} {...field("timeout_seconds")} />
                </div>
                <TextArea
                  label="CA certificate (PEM)"
                  {...field("ca_pem")}
                  rows={4}
                  spellCheck={false}
                  hint="The CA the server's certificate must chain to. Empty: the system's CAs."
                />
              </div>
            </details>
          </fieldset>
        )}

        <MappingsEditor form={form} setForm={setForm} errors={errors} oidc={oidc} />

        <FormError>{formError}</FormError>
        <div className="atum-form__actions">
          <Button variant="ghost" onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={pending}>
            {provider ? "Save provider" : "Create provider"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}

function MappingsEditor({
  form,
  setForm,
  errors,
  oidc,
}: {
  form: ProviderForm;
  setForm: (update: (f: ProviderForm) => ProviderForm) => void;
  errors: Record<string, string>;
  oidc: boolean;
}) {
  const orgs = useOrgs();
  const change = (key: string, patch: Partial<MappingRow>) =>
    setForm((f) => ({ ...f, mappings: f.mappings.map((m) => (m.key === key ? { ...m, ...patch } : m)) }));
  return (
    <fieldset className="sso-fieldset">
      <legend className="sso-legend">Groups and roles</legend>
      <p className="atum-field__hint">
        Members of a group get its role (the highest when several match); customers also get the organization. Someone in no mapped group
        cannot sign in. {oidc ? "Groups as the provider names them in the groups claim." : "A group's name (cn) or its full DN."}
      </p>
      {form.mappings.length ? (
        <ol className="sso-mappings" aria-label="Group mappings">
          {form.mappings.map((m, i) => {
            const customer = CUSTOMER_ROLES.includes(m.role);
            const n = i + 1;
            return (
              <li key={m.key} className="sso-mapping">
                <TextField
                  label={`Group ${n}`}
                  value={m.group}
                  onChange={(e) => change(m.key, { group: e.target.value })}
                  error={errors[`mapping.${i}.group`]}
                  autoComplete="off"
                  maxLength={200}
                />
                <SelectField
                  label={`Role for group ${n}`}
                  value={m.role}
                  onChange={(e) => {
                    const role = e.target.value as Role;
                    change(m.key, { role, ...(CUSTOMER_ROLES.includes(role) ? {} : { org_id: "" }) });
                  }}
                >
                  {ALL_ROLES.map((r) => (
                    <option key={r} value={r}>
                      {ROLE_LABEL[r]}
                    </option>
                  ))}
                </SelectField>
                {customer ? (
                  <SelectField
                    label={`Organization for group ${n}`}
                    value={m.org_id}
                    onChange={(e) => change(m.key, { org_id: e.target.value })}
                    error={errors[`mapping.${i}.org_id`]}
                  >
                    <option value="">Choose…</option>
                    {orgs.data?.items.map((o) => (
                      <option key={o.id} value={o.id}>
                        {o.name}
                      </option>
                    ))}
                  </SelectField>
                ) : (
                  <span className="sso-mapping__staff admin-cell-meta">Support team</span>
                )}
                <Button
                  size="sm"
                  variant="ghost"
                  icon="x"
                  className="sso-mapping__remove"
                  onClick={() => setForm((f) => ({ ...f, mappings: f.mappings.filter((x) => x.key !== m.key) }))}
                  aria-label={`Remove group ${n}`}
                >
                  Remove
                </Button>
              </li>
            );
          })}
        </ol>
      ) : (
        <p className="admin-cell-error">No group is mapped yet: nobody can sign in with this provider.</p>
      )}
      <div>
        <Button size="sm" variant="secondary" icon="plus" onClick={() => setForm((f) => ({ ...f, mappings: [...f.mappings, mappingRow()] }))}>
          Add a group
        </Button>
      </div>
    </fieldset>
  );
}

// ---- Sign-in policy -------------------------------------------------------------------------------

function PolicySection() {
  const policy = useSigninPolicy();
  return (
    <Panel surface="content" padding="none" aria-labelledby="sso-policy-title">
      <div className="admin-toolbar">
        <div className="admin-cell-stack">
          <h2 id="sso-policy-title" className="admin-section-title">
            Sign-in policy
          </h2>
          <p className="muted">
            Per role: may people sign in with a password kept here, and must a provider's sign-in carry a second factor. Turning passwords off
            for administrators needs a break-glass administrator first.
          </p>
        </div>
      </div>
      {policy.isPending ? (
        <SkeletonRows rows={5} />
      ) : policy.isError ? (
        <div className="admin-pad">
          <ErrorState error={policy.error} onRetry={() => void policy.refetch()} />
        </div>
      ) : (
        <PolicyForm key={JSON.stringify(policy.data)} policy={policy.data} />
      )}
    </Panel>
  );
}

function PolicyForm({ policy }: { policy: SigninPolicy }) {
  const save = useSaveSigninPolicy();
  const admins = useUsers({ role: "admin" });
  const [roles, setRoles] = useState<RolePolicy[]>(() => policy.roles.map((r) => ({ ...r })));
  const [breakGlass, setBreakGlass] = useState(policy.break_glass?.user_id ?? "");
  const [problem, setProblem] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const changed =
    JSON.stringify(roles) !== JSON.stringify(policy.roles) || breakGlass !== (policy.break_glass?.user_id ?? "");
  const eligible = (admins.data?.items ?? []).filter((u) => u.is_active && u.mfa_enabled);
  const current = policy.break_glass;

  const change = (role: Role, patch: Partial<RolePolicy>) => setRoles((rs) => rs.map((r) => (r.role === role ? { ...r, ...patch } : r)));

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    setFieldError(null);
    const adminRule = roles.find((r) => r.role === "admin");
    if (adminRule && !adminRule.password_allowed && !breakGlass) {
      setFieldError("Choose a break-glass administrator before turning passwords off for administrators.");
      return;
    }
    save.mutate(
      { roles, break_glass_user_id: breakGlass || null },
      {
        onError: (e) => {
          if (!(e instanceof ApiError)) {
            setProblem("The policy was not saved.");
            return;
          }
          const fields = e.fieldErrors();
          if (fields.break_glass_user_id) setFieldError(fields.break_glass_user_id);
          else setProblem(e.message);
        },
      },
    );
  };

  const columns: Column<RolePolicy>[] = [
    { key: "role", header: "Role", rowHeader: true, cell: (r) => ROLE_LABEL[r.role] },
    {
      key: "password",
      header: "Password kept here",
      cell: (r) => (
        <Checkbox
          label="Allowed"
          aria-label={`Password allowed for ${ROLE_LABEL[r.role]}`}
          checked={r.password_allowed}
          onChange={(e) => change(r.role, { password_allowed: e.target.checked })}
        />
      ),
    },
    {
      key: "mfa",
      header: "Second factor at the provider",
      cell: (r) => (
        <Checkbox
          label="Required"
          aria-label={`Second factor at the provider required for ${ROLE_LABEL[r.role]}`}
          checked={r.idp_mfa_required}
          onChange={(e) => change(r.role, { idp_mfa_required: e.target.checked })}
        />
      ),
    },
  ];

  return (
    <form onSubmit={onSubmit} noValidate aria-label="Sign-in policy">
      <Table caption="Sign-in policy per role" captionHidden columns={columns} rows={roles} rowKey={(r) => r.role} />
      <div className="admin-pad atum-stack">
        <SelectField
          label="Break-glass administrator"
          value={breakGlass}
          onChange={(e) => setBreakGlass(e.target.value)}
          error={fieldError}
          fieldClassName="sso-break-glass"
          hint="Always signs in with a password and a second factor, even when passwords are off for administrators: the way in when the providers are down. Only administrators with two-factor sign-in can be chosen."
        >
          <option value="">None</option>
          {current && !eligible.some((u) => u.id === current.user_id) ? (
            <option value={current.user_id}>
              {current.name} ({current.email})
            </option>
          ) : null}
          {eligible.map((u) => (
            <option key={u.id} value={u.id}>
              {u.name} ({u.email})
            </option>
          ))}
        </SelectField>
        {admins.isSuccess && eligible.length === 0 ? (
          <p className="admin-cell-meta">No administrator has two-factor sign-in yet: one sets it up on their profile first.</p>
        ) : null}
        <FormError>{problem}</FormError>
        <div className="atum-form__actions">
          <Button type="submit" variant="primary" busy={save.isPending} disabled={!changed}>
            Save sign-in policy
          </Button>
          {changed ? (
            <Button
              variant="ghost"
              onClick={() => {
                setRoles(policy.roles.map((r) => ({ ...r })));
                setBreakGlass(policy.break_glass?.user_id ?? "");
                setFieldError(null);
                setProblem(null);
              }}
              disabled={save.isPending}
            >
              Discard changes
            </Button>
          ) : null}
        </div>
      </div>
    </form>
  );
}
