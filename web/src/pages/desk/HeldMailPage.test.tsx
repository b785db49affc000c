import "@testing-library/jest-dom/vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import type { HeldMail, Org } from "../../api/types";
import { staffTicket, stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { HeldMailPage } from "./HeldMailPage";

const HELD: HeldMail = {
  id: "44444444-4444-4444-8444-444444444444",
  mailbox: "support@desk.example",
  from_address: "new.person@globex.example",
  subject: "Printer on fire",
  received_at: "2026-01-02T08:00:00Z",
  reason: "unknown sender new.person@globex.example",
  excerpt: "The printer on floor 2 is smoking.",
};

const org = (id: string, name: string, status: Org["status"] = "active"): Org => ({
  id,
  name,
  portal_visibility: "organization",
  status,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  email_domains: [],
});

const NEW_TICKET = "55555555-5555-4555-8555-555555555555";

function renderPage() {
  return renderWithApp(
    <Routes>
      <Route path="/desk/mail/held" element={<HeldMailPage />} />
      <Route path="/desk/tickets/:id" element={<p>Ticket page</p>} />
    </Routes>,
    { route: "/desk/mail/held" },
  );
}

describe("held mail", () => {
  it("explains what waits here when nothing does", async () => {
    stubApi({ "GET /api/internal/mail/held": { body: { items: [], next_cursor: null } } });
    renderPage();
    expect(await screen.findByRole("heading", { name: "No held mail" })).toBeInTheDocument();
    expect(
      screen.getByText("Mail from unknown senders, or from people who may not answer the ticket they reply to, waits here."),
    ).toBeInTheDocument();
  });

  it("creates a ticket for the chosen organization, then opens it", async () => {
    const { calls } = stubApi({
      "GET /api/internal/mail/held": { body: { items: [HELD], next_cursor: null } },
      "GET /api/orgs": {
        body: { items: [org("o1", "Acme Corp"), org("o2", "Globex"), org("o3", "Initech", "suspended")], next_cursor: null },
      },
      [`POST /api/internal/mail/held/${HELD.id}/ticket`]: { status: 201, body: staffTicket({ id: NEW_TICKET }) },
    });
    renderPage();
    const row = (await screen.findByText("new.person@globex.example")).closest("tr")!;
    expect(within(row).getByText("Printer on fire")).toBeInTheDocument();
    expect(within(row).getByText("unknown sender new.person@globex.example")).toBeInTheDocument();

    await userEvent.click(within(row).getByRole("button", { name: /^Create ticket/ }));
    const dialog = screen.getByRole("dialog", { name: "Create ticket for organization…" });
    // Nothing chosen yet: nothing is sent.
    await userEvent.click(within(dialog).getByRole("button", { name: "Create ticket" }));
    expect(within(dialog).getByText("Choose an organization.")).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST")).toEqual([]);

    const select = within(dialog).getByLabelText("Organization");
    await within(dialog).findByRole("option", { name: "Globex" });
    // Suspended organizations take no tickets.
    expect(within(dialog).queryByRole("option", { name: /Initech/ })).toBeNull();
    await userEvent.selectOptions(select, "o2");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create ticket" }));

    expect(await screen.findByText("Ticket page")).toBeInTheDocument();
    const posts = calls.filter((c) => c.method === "POST");
    expect(posts).toEqual([{ method: "POST", url: `/api/internal/mail/held/${HELD.id}/ticket`, body: { org_id: "o2" } }]);
  });

  it("discards only after the confirmation", async () => {
    const { calls } = stubApi({
      "GET /api/internal/mail/held": { body: { items: [HELD], next_cursor: null } },
      [`POST /api/internal/mail/held/${HELD.id}/discard`]: { status: 204 },
    });
    renderPage();
    const row = (await screen.findByText("new.person@globex.example")).closest("tr")!;
    await userEvent.click(within(row).getByRole("button", { name: /^Discard/ }));
    const dialog = screen.getByRole("dialog", { name: "Discard this mail?" });
    expect(calls.filter((c) => c.method === "POST")).toEqual([]);

    await userEvent.click(within(dialog).getByRole("button", { name: "Discard mail" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.filter((c) => c.method === "POST").map((c) => c.url)).toEqual([`/api/internal/mail/held/${HELD.id}/discard`]);
  });
});
