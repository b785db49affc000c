import { act, fireEvent, screen, within } from "@testing-library/react";
import { Route, Routes, useLocation } from "react-router";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { PortalKbArticlePage } from "./PortalKbArticlePage";
import { KB_SEARCH_DELAY_MS, PortalKbPage } from "./PortalKbPage";

const ARTICLE = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const MATCHES = {
  items: [
    { id: ARTICLE, title: "Resetting a forgotten password", excerpt: "Open the sign-in page and choose Forgot password." },
    { id: "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", title: "Signing in with a security key", excerpt: "Plug the key in first." },
  ],
};

function Where() {
  const location = useLocation();
  return <pre data-testid="address">{location.pathname + location.search}</pre>;
}

function at(route: string) {
  return renderWithApp(
    <>
      <Routes>
        <Route path="/portal/kb" element={<PortalKbPage />} />
        <Route path="/portal/kb/:id" element={<PortalKbArticlePage />} />
        <Route path="/portal/tickets/new" element={<h1>New ticket</h1>} />
      </Routes>
      <Where />
    </>,
    { route },
  );
}

function questions(calls: { url: string }[]): (string | null)[] {
  return calls
    .filter((c) => c.url.startsWith("/api/kb/articles?") || c.url === "/api/kb/articles")
    .map((c) => new URL(c.url, "http://localhost").searchParams.get("q"));
}

async function wait(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

describe("help articles (portal)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("lists every public article page by page before any search", async () => {
    const { calls } = stubApi({
      "GET /api/kb/library?cursor=page-2": { body: { items: [MATCHES.items[1]], next_cursor: null } },
      "GET /api/kb/library": { body: { items: [MATCHES.items[0]], next_cursor: "page-2" } },
    });
    at("/portal/kb");
    const list = await screen.findByRole("list", { name: "All help articles" });
    expect(within(list).getByRole("link", { name: "Resetting a forgotten password" })).toHaveAttribute("href", `/portal/kb/${ARTICLE}`);
    fireEvent.click(screen.getByRole("button", { name: "Load more" }));
    expect(await within(list).findByRole("link", { name: "Signing in with a security key" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
    expect(calls.filter((c) => c.url.startsWith("/api/kb/library")).map((c) => new URL(c.url, "http://localhost").searchParams.get("cursor"))).toEqual([null, "page-2"]);
  });

  it("searches once the typing stops, and not before", async () => {
    vi.useFakeTimers();
    const { calls } = stubApi({
      "GET /api/kb/articles": { body: MATCHES },
      "GET /api/kb/library": { body: { items: [], next_cursor: null } },
    });
    at("/portal/kb");
    expect(screen.getByRole("heading", { level: 1, name: "Help articles" })).toBeInTheDocument();
    await wait(KB_SEARCH_DELAY_MS * 2);
    expect(questions(calls)).toEqual([]);

    const search = screen.getByRole("searchbox", { name: "Search help articles" });
    fireEvent.change(search, { target: { value: "forgot" } });
    await wait(KB_SEARCH_DELAY_MS - 50);
    fireEvent.change(search, { target: { value: "forgot password " } });
    await wait(KB_SEARCH_DELAY_MS - 50);
    expect(questions(calls)).toEqual([]); // still typing
    await wait(100);
    expect(questions(calls)).toEqual(["forgot password"]);
    await wait(50);

    const list = screen.getByRole("list", { name: "Matching articles" });
    const link = within(list).getByRole("link", { name: "Resetting a forgotten password" });
    expect(link).toHaveAttribute("href", `/portal/kb/${ARTICLE}?q=forgot%20password`);
    expect(list).toHaveTextContent("Plug the key in first.");
    expect(screen.getByRole("status")).toHaveTextContent("2 matching articles.");
    expect(screen.getByTestId("address")).toHaveTextContent("/portal/kb?q=forgot+password");
  });

  it("starts from ?q= and points to a new ticket when nothing matches", async () => {
    const { calls } = stubApi({ "GET /api/kb/articles": { body: { items: [] } } });
    at("/portal/kb?q=coffee%20machine");
    expect(screen.getByRole("searchbox", { name: "Search help articles" })).toHaveValue("coffee machine");
    expect(await screen.findByRole("heading", { name: "No article matches" })).toBeInTheDocument();
    expect(questions(calls)).toEqual(["coffee machine"]);
    expect(screen.getByRole("link", { name: "Open a ticket" })).toHaveAttribute("href", "/portal/tickets/new");
  });

  it("shows an article with the way back to the search and on to a ticket", async () => {
    stubApi({
      [`GET /api/kb/articles/${ARTICLE}`]: {
        body: { id: ARTICLE, title: "Resetting a forgotten password", body: "Choose **Forgot password**.\n\n<b>not bold</b>", updated_at: "2026-01-01T00:00:00Z" },
      },
    });
    at(`/portal/kb/${ARTICLE}?q=forgot%20password`);
    expect(await screen.findByRole("heading", { level: 1, name: "Resetting a forgotten password" })).toBeInTheDocument();
    expect(screen.getByText("Forgot password").tagName).toBe("STRONG");
    expect(screen.getByText(/<b>not bold<\/b>/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Help articles" })).toHaveAttribute("href", "/portal/kb?q=forgot+password");
    const stuck = screen.getByRole("region", { name: "Still stuck?" });
    expect(within(stuck).getByRole("link", { name: "Open a ticket" })).toHaveAttribute("href", "/portal/tickets/new");
  });

  it("answers an unknown article with a plain not-found", async () => {
    stubApi({ [`GET /api/kb/articles/${ARTICLE}`]: { status: 404, body: { detail: "Not found", code: "not_found" } } });
    at(`/portal/kb/${ARTICLE}`);
    expect(await screen.findByRole("heading", { name: "Article not found" })).toBeInTheDocument();
  });
});
