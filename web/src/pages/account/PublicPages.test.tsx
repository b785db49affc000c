import "@testing-library/jest-dom/vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes, useLocation } from "react-router";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { ConfirmEmailPage } from "./ConfirmEmailPage";
import { FORGOT_SENT, ForgotPasswordPage } from "./ForgotPasswordPage";
import { ResetPasswordPage } from "./ResetPasswordPage";
import { WelcomePage } from "./WelcomePage";

const STRONG = "tangerine orbit cello marsh";

function Where() {
  const location = useLocation();
  return <p>At {location.pathname + location.hash}</p>;
}

function renderAt(route: string, pattern: string, element: React.ReactElement) {
  return renderWithApp(
    <Routes>
      <Route path={pattern} element={element} />
      <Route path="*" element={<Where />} />
    </Routes>,
    { route, prepare: (client) => client.setQueryData(["me"], null) },
  );
}

const BAD_LINK = { status: 400, body: { detail: "This link is invalid or has expired", code: "invalid_token" } };

describe("the welcome page", () => {
  it("greets, sets the password, signs in and goes to the two-factor set-up the role requires", async () => {
    const { calls } = stubApi({
      "POST /api/auth/invitation/inspect": { body: { email: "max@desk.example", name: "Max Manager", mfa_required: true } },
      "POST /api/auth/invitation/accept": { status: 204 },
      "POST /api/auth/login": {
        body: {
          mfa_required: false,
          access_token: "t",
          csrf_token: "c",
          token_type: "bearer",
          expires_in: 60,
          user: { id: "m", email: "max@desk.example", name: "Max Manager", role: "manager", org_id: null, org_name: null, is_active: true, language: "en" },
          mfa_setup_required: true,
          mfa_grace_until: "2026-01-04T00:00:00Z",
          restricted: false,
        },
      },
    });
    renderAt("/welcome/tok", "/welcome/:token", <WelcomePage />);
    expect(await screen.findByRole("heading", { level: 1, name: "Welcome, Max Manager" })).toBeInTheDocument();
    expect(screen.getByLabelText("E-mail")).toHaveValue("max@desk.example");
    await userEvent.type(screen.getByLabelText("Password"), STRONG);
    await userEvent.type(screen.getByLabelText("Repeat the password"), STRONG);
    await userEvent.click(screen.getByRole("button", { name: "Set password and sign in" }));
    expect(await screen.findByText("At /desk/profile#two-factor")).toBeInTheDocument();
    expect(calls.map((c) => c.url)).toEqual(["/api/auth/invitation/inspect", "/api/auth/invitation/accept", "/api/auth/login"]);
    expect(calls[1]!.body).toEqual({ token: "tok", password: STRONG });
    expect(calls[2]!.body).toEqual({ email: "max@desk.example", password: STRONG });
  });

  it("says a used or expired invitation does not work, without telling why", async () => {
    stubApi({ "POST /api/auth/invitation/inspect": BAD_LINK });
    renderAt("/welcome/old", "/welcome/:token", <WelcomePage />);
    expect(await screen.findByRole("heading", { name: "This invitation does not work" })).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("This link is invalid or has expired.");
  });
});

describe("a forgotten password", () => {
  it("always gets the same answer", async () => {
    const { calls } = stubApi({ "POST /api/auth/password/forgot": { status: 202, body: { detail: "anything" } } });
    renderAt("/forgot-password", "/forgot-password", <ForgotPasswordPage />);
    await userEvent.type(screen.getByLabelText("E-mail"), "someone@acme.test");
    await userEvent.click(screen.getByRole("button", { name: "Send the link" }));
    expect(await screen.findByRole("status")).toHaveTextContent(FORGOT_SENT);
    expect(screen.getByRole("heading", { name: "Check your mail" })).toHaveFocus();
    expect(calls[0]!.body).toEqual({ email: "someone@acme.test" });
  });

  it("is reset from the link, with the server's reason when the password is refused", async () => {
    const { calls } = stubApi({
      "POST /api/auth/password/reset": {
        status: 422,
        body: { detail: [{ loc: ["body", "password"], msg: "This password is too easy to guess.", type: "invalid" }], code: "invalid" },
      },
    });
    renderAt("/reset-password/tok", "/reset-password/:token", <ResetPasswordPage />);
    await userEvent.type(screen.getByLabelText("New password"), "password1234");
    await userEvent.type(screen.getByLabelText("Repeat the new password"), "password1234");
    await userEvent.click(screen.getByRole("button", { name: "Save the new password" }));
    expect(await screen.findByText("This password is too easy to guess.")).toBeInTheDocument();
    expect(screen.getByLabelText("New password")).toHaveAttribute("aria-invalid", "true");
    expect(calls[0]!.body).toEqual({ token: "tok", password: "password1234" });
  });

  it("points a dead link to a new one", async () => {
    stubApi({ "POST /api/auth/password/reset": BAD_LINK });
    renderAt("/reset-password/old", "/reset-password/:token", <ResetPasswordPage />);
    await userEvent.type(screen.getByLabelText("New password"), STRONG);
    await userEvent.type(screen.getByLabelText("Repeat the new password"), STRONG);
    await userEvent.click(screen.getByRole("button", { name: "Save the new password" }));
    expect(await screen.findByRole("link", { name: "Ask for a new link" })).toHaveAttribute("href", "/forgot-password");
  });
});

describe("confirming a new e-mail address", () => {
  it("happens on the button press, never on opening the link", async () => {
    const { calls } = stubApi({ "POST /api/auth/email/confirm": { status: 204 } });
    renderAt("/confirm-email/tok", "/confirm-email/:token", <ConfirmEmailPage />);
    const button = screen.getByRole("button", { name: "Confirm this address" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toEqual([]);
    await userEvent.click(button);
    expect(await screen.findByRole("heading", { name: "Your e-mail address was changed" })).toBeInTheDocument();
    await waitFor(() => expect(calls.map((c) => c.url)).toEqual(["/api/auth/email/confirm"]));
    expect(calls[0]!.body).toEqual({ token: "tok" });
  });
});
