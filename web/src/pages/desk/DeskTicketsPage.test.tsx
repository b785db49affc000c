import "@testing-library/jest-dom/vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import type { SavedView } from "../../api/views";
import { staffTicket, stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { bulkAction } from "./BulkBar";
import { DeskTicketsPage, filterFromParams, paramsFromFilter } from "./DeskTicketsPage";

const VIEW = "66666666-6666-4666-8666-666666666666";
const OPEN = ["NEW", "ACCEPTED", "ASSIGNED", "IN_PROGRESS", "WAITING_CUSTOMER"];
const t1 = staffTicket({ id: "a1111111-1111-4111-8111-111111111111", number: 1001, title: "Printer jammed" });
const t2 = staffTicket({ id: "a2222222-2222-4222-8222-222222222222", number: 1002, title: "VPN down" });
const t3 = staffTicket({ id: "a3333333-3333-4333-8333-333333333333", number: 1003, title: "Mailbox full" });

const view = (overrides: Partial<SavedView> = {}): SavedView => ({
  id: VIEW,
  name: "My P1s",
  scope: "personal",
  team_id: null,
  owner_id: "77777777-7777-4777-8777-777777777777",
  filters: { priority: ["P1"], assigned_to: "me" },
  position: 0,
  builtin: false,
  editable: true,
  created_at: "2026-01-01T00:00:00Z",
  count: 3,
  ...overrides,
});

function renderAt(route: string) {
  return renderWithApp(
    <Routes>
      <Route path="/desk/tickets" element={<DeskTicketsPage />} />
      <Route path="/desk/views/:viewId" element={<DeskTicketsPage />} />
      <Route path="/desk/tickets/:id" element={<p>Ticket page</p>} />
    </Routes>,
    { route },
  );
}

describe("the list's filters in the URL", () => {
  it("round-trips every filter, 'open' and the assignee words included", () => {
    const params = new URLSearchParams("status=open&priority=P1,P2&assignee=me&team=t&channel=email&due=4&breached=1&q=vpn&tag=net&org=o");
    const filter = filterFromParams(params);
    expect(filter).toEqual({
      status: OPEN,
      priority: ["P1", "P2"],
      org_id: "o",
      assigned_to: "me",
      team_id: "t",
      channel: "email",
      due_within_hours: 4,
      breached: true,
      q: "vpn",
      tag: "net",
    });
    expect(filterFromParams(paramsFromFilter(filter))).toEqual(filter);
    expect(filterFromParams(new URLSearchParams("due=soon")).due_within_hours).toBeUndefined();
  });
});

describe("bulk actions", () => {
  it("builds the API's action for each choice, or none while one is missing", () => {
    expect(bulkAction("assign", "me", "")).toEqual({ type: "assign", me: true });
    expect(bulkAction("assign", "team:T", "")).toEqual({ type: "assign", me: false, team_id: "T" });
    expect(bulkAction("assign", "U", "")).toEqual({ type: "assign", me: false, assignee_id: "U" });
    expect(bulkAction("status", "RESOLVED", "")).toBeNull();
    expect(bulkAction("status", "RESOLVED", "Fixed")).toBeNull();
    expect(bulkAction("status", "RESOLVED", "Fixed", "Worn toner")).toEqual({
      type: "status",
      status: "RESOLVED",
      resolution: "Fixed",
      root_cause: "Worn toner",
    });
    expect(bulkAction("status", "CLOSED", "")).toEqual({ type: "status", status: "CLOSED" });
    expect(bulkAction("priority", "P2", "")).toEqual({ type: "priority", priority: "P2" });
    expect(bulkAction("tag", " VPN ", "")).toEqual({ type: "tags", add: ["vpn"], remove: [] });
    expect(bulkAction("macro", "M", "")).toEqual({ type: "macro", macro_id: "M" });
    expect(bulkAction("priority", "", "")).toBeNull();
  });

  it("applies one action to the selected tickets and shows each refusal with its reason", async () => {
    const api = stubApi({
      "GET /api/internal/views": { body: { items: [view()] } },
      [`GET /api/internal/views/${VIEW}/tickets`]: { body: { items: [t1, t2, t3], next_cursor: null } },
      "POST /api/internal/tickets/bulk": {
        body: {
          results: [
            { ticket_id: t1.id, ok: true, status_code: 200 },
            { ticket_id: t3.id, ok: false, status_code: 409, detail: "A closed ticket cannot change priority" },
          ],
        },
      },
    });
    renderAt(`/desk/views/${VIEW}`);
    expect(await screen.findByRole("heading", { name: "My P1s" })).toBeInTheDocument();
    await userEvent.click(await screen.findByRole("checkbox", { name: "Select #1001" }));
    await userEvent.click(screen.getByRole("checkbox", { name: "Select #1003" }));
    const bar = screen.getByRole("region", { name: "Bulk actions" });
    expect(within(bar).getByText("2 selected")).toBeInTheDocument();
    await userEvent.selectOptions(within(bar).getByLabelText("Action"), "priority");
    await userEvent.selectOptions(within(bar).getByLabelText("Priority"), "P2");
    await userEvent.click(within(bar).getByRole("button", { name: "Apply" }));

    expect(await within(bar).findByText("1 done, 1 refused.")).toBeInTheDocument();
    const refused = within(bar).getByRole("list", { name: "Refused tickets" });
    expect(refused).toHaveTextContent("#1003 Mailbox full — A closed ticket cannot change priority");
    const post = api.calls.find((c) => c.method === "POST");
    expect(post?.body).toEqual({ ticket_ids: [t1.id, t3.id], action: { type: "priority", priority: "P2" } });
  });

  it("'select all N matching' fetches every id through the list's pages", async () => {
    const api = stubApi({
      "GET /api/internal/views": { body: { items: [view()] } },
      [`GET /api/internal/views/${VIEW}/tickets`]: { body: { items: [t1, t2], next_cursor: "c1" } },
      [`GET /api/internal/views/${VIEW}/tickets?cursor=c1`]: { body: { items: [t3], next_cursor: null } },
      "POST /api/internal/tickets/bulk": { body: { results: [] } },
    });
    renderAt(`/desk/views/${VIEW}`);
    await userEvent.click(await screen.findByRole("checkbox", { name: "Select every ticket shown" }));
    await userEvent.click(screen.getByRole("button", { name: "Select all 3 matching" }));
    const bar = screen.getByRole("region", { name: "Bulk actions" });
    expect(within(bar).getByText("All 3 matching")).toBeInTheDocument();
    await userEvent.selectOptions(within(bar).getByLabelText("Assign to"), "me");
    await userEvent.click(within(bar).getByRole("button", { name: "Apply" }));
    await waitFor(() => expect(api.calls.some((c) => c.method === "POST")).toBe(true));
    const post = api.calls.find((c) => c.method === "POST");
    expect(post?.body).toEqual({ ticket_ids: [t1.id, t2.id, t3.id], action: { type: "assign", me: true } });
  });
});

describe("views", () => {
  it("saves the current filters as a view and opens it", async () => {
    const api = stubApi({
      "POST /api/internal/views": { status: 201, body: view({ name: "Mine open" }) },
      "GET /api/internal/views": { body: { items: [view({ name: "Mine open" })] } },
      [`GET /api/internal/views/${VIEW}/tickets`]: { body: { items: [t1], next_cursor: null } },
    });
    renderAt("/desk/tickets?status=open&assignee=me");
    await userEvent.click(await screen.findByRole("button", { name: "Save view" }));
    await userEvent.type(screen.getByLabelText("Name"), "Mine open");
    await userEvent.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Save view" }));
    await waitFor(() => expect(api.calls.some((c) => c.method === "POST")).toBe(true));
    expect(api.calls.find((c) => c.method === "POST")?.body).toEqual({
      name: "Mine open",
      scope: "personal",
      team_id: null,
      filters: { status: OPEN, assigned_to: "me" },
    });
    expect(await screen.findByRole("heading", { name: "Mine open" })).toBeInTheDocument();
  });

  it("j/k move through the list and Enter opens the ticket", async () => {
    stubApi({
      "GET /api/internal/views": { body: { items: [view({ builtin: true, editable: false, scope: "shared" })] } },
      [`GET /api/internal/views/${VIEW}/tickets`]: { body: { items: [t1, t2, t3], next_cursor: null } },
    });
    renderAt(`/desk/views/${VIEW}`);
    await screen.findByText("Printer jammed");
    expect(screen.queryByRole("button", { name: "Delete" })).toBeNull();
    await userEvent.keyboard("jjk");
    const row = screen.getByText("Printer jammed").closest("tr");
    expect(row).toHaveClass("desk-row--active");
    await userEvent.keyboard("j{Enter}");
    expect(await screen.findByText("Ticket page")).toBeInTheDocument();
  });
});
