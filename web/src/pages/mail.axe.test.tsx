import axe from "axe-core";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { comment, staffTicket, stubApi } from "../test/fixtures";
import { renderWithApp } from "../test/render";
import { AdminMailPage } from "./admin/AdminMailPage";
import { AdminOrgsPage } from "./admin/AdminOrgsPage";
import { DeskTicketView } from "./desk/DeskTicketPage";
import { HeldMailPage } from "./desk/HeldMailPage";

/** axe-core over the document (jsdom cannot compute colours: contrast is the browser suite's). */
async function violations(): Promise<string[]> {
  const result = await axe.run(document.body, { rules: { "color-contrast": { enabled: false }, region: { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

const NO_SUGGESTIONS = { status: "unavailable", engine: "lexical", summary: null, category: null, priority: null, similar: [], kb: [], reply: null };

describe("the mail views pass axe-core", () => {
  // axe probes canvas for icon ligatures; jsdom has none.
  beforeEach(() => {
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
  });

  it("held mail, with the create-ticket dialog open", async () => {
    stubApi({
      "GET /api/internal/mail/held": {
        body: {
          items: [
              {
                id: "h1",
                mailbox: "support@desk.example",
                from_address: "x@y.example",
                subject: "Hello",
                received_at: "2026-01-01T00:00:00Z",
                reason: "unknown sender x@y.example",
                excerpt: "Hi",
              },
          ],
          next_cursor: null,
        },
      },
    });
    renderWithApp(
      <Routes>
        <Route path="/" element={<HeldMailPage />} />
      </Routes>,
    );
    await screen.findByText("x@y.example");
    expect(await violations()).toEqual([]);
    await userEvent.click(screen.getByRole("button", { name: /^Create ticket/ }));
    expect(await violations()).toEqual([]);
  });

  it("admin mail page, with the mailbox dialog open", async () => {
    stubApi({
      "GET /api/admin/mailboxes": {
        body: {
          items: [
            {
              id: "m1",
              address: "help@acme.example",
              kind: "imap",
              imap_host: "imap.acme.example",
              imap_port: null,
              imap_tls: true,
              imap_user: "help",
              imap_folder: "INBOX",
              processed_folder: null,
              active: true,
              last_checked_at: null,
              last_error: "Login failed",
              has_password: true,
            },
          ],
          next_cursor: null,
        },
      },
      "GET /api/admin/mail/bounces": {
        body: { items: [{ address: "a@b.example", status: "5.1.1", diagnostic: null, created_at: "2026-01-01T00:00:00Z" }], next_cursor: null },
      },
    });
    renderWithApp(<AdminMailPage />);
    await screen.findByText("help@acme.example");
    await screen.findByText("a@b.example");
    expect(await violations()).toEqual([]);
    await userEvent.click(screen.getByRole("button", { name: "Edit help@acme.example" }));
    expect(await violations()).toEqual([]);
  });

  it("organizations, with the domains editor open", async () => {
    stubApi({ "GET /api/orgs": { body: { items: [], next_cursor: null } } });
    renderWithApp(<AdminOrgsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "New organization" }));
    expect(await violations()).toEqual([]);
  });

  it("a desk e-mail ticket with quoted text, refused files and automatic mail", async () => {
    stubApi({ "GET /api/internal/tickets/11111111-1111-4111-8111-111111111111/suggestions": { body: NO_SUGGESTIONS } });
    renderWithApp(
      <DeskTicketView
        ticket={staffTicket({
          channel: "email",
          comments: [
            comment({ channel: "email", has_original: true, quoted: "> earlier", refused_files: [{ file_name: "a.exe", reason: "no" }] }),
            comment({ author: { id: null, name: "ooo@acme.example", is_staff: false }, automatic: true, is_internal: true, channel: "email" }),
          ],
        })}
      />,
    );
    await screen.findByText("No suggestions for this ticket yet.");
    await userEvent.click(screen.getByRole("button", { name: "Show quoted text" }));
    expect(await violations()).toEqual([]);
  });
});
