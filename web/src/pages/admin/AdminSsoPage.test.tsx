import "@testing-library/jest-dom/vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Identity, Provider, SigninPolicy } from "../../api/sso";
import type { Me, User } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { AdminSsoPage } from "./AdminSsoPage";
import { AdminUsersPage } from "./AdminUsersPage";
import { applyPreset, checkProvider, createBody, LDAP_PRESETS, providerForm, slugify, updateBody } from "./ssoForm";

const ADA: Me = { id: "a1", email: "admin@atum.test", name: "Ada Admin", role: "admin", org_id: null, org_name: null, is_active: true, language: "en" };

const OIDC: Provider = {
  id: "p1",
  kind: "oidc",
  slug: "example",
  name: "Example SSO",
  enabled: true,
  settings: {
    issuer: "https://id.example.com/realms/staff",
    client_id: "atum",
    scopes: ["openid", "email", "profile", "groups"],
    token_auth_method: "client_secret_basic",
    groups_claim: "groups",
    email_claim: "email",
    name_claim: "name",
    require_verified_email: true,
    acr_values: null,
    mfa_values: ["mfa", "otp"],
  },
  has_secret: true,
  mappings: [{ group: "helpdesk-agents", role: "agent", org_id: null }],
  sync_minutes: 60,
  last_sync_at: null,
  last_sync_result: null,
  last_error: null,
  redirect_uri: "https://desk.example.com/api/auth/sso/example/callback",
  users: 3,
  created_at: "2026-01-01T00:00:00Z",
};

const LDAP: Provider = {
  ...OIDC,
  id: "p2",
  kind: "ldap",
  slug: "corp",
  name: "Corp Directory",
  settings: {
    url: "ldaps://ldap.example.com",
    starttls: true,
    allow_plain: false,
    ca_pem: null,
    bind_dn: "cn=atum,dc=example,dc=com",
    user_base: "ou=people,dc=example,dc=com",
    user_filter: "(objectClass=inetOrgPerson)",
    login_attribute: "uid",
    email_attribute: "mail",
    name_attribute: "cn",
    id_attribute: "entryUUID",
    group_mode: "memberof",
    group_base: null,
    group_filter: "(&(objectClass=groupOfNames)(member={dn}))",
    disabled_filter: null,
    timeout_seconds: 5,
  },
  redirect_uri: null,
  last_sync_at: "2026-01-02T08:00:00Z",
  last_sync_result: { checked: 4, updated: 1, deactivated: 0, reactivated: 0 },
  last_error: "Cannot reach ldaps://ldap.example.com",
  users: 0,
};

const POLICY: SigninPolicy = {
  roles: [
    { role: "customer_user", password_allowed: true, idp_mfa_required: false },
    { role: "customer_admin", password_allowed: true, idp_mfa_required: false },
    { role: "agent", password_allowed: true, idp_mfa_required: false },
    { role: "manager", password_allowed: true, idp_mfa_required: false },
    { role: "admin", password_allowed: true, idp_mfa_required: false },
  ],
  break_glass: null,
};

const user = (overrides: Partial<User>): User => ({
  id: "u1",
  email: "ada@atum.test",
  name: "Ada Admin",
  role: "admin",
  org_id: null,
  is_active: true,
  status: "active",
  language: "en",
  mfa_enabled: true,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  ...overrides,
});

function stub(extra: Parameters<typeof stubApi>[0] = {}) {
  return stubApi({
    "GET /api/admin/sso/providers": { body: [OIDC, LDAP] },
    "GET /api/admin/signin-policy": { body: POLICY },
    "GET /api/users": { body: { items: [user({}), user({ id: "u2", name: "Bo Backup", email: "bo@atum.test", mfa_enabled: false })], next_cursor: null } },
    "GET /api/orgs": { body: { items: [{ id: "o1", name: "Acme Corp" }], next_cursor: null } },
    ...extra,
  });
}

function renderPage() {
  return renderWithApp(<AdminSsoPage />, { prepare: (client) => client.setQueryData(["me"], ADA) });
}

