import "@testing-library/jest-dom/vitest";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { authKeys } from "../../api/auth";
import type { Me, User } from "../../api/types";
import { staffTicket, stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { LinksCard } from "./LinksCard";
import { NewDeskTicketPage } from "./NewDeskTicketPage";
import { RequesterCard } from "./RequesterCard";

const me = (role: Me["role"]): Me => ({
  id: "u1",
  email: "u@desk.example",
  name: "Una User",
  role,
  org_id: null,
  org_name: null,
  is_active: true,
  language: "en",
});

const CUSTOMER: User = {
  id: "c1",
  email: "ada@acme.example",
  name: "Ada Lovelace",
  role: "customer_user",
  org_id: "o1",
  is_active: true,
} as User;
const CREATED = "66666666-6666-4666-8666-666666666666";

function renderNew(role: Me["role"]) {
  return renderWithApp(
    <Routes>
      <Route path="/desk/tickets/new" element={<NewDeskTicketPage />} />
      <Route path="/desk/tickets/:id" element={<p>Ticket page</p>} />
    </Routes>,
    { route: "/desk/tickets/new", prepare: (client) => client.setQueryData(authKeys.me, me(role)) },
  );
}

describe("a ticket recorded for a customer", () => {
  it("searches the customer, sends a phone ticket for them and opens it", async () => {
    const { calls } = stubApi({
      "GET /api/users": { body: { items: [CUSTOMER], next_cursor: null } },
      "POST /api/internal/tickets": { status: 201, body: staffTicket({ id: CREATED }) },
    });
    renderNew("agent");
    // Agents may not accept: no such box.
    expect(screen.queryByLabelText("Accept now")).toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "Create ticket" }));
    expect(screen.getByText("Pick the customer.")).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST")).toEqual([]);

    await userEvent.type(screen.getByLabelText("Customer"), "ada");
    const matches = await screen.findByRole("list", { name: "Matching customers" });
    await userEvent.click(within(matches).getByRole("button", { name: /Ada Lovelace/ }));
    await userEvent.type(screen.getByLabelText("Title"), "VPN drops");
    await userEvent.type(screen.getByLabelText("Description"), "Called at 9:10.");
    await userEvent.click(screen.getByRole("button", { name: "Create ticket" }));

    expect(await screen.findByText("Ticket page")).toBeInTheDocument();
    const [post] = calls.filter((c) => c.method === "POST");
    expect(post?.body).toEqual({
      title: "VPN drops",
      description: "Called at 9:10.",
      priority: "P3",
      category: null,
      service_id: null,
      channel: "phone",
      accept: false,
      customer_id: "c1",
    });
  });

  it("offers managers to accept at once, and records a new contact", async () => {
    const { calls } = stubApi({
      "GET /api/orgs": { body: { items: [{ id: "o1", name: "Acme", status: "active" }], next_cursor: null } },
      "POST /api/internal/tickets": { status: 201, body: staffTicket({ id: CREATED }) },
    });
    renderNew("manager");
    await userEvent.selectOptions(screen.getByLabelText("Who asked"), "new");
    await screen.findByRole("option", { name: "Acme" });
    await userEvent.selectOptions(screen.getByLabelText("Organization"), "o1");
    await userEvent.type(screen.getByLabelText("Name"), "Grace Hopper");
    await userEvent.type(screen.getByLabelText("E-mail"), "grace@acme.example");
    await userEvent.selectOptions(screen.getByLabelText("Channel"), "email");
    await userEvent.type(screen.getByLabelText("Title"), "Printer offline");
    await userEvent.type(screen.getByLabelText("Description"), "Wrote to me directly.");
    await userEvent.click(screen.getByLabelText("Accept now"));
    await userEvent.click(screen.getByRole("button", { name: "Create ticket" }));
    expect(await screen.findByText("Ticket page")).toBeInTheDocument();
    const [post] = calls.filter((c) => c.method === "POST");
    expect(post?.body).toMatchObject({
      channel: "email",
      accept: true,
      new_contact: { org_id: "o1", name: "Grace Hopper", email: "grace@acme.example" },
    });
    expect(post?.body).not.toHaveProperty("customer_id");
  });
});

describe("the desk ticket's requester and related tickets", () => {
  const ticket = staffTicket({
    id: "t1",
    org_name: "Acme",
    requester: { id: "c1", name: "Ada Lovelace", email: "ada@acme.example" },
    requester_open_tickets: [{ id: "t2", number: 1002, title: "Second printer", status: "ASSIGNED" }],
    links: [{ id: "t3", number: 1003, title: "Network outage" }],
  });

  it("shows who asked and their other open tickets", () => {
    stubApi({});
    renderWithApp(<RequesterCard ticket={ticket} />);
    expect(screen.getByRole("link", { name: "ada@acme.example" })).toHaveAttribute("href", "mailto:ada@acme.example");
    const others = screen.getByRole("list", { name: "Other open tickets of the requester" });
    expect(within(others).getByRole("link", { name: /Second printer/ })).toHaveAttribute("href", "/desk/tickets/t2");
  });

  it("lists the links, unlinks one, and offers the merge to managers only", async () => {
    const { calls } = stubApi({ "DELETE /api/internal/tickets/t1/links/t3": { status: 204 } });
    renderWithApp(<LinksCard ticket={ticket} />, { prepare: (client) => client.setQueryData(authKeys.me, me("agent")) });
    expect(screen.queryByRole("button", { name: "Merge into…" })).toBeNull();
    const links = screen.getByRole("list", { name: "Linked tickets" });
    expect(within(links).getByRole("link", { name: /Network outage/ })).toHaveAttribute("href", "/desk/tickets/t3");
    await userEvent.click(screen.getByRole("button", { name: /Unlink/ }));
    expect(calls.filter((c) => c.method === "DELETE").map((c) => c.url)).toEqual(["/api/internal/tickets/t1/links/t3"]);
  });

  it("merges into a ticket found by number (managers)", async () => {
    const target = staffTicket({ id: "t9", number: 1009, title: "The original", org_id: ticket.org_id });
    const { calls } = stubApi({
      "GET /api/internal/tickets": { body: { items: [target], next_cursor: null } },
      "POST /api/internal/tickets/t1/merge": { body: target },
    });
    renderWithApp(
      <Routes>
        <Route path="/" element={<LinksCard ticket={ticket} />} />
        <Route path="/desk/tickets/:id" element={<p>Target page</p>} />
      </Routes>,
      { prepare: (client) => client.setQueryData(authKeys.me, me("manager")) },
    );
    await userEvent.click(screen.getByRole("button", { name: "Merge into…" }));
    const dialog = screen.getByRole("dialog");
    await userEvent.type(within(dialog).getByLabelText("Merge into"), "1009");
    await userEvent.click(await within(dialog).findByRole("button", { name: /The original/ }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Merge" }));
    expect(await screen.findByText("Target page")).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST")).toEqual([
      { method: "POST", url: "/api/internal/tickets/t1/merge", body: { into_id: "t9" } },
    ]);
  });
});
