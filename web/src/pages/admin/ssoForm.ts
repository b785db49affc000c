/**
 * The provider form of Administration › Sign-in & SSO as plain data: its starting values (the
 * API's defaults, or a stored provider's settings), presets for common providers, the checks made
 * before sending, and the request bodies. The secret is write-only: an empty field keeps it.
 */
import type { Provider, ProviderCreate, ProviderMapping, ProviderUpdate } from "../../api/sso";
import { CUSTOMER_ROLES, type Role } from "../../api/types";

export type Kind = Provider["kind"];

export const KIND_LABEL: Record<Kind, string> = { oidc: "OpenID Connect", ldap: "LDAP directory" };

export interface MappingRow {
  key: string;
  group: string;
  role: Role;
  org_id: string;
}

export interface ProviderForm {
  kind: Kind;
  name: string;
  slug: string;
  enabled: boolean;
  secret: string;
  sync_minutes: string;
  // OpenID Connect
  issuer: string;
  client_id: string;
  scopes: string;
  token_auth_method: "client_secret_basic" | "client_secret_post";
  groups_claim: string;
  email_claim: string;
  name_claim: string;
  require_verified_email: boolean;
  acr_values: string;
  mfa_values: string;
  // LDAP
  url: string;
  starttls: boolean;
  allow_plain: boolean;
  ca_pem: string;
  bind_dn: string;
  user_base: string;
  user_filter: string;
  login_attribute: string;
  email_attribute: string;
  name_attribute: string;
  id_attribute: string;
  group_mode: "memberof" | "search";
  group_base: string;
  group_filter: string;
  disabled_filter: string;
  timeout_seconds: string;
  mappings: MappingRow[];
}

/** The API's defaults (OidcSettings / LdapSettings in api/app/schemas/sso.py). */
export const DEFAULT_MFA_VALUES = ["mfa", "otp", "hwk", "swk", "sms", "fpt", "face", "iris", "pin", "sc"];

const DEFAULTS: Omit<ProviderForm, "kind" | "mappings"> = {
  name: "",
  slug: "",
  enabled: true,
  secret: "",
  sync_minutes: "60",
  issuer: "",
  client_id: "",
  scopes: "openid email profile",
  token_auth_method: "client_secret_basic",
  groups_claim: "groups",
  email_claim: "email",
  name_claim: "name",
  require_verified_email: true,
  acr_values: "",
  mfa_values: DEFAULT_MFA_VALUES.join(", "),
  url: "",
  starttls: true,
  allow_plain: false,
  ca_pem: "",
  bind_dn: "",
  user_base: "",
  user_filter: "(objectClass=inetOrgPerson)",
  login_attribute: "uid",
  email_attribute: "mail",
  name_attribute: "cn",
  id_attribute: "entryUUID",
  group_mode: "memberof",
  group_base: "",
  group_filter: "(&(objectClass=groupOfNames)(member={dn}))",
  disabled_filter: "",
  timeout_seconds: "5",
};

let rowCounter = 0;
export function mappingRow(values: Partial<Omit<MappingRow, "key">> = {}): MappingRow {
  rowCounter += 1;
  return { key: `m${rowCounter}`, group: "", role: "agent", org_id: "", ...values };
}

function text(value: unknown, fallback: string): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : fallback;
}

function flag(value: unknown, fallback: boolean): boolean {
  return typeof value === "boolean" ? value : fallback;
}

function list(value: unknown, fallback: string, sep: string): string {
  return Array.isArray(value) ? value.map(String).join(sep) : fallback;
}

