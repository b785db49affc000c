import { screen, within } from "@testing-library/react";
import { comment, NO_ACTIONS, staffTicket, stubFetch } from "../../test/fixtures";
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
});
