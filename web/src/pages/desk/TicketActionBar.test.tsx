import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { NO_ACTIONS, staffTicket } from "../../test/fixtures";
import { TicketActionBar } from "./TicketActionBar";
import { transitionControls } from "./controls";

function setup(overrides: Parameters<typeof staffTicket>[0]) {
  const onAccept = vi.fn(() => Promise.resolve());
  const onTransition = vi.fn(() => Promise.resolve());
  const ticket = staffTicket(overrides);
  const view = render(<TicketActionBar ticket={ticket} onAccept={onAccept} onTransition={onTransition} />);
  return { ...view, onAccept, onTransition };
}

describe("desk ticket actions come from the API's `actions` only", () => {
  it("renders no status buttons and no Accept when transitions is [] and accept is false", () => {
    const { container } = setup({ status: "ASSIGNED", actions: NO_ACTIONS });
    expect(container).toBeEmptyDOMElement();
    expect(screen.queryByRole("button")).toBeNull();
  });

  it("renders Accept when accept is true, and sends only a changed priority", async () => {
    const { onAccept } = setup({ status: "NEW", priority: "P3", actions: { ...NO_ACTIONS, accept: true } });
    const accept = screen.getByRole("button", { name: "Accept" });
    expect(screen.queryByRole("group", { name: "Change status" })).toBeNull();
    await userEvent.selectOptions(screen.getByLabelText("Priority"), "P1");
    await userEvent.click(accept);
    expect(onAccept).toHaveBeenCalledWith({ priority: "P1", category: null });
  });

  it("renders exactly the listed transitions, named for the current state", () => {
    setup({ status: "ASSIGNED", actions: { ...NO_ACTIONS, transitions: ["IN_PROGRESS", "WAITING_CUSTOMER", "RESOLVED"] } });
    const group = screen.getByRole("group", { name: "Change status" });
    const names = within(group)
      .getAllByRole("button")
      .map((b) => b.textContent);
    expect(names).toEqual(["Start work", "Wait for customer", "Resolve"]);
    expect(screen.queryByRole("button", { name: "Close ticket" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Accept" })).toBeNull();
  });

  it("does not invent transitions the server did not list (agent on a resolved ticket)", () => {
    setup({ status: "RESOLVED", actions: { ...NO_ACTIONS, transitions: [] } });
    expect(screen.queryByRole("button", { name: "Close ticket" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Reopen" })).toBeNull();
  });

  it("offers Close ticket and Reopen when the server lists them", () => {
    setup({ status: "RESOLVED", actions: { ...NO_ACTIONS, transitions: ["CLOSED", "IN_PROGRESS"] } });
    expect(screen.getByRole("button", { name: "Close ticket" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Reopen" })).toBeInTheDocument();
  });

  it("moves directly for simple transitions", async () => {
    const { onTransition } = setup({ status: "WAITING_CUSTOMER", actions: { ...NO_ACTIONS, transitions: ["IN_PROGRESS"] } });
    await userEvent.click(screen.getByRole("button", { name: "Resume work" }));
    expect(onTransition).toHaveBeenCalledWith({ status: "IN_PROGRESS" });
  });

  it("resolving requires a resolution and a root cause, in a dialog", async () => {
    const { onTransition } = setup({ status: "IN_PROGRESS", actions: { ...NO_ACTIONS, transitions: ["RESOLVED"] } });
    await userEvent.click(screen.getByRole("button", { name: "Resolve" }));
    const dialog = screen.getByRole("dialog", { name: /Resolve ticket #1042/ });
    await userEvent.click(within(dialog).getByRole("button", { name: "Resolve ticket" }));
    expect(onTransition).not.toHaveBeenCalled();
    expect(within(dialog).getByText("Describe how it was resolved.")).toBeInTheDocument();
    expect(within(dialog).getByText("Name the root cause.")).toBeInTheDocument();

    await userEvent.type(within(dialog).getByLabelText(/^Resolution/), "Rekey lifetime fixed");
    await userEvent.type(within(dialog).getByLabelText(/^Root cause/), "Phase 2 lifetime mismatch");
    await userEvent.click(within(dialog).getByRole("button", { name: "Resolve ticket" }));
    expect(onTransition).toHaveBeenCalledWith({
      status: "RESOLVED",
      resolution: "Rekey lifetime fixed",
      root_cause: "Phase 2 lifetime mismatch",
    });
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("rejecting (CANCELLED) asks for a reason", async () => {
    const { onTransition } = setup({ status: "NEW", actions: { ...NO_ACTIONS, accept: true, transitions: ["CANCELLED"] } });
    await userEvent.click(screen.getByRole("button", { name: "Reject" }));
    const dialog = screen.getByRole("dialog");
    await userEvent.type(within(dialog).getByLabelText(/^Reason/), "Duplicate of #1000");
    await userEvent.click(within(dialog).getByRole("button", { name: "Reject ticket" }));
    expect(onTransition).toHaveBeenCalledWith({ status: "CANCELLED", reason: "Duplicate of #1000" });
  });
});

describe("transitionControls", () => {
  it("maps targets to labels and dialogs", () => {
    expect(transitionControls("RESOLVED", { ...NO_ACTIONS, transitions: ["IN_PROGRESS", "CLOSED"] })).toEqual([
      { to: "IN_PROGRESS", label: "Reopen", dialog: null, variant: "secondary" },
      { to: "CLOSED", label: "Close ticket", dialog: null, variant: "primary" },
    ]);
    expect(transitionControls("NEW", { ...NO_ACTIONS, transitions: ["CANCELLED"] })[0]).toMatchObject({ label: "Reject", dialog: "reject" });
  });
});
