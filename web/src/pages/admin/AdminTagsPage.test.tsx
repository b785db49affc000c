import "@testing-library/jest-dom/vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { AdminTagsPage } from "./AdminTagsPage";

const VPN = { id: "g1", name: "vpn", count: 12 };
const VPN_ISSUE = { id: "g2", name: "vpn-issue", count: 3 };

describe("admin: tags", () => {
  it("merges a duplicate tag into the one to keep", async () => {
    const { calls } = stubApi({
      "GET /api/internal/tags": { body: { items: [VPN, VPN_ISSUE], next_cursor: null } },
      "POST /api/admin/tags/g2/merge": { body: { ...VPN, count: 15 } },
    });
    renderWithApp(<AdminTagsPage />);
    const row = (await screen.findByText("vpn-issue")).closest("tr")!;
    expect(within(row).getByText("3")).toBeInTheDocument();
    await userEvent.click(within(row).getByRole("button", { name: "Rename or merge vpn-issue" }));
    const dialog = screen.getByRole("dialog", { name: "Tag vpn-issue" });
    const mergeButton = within(dialog).getByRole("button", { name: "Merge and delete vpn-issue" });
    expect(mergeButton).toBeDisabled();
    await userEvent.selectOptions(within(dialog).getByLabelText(/Merge into another tag/), "g1");
    await userEvent.click(mergeButton);
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ into_id: "g1" });
    expect(await screen.findByText("vpn-issue merged into vpn")).toBeInTheDocument();
  });

  it("renames, and explains a taken name", async () => {
    const { calls } = stubApi({
      "GET /api/internal/tags": { body: { items: [VPN, VPN_ISSUE], next_cursor: null } },
      "PATCH /api/admin/tags/g2": { status: 409, body: { detail: "A tag with this name exists", code: "conflict" } },
    });
    renderWithApp(<AdminTagsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Rename or merge vpn-issue" }));
    const dialog = screen.getByRole("dialog", { name: "Tag vpn-issue" });
    const name = within(dialog).getByLabelText("New name");
    await userEvent.clear(name);
    await userEvent.type(name, "vpn");
    await userEvent.click(within(dialog).getByRole("button", { name: "Rename" }));
    expect(await within(dialog).findByText("That name is taken: merge this tag into it instead.")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "PATCH")!.body).toEqual({ name: "vpn" });
  });
});
