import "@testing-library/jest-dom/vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Team, User } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { AdminTeamsPage } from "./AdminTeamsPage";

const staff = (id: string, name: string, role: User["role"]): User => ({
  id,
  email: `${id}@atum.test`,
  name,
  role,
  org_id: null,
  is_active: true,
  status: "active",
  language: "en",
  mfa_enabled: false,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
});

const ARUN = staff("a1", "Arun Agent", "agent");
const MAYA = staff("m1", "Maya Manager", "manager");
const NETWORK: Team = { id: "t1", name: "Network", member_ids: [ARUN.id], created_at: "2026-01-01T00:00:00Z" };

describe("admin: teams", () => {
  it("lists teams with their members and creates a team with members", async () => {
    const created: Team = { id: "t2", name: "Printers", member_ids: [ARUN.id, MAYA.id], created_at: "2026-01-02T00:00:00Z" };
    const { calls } = stubApi({
      "GET /api/teams": { body: { items: [NETWORK], next_cursor: null } },
      "GET /api/users?role=agent": { body: { items: [ARUN], next_cursor: null } },
      "GET /api/users?role=manager": { body: { items: [MAYA], next_cursor: null } },
      "POST /api/teams": { status: 201, body: created },
    });
    renderWithApp(<AdminTeamsPage />);
    const row = (await screen.findByText("Network")).closest("tr")!;
    expect(await within(row).findByText("Arun Agent")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "New team" }));
    const dialog = screen.getByRole("dialog", { name: "New team" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Create team" }));
    expect(within(dialog).getByText("Enter a name.")).toBeInTheDocument();

    await userEvent.type(within(dialog).getByLabelText("Name"), "  Printers ");
    await userEvent.click(within(dialog).getByLabelText("Arun Agent (Agent)"));
    await userEvent.click(within(dialog).getByLabelText("Maya Manager (Manager)"));
    await userEvent.click(within(dialog).getByRole("button", { name: "Create team" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ name: "Printers", member_ids: [ARUN.id, MAYA.id] });
    expect(await screen.findByText("Team Printers created")).toBeInTheDocument();
  });

  it("edits the name and the members", async () => {
    const { calls } = stubApi({
      "GET /api/teams": { body: { items: [NETWORK], next_cursor: null } },
      "GET /api/users?role=agent": { body: { items: [ARUN], next_cursor: null } },
      "GET /api/users?role=manager": { body: { items: [MAYA], next_cursor: null } },
      "PATCH /api/teams/t1": { body: { ...NETWORK, name: "Networks", member_ids: [MAYA.id] } },
    });
    renderWithApp(<AdminTeamsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Edit Network" }));
    const dialog = screen.getByRole("dialog", { name: "Edit Network" });
    const name = within(dialog).getByLabelText("Name");
    await userEvent.clear(name);
    await userEvent.type(name, "Networks");
    expect(await within(dialog).findByLabelText("Arun Agent (Agent)")).toBeChecked();
    await userEvent.click(within(dialog).getByLabelText("Arun Agent (Agent)"));
    await userEvent.click(within(dialog).getByLabelText("Maya Manager (Manager)"));
    await userEvent.click(within(dialog).getByRole("button", { name: "Save team" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.find((c) => c.method === "PATCH")!.body).toEqual({ name: "Networks", member_ids: [MAYA.id] });
  });

  it("shows a name conflict", async () => {
    stubApi({
      "GET /api/teams": { body: { items: [], next_cursor: null } },
      "POST /api/teams": { status: 409, body: { detail: "A team with this name already exists", code: "conflict" } },
    });
    renderWithApp(<AdminTeamsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "New team" }));
    const dialog = screen.getByRole("dialog", { name: "New team" });
    await userEvent.type(within(dialog).getByLabelText("Name"), "Network");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create team" }));
    expect(await within(dialog).findByText("A team with this name already exists")).toBeInTheDocument();
  });
});
