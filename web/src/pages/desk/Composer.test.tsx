import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { NO_ACTIONS, stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { Composer } from "./Composer";

describe("composer: public reply and internal note are distinct", () => {
  it("offers both as tabs when reply and note are allowed", async () => {
    const onSubmit = vi.fn(() => Promise.resolve());
    render(<Composer actions={{ ...NO_ACTIONS, reply: true, note: true }} onSubmit={onSubmit} />);
    expect(screen.getByRole("tab", { name: "Public reply" })).toHaveAttribute("aria-selected", "true");
    await userEvent.type(screen.getByLabelText("Public reply"), "We are on it");
    await userEvent.click(screen.getByRole("button", { name: "Send public reply" }));
    expect(onSubmit).toHaveBeenLastCalledWith("We are on it", false);

    await userEvent.click(screen.getByRole("tab", { name: "Internal note" }));
    expect(screen.queryByRole("button", { name: "Send public reply" })).toBeNull();
    const note = screen.getByLabelText("Internal note");
    expect(note.closest("form")).toHaveClass("atum-internal");
    expect(screen.getByText(/visible to the support team only/)).toBeInTheDocument();
    await userEvent.type(note, "Check the gateway log");
    await userEvent.click(screen.getByRole("button", { name: "Add internal note" }));
    expect(onSubmit).toHaveBeenLastCalledWith("Check the gateway log", true);
  });

  it("offers only the internal note before acceptance (reply false)", () => {
    render(<Composer actions={{ ...NO_ACTIONS, note: true }} onSubmit={vi.fn()} />);
    expect(screen.queryByRole("tab")).toBeNull();
    expect(screen.queryByRole("button", { name: "Send public reply" })).toBeNull();
    expect(screen.getByRole("button", { name: "Add internal note" })).toBeInTheDocument();
  });

  it("offers nothing when neither is allowed", () => {
    render(<Composer actions={NO_ACTIONS} onSubmit={vi.fn()} />);
    expect(screen.queryByRole("textbox")).toBeNull();
    expect(screen.getByText(/No replies or notes/)).toBeInTheDocument();
  });

  it("does not send an empty message", async () => {
    const onSubmit = vi.fn(() => Promise.resolve());
    render(<Composer actions={{ ...NO_ACTIONS, reply: true }} onSubmit={onSubmit} />);
    await userEvent.click(screen.getByRole("button", { name: "Send public reply" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByRole("alert")).toHaveTextContent("Write the reply first.");
  });
});

describe("composer: canned replies and the compose shortcut", () => {
  afterEach(() => vi.unstubAllGlobals());

  const reply = {
    id: "r1",
    title: "Printer restart",
    body: "Hi {{ customer.first_name }}, please restart the printer.",
    scope: "shared",
    team_id: null,
    team_name: null,
    owner: { id: "m1", name: "Mia Manager" },
    usage_count: 3,
    created_at: "2026-01-01T10:00:00Z",
    updated_at: "2026-01-01T10:00:00Z",
    can_edit: false,
  };

  it("'/' in an empty box opens the picker; the chosen reply is filled in by the server", async () => {
    const { calls } = stubApi({
      "GET /api/internal/canned-replies": { body: { items: [reply] } },
      "POST /api/internal/tickets/t1/canned-replies/r1/render": { body: { body: "Hi Ada, please restart the printer." } },
    });
    const onSubmit = vi.fn(() => Promise.resolve());
    renderWithApp(<Composer ticketId="t1" actions={{ ...NO_ACTIONS, reply: true, note: true }} onSubmit={onSubmit} />);
    const box = screen.getByLabelText("Public reply");
    await userEvent.type(box, "/");
    expect(box).toHaveValue("");
    const search = await screen.findByRole("combobox", { name: "Search canned replies" });
    expect(search).toHaveFocus();
    expect(await screen.findByRole("option", { name: /Printer restart/ })).toBeInTheDocument();
    await userEvent.keyboard("{Enter}");
    await waitFor(() => expect(screen.getByLabelText("Public reply")).toHaveValue("Hi Ada, please restart the printer."));
    expect(screen.queryByRole("dialog", { name: "Canned replies" })).toBeNull();
    expect(calls.filter((c) => c.method === "POST").map((c) => c.url)).toEqual([
      "/api/internal/tickets/t1/canned-replies/r1/render",
    ]);
    // "/" in a box that already has text is just a slash.
    await userEvent.type(screen.getByLabelText("Public reply"), " /");
    expect(screen.queryByRole("dialog", { name: "Canned replies" })).toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "Send public reply" }));
    expect(onSubmit).toHaveBeenLastCalledWith("Hi Ada, please restart the printer. /", false);
  });

  it("the picker button opens it too, Escape closes it; a refused render is shown", async () => {
    stubApi({
      "GET /api/internal/canned-replies": { body: { items: [reply] } },
      "POST /api/internal/tickets/t1/canned-replies/r1/render": {
        status: 422,
        body: { detail: [{ loc: ["body", "body"], msg: "Unknown placeholder", type: "invalid" }], code: "invalid" },
      },
    });
    renderWithApp(<Composer ticketId="t1" actions={{ ...NO_ACTIONS, note: true }} onSubmit={vi.fn()} />);
    await userEvent.click(screen.getByRole("button", { name: "Canned reply" }));
    await userEvent.click(await screen.findByRole("option", { name: /Printer restart/ }));
    expect(await screen.findByRole("alert")).toBeInTheDocument();
    expect(screen.getByLabelText("Internal note")).toHaveValue("");
    await userEvent.click(screen.getByRole("combobox", { name: "Search canned replies" }));
    await userEvent.keyboard("{Escape}");
    expect(screen.queryByRole("dialog", { name: "Canned replies" })).toBeNull();
  });

  it("no picker without a ticket", () => {
    render(<Composer actions={{ ...NO_ACTIONS, reply: true }} onSubmit={vi.fn()} />);
    expect(screen.queryByRole("button", { name: "Canned reply" })).toBeNull();
  });

  it("atum:compose switches the mode and focuses the box", async () => {
    render(<Composer actions={{ ...NO_ACTIONS, reply: true, note: true }} onSubmit={vi.fn()} />);
    act(() => {
      window.dispatchEvent(new CustomEvent("atum:compose", { detail: { mode: "note" } }));
    });
    await waitFor(() => expect(screen.getByLabelText("Internal note")).toHaveFocus());
    expect(screen.getByRole("tab", { name: "Internal note" })).toHaveAttribute("aria-selected", "true");
    act(() => {
      window.dispatchEvent(new CustomEvent("atum:compose", { detail: { mode: "reply" } }));
    });
    await waitFor(() => expect(screen.getByLabelText("Public reply")).toHaveFocus());
  });

  it("atum:compose for a mode that is not open does nothing", () => {
    render(<Composer actions={{ ...NO_ACTIONS, note: true }} onSubmit={vi.fn()} />);
    act(() => {
      window.dispatchEvent(new CustomEvent("atum:compose", { detail: { mode: "reply" } }));
    });
    expect(screen.queryByLabelText("Public reply")).toBeNull();
    expect(screen.getByLabelText("Internal note")).not.toHaveFocus();
  });
});
