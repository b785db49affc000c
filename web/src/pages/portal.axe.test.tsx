import axe from "axe-core";
import { act, fireEvent, screen } from "@testing-library/react";
import { Route, Routes } from "react-router";
import { stubApi } from "../test/fixtures";
import { renderWithApp } from "../test/render";
import { PortalKbArticlePage, PortalKbPage } from "./portal";

/** axe-core over the document (jsdom cannot compute colours: contrast is the browser suite's). */
async function violations(): Promise<string[]> {
  const result = await axe.run(document.body, { rules: { "color-contrast": { enabled: false }, region: { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

const ARTICLE = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";

function at(path: string) {
  return renderWithApp(
    <Routes>
      <Route path="/portal/kb" element={<PortalKbPage />} />
      <Route path="/portal/kb/:id" element={<PortalKbArticlePage />} />
    </Routes>,
    { route: path },
  );
}

describe("the portal's help articles pass axe-core", () => {
  it("the search: before typing and with results", async () => {
    stubApi({
      "GET /api/kb/articles": {
        body: { items: [{ id: ARTICLE, title: "Resetting a forgotten password", excerpt: "Open the sign-in page." }] },
      },
    });
    at("/portal/kb");
    expect(await violations()).toEqual([]);
    fireEvent.change(screen.getByRole("searchbox", { name: "Search help articles" }), { target: { value: "password" } });
    await screen.findByRole("link", { name: "Resetting a forgotten password" });
    expect(await violations()).toEqual([]);
  });

  it("the search with no match", async () => {
    stubApi({ "GET /api/kb/articles": { body: { items: [] } } });
    at("/portal/kb?q=coffee");
    await screen.findByRole("heading", { name: "No article matches" });
    expect(await violations()).toEqual([]);
  });

  it("an article", async () => {
    stubApi({
      [`GET /api/kb/articles/${ARTICLE}`]: {
        body: { id: ARTICLE, title: "Resetting a forgotten password", body: "Choose **Forgot password**.\n\n- one\n- two", updated_at: "2026-01-01T00:00:00Z" },
      },
    });
    at(`/portal/kb/${ARTICLE}`);
    await screen.findByRole("heading", { level: 1, name: "Resetting a forgotten password" });
    await act(async () => {});
    expect(await violations()).toEqual([]);
  });
});
