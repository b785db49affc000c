import "@testing-library/jest-dom/vitest";
import { screen, within } from "@testing-library/react";
import { comment, staffTicket, stubFetch } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { DeskTicketView } from "./DeskTicketPage";

const TICKET = "11111111-1111-4111-8111-111111111111";
const EARLIER = "33333333-3333-4333-8333-333333333333";

describe("mail on the desk ticket page", () => {
  beforeEach(() => stubFetch());

  it("marks automatic mail as an internal note named by the sender's address", () => {
    const ticket = staffTicket({
      comments: [
        comment({
          id: "ooo",
          author: { id: null, name: "cody@acme.example", is_staff: false },
          body: "I am out of the office until Monday.",
          is_internal: true,
          automatic: true,
          channel: "email",
          from_address: "cody@acme.example",
        }),
      ],
    });
    renderWithApp(<DeskTicketView ticket={ticket} />);
    const note = screen.getByRole("article", { name: "Internal note from cody@acme.example" });
    expect(within(note).getByText("Automatic mail")).toBeInTheDocument();
    expect(within(note).getByText("Internal")).toBeInTheDocument();
    expect(within(note).queryByText("Customer")).toBeNull();
  });

  it("links the original .eml of a mail comment, and shows quoted text and refused files", () => {
    const ticket = staffTicket({
      comments: [
        comment({
          id: "c-mail",
          author: { id: "c1", name: "Cody Customer", is_staff: false },
          body: "Still broken.",
          channel: "email",
          has_original: true,
          from_address: "cody@acme.example",
          message_id: "<abc@acme.example>",
          quoted: "> Please try again",
          refused_files: [{ file_name: "run.bat", reason: "This file type is not accepted." }],
        }),
        comment({ id: "c-web", body: "Portal reply" }),
      ],
    });
    renderWithApp(<DeskTicketView ticket={ticket} />);
    const mail = screen.getByText("Still broken.").closest("article")!;
    expect(mail).toHaveAccessibleName("Message from Cody Customer");
    const link = within(mail).getByRole("link", { name: "Download original (.eml)" });
    expect(link).toHaveAttribute("href", `/api/internal/tickets/${TICKET}/comments/c-mail/original`);
    expect(link).toHaveAttribute("download");
    expect(within(mail).getByText("Via e-mail")).toBeInTheDocument();
    expect(within(mail).getByRole("button", { name: "Show quoted text" })).toHaveAttribute("aria-expanded", "false");
    expect(within(mail).getByText("Not attached: run.bat — This file type is not accepted.")).toBeInTheDocument();
    const web = screen.getByText("Portal reply").closest("article")!;
    expect(within(web).queryByRole("link", { name: "Download original (.eml)" })).toBeNull();
  });

  it("offers the first mail of an e-mail ticket, and nothing for a portal ticket", () => {
    const { unmount } = renderWithApp(<DeskTicketView ticket={staffTicket({ channel: "email" })} />);
    const links = screen.getAllByRole("link", { name: "Download original (.eml)" });
    expect(links).toHaveLength(1);
    expect(links[0]).toHaveAttribute("href", `/api/internal/tickets/${TICKET}/original`);
    expect(screen.getAllByText("Via e-mail").length).toBeGreaterThan(0);
    unmount();

    renderWithApp(<DeskTicketView ticket={staffTicket({ channel: "portal" })} />);
    expect(screen.queryByRole("link", { name: "Download original (.eml)" })).toBeNull();
    expect(screen.getByText("Via portal")).toBeInTheDocument();
  });

  it("links a follow-up to the ticket it follows", async () => {
    const noSuggestions = { status: "unavailable", engine: "lexical", summary: null, category: null, priority: null, similar: [], kb: [], reply: null };
    stubFetch({
      [`/api/internal/tickets/${TICKET}/suggestions`]: noSuggestions,
      [`/api/internal/tickets/${EARLIER}`]: staffTicket({ id: EARLIER, number: 1000, title: "VPN drops" }),
    });
    renderWithApp(<DeskTicketView ticket={staffTicket({ follow_up_of: EARLIER })} />);
    const link = await screen.findByRole("link", { name: "Follow-up to #1000 VPN drops" });
    expect(link).toHaveAttribute("href", `/desk/tickets/${EARLIER}`);
  });
});
