import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { MacroMenu } from "./MacroMenu";

const MACRO = {
  id: "m1",
  name: "Close politely",
  actions: [
    { type: "comment", canned_reply_id: "r1", is_internal: false },
    { type: "status", status: "RESOLVED", resolution: "Fixed", root_cause: "Cable" },
  ],
  scope: "personal",
  team_id: null,
  team_name: null,
  owner: { id: "a1", name: "Arun Agent" },
  usage_count: 0,
  created_at: "2026-01-01T10:00:00Z",
  updated_at: "2026-01-01T10:00:00Z",
  can_edit: true,
};

describe("macro menu", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("applies a macro to the ticket and refreshes it", async () => {
    const { calls } = stubApi({
      "GET /api/internal/macros": { body: { items: [MACRO] } },
      "POST /api/internal/tickets/t1/macros/m1": { body: {} },
    });
    const { client } = renderWithApp(<MacroMenu ticketId="t1" />);
    const invalidate = vi.spyOn(client, "invalidateQueries");
    await userEvent.click(screen.getByRole("button", { name: "Macros" }));
    const item = await screen.findByRole("menuitem", { name: /Close politely/ });
    expect(item).toHaveTextContent("Public reply (canned reply) · Status → resolved");
    await userEvent.click(item);
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.url === "/api/internal/tickets/t1/macros/m1")).toBe(true));
    expect(await screen.findByText("Macro “Close politely” applied")).toBeInTheDocument();
    expect(invalidate).toHaveBeenCalledWith({ queryKey: ["internal-tickets"] });
  });

  it("says that nothing changed and names the refused action", async () => {
    stubApi({
      "GET /api/internal/macros": { body: { items: [MACRO] } },
      "POST /api/internal/tickets/t1/macros/m1": {
        status: 409,
        body: { detail: "Action 2 (status): Cannot move a NEW ticket to RESOLVED", code: "conflict", action_index: 1 },
      },
    });
    renderWithApp(<MacroMenu ticketId="t1" />);
    await userEvent.click(screen.getByRole("button", { name: "Macros" }));
    await userEvent.click(await screen.findByRole("menuitem", { name: /Close politely/ }));
    expect(await screen.findByText(/nothing was changed\. Action 2 \(status\): Cannot move/)).toBeInTheDocument();
  });
});
