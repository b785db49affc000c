import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { comment, NO_ACTIONS, staffTicket, stubApi, stubFetch } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { DeskTicketView } from "./DeskTicketPage";

describe("desk ticket page", () => {
  beforeEach(() => stubFetch());

  it("marks internal notes everywhere and leaves public replies unmarked", () => {
    const ticket = staffTicket({
      comments: [
        comment({ body: "Public answer", is_internal: false }),
        comment({ body: "Secret finding", is_internal: true }),
      ],
      attachments: [
        {
          id: "f1",
          file_name: "gateway.log",
          mime_type: "text/plain",
          size_bytes: 2048,
          sha256: "x",
          created_at: "2026-01-01T11:00:00Z",
          is_internal: true,
          uploaded_by: { id: "a1", name: "Arun Agent" },
          comment_id: null,
        },
      ],
    });
    renderWithApp(<DeskTicketView ticket={ticket} />);
    const note = screen.getByRole("article", { name: "Internal note from Arun Agent" });
    expect(note).toHaveAttribute("data-internal", "true");
    expect(note).toHaveClass("atum-internal");
    expect(within(note).getByText("Internal")).toBeInTheDocument();
    const reply = screen.getByText("Public answer").closest("article")!;
    expect(reply).not.toHaveClass("atum-internal");
    expect(within(reply).queryByText("Internal")).toBeNull();
    const file = screen.getByRole("link", { name: "gateway.log" }).closest("li")!;
    expect(file).toHaveClass("atum-internal");
    expect(within(file).getByText("Internal")).toBeInTheDocument();
  });

  it("with actions all false shows no workflow controls", () => {
    renderWithApp(<DeskTicketView ticket={staffTicket({ status: "CLOSED", actions: NO_ACTIONS })} />);
    for (const name of ["Accept", "Assign", "Resolve", "Close ticket", "Send public reply", "Add internal note"]) {
      expect(screen.queryByRole("button", { name })).toBeNull();
    }
    expect(screen.queryByRole("group", { name: "Change status" })).toBeNull();
    expect(screen.queryByLabelText("Add attachments")).toBeNull();
  });

  it("renders Accept, Assign and the composer exactly when the actions say so", () => {
    renderWithApp(
      <DeskTicketView
        ticket={staffTicket({
          status: "ACCEPTED",
          actions: { ...NO_ACTIONS, accept: false, assign: true, reply: true, note: true, attach: true },
        })}
      />,
    );
    expect(screen.queryByRole("button", { name: "Accept" })).toBeNull();
    expect(screen.getByRole("button", { name: "Assign" })).toBeInTheDocument();
    expect(screen.getByLabelText("Assignee")).toBeInTheDocument();
    expect(screen.getByLabelText("Team")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Send public reply" })).toBeInTheDocument();
    expect(screen.getByLabelText("Internal (staff only)")).toBeInTheDocument();
  });

  it("copies colleagues of the requester's organization from the desk", async () => {
    const { calls } = stubApi({
      "GET /api/internal/tickets/t1/cc/candidates": {
        body: { items: [{ id: "u2", name: "Alex Acme" }, { id: "u3", name: "Ana Acme" }] },
      },
      "PUT /api/internal/tickets/t1/cc": { body: { items: [{ id: "u3", name: "Ana Acme" }] } },
      // Not this test's subject: no suggestion yet.
      "GET /api/internal/tickets/t1/suggestions": { status: 404, body: { detail: "Not found", code: "not_found" } },
    });
    renderWithApp(<DeskTicketView ticket={staffTicket({ id: "t1", cc: [{ id: "u2", name: "Alex Acme" }] })} />);
    const card = screen.getByRole("heading", { name: "Copied colleagues" }).closest("section")!;
    expect(within(card).getByText("Alex Acme")).toBeInTheDocument();
    await userEvent.click(within(card).getByRole("button", { name: "Edit copied colleagues" }));
    const dialog = screen.getByRole("dialog", { name: "Copy colleagues" });
    expect(dialog).toHaveTextContent("Colleagues of Acme Corp you copy");
    expect(await within(dialog).findByLabelText("Alex Acme")).toBeChecked();
    await userEvent.click(within(dialog).getByLabelText("Alex Acme"));
    await userEvent.click(within(dialog).getByLabelText("Ana Acme"));
    await userEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.find((c) => c.method === "PUT")!.body).toEqual({ user_ids: ["u3"] });
  });
});
