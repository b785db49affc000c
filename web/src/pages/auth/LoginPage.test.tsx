import "@testing-library/jest-dom/vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import type { Me } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { LoginPage } from "./LoginPage";

vi.mock("../../lib/webauthn", () => ({
  keysSupported: () => true,
  signWithKey: vi.fn(async () => ({ id: "cred", rawId: "cred", type: "public-key", response: {} })),
  keyErrorText: () => "The security key did not answer, or the request was cancelled. Try again.",
}));

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

function session(overrides: Record<string, unknown> = {}) {
  return {
    mfa_required: false,
    access_token: "t",
    csrf_token: "c",
    token_type: "bearer",
    expires_in: 3600,
    user: MAYA,
    mfa_setup_required: false,
    mfa_grace_until: null,
    restricted: false,
    ...overrides,
  };
}

const CHALLENGE = {
  mfa_required: true,
  mfa_token: "half-login",
  methods: ["totp", "webauthn", "recovery_code"],
  webauthn_options: { challenge: "abc", allowCredentials: [] },
};

function renderLogin(route = "/login") {
  return renderWithApp(
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/desk/inbox" element={<p>Desk inbox</p>} />
      <Route path="/desk/tickets/:id" element={<p>A ticket</p>} />
      <Route path="/desk/profile" element={<p>Profile page</p>} />
    </Routes>,
    { route, prepare: (client) => client.setQueryData(["me"], null) },
  );
}

async function enterPassword() {
  await userEvent.type(screen.getByLabelText("E-mail"), "manager@atum.test");
  await userEvent.type(screen.getByLabelText("Password"), "atum-manager-demo");
  await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("signing in", () => {
  beforeEach(() => window.sessionStorage.clear());

  it("without a second factor goes straight to the user's home", async () => {
    const { calls } = stubApi({ "POST /api/auth/login": { body: session() } });
    renderLogin();
    expect(screen.getByRole("link", { name: "Forgot password?" })).toHaveAttribute("href", "/forgot-password");
    await enterPassword();
    expect(await screen.findByText("Desk inbox")).toBeInTheDocument();
    // One sign-in (the GETs are the single sign-on buttons' providers).
    expect(calls.filter((c) => c.method !== "GET").map((c) => `${c.method} ${c.url}`)).toEqual(["POST /api/auth/login"]);
  });

  it("asks for the app code, then lands on the return path", async () => {
    const { calls } = stubApi({
      "POST /api/auth/login/mfa": { body: session() },
      "POST /api/auth/login": { body: CHALLENGE },
    });
    renderLogin("/login?next=%2Fdesk%2Ftickets%2Ft1");
    await enterPassword();

    expect(await screen.findByRole("heading", { level: 1, name: "Two-factor sign-in" })).toBeInTheDocument();
    const code = screen.getByLabelText("Code from your authenticator app");
    expect(code).toHaveAttribute("autocomplete", "one-time-code");
    expect(code).toHaveAttribute("inputmode", "numeric");
    expect(code).toHaveFocus();
    expect(screen.getByRole("button", { name: "Use a security key" })).toBeInTheDocument();

    await userEvent.type(code, "123 456");
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByText("A ticket")).toBeInTheDocument();
    const second = calls.find((c) => c.url === "/api/auth/login/mfa")!;
    expect(second.body).toEqual({ mfa_token: "half-login", code: "123456" });
  });

  it("says when a code is wrong and keeps the step", async () => {
    stubApi({
      "POST /api/auth/login/mfa": {
        status: 401,
        body: { detail: "The code or security key was not accepted", code: "invalid_second_factor" },
      },
      "POST /api/auth/login": { body: CHALLENGE },
    });
    renderLogin();
    await enterPassword();
    await userEvent.type(await screen.findByLabelText("Code from your authenticator app"), "000000");
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The code or security key was not accepted.");
    expect(screen.getByLabelText("Code from your authenticator app")).toHaveValue("");
  });

  it("refuses a code that is not six digits before asking", async () => {
    const { calls } = stubApi({ "POST /api/auth/login": { body: CHALLENGE } });
    renderLogin();
    await enterPassword();
    await userEvent.type(await screen.findByLabelText("Code from your authenticator app"), "12");
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Enter the 6-digit code");
    expect(calls.filter((c) => c.url === "/api/auth/login/mfa")).toEqual([]);
  });

  it("takes a recovery code instead", async () => {
    const { calls } = stubApi({
      "POST /api/auth/login/mfa": { body: session() },
      "POST /api/auth/login": { body: CHALLENGE },
    });
    renderLogin();
    await enterPassword();
    await userEvent.click(await screen.findByRole("button", { name: "Use a recovery code" }));
    const field = screen.getByLabelText("Recovery code");
    expect(field).toHaveFocus();
    await userEvent.type(field, "abcd-efgh-jkmn");
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByText("Desk inbox")).toBeInTheDocument();
    expect(calls.find((c) => c.url === "/api/auth/login/mfa")!.body).toEqual({ mfa_token: "half-login", recovery_code: "abcd-efgh-jkmn" });
  });

  it("signs with a security key", async () => {
    const { calls } = stubApi({
      "POST /api/auth/login/mfa": { body: session() },
      "POST /api/auth/login": { body: CHALLENGE },
    });
    renderLogin();
    await enterPassword();
    await userEvent.click(await screen.findByRole("button", { name: "Use a security key" }));
    expect(await screen.findByText("Desk inbox")).toBeInTheDocument();
    const { signWithKey } = await import("../../lib/webauthn");
    expect(signWithKey).toHaveBeenCalledWith(CHALLENGE.webauthn_options);
    expect(calls.find((c) => c.url === "/api/auth/login/mfa")!.body).toMatchObject({ mfa_token: "half-login", webauthn: { id: "cred" } });
  });

  it("offers only what the account has: a key and recovery codes, no app", async () => {
    stubApi({ "POST /api/auth/login": { body: { ...CHALLENGE, methods: ["webauthn", "recovery_code"] } } });
    renderLogin();
    await enterPassword();
    expect(await screen.findByRole("heading", { name: "Two-factor sign-in" })).toHaveFocus();
    expect(screen.queryByLabelText("Code from your authenticator app")).toBeNull();
    expect(screen.queryByRole("button", { name: /authenticator app/ })).toBeNull();
    expect(screen.getByRole("button", { name: "Use a recovery code" })).toBeInTheDocument();
  });

  it("goes back to the password", async () => {
    stubApi({ "POST /api/auth/login": { body: CHALLENGE } });
    renderLogin();
    await enterPassword();
    await userEvent.click(await screen.findByRole("button", { name: "Sign in as someone else" }));
    expect(screen.getByRole("heading", { name: "Sign in to ATUM DESK" })).toBeInTheDocument();
    expect(screen.getByLabelText("E-mail")).toHaveValue("manager@atum.test");
    expect(screen.getByLabelText("Password")).toHaveValue("");
  });

  it("sends a session that may only enrol a factor to the two-factor set-up", async () => {
    stubApi({ "POST /api/auth/login": { body: session({ mfa_setup_required: true, restricted: true, mfa_grace_until: "2026-01-01T00:00:00Z" }) } });
    renderLogin();
    await enterPassword();
    expect(await screen.findByText("Profile page")).toBeInTheDocument();
    await waitFor(() => expect(JSON.parse(window.sessionStorage.getItem("atum.mfaNotice")!)).toMatchObject({ restricted: true }));
  });
});
