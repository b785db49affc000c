import "@testing-library/jest-dom/vitest";
import { screen, within } from "@testing-library/react";
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
    if (held) expect(within(nav).getByRole("link", { name: "Held mail" })).toHaveAttribute("href", "/desk/mail/held");
  });
});
