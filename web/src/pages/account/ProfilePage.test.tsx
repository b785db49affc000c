import "@testing-library/jest-dom/vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import type { MfaStatus } from "../../api/account";
import type { Me } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { ProfilePage } from "./ProfilePage";
import { groupSecret, qrImageSource } from "./TwoFactorSection";

export const CODY: Me = {
  id: "c1",
  email: "user@acme.test",
  name: "Cody Customer",
  role: "customer_user",
  org_id: "o1",
  org_name: "Acme Corp",
  is_active: true,
  language: "en",
};

export const MFA_OFF: MfaStatus = { totp: false, webauthn: [], recovery_codes_left: 0, required: false, grace_until: null };
export const SESSIONS = {
  items: [
    { id: "s1", current: true, device: "Chrome 131 on Linux", ip: "127.0.0.1", created_at: "2026-01-02T08:00:00Z", last_seen_at: "2026-01-02T09:00:00Z" },
    { id: "s2", current: false, device: "Firefox 133 on Windows", ip: "10.0.0.7", created_at: "2026-01-01T08:00:00Z", last_seen_at: "2026-01-01T12:00:00Z" },
  ],
};
export const QR = '<svg width="185" height="185" class="segno"><path d="M0 0h1v1h-1z"/></svg>';
export const CODES = Array.from({ length: 10 }, (_, i) => `abcd-efgh-jk${String(i).padStart(2, "0")}`);

export function renderProfile(route = "/portal/profile") {
  return renderWithApp(
    <Routes>
      <Route path="/portal/profile" element={<ProfilePage />} />
    </Routes>,
    { route, prepare: (client) => client.setQueryData(["me"], CODY) },
  );
}

