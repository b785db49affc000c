import axe from "axe-core";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import type { Me } from "../api/types";
import { stubApi } from "../test/fixtures";
import { renderWithApp } from "../test/render";
import { AdminSsoPage } from "./admin/AdminSsoPage";
import { LinkAccountPage } from "./auth/LinkAccountPage";
import { LoginPage } from "./auth/LoginPage";

/** axe-core over the document (jsdom cannot compute colours: contrast is the browser suite's). */
async function violations(): Promise<string[]> {
  const result = await axe.run(document.body, { rules: { "color-contrast": { enabled: false }, region: { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

const ADA: Me = { id: "a1", email: "admin@atum.test", name: "Ada Admin", role: "admin", org_id: null, org_name: null, is_active: true, language: "en" };

const PROVIDERS = [
  { slug: "example", name: "Example SSO", kind: "oidc" },
  { slug: "corp", name: "Corp LDAP", kind: "ldap" },
];

describe("the single sign-on pages pass axe-core", () => {
  beforeEach(() => window.sessionStorage.clear());

  it("sign-in with providers, a refusal and the directory tab", async () => {
    stubApi({ "GET /api/auth/providers": { body: PROVIDERS } });
    renderWithApp(
      <Routes>
        <Route path="/login" element={<LoginPage />} />
      </Routes>,
      { route: "/login?sso_error=no_mapped_group", prepare: (client) => client.setQueryData(["me"], null) },
    );
    await screen.findByRole("link", { name: "Sign in with Example SSO" });
    expect(await violations()).toEqual([]);
    await userEvent.click(screen.getByRole("tab", { name: "Company directory (Corp LDAP)" }));
    expect(await violations()).toEqual([]);
  });

  it("link an account", async () => {
    stubApi({});
    renderWithApp(
      <Routes>
        <Route path="/login/link" element={<LinkAccountPage />} />
      </Routes>,
      { route: "/login/link#0123456789abcdefghijkl", prepare: (client) => client.setQueryData(["me"], null) },
    );
    await screen.findByLabelText("Password");
    expect(await violations()).toEqual([]);
  });

  it("administration: providers, their dialogs and the policy", async () => {
    stubApi({
      "GET /api/admin/sso/providers": {
        body: [
          {
            id: "p1",
            kind: "oidc",
            slug: "example",
            name: "Example SSO",
            enabled: true,
            settings: { issuer: "https://id.example.com", client_id: "atum", scopes: ["openid"] },
            has_secret: true,
            mappings: [{ group: "helpdesk-agents", role: "agent", org_id: null }],
            sync_minutes: 60,
            last_sync_at: null,
            last_sync_result: null,
            last_error: null,
            redirect_uri: "https://desk.example.com/api/auth/sso/example/callback",
            users: 1,
            created_at: "2026-01-01T00:00:00Z",
          },
        ],
      },
      "GET /api/admin/signin-policy": {
        body: { roles: [{ role: "agent", password_allowed: true, idp_mfa_required: false }], break_glass: null },
      },
    });
    renderWithApp(<AdminSsoPage />, { prepare: (client) => client.setQueryData(["me"], ADA) });
    await screen.findByRole("rowheader", { name: /^Example SSO/ });
    await screen.findByRole("checkbox", { name: "Password allowed for Agent" });
    expect(await violations()).toEqual([]);
    await userEvent.click(screen.getByRole("button", { name: "Edit Example SSO" }));
    await userEvent.click(screen.getByRole("button", { name: "Add a group" }));
    expect(await violations()).toEqual([]);
    await userEvent.click(screen.getByRole("button", { name: "Cancel" }));
    await userEvent.click(screen.getByRole("button", { name: "New LDAP directory" }));
    expect(await violations()).toEqual([]);
  });
});