/** A new provider of this kind, or the stored one (never its secret). */
export function providerForm(provider: Provider | null, kind: Kind = "oidc"): ProviderForm {
  if (!provider) return { ...DEFAULTS, kind, mappings: [] };
  const s = provider.settings;
  return {
    kind: provider.kind,
    name: provider.name,
    slug: provider.slug,
    enabled: provider.enabled,
    secret: "",
    sync_minutes: String(provider.sync_minutes),
    issuer: text(s.issuer, ""),
    client_id: text(s.client_id, ""),
    scopes: list(s.scopes, DEFAULTS.scopes, " "),
    token_auth_method: s.token_auth_method === "client_secret_post" ? "client_secret_post" : "client_secret_basic",
    groups_claim: text(s.groups_claim, DEFAULTS.groups_claim),
    email_claim: text(s.email_claim, DEFAULTS.email_claim),
    name_claim: text(s.name_claim, DEFAULTS.name_claim),
    require_verified_email: flag(s.require_verified_email, true),
    acr_values: text(s.acr_values, ""),
    mfa_values: list(s.mfa_values, DEFAULTS.mfa_values, ", "),
    url: text(s.url, ""),
    starttls: flag(s.starttls, true),
    allow_plain: flag(s.allow_plain, false),
    ca_pem: text(s.ca_pem, ""),
    bind_dn: text(s.bind_dn, ""),
    user_base: text(s.user_base, ""),
    user_filter: text(s.user_filter, DEFAULTS.user_filter),
    login_attribute: text(s.login_attribute, DEFAULTS.login_attribute),
    email_attribute: text(s.email_attribute, DEFAULTS.email_attribute),
    name_attribute: text(s.name_attribute, DEFAULTS.name_attribute),
    id_attribute: text(s.id_attribute, DEFAULTS.id_attribute),
    group_mode: s.group_mode === "search" ? "search" : "memberof",
    group_base: text(s.group_base, ""),
    group_filter: text(s.group_filter, DEFAULTS.group_filter),
    disabled_filter: text(s.disabled_filter, ""),
    timeout_seconds: text(s.timeout_seconds, DEFAULTS.timeout_seconds),
    mappings: provider.mappings.map((m) => mappingRow({ group: m.group, role: m.role, org_id: m.org_id ?? "" })),
  };
}

// ---- Presets -------------------------------------------------------------------------------------

export interface Preset {
  label: string;
  /** What the preset fills in: claims, attributes and filters, never an address. */
  values: Partial<ProviderForm>;
  /** Shown after applying: what is left to do at the provider. */
  note: string;
}

export const OIDC_PRESETS: Preset[] = [
  {
    label: "Keycloak",
    values: {
      scopes: "openid email profile",
      groups_claim: "groups",
      email_claim: "email",
      name_claim: "name",
      require_verified_email: true,
      token_auth_method: "client_secret_basic",
    },
    note: "Keycloak: the issuer is the realm's address (…/realms/<realm>). A confidential client with the standard flow; add a “Group Membership” mapper (claim “groups”, full path off) to the ID token.",
  },
  {
    label: "Authentik",
    values: {
      scopes: "openid email profile",
      groups_claim: "groups",
      email_claim: "email",
      name_claim: "name",
      require_verified_email: true,
      token_auth_method: "client_secret_basic",
    },
    note: "Authentik: the issuer is the application's address (…/application/o/<application slug>/). An OAuth2/OpenID provider with a confidential client; its profile scope carries “groups”. Check that it marks addresses as verified (email_verified), or turn that requirement off.",
  },
  {
    label: "Microsoft Entra ID",
    values: {
      scopes: "openid email profile",
      groups_claim: "groups",
      email_claim: "email",
      name_claim: "name",
      require_verified_email: false,
      token_auth_method: "client_secret_post",
    },
    note: "Entra ID: the issuer is login.microsoftonline.com/<tenant ID>/v2.0 (over https). Add the “groups” claim to the ID token (Token configuration); groups arrive as object IDs, map those. Entra ID sends no email_verified.",
  },
];

