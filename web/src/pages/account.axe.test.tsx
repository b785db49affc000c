import axe from "axe-core";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import type { Me, User } from "../api/types";
import { stubApi } from "../test/fixtures";
import { renderWithApp } from "../test/render";
import { ConfirmEmailPage, ForgotPasswordPage, ProfilePage, ResetPasswordPage, WelcomePage } from "./account";
import { AdminSecurityPage } from "./admin/AdminSecurityPage";
import { AdminUsersPage } from "./admin/AdminUsersPage";
import { LoginPage } from "./auth/LoginPage";

/** axe-core over the document (jsdom cannot compute colours: contrast is the browser suite's). */
async function violations(): Promise<string[]> {
  const result = await axe.run(document.body, { rules: { "color-contrast": { enabled: false }, region: { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

const ADA: Me = { id: "a1", email: "admin@atum.test", name: "Ada Admin", role: "admin", org_id: null, org_name: null, is_active: true, language: "en" };

const user = (overrides: Partial<User>): User => ({
  id: "u1",
  email: "new@acme.test",
  name: "Nina New",
  role: "customer_user",
  org_id: "o1",
  is_active: true,
  status: "invited",
  language: "en",
  mfa_enabled: false,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  ...overrides,
});

function at(path: string, pattern: string, element: React.ReactElement, me: Me | null = null) {
  return renderWithApp(
    <Routes>
      <Route path={pattern} element={element} />
    </Routes>,
    { route: path, prepare: (client) => client.setQueryData(["me"], me) },
  );
}

describe("the account pages pass axe-core", () => {
  beforeEach(() => {
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
    window.sessionStorage.clear();
  });

  it("sign-in, second step", async () => {
    stubApi({ "POST /api/auth/login": { body: { mfa_required: true, mfa_token: "t", methods: ["totp", "webauthn", "recovery_code"], webauthn_options: { challenge: "c" } } } });
    at("/login", "/login", <LoginPage />);
    expect(await violations()).toEqual([]);
    await userEvent.type(screen.getByLabelText("E-mail"), "a@b.example");
    await userEvent.type(screen.getByLabelText("Password"), "x");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await screen.findByLabelText("Code from your authenticator app");
    expect(await violations()).toEqual([]);
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(await violations()).toEqual([]);
  });

  it("forgot password, before and after", async () => {
    stubApi({ "POST /api/auth/password/forgot": { status: 202, body: { detail: "x" } } });
    at("/forgot-password", "/forgot-password", <ForgotPasswordPage />);
    expect(await violations()).toEqual([]);
    await userEvent.type(screen.getByLabelText("E-mail"), "a@b.example");
    await userEvent.click(screen.getByRole("button", { name: "Send the link" }));
    await screen.findByText(/If this address belongs to an account/);
    expect(await violations()).toEqual([]);
  });

  it("reset password, with the strength meter and a refused link", async () => {
    stubApi({ "POST /api/auth/password/reset": { status: 400, body: { detail: "This link is invalid or has expired", code: "invalid_token" } } });
    at("/reset-password/tok", "/reset-password/:token", <ResetPasswordPage />);
    await userEvent.type(screen.getByLabelText("New password"), "tangerine orbit cello marsh");
    await userEvent.type(screen.getByLabelText("Repeat the new password"), "tangerine");
    await userEvent.click(screen.getByRole("button", { name: "Save the new password" }));
    await screen.findByText("The two passwords are not the same.");
    expect(await violations()).toEqual([]);
    await userEvent.type(screen.getByLabelText("Repeat the new password"), " orbit cello marsh");
    await userEvent.click(screen.getByRole("button", { name: "Save the new password" }));
    await screen.findByText(/This link is invalid or has expired/);
    expect(await violations()).toEqual([]);
  });

  it("welcome", async () => {
    stubApi({ "POST /api/auth/invitation/inspect": { body: { email: "new@acme.test", name: "Nina New", mfa_required: false } } });
    at("/welcome/tok", "/welcome/:token", <WelcomePage />);
    await screen.findByRole("heading", { name: "Welcome, Nina New" });
    expect(await violations()).toEqual([]);
  });

  it("confirm e-mail", async () => {
    stubApi({});
    at("/confirm-email/tok", "/confirm-email/:token", <ConfirmEmailPage />);
    expect(await violations()).toEqual([]);
  });

  it("the profile, with the authenticator set-up open", async () => {
    stubApi({
      "GET /api/me/mfa": {
        body: {
          totp: false,
          webauthn: [{ id: "k1", name: "Blue key", created_at: "2026-01-01T00:00:00Z", last_used_at: null }],
          recovery_codes_left: 9,
          required: true,
          grace_until: "2026-01-04T00:00:00Z",
        },
      },
      "GET /api/me/sessions": {
        body: { items: [{ id: "s1", current: true, device: "Chrome", ip: "127.0.0.1", created_at: "2026-01-01T00:00:00Z", last_seen_at: "2026-01-01T00:00:00Z" }] },
      },
      "POST /api/me/mfa/totp": { body: { secret: "ABCDEFGHABCDEFGH", otpauth_uri: "otpauth://totp/x", qr_svg: '<svg width="10" height="10"></svg>' } },
    });
    at("/desk/profile", "/desk/profile", <ProfilePage />, ADA);
    await screen.findByText("Blue key");
    await screen.findByRole("table", { name: "Your sessions" });
    expect(await violations()).toEqual([]);
    await userEvent.click(screen.getByRole("button", { name: "Set up authenticator app" }));
    const dialog = screen.getByRole("dialog");
    await userEvent.type(within(dialog).getByLabelText("Current password"), "x");
    await userEvent.click(within(dialog).getByRole("button", { name: "Continue" }));
    await within(dialog).findByLabelText("Code from the app");
    expect(await violations()).toEqual([]);
  });

  it("admin: two-factor policy", async () => {
    stubApi({
      "GET /api/admin/mfa-policy": {
        body: {
          items: [
            { role: "admin", required: true, grace_hours: 72 },
            { role: "manager", required: true, grace_hours: 72 },
            { role: "agent", required: false, grace_hours: 72 },
          ],
        },
      },
    });
    renderWithApp(<AdminSecurityPage />);
    await screen.findByRole("checkbox", { name: "Required for Administrator" });
    expect(await violations()).toEqual([]);
  });

  it("admin: users with their account state, and the reset confirmation", async () => {
    stubApi({
      "GET /api/users": {
        body: {
          items: [user({}), user({ id: "u2", name: "Maya Manager", email: "m@x.example", role: "manager", org_id: null, status: "active", mfa_enabled: true })],
          next_cursor: null,
        },
      },
    });
    renderWithApp(<AdminUsersPage />, { prepare: (client) => client.setQueryData(["me"], ADA) });
    await screen.findByRole("button", { name: "Resend invitation to Nina New" });
    expect(await violations()).toEqual([]);
    await userEvent.click(screen.getByRole("button", { name: "Edit Maya Manager" }));
    expect(await violations()).toEqual([]);
    await userEvent.click(screen.getByRole("button", { name: "Reset two-factor…" }));
    expect(screen.getByRole("dialog", { name: "Reset two-factor sign-in of Maya Manager?" })).toBeInTheDocument();
    expect(await violations()).toEqual([]);
  });
});
