import "@testing-library/jest-dom/vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Bounce, Mailbox, QuarantinedMail } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { AdminMailPage, createBody, mailboxForm, updateBody } from "./AdminMailPage";

const IMAP: Mailbox = {
  id: "66666666-6666-4666-8666-666666666666",
  address: "help@acme.example",
  kind: "imap",
  imap_host: "imap.acme.example",
  imap_port: 993,
  imap_tls: true,
  imap_user: "help",
  imap_folder: "INBOX",
  processed_folder: "Desk",
  active: true,
  last_checked_at: "2026-01-02T08:00:00Z",
  last_error: null,
  has_password: true,
};

const BOUNCE: Bounce = { address: "gone+old@acme.example", status: "5.1.1", diagnostic: "User unknown", created_at: "2026-01-02T08:00:00Z" };

const STUCK: QuarantinedMail = {
  id: "77777777-7777-4777-8777-777777777777",
  mailbox: "support@desk.example",
  from_address: "cody@acme.example",
  subject: "Weird encoding",
  received_at: "2026-01-02T08:00:00Z",
  reason: null,
  excerpt: null,
  error: "UnicodeDecodeError",
  attempts: 3,
};

function stub(extra: Parameters<typeof stubApi>[0] = {}) {
  return stubApi({
    "GET /api/admin/mailboxes": { body: { items: [IMAP], next_cursor: null } },
    "GET /api/admin/mail/bounces": { body: { items: [BOUNCE], next_cursor: null } },
    "GET /api/admin/mail/quarantined": { body: { items: [STUCK], next_cursor: null } },
    ...extra,
  });
}

describe("mailbox form bodies", () => {
  it("never starts with a password, and an empty one keeps the stored password", () => {
    const form = mailboxForm(IMAP);
    expect(form.imap_password).toBe("");
    const body = updateBody({ ...form, processed_folder: "", imap_port: "" });
    expect(body).toEqual({
      imap_host: "imap.acme.example",
      imap_port: null,
      imap_tls: true,
      imap_user: "help",
      imap_folder: "INBOX",
      processed_folder: null,
      active: true,
    });
    expect("imap_password" in body).toBe(false);
    expect(updateBody({ ...form, imap_password: "n3w secret" }).imap_password).toBe("n3w secret");
  });

  it("sends IMAP settings only for IMAP mailboxes", () => {
    expect(createBody({ ...mailboxForm(null), kind: "lmtp", address: " desk@acme.example ", imap_host: "ignored" })).toEqual({
      address: "desk@acme.example",
      kind: "lmtp",
      active: true,
      imap_tls: true,
      imap_folder: "INBOX",
    });
    expect(updateBody({ ...mailboxForm(null), kind: "lmtp", active: false })).toEqual({ active: false });
  });
});

describe("admin mail page", () => {
  it("lists mailboxes, bouncing addresses and quarantined mail", async () => {
    stub();
    renderWithApp(<AdminMailPage />);
    const boxes = await screen.findByRole("table", { name: "Mailboxes" });
    expect(within(boxes).getByText("help@acme.example")).toBeInTheDocument();
    expect(within(boxes).getByText(/password stored/)).toBeInTheDocument();
    expect(await screen.findByRole("table", { name: "Bouncing addresses" })).toHaveTextContent("User unknown");
    expect(await screen.findByRole("table", { name: "Quarantined mail" })).toHaveTextContent("UnicodeDecodeError");
  });

  it("edits a mailbox without ever showing its password", async () => {
    const { calls } = stub({ [`PATCH /api/admin/mailboxes/${IMAP.id}`]: { body: IMAP } });
    renderWithApp(<AdminMailPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Edit help@acme.example" }));
    const dialog = screen.getByRole("dialog", { name: "Edit help@acme.example" });
    const password = within(dialog).getByLabelText("New IMAP password");
    expect(password).toHaveAttribute("type", "password");
    expect(password).toHaveValue("");
    expect(password).toHaveAccessibleDescription("A password is stored. Leave empty to keep it.");
    expect(within(dialog).getByLabelText("Address")).toBeDisabled();
    await userEvent.clear(within(dialog).getByLabelText("IMAP server"));
    await userEvent.type(within(dialog).getByLabelText("IMAP server"), "mail.acme.example");
    await userEvent.click(within(dialog).getByRole("button", { name: "Save mailbox" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.url).toBe(`/api/admin/mailboxes/${IMAP.id}`);
    expect(patch.body).toMatchObject({ imap_host: "mail.acme.example" });
    expect(patch.body).not.toHaveProperty("imap_password");
  });

  it("creating an IMAP mailbox needs its server, user and password", async () => {
    const { calls } = stub();
    renderWithApp(<AdminMailPage />);
    await userEvent.click(await screen.findByRole("button", { name: "New mailbox" }));
    const dialog = screen.getByRole("dialog", { name: "New mailbox" });
    await userEvent.type(within(dialog).getByLabelText("Address"), "help@acme.example");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create mailbox" }));
    expect(within(dialog).getByText("Enter the IMAP server.")).toBeInTheDocument();
    expect(within(dialog).getByText("Enter the IMAP password.")).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST")).toEqual([]);
  });

  it("deletes a mailbox after the confirmation", async () => {
    const { calls } = stub({ [`DELETE /api/admin/mailboxes/${IMAP.id}`]: { status: 204 } });
    renderWithApp(<AdminMailPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Delete help@acme.example" }));
    const dialog = screen.getByRole("dialog", { name: "Delete this mailbox?" });
    expect(calls.filter((c) => c.method === "DELETE")).toEqual([]);
    await userEvent.click(within(dialog).getByRole("button", { name: "Delete mailbox" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "DELETE").map((c) => c.url)).toEqual([`/api/admin/mailboxes/${IMAP.id}`]));
  });

  it("clears a bounce by its URL-encoded address and retries quarantined mail", async () => {
    const { calls } = stub({
      "DELETE /api/admin/mail/bounces/": { status: 204 },
      [`POST /api/admin/mail/quarantined/${STUCK.id}/retry`]: { status: 204 },
    });
    renderWithApp(<AdminMailPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Clear gone+old@acme.example" }));
    await userEvent.click(await screen.findByRole("button", { name: "Retry Weird encoding" }));
    await waitFor(() =>
      expect(calls.filter((c) => c.method !== "GET").map((c) => `${c.method} ${c.url}`)).toEqual([
        "DELETE /api/admin/mail/bounces/gone%2Bold%40acme.example",
        `POST /api/admin/mail/quarantined/${STUCK.id}/retry`,
      ]),
    );
  });
});