export const LDAP_PRESETS: Preset[] = [
  {
    label: "OpenLDAP",
    values: {
      user_filter: "(objectClass=inetOrgPerson)",
      login_attribute: "uid",
      email_attribute: "mail",
      name_attribute: "cn",
      id_attribute: "entryUUID",
      group_mode: "memberof",
      disabled_filter: "",
    },
    note: "OpenLDAP: memberOf needs the memberof overlay; otherwise search groups (groupOfNames with member={dn}).",
  },
  {
    label: "Active Directory",
    values: {
      user_filter: "(&(objectCategory=person)(objectClass=user))",
      login_attribute: "sAMAccountName",
      email_attribute: "mail",
      name_attribute: "displayName",
      id_attribute: "objectGUID",
      group_mode: "memberof",
      disabled_filter: "(userAccountControl:1.2.840.113556.1.4.803:=2)",
    },
    note: "Active Directory: use ldaps:// (port 636) or StartTLS; map groups by their DN (CN=…,OU=…,DC=…).",
  },
  {
    label: "FreeIPA",
    values: {
      user_filter: "(objectClass=inetOrgPerson)",
      login_attribute: "uid",
      email_attribute: "mail",
      name_attribute: "cn",
      id_attribute: "ipaUniqueID",
      group_mode: "memberof",
      disabled_filter: "(nsAccountLock=TRUE)",
    },
    note: "FreeIPA: users under cn=users,cn=accounts,<base>; groups under cn=groups,cn=accounts,<base>.",
  },
];

export function applyPreset(form: ProviderForm, preset: Preset): ProviderForm {
  return { ...form, ...preset.values };
}

// ---- Checks and bodies ------------------------------------------------------------------------

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** A slug from a name: "Example Corp SSO" → "example-corp-sso". */
export function slugify(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/g, "");
}

const ATTRIBUTE = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;
const FILTER = /^\(.*\)$/;

const words = (value: string, sep: RegExp) =>
  value
    .split(sep)
    .map((w) => w.trim())
    .filter(Boolean);

/** Field problems found before anything is sent (the server checks everything again). */
export function checkProvider(form: ProviderForm, editing: boolean): Record<string, string> {
  const found: Record<string, string> = {};
  if (!form.name.trim()) found.name = "Enter a name (shown on the sign-in page).";
  if (!editing && !SLUG_PATTERN.test(form.slug)) found.slug = "Lower-case letters, digits and dashes (up to 40), starting with a letter or digit.";
  const minutes = Number(form.sync_minutes);
  if (form.kind === "ldap" && !(/^\d+$/.test(form.sync_minutes.trim()) && minutes >= 5 && minutes <= 10080)) {
    found.sync_minutes = "A whole number of minutes, 5 to 10080 (a week).";
  }
  if (form.kind === "oidc") {
    if (!/^https?:\/\/\S+$/.test(form.issuer.trim())) found.issuer = "Enter the issuer: the provider's https:// address.";
    if (!form.client_id.trim()) found.client_id = "Enter the client ID registered at the provider.";
    if (!words(form.scopes, /\s+/).includes("openid")) found.scopes = "The scopes must include openid.";
    for (const key of ["groups_claim", "email_claim", "name_claim"] as const) {
      if (!form[key].trim()) found[key] = "Enter the claim's name.";
    }
  } else {
    if (!/^ldaps?:\/\/[^/\s]+\/?$/.test(form.url.trim())) found.url = "ldaps://host:636 or ldap://host:389 (no path).";
    else if (form.url.trim().startsWith("ldap://") && !form.starttls && !form.allow_plain) {
      found.url = "ldap:// without StartTLS sends passwords in clear: use ldaps://, StartTLS, or allow plain LDAP.";
    }
    if (!form.bind_dn.trim()) found.bind_dn = "Enter the DN of the account that searches the directory.";
    if (!form.user_base.trim()) found.user_base = "Enter where the users are, e.g. ou=people,dc=example,dc=com.";
    for (const key of ["login_attribute", "email_attribute", "name_attribute", "id_attribute"] as const) {
      if (!ATTRIBUTE.test(form[key].trim())) found[key] = "An attribute name, e.g. uid.";
    }
    for (const key of ["user_filter", "group_filter"] as const) {
      if (!FILTER.test(form[key].trim())) found[key] = "An LDAP filter in parentheses.";
    }
    if (form.disabled_filter.trim() && !FILTER.test(form.disabled_filter.trim())) found.disabled_filter = "An LDAP filter in parentheses, or empty.";
    if (form.group_mode === "search" && !form.group_base.trim()) found.group_base = "Enter where the groups are (needed when groups are searched).";
    const timeout = Number(form.timeout_seconds);
    if (!(timeout > 0 && timeout <= 30)) found.timeout_seconds = "Seconds, more than 0 and at most 30.";
  }
  form.mappings.forEach((m, i) => {
    if (!m.group.trim()) found[`mapping.${i}.group`] = "Enter the group.";
    if (CUSTOMER_ROLES.includes(m.role) && !m.org_id) found[`mapping.${i}.org_id`] = "Customers belong to an organization.";
  });
  return found;
}

