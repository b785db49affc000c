import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { ApiError } from "../../api/client";
import { TagEditor } from "./TagEditor";

/** The editor as the desk page uses it: the saved set comes back as the new `tags`. */
function Harness({ initial, onSave }: { initial: string[]; onSave: (next: string[]) => Promise<unknown> }) {
  const [tags, setTags] = useState(initial);
  return (
    <TagEditor
      tags={tags}
      suggestions={["network", "vpn"]}
      onSave={(next) => onSave(next).then(() => setTags(next))}
    />
  );
}

function setup(initial: string[] = [], onSave = vi.fn((_next: string[]) => Promise.resolve())) {
  render(<Harness initial={initial} onSave={onSave} />);
  return { onSave, input: screen.getByLabelText("Tags", { selector: "input" }) };
}

function chips(): string[] {
  const list = screen.queryByRole("list", { name: "Tags" });
  return list ? within(list).getAllByRole("listitem").map((li) => li.textContent ?? "") : [];
}

describe("the desk's tag editor", () => {
  it("adds a normalised tag with Enter and saves the whole sorted set", async () => {
    const { onSave, input } = setup(["vpn"]);
    await userEvent.type(input, "  Outage-2026 {Enter}");
    expect(onSave).toHaveBeenCalledWith(["outage-2026", "vpn"]);
    expect(chips()).toEqual(["outage-2026", "vpn"]);
    expect(input).toHaveValue("");
  });

  it("adds with a comma too, and does not save a tag it already has", async () => {
    const { onSave, input } = setup(["vpn"]);
    await userEvent.type(input, "printer,");
    expect(onSave).toHaveBeenLastCalledWith(["printer", "vpn"]);
    await userEvent.type(input, "VPN{Enter}");
    expect(onSave).toHaveBeenCalledTimes(1);
  });

  it("removes a tag with its × button", async () => {
    const { onSave } = setup(["network", "vpn"]);
    await userEvent.click(screen.getByRole("button", { name: "Remove tag network" }));
    expect(onSave).toHaveBeenCalledWith(["vpn"]);
    expect(chips()).toEqual(["vpn"]);
  });

  it("refuses a bad name inline without calling the API", async () => {
    const { onSave, input } = setup();
    await userEvent.type(input, "no/slashes{Enter}");
    expect(onSave).not.toHaveBeenCalled();
    expect(screen.getByRole("alert")).toHaveTextContent("1–40 letters, digits");
    expect(input).toHaveAttribute("aria-invalid", "true");
  });

  it("refuses a 21st tag", async () => {
    const twenty = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, "0")}`);
    const { onSave, input } = setup(twenty);
    await userEvent.type(input, "one-more{Enter}");
    expect(onSave).not.toHaveBeenCalled();
    expect(screen.getByRole("alert")).toHaveTextContent("At most 20 tags");
  });

  it("shows the server's refusal under the field and keeps the draft", async () => {
    const refusal = new ApiError(422, [{ loc: ["body", "tags"], msg: "Value error, At most 20 tags per ticket" }]);
    const { input } = setup([], vi.fn(() => Promise.reject(refusal)));
    await userEvent.type(input, "overflow{Enter}");
    expect(await screen.findByRole("alert")).toHaveTextContent("At most 20 tags per ticket");
    expect(chips()).toEqual([]);
    expect(input).toHaveValue("overflow");
  });

  it("offers suggestions it does not have yet", () => {
    const { input } = setup(["vpn"]);
    const list = document.getElementById(input.getAttribute("list") ?? "");
    expect([...(list?.querySelectorAll("option") ?? [])].map((o) => o.value)).toEqual(["network"]);
  });
});