describe("provider form data", () => {
  it("starts from the API's defaults and never from a secret", () => {
    const form = providerForm(null, "oidc");
    expect(form.scopes).toBe("openid email profile");
    expect(form.secret).toBe("");
    expect(providerForm(OIDC).secret).toBe("");
    expect(providerForm(OIDC).scopes).toBe("openid email profile groups");
  });

  it("leaves the stored secret out of a change when the field is empty", () => {
    const body = updateBody(providerForm(OIDC));
    expect(body).not.toHaveProperty("secret");
    expect(body.settings).toMatchObject({ issuer: OIDC.settings.issuer, scopes: ["openid", "email", "profile", "groups"], acr_values: null });
    expect(updateBody({ ...providerForm(OIDC), secret: "new" })).toMatchObject({ secret: "new" });
  });

  it("checks slugs, scopes, filters and customer mappings before sending", () => {
    const form = { ...providerForm(null, "oidc"), name: "X", slug: "Bad Slug", issuer: "https://id.example.com", client_id: "c", scopes: "email" };
    expect(checkProvider(form, false)).toMatchObject({ slug: expect.any(String), scopes: "The scopes must include openid." });
    const ldap = { ...providerForm(LDAP), user_filter: "objectClass=person", url: "ldap://ldap.example.com", starttls: false };
    expect(checkProvider(ldap, true)).toMatchObject({ user_filter: expect.any(String), url: expect.stringContaining("StartTLS") });
    const mapped = { ...providerForm(OIDC), mappings: [{ key: "k", group: "acme", role: "customer_user" as const, org_id: "" }] };
    expect(checkProvider(mapped, true)).toEqual({ "mapping.0.org_id": "Customers belong to an organization." });
    expect(slugify("Example Corp SSO!")).toBe("example-corp-sso");
  });

  it("fills a directory preset without touching the URL", () => {
    const form = applyPreset({ ...providerForm(null, "ldap"), url: "ldaps://dc.example.com" }, LDAP_PRESETS[1]!);
    expect(form).toMatchObject({ url: "ldaps://dc.example.com", login_attribute: "sAMAccountName", id_attribute: "objectGUID" });
    expect(createBody({ ...form, name: "AD", slug: "ad" }).settings).toMatchObject({ disabled_filter: "(userAccountControl:1.2.840.113556.1.4.803:=2)" });
  });
});

