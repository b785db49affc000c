import "@testing-library/jest-dom/vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { ticketKeys } from "../../api/tickets";
import type { CustomerComment, CustomerTicketDetail } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { PortalTicketPage } from "./PortalTicketPage";

const ID = "11111111-1111-4111-8111-111111111111";
const EARLIER = "33333333-3333-4333-8333-333333333333";

function ticket(overrides: Partial<CustomerTicketDetail> = {}): CustomerTicketDetail {
  return {
    id: ID,
    number: 1042,
    org_id: "o1",
    org_name: "Acme Corp",
    service_id: null,
    title: "Printer jams",
    description: "Every second page.",
    status: "IN_PROGRESS",
    priority: "P3",
    category: null,
    channel: "email",
    follow_up_of: null,
    created_by: { id: "c1", name: "Cody Customer" },
    accepted_by: null,
    assigned_to: null,
    accepted_at: null,
    resolved_at: null,
    closed_at: null,
    created_at: "2026-01-01T09:00:00Z",
    updated_at: "2026-01-01T10:00:00Z",
    resolution: null,
    comments: [],
    attachments: [],
    actions: { reply: false, attach: false, withdraw: false },
    ...overrides,
  };
}

const mailReply: CustomerComment = {
  id: "c-mail",
  ticket_id: ID,
  author: { id: "c1", name: "Cody Customer", is_staff: false },
  body: "Still jamming.",
  created_at: "2026-01-01T11:00:00Z",
  is_internal: false,
  channel: "email",
  quoted: "> Did the new tray help?",
  refused_files: [{ file_name: "scan.exe", reason: "This file type is not accepted." }],
};

function renderPage() {
  return renderWithApp(
    <Routes>
      <Route path="/portal/tickets/:id" element={<PortalTicketPage />} />
    </Routes>,
    { route: `/portal/tickets/${ID}` },
  );
}

describe("portal ticket page: mail", () => {
  it("shows the channel, the folded quote and the files that were not attached", async () => {
    stubApi({ [`GET /api/tickets/${ID}`]: { body: ticket({ comments: [mailReply] }) } });
    renderPage();
    const reply = (await screen.findByText("Still jamming.")).closest("article")!;
    expect(screen.getAllByText("Via e-mail").length).toBeGreaterThan(0);
    const toggle = within(reply).getByRole("button", { name: "Show quoted text" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    await userEvent.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    expect(within(reply).getByText("> Did the new tray help?")).toBeVisible();
    expect(within(reply).getByText("Not attached: scan.exe — This file type is not accepted.")).toBeInTheDocument();
    // The original .eml is for staff only.
    expect(screen.queryByRole("link", { name: "Download original (.eml)" })).toBeNull();
  });

  it("links the earlier ticket of a follow-up when the customer can see it", async () => {
    stubApi({
      [`GET /api/tickets/${ID}`]: { body: ticket({ follow_up_of: EARLIER }) },
      [`GET /api/tickets/${EARLIER}`]: { body: ticket({ id: EARLIER, number: 1000, title: "Printer jams", status: "CLOSED" }) },
    });
    renderPage();
    const link = await screen.findByRole("link", { name: "Follow-up to #1000 Printer jams" });
    expect(link).toHaveAttribute("href", `/portal/tickets/${EARLIER}`);
  });

  it("names the follow-up without a link when the earlier ticket is not visible", async () => {
    stubApi({
      [`GET /api/tickets/${ID}`]: { body: ticket({ follow_up_of: EARLIER }) },
      [`GET /api/tickets/${EARLIER}`]: { status: 404, body: { detail: "Not found" } },
    });
    const { client } = renderPage();
    expect(await screen.findByText("Follow-up to an earlier ticket")).toBeInTheDocument();
    // Once the 404 has arrived: still no link.
    await waitFor(() => expect(client.getQueryState(ticketKeys.detail(EARLIER))?.status).toBe("error"));
    expect(screen.queryByRole("link", { name: /Follow-up/ })).toBeNull();
  });
});

describe("portal ticket page: copied colleagues", () => {
  it("lists the colleagues copied and saves a new choice", async () => {
    const { calls } = stubApi({
      [`GET /api/tickets/${ID}/cc/candidates`]: {
        body: {
          items: [
            { id: "u2", name: "Carla Customer-Admin" },
            { id: "u3", name: "Priya Patel" },
          ],
        },
      },
      [`GET /api/tickets/${ID}`]: { body: ticket({ cc: [{ id: "u3", name: "Priya Patel" }] }) },
      [`PUT /api/tickets/${ID}/cc`]: { body: { items: [] } },
    });
    renderPage();
    const card = (await screen.findByRole("heading", { name: "Copied colleagues" })).closest("section")!;
    expect(within(card).getByText("Priya Patel")).toBeInTheDocument();

    await userEvent.click(within(card).getByRole("button", { name: "Edit copied colleagues" }));
    const dialog = screen.getByRole("dialog", { name: "Copy colleagues" });
    const priya = await within(dialog).findByLabelText("Priya Patel");
    expect(priya).toBeChecked();
    await userEvent.click(priya);
    await userEvent.click(within(dialog).getByLabelText("Carla Customer-Admin"));
    await userEvent.click(within(dialog).getByRole("button", { name: "Save" }));

    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const put = calls.find((c) => c.method === "PUT")!;
    expect(put.body).toEqual({ user_ids: ["u2"] });
  });
});

describe("portal ticket page: rating", () => {
  it("asks a resolved ticket's customer how we did and sends the choice", async () => {
    const csat = { rating: null, comment: null, submitted_at: null, expires_at: "2026-01-15T10:00:00Z", can_rate: true };
    const { calls } = stubApi({
      [`GET /api/tickets/${ID}`]: { body: ticket({ status: "RESOLVED", resolved_at: "2026-01-01T10:00:00Z", csat }) },
      [`POST /api/tickets/${ID}/csat`]: { status: 204 },
    });
    renderPage();
    const card = await screen.findByRole("region", { name: "How did we do?" });
    await userEvent.click(within(card).getByRole("radio", { name: "Good" }));
    await userEvent.click(within(card).getByRole("button", { name: "Send rating" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(calls.find((c) => c.method === "POST")).toMatchObject({ url: `/api/tickets/${ID}/csat`, body: { rating: "good", comment: null } });
  });

  it("shows no rating card while the ticket is open", async () => {
    stubApi({ [`GET /api/tickets/${ID}`]: { body: ticket({ csat: null }) } });
    renderPage();
    expect(await screen.findByRole("heading", { name: "Printer jams" })).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "How did we do?" })).toBeNull();
  });
});
