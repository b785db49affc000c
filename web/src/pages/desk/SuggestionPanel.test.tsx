import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import type { Suggestions } from "../../api/suggestions";
import { NO_ACTIONS, staffTicket, stubFetch } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { Composer } from "./Composer";
import { SuggestionPanel, SuggestionView } from "./SuggestionPanel";

const EMPTY: Suggestions = {
  status: "unavailable",
  engine: "lexical",
  summary: null,
  category: null,
  priority: null,
  similar: [],
  kb: [],
  reply: null,
};

const READY: Suggestions = {
  status: "ready",
  engine: "ollama",
  summary: "The VPN tunnel drops every hour.",
  category: { value: "network", confidence: 0.83 },
  priority: { value: "P1", confidence: 0.7 },
  similar: [
    {
      id: "33333333-3333-4333-8333-333333333333",
      number: 977,
      title: "VPN drops hourly",
      org_name: "Globex",
      score: 0.42,
      resolution: "Raised the IKE lifetime.",
    },
  ],
  kb: [{ title: "RUNBOOK / Network", source: "docs/RUNBOOK.md", excerpt: "Check the tunnel keepalive.", score: 0.2 }],
  reply: "Hello, please update the client [T977].",
};

const ticket = staffTicket({ status: "ASSIGNED", priority: "P2", category: null });

function show(suggestions: Suggestions, props: Partial<Parameters<typeof SuggestionView>[0]> = {}) {
  return render(
    <MemoryRouter>
      <SuggestionView suggestions={suggestions} ticket={ticket} {...props} />
    </MemoryRouter>,
  );
}

describe("suggestion panel", () => {
  it("pending without a previous result says it is analysing and offers nothing", () => {
    show({ ...EMPTY, status: "pending" });
    expect(screen.getByRole("status")).toHaveTextContent("Analysing the ticket");
    expect(screen.queryByRole("button")).toBeNull();
  });

  it("unavailable says there is nothing, without buttons", () => {
    show(EMPTY);
    expect(screen.getByText("No suggestions for this ticket yet.")).toBeInTheDocument();
    expect(screen.queryByRole("button")).toBeNull();
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("ready shows summary, confidences, similar tickets with resolutions, passages and the reply", async () => {
    const onApply = vi.fn(() => Promise.resolve());
    const onUseReply = vi.fn();
    show(READY, { onApply, onUseReply });
    expect(screen.getByRole("region", { name: "Summary" })).toHaveTextContent("The VPN tunnel drops every hour.");
    expect(screen.getByText("(83%)")).toBeInTheDocument();
    expect(screen.getByText("(70%)")).toBeInTheDocument();
    const similar = screen.getByRole("region", { name: "Similar tickets" });
    expect(within(similar).getByRole("link", { name: /VPN drops hourly/ })).toHaveAttribute(
      "href",
      "/desk/tickets/33333333-3333-4333-8333-333333333333",
    );
    expect(similar).toHaveTextContent("Globex");
    expect(similar).toHaveTextContent("Resolution: Raised the IKE lifetime.");
    expect(screen.getByRole("region", { name: "Knowledge base" })).toHaveTextContent("docs/RUNBOOK.md");
    expect(screen.getByText("Local language model · advisory, review before use")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Apply category network" }));
    expect(onApply).toHaveBeenLastCalledWith("category");
    await userEvent.click(screen.getByRole("button", { name: "Apply priority P1" }));
    expect(onApply).toHaveBeenLastCalledWith("priority");
    await userEvent.click(screen.getByRole("button", { name: "Use as reply draft" }));
    expect(onUseReply).toHaveBeenCalledWith("Hello, please update the client [T977].");
  });

  it("ready below the threshold shows 'No suggestion' and no Apply", () => {
    show({ ...READY, engine: "lexical", category: null, priority: null, reply: null }, { onApply: vi.fn() });
    expect(screen.getAllByText("No suggestion")).toHaveLength(2);
    expect(screen.queryByRole("button", { name: /Apply/ })).toBeNull();
    expect(screen.queryByRole("region", { name: "Suggested reply" })).toBeNull();
    expect(screen.getByText("Keyword engine · advisory, review before use")).toBeInTheDocument();
  });

  it("offers no Apply for values the ticket already has, nor on a closed ticket", () => {
    const { unmount } = render(
      <MemoryRouter>
        <SuggestionView
          suggestions={READY}
          ticket={{ ...ticket, category: "network", priority: "P1" }}
          onApply={vi.fn()}
        />
      </MemoryRouter>,
    );
    expect(screen.queryByRole("button", { name: /Apply/ })).toBeNull();
    unmount();
    render(
      <MemoryRouter>
        <SuggestionView suggestions={READY} ticket={{ ...ticket, status: "CLOSED" }} onApply={vi.fn()} />
      </MemoryRouter>,
    );
    expect(screen.queryByRole("button", { name: /Apply/ })).toBeNull();
  });

  it("Apply posts the field to the apply endpoint (the server takes the stored value)", async () => {
    const base = "/api/internal/tickets/11111111-1111-4111-8111-111111111111";
    const { calls } = stubFetch({
      [`${base}/suggestions/apply`]: staffTicket({ category: "network" }),
      [`${base}/suggestions`]: READY,
    });
    document.cookie = "atum_csrf=t0k3n";
    renderWithApp(<SuggestionPanel ticket={staffTicket({ actions: { ...NO_ACTIONS, reply: true } })} />);
    await userEvent.click(await screen.findByRole("button", { name: "Apply priority P1" }));
    await userEvent.click(screen.getByRole("button", { name: "Apply category network" }));
    const posts = calls.filter((c) => c.init.method === "POST");
    expect(posts.map((c) => c.url)).toEqual([`${base}/suggestions/apply`, `${base}/suggestions/apply`]);
    expect(posts.map((c) => JSON.parse(String(c.init.body)))).toEqual([{ field: "priority" }, { field: "category" }]);
    expect(new Headers(posts[0]!.init.headers).get("X-CSRF-Token")).toBe("t0k3n");
    expect(calls.some((c) => c.init.method === "PATCH")).toBe(false);
  });

  it("a used reply lands in the public reply box, editable", async () => {
    const onSubmit = vi.fn(() => Promise.resolve());
    render(
      <Composer
        actions={{ ...NO_ACTIONS, reply: true, note: true }}
        onSubmit={onSubmit}
        insert={{ text: "Hello [T977].", key: 1 }}
      />,
    );
    const box = screen.getByLabelText("Public reply");
    expect(box).toHaveValue("Hello [T977].");
    await userEvent.type(box, " Regards");
    await userEvent.click(screen.getByRole("button", { name: "Send public reply" }));
    expect(onSubmit).toHaveBeenLastCalledWith("Hello [T977]. Regards", false);
  });
});
