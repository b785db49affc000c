import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { NO_ACTIONS } from "../../test/fixtures";
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
