import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { requestCompose, useShortcuts, type ShortcutMap } from "./keyboard";

function Harness({ shortcuts, enabled = true }: { shortcuts: ShortcutMap; enabled?: boolean }) {
  useShortcuts(shortcuts, enabled);
  return (
    <div>
      <input aria-label="Field" />
      <textarea aria-label="Text" />
      <select aria-label="Choice">
        <option>one</option>
      </select>
      <div contentEditable suppressContentEditableWarning aria-label="Editor" role="textbox">
        x
      </div>
      <button type="button">Plain button</button>
    </div>
  );
}

function setup(enabled = true) {
  const handlers = { j: vi.fn(), k: vi.fn(), Enter: vi.fn(), "/": vi.fn(), "?": vi.fn(), a: vi.fn() };
  const view = render(<Harness shortcuts={handlers} enabled={enabled} />);
  return { ...view, handlers };
}

describe("useShortcuts", () => {
  it("fires single keys on the page", async () => {
    const { handlers } = setup();
    await userEvent.keyboard("jjk");
    expect(handlers.j).toHaveBeenCalledTimes(2);
    expect(handlers.k).toHaveBeenCalledTimes(1);
    await userEvent.keyboard("{Enter}/");
    expect(handlers.Enter).toHaveBeenCalledTimes(1);
    expect(handlers["/"]).toHaveBeenCalledTimes(1);
  });

  it("fires ? although it needs Shift", async () => {
    const { handlers } = setup();
    await userEvent.keyboard("?");
    expect(handlers["?"]).toHaveBeenCalledTimes(1);
  });

  it.each([
    ["an input", "Field"],
    ["a textarea", "Text"],
  ])("never fires while typing in %s", async (_what, label) => {
    const { handlers } = setup();
    await userEvent.click(screen.getByLabelText(label));
    await userEvent.keyboard("jka/?");
    expect(handlers.j).not.toHaveBeenCalled();
    expect(handlers.k).not.toHaveBeenCalled();
    expect(handlers.a).not.toHaveBeenCalled();
    expect(handlers["/"]).not.toHaveBeenCalled();
    expect(handlers["?"]).not.toHaveBeenCalled();
    expect(screen.getByLabelText<HTMLInputElement>(label).value).toBe("jka/?");
  });

  it("never fires in a select or a contenteditable element", async () => {
    const { handlers } = setup();
    screen.getByLabelText("Choice").focus();
    await userEvent.keyboard("j");
    const editor = screen.getByRole("textbox", { name: "Editor" });
    editor.focus();
    await userEvent.keyboard("k{Enter}");
    expect(handlers.j).not.toHaveBeenCalled();
    expect(handlers.k).not.toHaveBeenCalled();
    expect(handlers.Enter).not.toHaveBeenCalled();
  });

  it("never fires with a modifier key held", async () => {
    const { handlers } = setup();
    await userEvent.keyboard("{Control>}j{/Control}{Meta>}k{/Meta}{Alt>}a{/Alt}{Shift>}j{/Shift}");
    expect(handlers.j).not.toHaveBeenCalled();
    expect(handlers.k).not.toHaveBeenCalled();
    expect(handlers.a).not.toHaveBeenCalled();
  });

  it("leaves Enter to a focused button or link", async () => {
    const { handlers } = setup();
    screen.getByRole("button", { name: "Plain button" }).focus();
    await userEvent.keyboard("{Enter}");
    expect(handlers.Enter).not.toHaveBeenCalled();
  });

  it("lets the browser act when a handler returns false", () => {
    const unused = vi.fn(() => false as const);
    render(<Harness shortcuts={{ j: unused }} />);
    const event = new KeyboardEvent("keydown", { key: "j", cancelable: true });
    window.dispatchEvent(event);
    expect(unused).toHaveBeenCalledTimes(1);
    expect(event.defaultPrevented).toBe(false);
  });

  it("fires from a focused button (not a field)", async () => {
    const { handlers } = setup();
    screen.getByRole("button", { name: "Plain button" }).focus();
    await userEvent.keyboard("j");
    expect(handlers.j).toHaveBeenCalledTimes(1);
  });

  it("does nothing while disabled or after unmount", async () => {
    const { handlers, unmount } = setup(false);
    await userEvent.keyboard("j");
    expect(handlers.j).not.toHaveBeenCalled();
    unmount();
    await userEvent.keyboard("j");
    expect(handlers.j).not.toHaveBeenCalled();
  });

  it("ignores keys while a modal dialog is open", async () => {
    const { handlers } = setup();
    const dialog = document.createElement("div");
    dialog.setAttribute("aria-modal", "true");
    document.body.append(dialog);
    await userEvent.keyboard("j");
    dialog.remove();
    expect(handlers.j).not.toHaveBeenCalled();
  });
});

describe("requestCompose", () => {
  it("dispatches atum:compose with the mode", () => {
    const seen: unknown[] = [];
    const listener = (e: Event) => seen.push((e as CustomEvent).detail);
    window.addEventListener("atum:compose", listener);
    requestCompose("note");
    requestCompose("reply");
    window.removeEventListener("atum:compose", listener);
    expect(seen).toEqual([{ mode: "note" }, { mode: "reply" }]);
  });
});
