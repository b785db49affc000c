import "@testing-library/jest-dom/vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { auditExportUrl } from "../../api/audit";
import type { AuditEntry, Org, User } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { AuditPage, auditDetails, toAuditFilter } from "./AuditPage";

const ACME: Org = {
  id: "22222222-2222-4222-8222-222222222222",
  name: "Acme Corp",
  status: "active",
  portal_visibility: "organization",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  email_domains: [],
};

const MAYA: User = {
  id: "33333333-3333-4333-8333-333333333333",
  email: "maya@atum.test",
  name: "Maya Manager",
  role: "manager",
  org_id: null,
  is_active: true,
  status: "active",
  language: "en",
  mfa_enabled: false,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

const ENTRY: AuditEntry = {
  id: "e1",
  seq: 7,
  actor_id: MAYA.id,
  actor_name: MAYA.name,
  action: "ticket.status_changed",
  entity_type: "ticket",
  entity_id: "t1",
  org_id: ACME.id,
  ticket_id: "t1",
  old_value: { status: "NEW" },
  new_value: { status: "ACCEPTED" },
  ip: null,
  request_id: null,
  created_at: "2026-03-02T10:00:00Z",
};

const localMidnight = (y: number, m: number, d: number) => new Date(y, m - 1, d).toISOString();

describe("the audit trail", () => {
  it("turns the form into API filters: 'to' includes its whole day", () => {
    expect(toAuditFilter({ actorId: "", action: "", orgId: "", from: "", to: "" })).toEqual({
      actor_id: undefined,
      action: undefined,
      org_id: undefined,
      since: undefined,
      until: undefined,
    });
    const filter = toAuditFilter({ actorId: "u1", action: "user.created", orgId: "o1", from: "2026-03-01", to: "2026-03-31" });
    expect(filter).toEqual({
      actor_id: "u1",
      action: "user.created",
      org_id: "o1",
      since: localMidnight(2026, 3, 1),
      until: localMidnight(2026, 4, 1),
    });
    const url = new URL(auditExportUrl(filter), "http://x");
    expect(url.pathname).toBe("/api/internal/audit/export.csv");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      actor_id: "u1",
      action: "user.created",
      org_id: "o1",
      since: localMidnight(2026, 3, 1),
      until: localMidnight(2026, 4, 1),
    });
    expect(auditExportUrl({})).toBe("/api/internal/audit/export.csv");
  });

  it("shows old → new compactly", () => {
    expect(auditDetails(ENTRY)).toBe("status: NEW → status: ACCEPTED");
    expect(auditDetails({ old_value: null, new_value: { name: "X", n: 2 } })).toBe("name: X, n: 2");
    expect(auditDetails({ old_value: null, new_value: null })).toBe("");
  });

  it("sends the chosen filters as the query, pages with the cursor and links the export", async () => {
    const { calls } = stubApi({
      "GET /api/orgs": { body: { items: [ACME], next_cursor: null } },
      "GET /api/users?role=manager": { body: { items: [MAYA], next_cursor: null } },
      "GET /api/internal/audit": { body: { items: [ENTRY], next_cursor: "c1" } },
    });
    renderWithApp(<AuditPage />);
    const row = (await screen.findByText("status: NEW → status: ACCEPTED")).closest("tr")!;
    expect(within(row).getByText("Maya Manager")).toBeInTheDocument();
    expect(within(row).getByText("ticket.status_changed")).toBeInTheDocument();
    expect(within(row).getByText("Acme Corp")).toBeInTheDocument();

    await userEvent.selectOptions(await screen.findByLabelText("Actor"), MAYA.id);
    await userEvent.selectOptions(screen.getByLabelText("Action"), "user.created");
    await userEvent.selectOptions(screen.getByLabelText("Organization"), ACME.id);
    await userEvent.type(screen.getByLabelText("From"), "2026-03-01");
    await userEvent.type(screen.getByLabelText("To"), "2026-03-02");

    const expected = {
      actor_id: MAYA.id,
      action: "user.created",
      org_id: ACME.id,
      since: localMidnight(2026, 3, 1),
      until: localMidnight(2026, 3, 3),
      limit: "50",
    };
    const audits = () => calls.filter((c) => c.url.startsWith("/api/internal/audit")).map((c) => new URL(c.url, "http://x"));
    await waitFor(() => expect(Object.fromEntries(audits().at(-1)!.searchParams)).toEqual(expected));

    const link = screen.getByRole("link", { name: "Export CSV" });
    const exported = new URL(link.getAttribute("href")!, "http://x");
    expect(exported.pathname).toBe("/api/internal/audit/export.csv");
    const { limit: _limit, ...withoutLimit } = expected;
    expect(Object.fromEntries(exported.searchParams)).toEqual(withoutLimit);

    await userEvent.click(await screen.findByRole("button", { name: "Load more" }));
    await waitFor(() => expect(audits().at(-1)!.searchParams.get("cursor")).toBe("c1"));
    expect(Object.fromEntries(audits().at(-1)!.searchParams)).toEqual({ ...expected, cursor: "c1" });
  });

  it("refuses an end before the start", async () => {
    stubApi({});
    renderWithApp(<AuditPage />);
    await userEvent.type(screen.getByLabelText("From"), "2026-03-05");
    await userEvent.type(screen.getByLabelText("To"), "2026-03-01");
    expect(screen.getByText("The end is before the start.")).toBeInTheDocument();
  });
});