describe("admin: sign-in and SSO", () => {
  it("lists the providers with their redirect URI, status, mappings and last sync", async () => {
    stub();
    renderPage();
    const row = (await screen.findByRole("rowheader", { name: /^Example SSO/ })).closest("tr")!;
    expect(within(row).getByText(OIDC.redirect_uri!)).toBeInTheDocument();
    expect(within(row).getByRole("button", { name: "Copy redirect URI" })).toBeInTheDocument();
    expect(within(row).getByText("Enabled")).toBeInTheDocument();
    expect(within(row).getByText("helpdesk-agents → Agent")).toBeInTheDocument();
    expect(within(row).queryByRole("button", { name: "Sync Example SSO now" })).toBeNull();
    const ldap = screen.getByRole("rowheader", { name: /^Corp Directory/ }).closest("tr")!;
    expect(within(ldap).getByText(LDAP.last_error!)).toBeInTheDocument();
    expect(within(ldap).getByText("4 checked, 1 updated, 0 deactivated, 0 reactivated")).toBeInTheDocument();
  });

  it("checks a connection and synchronises a directory, showing the results", async () => {
    stub({
      "POST /api/admin/sso/providers/p1/check": { body: { ok: false, detail: "Discovery failed: connection refused" } },
      "POST /api/admin/sso/providers/p2/sync": { body: { checked: 5, updated: 2, deactivated: 1, reactivated: 0 } },
    });
    renderPage();
    await userEvent.click(await screen.findByRole("button", { name: "Check connection of Example SSO" }));
    expect(await screen.findByText(/Example SSO: the connection failed\. Discovery failed: connection refused/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Sync Corp Directory now" }));
    expect(await screen.findByText("Corp Directory synchronised: 5 checked, 2 updated, 1 deactivated, 0 reactivated.")).toBeInTheDocument();
  });

  it("says when a directory cannot be synchronised, and why a provider in use is not deleted", async () => {
    stub({
      "POST /api/admin/sso/providers/p2/sync": { status: 503, body: { detail: "The directory could not be reached", code: "provider_unavailable" } },
      "DELETE /api/admin/sso/providers/p1": { status: 409, body: { detail: "Users have signed in with this provider: disable it instead", code: "conflict" } },
    });
    renderPage();
    await userEvent.click(await screen.findByRole("button", { name: "Sync Corp Directory now" }));
    expect(await screen.findByText("Corp Directory: the sync failed. The directory could not be reached")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Delete Example SSO" }));
    const dialog = screen.getByRole("dialog", { name: "Delete Example SSO?" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Delete provider" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("Users have signed in with this provider: disable it instead");
  });

  it("creates an OpenID Connect provider with a group mapping for a customer organization", async () => {
    const { calls } = stub({ "POST /api/admin/sso/providers": { status: 201, body: { ...OIDC, id: "p3" } } });
    renderPage();
    await userEvent.click(await screen.findByRole("button", { name: "New OpenID Connect provider" }));
    const dialog = screen.getByRole("dialog", { name: "New OpenID Connect provider" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Keycloak" }));
    expect(within(dialog).getByText(/Group Membership/)).toBeInTheDocument();
    await userEvent.type(within(dialog).getByLabelText("Name"), "Acme Keycloak");
    expect(within(dialog).getByLabelText("Slug")).toHaveValue("acme-keycloak");
    const issuer = within(dialog).getByLabelText("Issuer");
    await userEvent.clear(issuer);
    await userEvent.type(issuer, "https://id.acme.example/realms/acme");
    await userEvent.type(within(dialog).getByLabelText("Client ID"), "atum-desk");
    await userEvent.type(within(dialog).getByLabelText("Client secret"), "s3cret");
    await userEvent.click(within(dialog).getByRole("button", { name: "Add a group" }));
    await userEvent.type(within(dialog).getByLabelText("Group 1"), "acme-users");
    await userEvent.selectOptions(within(dialog).getByLabelText("Role for group 1"), "customer_user");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create provider" }));
    expect(within(dialog).getByText("Customers belong to an organization.")).toBeInTheDocument();
    await userEvent.selectOptions(within(dialog).getByLabelText("Organization for group 1"), "o1");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create provider" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const sent = calls.find((c) => c.method === "POST" && c.url === "/api/admin/sso/providers")!;
    expect(sent.body).toMatchObject({
      kind: "oidc",
      slug: "acme-keycloak",
      name: "Acme Keycloak",
      secret: "s3cret",
      settings: { issuer: "https://id.acme.example/realms/acme", client_id: "atum-desk", scopes: ["openid", "email", "profile"] },
      mappings: [{ group: "acme-users", role: "customer_user", org_id: "o1" }],
    });
  });

  it("edits a provider: the secret stays unless a new one is typed; server field errors land on the field", async () => {
    const { calls } = stub({
      "PATCH /api/admin/sso/providers/p1": {
        status: 422,
        body: { detail: [{ loc: ["body", "settings.issuer"], msg: "must be an https:// URL", type: "invalid" }], code: "invalid" },
      },
    });
    renderPage();
    await userEvent.click(await screen.findByRole("button", { name: "Edit Example SSO" }));
    const dialog = screen.getByRole("dialog", { name: "Edit Example SSO" });
    expect(within(dialog).getByLabelText("Slug")).toBeDisabled();
    expect(within(dialog).getByLabelText("New client secret")).toHaveValue("");
    expect(within(dialog).getByText("A secret is stored. Leave empty to keep it.")).toBeInTheDocument();
    await userEvent.click(within(dialog).getByRole("button", { name: "Save provider" }));
    expect(await within(dialog).findByText("must be an https:// URL", { selector: ".atum-field__error" })).toBeInTheDocument();
    const sent = calls.find((c) => c.method === "PATCH")!;
    expect(sent.body).not.toHaveProperty("secret");
    expect(sent.body).toMatchObject({ name: "Example SSO", mappings: [{ group: "helpdesk-agents", role: "agent", org_id: null }] });
  });

  it("saves the sign-in policy, refusing admins without passwords until a break-glass admin is chosen", async () => {
    const { calls } = stub({
      "PUT /api/admin/signin-policy": {
        body: { ...POLICY, break_glass: { user_id: "u1", email: "ada@atum.test", name: "Ada Admin", mfa_enabled: true } },
      },
    });
    renderPage();
    await userEvent.click(await screen.findByRole("checkbox", { name: "Password allowed for Administrator" }));
    await userEvent.click(screen.getByRole("checkbox", { name: "Second factor at the provider required for Agent" }));
    await userEvent.click(screen.getByRole("button", { name: "Save sign-in policy" }));
    expect(screen.getByText(/Choose a break-glass administrator/)).toBeInTheDocument();
    const picker = screen.getByLabelText("Break-glass administrator");
    // Only administrators with a second factor.
    expect(within(picker).getAllByRole("option").map((o) => o.textContent)).toEqual(["None", "Ada Admin (ada@atum.test)"]);
    await userEvent.selectOptions(picker, "u1");
    await userEvent.click(screen.getByRole("button", { name: "Save sign-in policy" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PUT")).toBe(true));
    const sent = calls.find((c) => c.method === "PUT")!.body as { roles: { role: string; password_allowed: boolean; idp_mfa_required: boolean }[]; break_glass_user_id: string };
    expect(sent.break_glass_user_id).toBe("u1");
    expect(sent.roles.find((r) => r.role === "admin")).toEqual({ role: "admin", password_allowed: false, idp_mfa_required: false });
    expect(sent.roles.find((r) => r.role === "agent")).toEqual({ role: "agent", password_allowed: true, idp_mfa_required: true });
  });
});

describe("admin: a user's sign-in providers", () => {
  const LINKED: Identity = {
    id: "i1",
    provider_id: "p1",
    provider_name: "Example SSO",
    provider_kind: "oidc",
    subject: "sub-1",
    groups: ["helpdesk-agents"],
    last_login_at: "2026-01-02T08:00:00Z",
    created_at: "2026-01-01T00:00:00Z",
    pending: false,
  };

  it("lists the links, removes one and approves another", async () => {
    const maya = user({ id: "u2", name: "Maya Manager", email: "m@atum.test", role: "manager" });
    const { calls } = stubApi({
      "GET /api/users": { body: { items: [maya], next_cursor: null } },
      "GET /api/users/u2/identities": { body: [LINKED] },
      "GET /api/admin/sso/providers": { body: [OIDC, LDAP] },
      "DELETE /api/users/u2/identities/i1": { status: 204 },
      "POST /api/users/u2/identities": { status: 201, body: { ...LINKED, id: "i2", provider_id: "p2", subject: null, pending: true } },
    });
    renderWithApp(<AdminUsersPage />, { prepare: (client) => client.setQueryData(["me"], ADA) });
    await userEvent.click(await screen.findByRole("button", { name: "Edit Maya Manager" }));
    const dialog = screen.getByRole("dialog", { name: "Edit Maya Manager" });
    const links = await within(dialog).findByRole("list", { name: "Linked sign-in providers" });
    expect(links).toHaveTextContent("Example SSO");
    expect(links).toHaveTextContent("groups: helpdesk-agents");
    // Only providers not linked yet can be approved.
    const provider = within(dialog).getByLabelText("Provider");
    expect(within(provider).getAllByRole("option").map((o) => o.textContent)).toEqual(["Choose…", "Corp Directory"]);
    await userEvent.selectOptions(provider, "p2");
    await userEvent.click(within(dialog).getByRole("button", { name: "Approve link to provider" }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Remove link to Example SSO" }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE")).toBe(true));
    expect(calls.find((c) => c.method === "POST" && c.url === "/api/users/u2/identities")!.body).toEqual({ provider_id: "p2" });
    expect(calls.find((c) => c.method === "DELETE")!.url).toBe("/api/users/u2/identities/i1");
  });
});
