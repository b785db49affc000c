import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { RepliesPage } from "./RepliesPage";

const REPLY = {
  id: "r1",
  title: "Printer restart",
  body: "Hi {{ customer.first_name }}",
  scope: "shared",
  team_id: null,
  team_name: null,
  owner: { id: "m1", name: "Mia Manager" },
  usage_count: 4,
  created_at: "2026-01-01T10:00:00Z",
  updated_at: "2026-01-01T10:00:00Z",
  can_edit: false,
};

const MACRO = {
  ...REPLY,
  id: "m-1",
  name: "Waiting on customer",
  actions: [
    { type: "comment", body: "Could you send the log?", is_internal: false },
    { type: "status", status: "WAITING_CUSTOMER" },
    { type: "tags", add: ["waiting"], remove: [] },
  ],
  can_edit: true,
};

describe("Replies & macros", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("lists the replies (no edit for others' shared ones) and creates a personal one", async () => {
    const { calls } = stubApi({
      "GET /api/internal/canned-replies": { body: { items: [REPLY] } },
      "POST /api/internal/canned-replies": { status: 201, body: { ...REPLY, id: "r2", scope: "personal", can_edit: true } },
    });
    renderWithApp(<RepliesPage />);
    const list = await screen.findByRole("list", { name: "Canned replies" });
    expect(within(list).getByText("Printer restart")).toBeInTheDocument();
    expect(within(list).getByText(/Shared · by Mia Manager · used 4×/)).toBeInTheDocument();
    expect(within(list).queryByRole("button", { name: "Edit" })).toBeNull();

    await userEvent.click(screen.getByRole("button", { name: "New canned reply" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.type(within(dialog).getByLabelText(/Title/), "Thanks");
    await userEvent.type(within(dialog).getByLabelText(/Text/), "Thanks, {{{{ agent.name }}");
    await userEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({
      title: "Thanks",
      body: "Thanks, {{ agent.name }}",
      scope: "personal",
      team_id: null,
    });
  });

  it("shows the macros with their steps", async () => {
    stubApi({ "GET /api/internal/macros": { body: { items: [MACRO] } } });
    renderWithApp(<RepliesPage />);
    await userEvent.click(screen.getByRole("tab", { name: "Macros" }));
    const list = await screen.findByRole("list", { name: "Macros" });
    expect(within(list).getByText("Waiting on customer")).toBeInTheDocument();
    expect(within(list).getByText("Public reply · Status → waiting customer · Tags +waiting")).toBeInTheDocument();
    expect(within(list).getByRole("button", { name: "Edit" })).toBeInTheDocument();
  });
});
