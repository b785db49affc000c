import "@testing-library/jest-dom/vitest";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import type { Me } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { LoginPage } from "./LoginPage";
import { SSO_REFUSALS, SSO_REFUSED_GENERIC } from "./errors";

const MAYA: Me = {
  id: "m1",
  email: "manager@atum.test",
  name: "Maya Manager",
  role: "manager",
  org_id: null,
  org_name: null,
  is_active: true,
  language: "en",
};

const SESSION = {
  mfa_required: false,
  access_token: "t",
  csrf_token: "c",
  token_type: "bearer",
  expires_in: 3600,
  user: MAYA,
  mfa_setup_required: false,
  mfa_grace_until: null,
  restricted: false,
};

const PROVIDERS = [
  { slug: "example", name: "Example SSO", kind: "oidc" },
  { slug: "corp", name: "Corp LDAP", kind: "ldap" },
];

function renderLogin(route = "/login") {
  return renderWithApp(
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/desk/inbox" element={<p>Desk inbox</p>} />
    </Routes>,
    { route, prepare: (client) => client.setQueryData(["me"], null) },
  );
}

describe("single sign-on on the sign-in page", () => {
  beforeEach(() => window.sessionStorage.clear());

  it("offers a real link per OpenID Connect provider, coming back to the page asked for", async () => {
    stubApi({ "GET /api/auth/providers": { body: PROVIDERS } });
    renderLogin("/login?next=%2Fdesk%2Ftickets%2Ft1");
    const link = await screen.findByRole("link", { name: "Sign in with Example SSO" });
    // Back to /login?next=…: the sign-in page sends the signed-in user on, by role.
    expect(link).toHaveAttribute("href", `/api/auth/sso/example/start?next=${encodeURIComponent("/login?next=%2Fdesk%2Ftickets%2Ft1")}`);
    expect(within(screen.getByRole("list", { name: "Single sign-on" })).getAllByRole("link")).toHaveLength(1);
    // The password form is still there.
    expect(screen.getByLabelText("E-mail")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Sign in" })).toBeInTheDocument();
  });

  it("comes back to the sign-in page (then the user's home) without a return path", async () => {
    stubApi({ "GET /api/auth/providers": { body: PROVIDERS } });
    renderLogin();
    expect(await screen.findByRole("link", { name: "Sign in with Example SSO" })).toHaveAttribute(
      "href",
      "/api/auth/sso/example/start?next=%2Flogin",
    );
  });

  it("shows nothing extra without providers", async () => {
    const { calls } = stubApi({});
    renderLogin();
    await vi.waitFor(() => expect(calls.some((c) => c.url === "/api/auth/providers")).toBe(true));
    expect(screen.queryByRole("list", { name: "Single sign-on" })).toBeNull();
    expect(screen.queryByRole("tablist")).toBeNull();
  });

  it("says why a provider's sign-in was refused", async () => {
    stubApi({ "GET /api/auth/providers": { body: PROVIDERS } });
    renderLogin("/login?sso_error=no_mapped_group");
    expect(await screen.findByRole("alert")).toHaveTextContent(SSO_REFUSALS.no_mapped_group!);
    expect(SSO_REFUSALS.no_mapped_group).toMatch(/not in a group that may use this helpdesk/);
  });

  it("words an unknown refusal generically", async () => {
    stubApi({});
    renderLogin("/login?sso_error=something_new");
    expect(await screen.findByRole("alert")).toHaveTextContent(SSO_REFUSED_GENERIC);
  });

  it("points at the providers when passwords are off for the role", async () => {
    stubApi({
      "GET /api/auth/providers": { body: PROVIDERS },
      "POST /api/auth/login": { status: 403, body: { detail: "Sign in with your organization's account", code: "password_sign_in_disabled" } },
    });
    renderLogin();
    await screen.findByRole("link", { name: "Sign in with Example SSO" });
    await userEvent.type(screen.getByLabelText("E-mail"), "agent@atum.test");
    await userEvent.type(screen.getByLabelText("Password"), "secret");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Sign in with your organization's account");
    expect(alert).toHaveTextContent("“Sign in with Example SSO”");
  });

  it("signs in with a directory account", async () => {
    const { calls } = stubApi({
      "GET /api/auth/providers": { body: PROVIDERS },
      "POST /api/auth/ldap/corp/login": { body: SESSION },
    });
    renderLogin();
    await userEvent.click(await screen.findByRole("tab", { name: "Company directory (Corp LDAP)" }));
    expect(screen.queryByLabelText("E-mail")).toBeNull();
    await userEvent.type(screen.getByLabelText("Username"), "alice");
    await userEvent.type(screen.getByLabelText("Password"), "alice-pass-1");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("Desk inbox")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "POST")).toMatchObject({
      url: "/api/auth/ldap/corp/login",
      body: { username: "alice", password: "alice-pass-1" },
    });
  });

  it("says why a directory sign-in was refused, and goes back to the helpdesk account", async () => {
    stubApi({
      "GET /api/auth/providers": { body: PROVIDERS },
      "POST /api/auth/ldap/corp/login": { status: 403, body: { detail: "x", code: "no_mapped_group" } },
    });
    renderLogin();
    await userEvent.click(await screen.findByRole("tab", { name: "Company directory (Corp LDAP)" }));
    await userEvent.type(screen.getByLabelText("Username"), "dave");
    await userEvent.type(screen.getByLabelText("Password"), "dave-pass-1");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(SSO_REFUSALS.no_mapped_group!);
    await userEvent.click(screen.getByRole("tab", { name: "Helpdesk account" }));
    expect(screen.getByLabelText("E-mail")).toBeInTheDocument();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("asks a directory user with a second factor for it", async () => {
    const { calls } = stubApi({
      "GET /api/auth/providers": { body: PROVIDERS },
      "POST /api/auth/ldap/corp/login": { body: { mfa_required: true, mfa_token: "half", methods: ["totp"], webauthn_options: null } },
      "POST /api/auth/login/mfa": { body: SESSION },
    });
    renderLogin();
    await userEvent.click(await screen.findByRole("tab", { name: "Company directory (Corp LDAP)" }));
    await userEvent.type(screen.getByLabelText("Username"), "bob");
    await userEvent.type(screen.getByLabelText("Password"), "bob-pass-1");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText(/The password for/)).toHaveTextContent("The password for bob was right.");
    await userEvent.type(screen.getByLabelText("Code from your authenticator app"), "123456");
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByText("Desk inbox")).toBeInTheDocument();
    expect(calls.find((c) => c.url === "/api/auth/login/mfa")!.body).toEqual({ mfa_token: "half", code: "123456" });
  });
});
