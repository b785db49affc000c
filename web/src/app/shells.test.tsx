import "@testing-library/jest-dom/vitest";
import { screen, within } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { authKeys } from "../api/auth";
import type { Me } from "../api/types";
import { stubFetch } from "../test/fixtures";
import { renderWithApp } from "../test/render";
import { DeskShell } from "./shells";

const me = (role: Me["role"]): Me => ({ id: "u1", email: "u@desk.example", name: "Una User", role, org_id: null, org_name: null, is_active: true, language: "en" });

describe("the desk navigation", () => {
  beforeEach(() => stubFetch());

  it.each([
    ["agent", false, false],
    ["manager", true, false],
    ["admin", true, true],
  ] as const)("%s: Held mail %s, Admin %s", (role, held, admin) => {
    renderWithApp(<DeskShell />, { route: "/desk/inbox", prepare: (client) => client.setQueryData(authKeys.me, me(role)) });
    const nav = screen.getByRole("navigation", { name: "Desk" });
    expect(within(nav).queryByRole("link", { name: "Held mail" }) !== null).toBe(held);
    expect(within(nav).queryByRole("link", { name: "Admin" }) !== null).toBe(admin);
    // The audit trail: managers and admins, like held mail.
    expect(within(nav).queryByRole("link", { name: "Audit" }) !== null).toBe(held);
    if (held) expect(within(nav).getByRole("link", { name: "Held mail" })).toHaveAttribute("href", "/desk/mail/held");
  });
});

describe("the shells and two-factor sign-in", () => {
  beforeEach(() => {
    stubFetch();
    window.sessionStorage.clear();
  });

  it("link to the profile from the user box", () => {
    renderWithApp(<DeskShell />, { route: "/desk/inbox", prepare: (client) => client.setQueryData(authKeys.me, me("agent")) });
    expect(screen.getByRole("link", { name: "Your profile and security" })).toHaveAttribute("href", "/desk/profile");
  });

  it("remind a role that needs a second factor, until when, with a link to set it up", () => {
    const until = new Date(Date.now() + 48 * 3600_000).toISOString();
    window.sessionStorage.setItem("atum.mfaNotice", JSON.stringify({ setupRequired: true, graceUntil: until, restricted: false }));
    renderWithApp(<DeskShell />, { route: "/desk/inbox", prepare: (client) => client.setQueryData(authKeys.me, me("manager")) });
    expect(screen.getByText(/Your role requires two-factor sign-in\. Set it up before/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Set up two-factor sign-in" })).toHaveAttribute("href", "/desk/profile#two-factor");
  });

  it("send a session that may only enrol a factor to the set-up, with no navigation", () => {
    window.sessionStorage.setItem("atum.mfaNotice", JSON.stringify({ setupRequired: true, graceUntil: null, restricted: true }));
    renderWithApp(
      <Routes>
        <Route path="/desk" element={<DeskShell />}>
          <Route path="inbox" element={<p>Inbox</p>} />
          <Route path="profile" element={<p>Profile</p>} />
        </Route>
      </Routes>,
      { route: "/desk/inbox", prepare: (client) => client.setQueryData(authKeys.me, me("manager")) },
    );
    expect(screen.getByText("Profile")).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Inbox" })).toBeNull();
    expect(screen.queryByText(/Set it up before/)).toBeNull();
  });
});
