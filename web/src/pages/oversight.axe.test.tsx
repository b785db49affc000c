import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import type { AuditEntry, Me, Team, User } from "../api/types";
import { stubApi } from "../test/fixtures";
import { renderWithApp } from "../test/render";
import { AdminTagsPage } from "./admin/AdminTagsPage";
import { AdminTeamsPage } from "./admin/AdminTeamsPage";
import { AuditPage } from "./desk/AuditPage";

/** axe-core over the document (jsdom cannot compute colours: contrast is the browser suite's). */
async function violations(): Promise<string[]> {
  const result = await axe.run(document.body, { rules: { "color-contrast": { enabled: false }, region: { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

const ENTRY: AuditEntry = {
  id: "e1",
  seq: 7,
  actor_id: "m1",
  actor_name: "Maya Manager",
  action: "ticket.status_changed",
  entity_type: "ticket",
  entity_id: "t1",
  org_id: null,
  ticket_id: "t1",
  old_value: { status: "NEW" },
  new_value: { status: "ACCEPTED" },
  ip: null,
  request_id: null,
  created_at: "2026-03-02T10:00:00Z",
};

const ARUN: User = {
  id: "a1",
  email: "arun@atum.test",
  name: "Arun Agent",
  role: "agent",
  org_id: null,
  is_active: true,
  status: "active",
  language: "en",
  mfa_enabled: false,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

const NETWORK: Team = { id: "t1", name: "Network", member_ids: [ARUN.id], created_at: "2026-01-01T00:00:00Z" };

const ADA: Me = { id: "a1", email: "admin@atum.test", name: "Ada Admin", role: "admin", org_id: null, org_name: null, is_active: true, language: "en" };

describe("the audit trail and the teams pages pass axe-core", () => {
  it("audit trail, with entries and a filter error", async () => {
    stubApi({ "GET /api/internal/audit": { body: { items: [ENTRY], next_cursor: "c1" } } });
    renderWithApp(<AuditPage />, { prepare: (client) => client.setQueryData(["me"], ADA) });
    await screen.findByRole("button", { name: "Load more" });
    expect(await violations()).toEqual([]);
    await userEvent.type(screen.getByLabelText("From"), "2026-03-05");
    await userEvent.type(screen.getByLabelText("To"), "2026-03-01");
    expect(await violations()).toEqual([]);
  });

  it("teams, the list and the dialog", async () => {
    stubApi({
      "GET /api/teams": { body: { items: [NETWORK], next_cursor: null } },
      "GET /api/users?role=agent": { body: { items: [ARUN], next_cursor: null } },
    });
    renderWithApp(<AdminTeamsPage />, { prepare: (client) => client.setQueryData(["me"], ADA) });
    await screen.findByText("Network");
    expect(await violations()).toEqual([]);
    await userEvent.click(screen.getByRole("button", { name: "New team" }));
    const dialog = screen.getByRole("dialog", { name: "New team" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Create team" }));
    await within(dialog).findByText("Enter a name.");
    expect(await violations()).toEqual([]);
  });

  it("tags, the list and the rename/merge dialog", async () => {
    stubApi({
      "GET /api/internal/tags": { body: { items: [{ id: "g1", name: "vpn", count: 2 }, { id: "g2", name: "printer", count: 1 }], next_cursor: null } },
    });
    renderWithApp(<AdminTagsPage />, { prepare: (client) => client.setQueryData(["me"], ADA) });
    await screen.findByText("printer");
    expect(await violations()).toEqual([]);
    await userEvent.click(screen.getByRole("button", { name: "Rename or merge vpn" }));
    screen.getByRole("dialog", { name: "Tag vpn" });
    expect(await violations()).toEqual([]);
  });
});