export function settingsOf(form: ProviderForm): Record<string, unknown> {
  if (form.kind === "oidc") {
    return {
      issuer: form.issuer.trim(),
      client_id: form.client_id.trim(),
      scopes: words(form.scopes, /\s+/),
      token_auth_method: form.token_auth_method,
      groups_claim: form.groups_claim.trim(),
      email_claim: form.email_claim.trim(),
      name_claim: form.name_claim.trim(),
      require_verified_email: form.require_verified_email,
      acr_values: form.acr_values.trim() || null,
      mfa_values: words(form.mfa_values, /[\s,]+/),
    };
  }
  return {
    url: form.url.trim(),
    starttls: form.starttls,
    allow_plain: form.allow_plain,
    ca_pem: form.ca_pem.trim() || null,
    bind_dn: form.bind_dn.trim(),
    user_base: form.user_base.trim(),
    user_filter: form.user_filter.trim(),
    login_attribute: form.login_attribute.trim(),
    email_attribute: form.email_attribute.trim(),
    name_attribute: form.name_attribute.trim(),
    id_attribute: form.id_attribute.trim(),
    group_mode: form.group_mode,
    group_base: form.group_base.trim() || null,
    group_filter: form.group_filter.trim(),
    disabled_filter: form.disabled_filter.trim() || null,
    timeout_seconds: Number(form.timeout_seconds),
  };
}

export function mappingsOf(form: ProviderForm): ProviderMapping[] {
  return form.mappings.map((m) => ({
    group: m.group.trim(),
    role: m.role,
    org_id: CUSTOMER_ROLES.includes(m.role) ? m.org_id : null,
  }));
}

export function createBody(form: ProviderForm): ProviderCreate {
  return {
    kind: form.kind,
    slug: form.slug,
    name: form.name.trim(),
    enabled: form.enabled,
    settings: settingsOf(form),
    secret: form.secret || null,
    mappings: mappingsOf(form),
    sync_minutes: form.kind === "ldap" ? Number(form.sync_minutes) : 60,
  };
}

/** A change: everything but the kind and slug; an empty secret keeps the stored one. */
export function updateBody(form: ProviderForm): ProviderUpdate {
  return {
    name: form.name.trim(),
    enabled: form.enabled,
    settings: settingsOf(form),
    mappings: mappingsOf(form),
    ...(form.kind === "ldap" ? { sync_minutes: Number(form.sync_minutes) } : {}),
    ...(form.secret ? { secret: form.secret } : {}),
  };
}

/** The server's 422 names settings fields "settings.<field>": the form's field names. */
export function serverFieldErrors(fields: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, message] of Object.entries(fields)) {
    out[key.startsWith("settings.") ? key.slice("settings.".length) : key] = message;
  }
  return out;
}
