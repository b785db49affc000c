import "@testing-library/jest-dom/vitest";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes, useLocation } from "react-router";
import type { Me } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { LinkAccountPage } from "./LinkAccountPage";

const ARUN: Me = {
  id: "a1",
  email: "agent@atum.test",
  name: "Arun Agent",
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
  user: ARUN,
  mfa_setup_required: false,
  mfa_grace_until: null,
  restricted: false,
};

const TOKEN = "link-token-0123456789abcdef";

function Where() {
  const location = useLocation();
  return <output aria-label="Address">{location.pathname + location.search + location.hash}</output>;
}

function renderLink(route = `/login/link#${TOKEN}`) {
  return renderWithApp(
    <>
      <Routes>
        <Route path="/login/link" element={<LinkAccountPage />} />
        <Route path="/login" element={<p>Sign-in page</p>} />
        <Route path="/desk/inbox" element={<p>Desk inbox</p>} />
      </Routes>
      <Where />
    </>,
    { route, prepare: (client) => client.setQueryData(["me"], null) },
  );
}

describe("linking an existing account after a provider's sign-in", () => {
  beforeEach(() => window.sessionStorage.clear());

  it("names the provider, proves the password and lands on the user's home", async () => {
    window.sessionStorage.setItem("atum.ssoProvider", "Example SSO");
    const { calls } = stubApi({ "POST /api/auth/sso/link": { body: SESSION } });
    renderLink();
    expect(screen.getByRole("heading", { level: 1, name: "Link your account" })).toBeInTheDocument();
    expect(
      screen.getByText("An account with this e-mail already exists. Enter its password to link it to your Example SSO sign-in."),
    ).toBeInTheDocument();
    // The token leaves the address bar at once.
    expect(screen.getByRole("status", { name: "Address" })).toHaveTextContent(/^\/login\/link$/);
    await userEvent.type(screen.getByLabelText("Password"), "atum-agent-demo");
    await userEvent.click(screen.getByRole("button", { name: "Link and sign in" }));
    expect(await screen.findByText("Desk inbox")).toBeInTheDocument();
    expect(calls.find((c) => c.url === "/api/auth/sso/link")!.body).toEqual({ link_token: TOKEN, password: "atum-agent-demo" });
  });

  it("asks for the second factor when the account has one", async () => {
    const { calls } = stubApi({
      "POST /api/auth/sso/link": { body: { mfa_required: true, mfa_token: "half", methods: ["totp", "recovery_code"], webauthn_options: null } },
      "POST /api/auth/login/mfa": { body: SESSION },
    });
    renderLink();
    expect(screen.getByText(/to link it to your organization's sign-in\./)).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Password"), "atum-agent-demo");
    await userEvent.click(screen.getByRole("button", { name: "Link and sign in" }));
    expect(await screen.findByRole("heading", { name: "Two-factor sign-in" })).toBeInTheDocument();
    expect(screen.getByText(/The password was right\./)).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Code from your authenticator app"), "654321");
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByText("Desk inbox")).toBeInTheDocument();
    expect(calls.find((c) => c.url === "/api/auth/login/mfa")!.body).toEqual({ mfa_token: "half", code: "654321" });
  });

  it("says when the password is wrong and keeps the page", async () => {
    stubApi({ "POST /api/auth/sso/link": { status: 401, body: { detail: "The password is not correct", code: "invalid_credentials" } } });
    renderLink();
    await userEvent.type(screen.getByLabelText("Password"), "wrong");
    await userEvent.click(screen.getByRole("button", { name: "Link and sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The password is not correct.");
    expect(screen.getByLabelText("Password")).toBeInTheDocument();
  });

  it("sends an expired or used link back to sign in", async () => {
    stubApi({ "POST /api/auth/sso/link": { status: 400, body: { detail: "This link is invalid or has expired", code: "invalid_token" } } });
    renderLink();
    await userEvent.type(screen.getByLabelText("Password"), "atum-agent-demo");
    await userEvent.click(screen.getByRole("button", { name: "Link and sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("This link has expired or was already used.");
    await userEvent.click(screen.getByRole("link", { name: "Back to sign in" }));
    expect(await screen.findByText("Sign-in page")).toBeInTheDocument();
  });

  it("without a token says so at once", () => {
    stubApi({});
    renderLink("/login/link");
    expect(screen.getByRole("alert")).toHaveTextContent("This link has expired or was already used.");
    expect(screen.queryByLabelText("Password")).toBeNull();
  });
});