describe("the profile", () => {
  beforeEach(() => window.sessionStorage.clear());

  it("turns on an authenticator app: password, QR code and key, code, then the recovery codes once", async () => {
    const { calls } = stubApi({
      "GET /api/me/mfa": { body: MFA_OFF },
      "GET /api/me/sessions": { body: SESSIONS },
      "POST /api/me/mfa/totp/confirm": { body: { recovery_codes: CODES } },
      "POST /api/me/mfa/totp": { body: { secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://totp/x", qr_svg: QR } },
      "POST /api/me/sessions/revoke-others": { status: 204 },
    });
    renderProfile();
    const section = await screen.findByRole("region", { name: "Two-factor sign-in" });
    expect(await within(section).findByText("Off")).toBeInTheDocument();
    await userEvent.click(within(section).getByRole("button", { name: "Set up authenticator app" }));

    let dialog = screen.getByRole("dialog", { name: "Set up an authenticator app" });
    await userEvent.type(within(dialog).getByLabelText("Current password"), "acme-user-demo");
    await userEvent.click(within(dialog).getByRole("button", { name: "Continue" }));

    dialog = await screen.findByRole("dialog", { name: "Set up an authenticator app" });
    const qr = await within(dialog).findByRole("img", { name: /QR code/ });
    expect(qr.getAttribute("src")).toMatch(/^data:image\/svg\+xml;charset=utf-8,/);
    expect(decodeURIComponent(qr.getAttribute("src")!)).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(within(dialog).getByText("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP")).toBeInTheDocument();
    const code = within(dialog).getByLabelText("Code from the app");
    expect(code).toHaveAttribute("autocomplete", "one-time-code");
    expect(code).toHaveFocus();
    await userEvent.type(code, "123456");
    await userEvent.click(within(dialog).getByRole("button", { name: "Turn on" }));

    const list = await within(dialog).findByRole("list", { name: "Recovery codes" });
    expect(within(list).getAllByRole("listitem")).toHaveLength(10);
    expect(within(dialog).getByRole("link", { name: "Download" })).toHaveAttribute("download", "atum-desk-recovery-codes.txt");
    await userEvent.click(within(dialog).getByRole("button", { name: "I saved my recovery codes" }));
    expect(screen.queryByRole("dialog")).toBeNull();

    expect(calls.find((c) => c.url === "/api/me/mfa/totp")!.body).toEqual({ current_password: "acme-user-demo" });
    expect(calls.find((c) => c.url === "/api/me/mfa/totp/confirm")!.body).toEqual({ code: "123456" });
    // After a factor change: the offer to end every other session.
    await userEvent.click(within(section).getByRole("button", { name: "Sign out everywhere else" }));
    await waitFor(() => expect(calls.some((c) => c.url === "/api/me/sessions/revoke-others")).toBe(true));
    expect(await within(section).findByText(/Every other session was signed out/)).toBeInTheDocument();
  });

  it("says a wrong current password at the field", async () => {
    stubApi({
      "GET /api/me/mfa": { body: MFA_OFF },
      "GET /api/me/sessions": { body: SESSIONS },
      "POST /api/me/mfa/totp": {
        status: 400,
        body: { detail: "The current password is not correct", code: "wrong_password" },
      },
    });
    renderProfile();
    await userEvent.click(await screen.findByRole("button", { name: "Set up authenticator app" }));
    const dialog = screen.getByRole("dialog", { name: "Set up an authenticator app" });
    await userEvent.type(within(dialog).getByLabelText("Current password"), "wrong");
    await userEvent.click(within(dialog).getByRole("button", { name: "Continue" }));
    expect(await within(dialog).findByText("The current password is not correct.")).toBeInTheDocument();
    expect(within(dialog).getByLabelText("Current password")).toHaveAttribute("aria-invalid", "true");
  });

  it("lists the sessions, marks this device and signs another out", async () => {
    const { calls } = stubApi({
      "GET /api/me/mfa": { body: MFA_OFF },
      "GET /api/me/sessions": { body: SESSIONS },
      "DELETE /api/me/sessions/s2": { status: 204 },
    });
    renderProfile();
    const table = await screen.findByRole("table", { name: "Your sessions" });
    const rows = within(table).getAllByRole("row");
    expect(within(rows[1]!).getByText("This device")).toBeInTheDocument();
    expect(within(rows[1]!).queryByRole("button")).toBeNull();
    await userEvent.click(within(rows[2]!).getByRole("button", { name: /^Sign out Firefox 133 on Windows \(10\.0\.0\.7\)/ }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.url === "/api/me/sessions/s2")).toBe(true));
  });

  it("changes the password and says the other sessions ended", async () => {
    const { calls } = stubApi({
      "GET /api/me/mfa": { body: MFA_OFF },
      "GET /api/me/sessions": { body: SESSIONS },
      "POST /api/me/password": { status: 204 },
    });
    renderProfile();
    const card = await screen.findByRole("region", { name: "Password" });
    await userEvent.type(within(card).getByLabelText("Current password"), "acme-user-demo");
    await userEvent.type(within(card).getByLabelText("New password"), "tangerine orbit cello marsh");
    await userEvent.type(within(card).getByLabelText("Repeat the new password"), "tangerine orbit cello marsh");
    await userEvent.click(within(card).getByRole("button", { name: "Change password" }));
    expect(await within(card).findByText(/Every other session of your account was signed out/)).toBeInTheDocument();
    expect(calls.find((c) => c.url === "/api/me/password")!.body).toEqual({
      current_password: "acme-user-demo",
      new_password: "tangerine orbit cello marsh",
    });
  });

  it("shows only the two-factor set-up to a session that may do nothing else", async () => {
    window.sessionStorage.setItem("atum.mfaNotice", JSON.stringify({ setupRequired: true, graceUntil: null, restricted: true }));
    const { calls } = stubApi({ "GET /api/me/mfa": { body: { ...MFA_OFF, required: true } } });
    renderProfile("/portal/profile#two-factor");
    expect(await screen.findByText(/the time to set it up is over/)).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Two-factor sign-in" })).toHaveFocus();
    expect(screen.queryByRole("region", { name: "Password" })).toBeNull();
    expect(screen.queryByRole("region", { name: "Where you are signed in" })).toBeNull();
    expect(calls.map((c) => c.url)).toEqual(["/api/me/mfa"]);
  });
});

describe("the QR code and the secret", () => {
  it("become an image with a namespace and a viewBox, and groups of four", () => {
    const src = decodeURIComponent(qrImageSource(QR));
    expect(src).toMatch(/^data:image\/svg\+xml;charset=utf-8,<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(src).toMatch(/^data:image\/svg\+xml;charset=utf-8,<svg [^>]*viewBox="0 0 185 185"/);
    expect(groupSecret("ABCDEFGHIJ")).toBe("ABCD EFGH IJ");
  });
});
