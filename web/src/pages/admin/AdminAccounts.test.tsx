import "@testing-library/jest-dom/vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Me, User } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { AdminSecurityPage } from "./AdminSecurityPage";
import { AdminUsersPage } from "./AdminUsersPage";

const ADA: Me = { id: "a1", email: "admin@atum.test", name: "Ada Admin", role: "admin", org_id: null, org_name: null, is_active: true, language: "en" };
const ACME = { id: "22222222-2222-4222-8222-222222222222", name: "Acme Corp", status: "active", created_at: "", updated_at: "", email_domains: [] };

const user = (overrides: Partial<User>): User => ({
  id: "u1",
  email: "nina@acme.test",
  name: "Nina New",
  role: "customer_user",
  org_id: ACME.id,
  is_active: true,
  status: "invited",
  language: "en",
  mfa_enabled: false,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  ...overrides,
});

describe("admin: users and their accounts", () => {
  it("invites when no password is given", async () => {
    const { calls } = stubApi({
      "GET /api/orgs": { body: { items: [ACME], next_cursor: null } },
      "GET /api/users": { body: { items: [], next_cursor: null } },
      "POST /api/users": { status: 201, body: user({}) },
    });
    renderWithApp(<AdminUsersPage />, { prepare: (client) => client.setQueryData(["me"], ADA) });
    await userEvent.click(await screen.findByRole("button", { name: "New user" }));
    const dialog = screen.getByRole("dialog", { name: "New user" });
    expect(within(dialog).getByLabelText("Password (optional)")).toHaveAccessibleDescription(/Leave empty to send an invitation/);
    await userEvent.type(within(dialog).getByLabelText("Name"), "Nina New");
    await userEvent.type(within(dialog).getByLabelText("E-mail"), "nina@acme.test");
    // The least privileged role is the default.
    expect(within(dialog).getByLabelText("Role")).toHaveValue("customer_user");
    await userEvent.selectOptions(await within(dialog).findByLabelText("Organization"), ACME.id);
    await userEvent.click(within(dialog).getByRole("button", { name: "Create and invite" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({
      name: "Nina New",
      email: "nina@acme.test",
      role: "customer_user",
      org_id: ACME.id,
      password: null,
    });
    expect(await screen.findByText("Invitation sent to nina@acme.test")).toBeInTheDocument();
  });

  it("shows status and 2FA, resends an invitation and resets two-factor after confirming", async () => {
    // (the reset is offered in the edit dialog, for users with a factor, to admins)
    const maya = user({ id: "u2", name: "Maya Manager", email: "m@atum.test", role: "manager", org_id: null, status: "active", mfa_enabled: true });
    const { calls } = stubApi({
      "GET /api/users": { body: { items: [user({}), maya], next_cursor: null } },
      "POST /api/users/u1/invitation": { status: 202, body: { detail: "Invitation sent" } },
      "POST /api/users/u2/mfa/reset": { status: 204 },
    });
    renderWithApp(<AdminUsersPage />, { prepare: (client) => client.setQueryData(["me"], ADA) });
    const nina = (await screen.findByRole("rowheader", { name: /^Nina New/ })).closest("tr")!;
    expect(within(nina).getByText("Invited")).toBeInTheDocument();
    await userEvent.click(within(nina).getByRole("button", { name: "Resend invitation to Nina New" }));
    await waitFor(() => expect(calls.some((c) => c.url === "/api/users/u1/invitation")).toBe(true));

    const row = screen.getByRole("rowheader", { name: /^Maya Manager/ }).closest("tr")!;
    expect(within(row).getByText("Active")).toBeInTheDocument();
    expect(within(row).getByText("On")).toBeInTheDocument();
    await userEvent.click(within(row).getByRole("button", { name: "Edit Maya Manager" }));
    const edit = screen.getByRole("dialog", { name: "Edit Maya Manager" });
    expect(within(edit).getByRole("group", { name: "Sign-in" })).toHaveTextContent("Two-factor sign-in: on.");
    await userEvent.click(within(edit).getByRole("button", { name: "Reset two-factor…" }));
    // The confirmation replaces the edit dialog.
    const dialog = screen.getByRole("dialog", { name: "Reset two-factor sign-in of Maya Manager?" });
    expect(screen.getAllByRole("dialog")).toHaveLength(1);
    expect(calls.some((c) => c.url === "/api/users/u2/mfa/reset")).toBe(false);
    await userEvent.click(within(dialog).getByRole("button", { name: "Reset two-factor" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.url === "/api/users/u2/mfa/reset")).toBe(true));
  });
});

describe("admin: two-factor policy", () => {
  it("saves every role with PUT", async () => {
    const items = [
      { role: "admin", required: true, grace_hours: 72 },
      { role: "agent", required: false, grace_hours: 72 },
    ];
    const { calls } = stubApi({
      "GET /api/admin/mfa-policy": { body: { items } },
      "PUT /api/admin/mfa-policy": { body: { items } },
    });
    renderWithApp(<AdminSecurityPage />);
    await userEvent.click(await screen.findByRole("checkbox", { name: "Required for Agent" }));
    const hours = screen.getByLabelText("Grace period in hours for Agent");
    await userEvent.clear(hours);
    await userEvent.type(hours, "24");
    await userEvent.click(screen.getByRole("button", { name: "Save policy" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PUT")).toBe(true));
    expect(calls.find((c) => c.method === "PUT")!.body).toEqual({
      items: [
        { role: "admin", required: true, grace_hours: 72 },
        { role: "agent", required: true, grace_hours: 24 },
      ],
    });
  });
});
