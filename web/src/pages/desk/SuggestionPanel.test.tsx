import axe from "axe-core";
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

const ARTICLE = "44444444-4444-4444-8444-444444444444";

const READY: Suggestions = {
  status: "ready",
  engine: "ollama",
  summary: "The VPN tunnel drops every hour.",
  category: { value: "network", confidence: 0.83, method: "classifier", model_version: 3 },
  priority: { value: "P1", confidence: 0.7, method: "neighbours", model_version: null },
  similar: [
    {
      id: "33333333-3333-4333-8333-333333333333",
      number: 977,
      title: "VPN drops hourly",
      org_name: "Globex",
      score: 0.91,
      resolution: "Raised the IKE lifetime.",
      resolved: true,
      category: "network",
      priority: "P2",
    },
    {
      id: "55555555-5555-4555-8555-555555555555",
      number: 1001,
      title: "VPN slow since Monday",
      org_name: "Acme Corp",
      score: 0.88,
      resolution: null,
      resolved: false,
      category: null,
      priority: "P3",
    },
  ],
  kb: [
    {
      title: "VPN disconnects every few minutes",
      source: `kb:${ARTICLE}`,
      article_id: ARTICLE,
      excerpt: "Switch off Wi-Fi power saving.",
      body: "1. Switch off **Wi-Fi power saving**.\n2. Sign in again.",
      score: 0.74,
    },
    {
      title: "RUNBOOK / Network",
      source: "docs/RUNBOOK.md",
      article_id: null,
      excerpt: "Check the tunnel keepalive.",
      body: "Check the tunnel `keepalive`.",
      score: 0.52,
    },
  ],
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
    const similar = screen.getByRole("region", { name: "Similar tickets" });
    expect(within(similar).getByRole("link", { name: /VPN drops hourly/ })).toHaveAttribute(
      "href",
      "/desk/tickets/33333333-3333-4333-8333-333333333333",
    );
    // Open tickets stay in the similar list.
    expect(within(similar).getByRole("link", { name: /VPN slow since Monday/ })).toBeInTheDocument();
    expect(similar).toHaveTextContent("Globex");
    expect(similar).toHaveTextContent("Resolution: Raised the IKE lifetime.");
    expect(screen.getByRole("region", { name: "Knowledge base" })).toHaveTextContent("docs/RUNBOOK.md");
    expect(screen.getByText("Language model (Ollama) · advisory, review before use")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Apply category network" }));
    expect(onApply).toHaveBeenLastCalledWith("category");
    await userEvent.click(screen.getByRole("button", { name: "Apply priority P1" }));
    expect(onApply).toHaveBeenLastCalledWith("priority");
    await userEvent.click(screen.getByRole("button", { name: "Use as reply draft" }));
    expect(onUseReply).toHaveBeenCalledWith("Hello, please update the client [T977].");
  });

  it("says for category and priority the value, the confidence and how it was chosen", () => {
    const { container, unmount } = show(READY);
    const [category, priority] = [...container.querySelectorAll("dd")];
    expect(category).toHaveTextContent("network 83% likely · trained classifier v3");
    expect(priority).toHaveTextContent(/^P1 Critical 70% likely · nearest resolved tickets/);
    unmount();
    const other = show({
      ...READY,
      category: { value: "network", confidence: 0.456, method: "llm", model_version: null },
      priority: { value: "P1", confidence: 0.994, method: "classifier", model_version: null },
    });
    const [llm, unversioned] = [...other.container.querySelectorAll("dd")];
    expect(llm).toHaveTextContent("network 46% likely · language model");
    expect(unversioned).toHaveTextContent(/99% likely · trained classifier$/);
  });

  it("Why lists only the nearest resolved tickets (at most three) and the closest article", () => {
    const resolved = (n: number): Suggestions["similar"][number] => ({
      id: `00000000-0000-4000-8000-00000000000${n}`,
      number: 900 + n,
      title: `Resolved ${n}`,
      org_name: "Acme Corp",
      score: 0.9 - n / 10,
      resolution: "Fixed.",
      resolved: true,
      category: n === 1 ? null : "network",
      priority: "P3",
    });
    show({ ...READY, similar: [READY.similar[1]!, ...READY.similar.slice(0, 1), resolved(1), resolved(2), resolved(3)] });
    const why = screen.getByRole("region", { name: "Why" });
    const tickets = within(why).getByRole("list", { name: "Nearest resolved tickets" });
    const items = within(tickets).getAllByRole("listitem");
    expect(items).toHaveLength(3);
    expect(items.map((li) => within(li).getByRole("link").textContent)).toEqual([
      "#977 VPN drops hourly",
      "#901 Resolved 1",
      "#902 Resolved 2",
    ]);
    expect(why).not.toHaveTextContent("VPN slow since Monday");
    expect(items[0]).toHaveTextContent("network");
    expect(items[0]).toHaveTextContent("Globex");
    expect(items[0]).toHaveTextContent("91% similar");
    expect(within(items[0]!).getByText("P2", { exact: false })).toBeInTheDocument();
    expect(items[1]).toHaveTextContent("No category");
    expect(within(why).getByRole("link", { name: "VPN disconnects every few minutes" })).toHaveAttribute(
      "href",
      `/desk/kb?article=${ARTICLE}`,
    );
  });

  it("Why shows no similarity for full-text scores, and is absent without resolved tickets or passages", () => {
    const { unmount } = show({ ...READY, engine: "lexical" });
    const why = screen.getByRole("region", { name: "Why" });
    expect(why).toHaveTextContent("VPN drops hourly");
    expect(why).not.toHaveTextContent("similar");
    expect(screen.getByText("Full-text · advisory, review before use")).toBeInTheDocument();
    unmount();
    show({ ...READY, engine: "local", similar: READY.similar.slice(1), kb: [] });
    expect(screen.getByText("Local model · advisory, review before use")).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Why" })).toBeNull();
    expect(screen.getByRole("region", { name: "Similar tickets" })).toHaveTextContent("VPN slow since Monday");
  });

  it("renders passages as Markdown, links articles and shows the source of documentation", () => {
    show(READY);
    const kb = screen.getByRole("region", { name: "Knowledge base" });
    const [article, doc] = within(kb).getAllByRole("listitem").filter((li) => li.classList.contains("desk-ai__passage"));
    expect(within(article!).getByRole("link", { name: "VPN disconnects every few minutes" })).toHaveAttribute(
      "href",
      `/desk/kb?article=${ARTICLE}`,
    );
    expect(article!.querySelector("strong")).toHaveTextContent("Wi-Fi power saving");
    expect(article!.querySelectorAll("ol li")).toHaveLength(2);
    expect(article).not.toHaveTextContent("**");
    expect(article).not.toHaveTextContent(`kb:${ARTICLE}`);
    expect(within(doc!).queryByRole("link")).toBeNull();
    expect(doc).toHaveTextContent("RUNBOOK / Network");
    expect(doc!.querySelector("small")).toHaveTextContent("docs/RUNBOOK.md");
    expect(doc!.querySelector("code")).toHaveTextContent("keepalive");
    expect(doc).not.toHaveTextContent("`");
  });

  it("folds a tall passage behind Show more, and never renders its HTML", async () => {
    const tall = vi.spyOn(HTMLElement.prototype, "scrollHeight", "get").mockImplementation(function (this: HTMLElement) {
      return this.classList.contains("desk-ai__passage-body") ? 500 : 0;
    });
    show({
      ...READY,
      kb: [{ ...READY.kb[0]!, body: "## Steps\n\n<img src=x onerror=alert(1)> [bad](javascript:alert(2))" }],
    });
    const more = screen.getByRole("button", { name: "Show more of VPN disconnects every few minutes" });
    expect(more).toHaveAttribute("aria-expanded", "false");
    const body = document.getElementById(more.getAttribute("aria-controls")!)!;
    expect(body).toHaveClass("desk-ai__passage-body--folded");
    expect(within(body).getByRole("heading", { level: 5, name: "Steps" })).toBeInTheDocument();
    expect(body.querySelector("img, a")).toBeNull();
    expect(body).toHaveTextContent("<img src=x onerror=alert(1)> bad");
    await userEvent.click(more);
    expect(more).toHaveAttribute("aria-expanded", "true");
    expect(more).toHaveAccessibleName("Show less of VPN disconnects every few minutes");
    expect(body).not.toHaveClass("desk-ai__passage-body--folded");
    tall.mockRestore();
  });

  it("passes axe-core with every part shown (Why, Markdown passages, a folded one)", async () => {
    vi.spyOn(HTMLElement.prototype, "scrollHeight", "get").mockReturnValue(500);
    show(READY, { onApply: vi.fn(), onUseReply: vi.fn() });
    expect(screen.getAllByRole("button", { name: /^Show more of/ })).toHaveLength(2);
    const result = await axe.run(document.body, { rules: { "color-contrast": { enabled: false }, region: { enabled: false } } });
    expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
  });

  it("says nothing about the knowledge base when there are no passages", () => {
    show({ ...READY, kb: [] });
    expect(screen.queryByRole("region", { name: "Knowledge base" })).toBeNull();
    expect(screen.queryByText("Knowledge base")).toBeNull();
    expect(screen.queryByText(/Closest article/)).toBeNull();
    expect(screen.queryByRole("button", { name: /Show more/ })).toBeNull();
  });

  it("ready below the threshold shows 'No suggestion' and no Apply", () => {
    show({ ...READY, engine: "lexical", category: null, priority: null, reply: null }, { onApply: vi.fn() });
    expect(screen.getAllByText("No suggestion")).toHaveLength(2);
    expect(screen.queryByRole("button", { name: /Apply/ })).toBeNull();
    expect(screen.queryByRole("region", { name: "Suggested reply" })).toBeNull();
    expect(screen.getByText("Full-text · advisory, review before use")).toBeInTheDocument();
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
