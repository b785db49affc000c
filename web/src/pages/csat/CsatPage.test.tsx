import "@testing-library/jest-dom/vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { CsatPage } from "./CsatPage";

const VIEW = { ticket_number: 1042, title: "VPN drops every hour", comment: null, expires_at: "2026-12-16T10:00:00Z" };

function renderAt(route: string) {
  return renderWithApp(
    <Routes>
      <Route path="/csat/:token" element={<CsatPage />} />
    </Routes>,
    { route, prepare: (client) => client.setQueryData(["me"], null) },
  );
}

describe("the rating page a mailed link opens", () => {
  it("pre-selects the link's choice, records nothing until the submit, then thanks until the date", async () => {
    let posted: { rating: string; comment: string | null } | null = null;
    const { calls } = stubApi({
      get "GET /api/csat/tok"() {
        return { body: { ...VIEW, rating: posted?.rating ?? null, comment: posted?.comment ?? null } };
      },
      get "POST /api/csat/tok"() {
        posted = { rating: "bad", comment: "Took three days." };
        return { status: 204 };
      },
    });
    renderAt("/csat/tok?rating=bad");
    expect(await screen.findByRole("heading", { level: 1, name: "How did we do?" })).toBeInTheDocument();
    expect(await screen.findByText("Ticket #1042: VPN drops every hour")).toBeInTheDocument();
    expect(screen.getByRole("radio", { name: "Bad" })).toBeChecked();
    expect(screen.getByRole("radio", { name: "Good" })).not.toBeChecked();
    // Opening the page (what a mail scanner does) only reads.
    expect(calls.map((c) => c.method)).toEqual(["GET"]);

    await userEvent.type(screen.getByLabelText("Comment (optional)"), "Took three days.");
    await userEvent.click(screen.getByRole("button", { name: "Send rating" }));
    expect(await screen.findByRole("heading", { name: "Thank you" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent(/Your rating: bad\. You can change it until/);
    const post = calls.find((c) => c.method === "POST");
    expect(post?.url).toBe("/api/csat/tok");
    expect(post?.body).toEqual({ rating: "bad", comment: "Took three days." });

    // It can be changed: the form comes back with the rating given.
    await userEvent.click(screen.getByRole("button", { name: "Change my rating" }));
    expect(screen.getByRole("radio", { name: "Bad" })).toBeChecked();
    expect(screen.getByLabelText("Comment (optional)")).toHaveValue("Took three days.");
  });

  it("asks for a choice when the link named none", async () => {
    const { calls } = stubApi({ "GET /api/csat/tok": { body: { ...VIEW, rating: null } } });
    renderAt("/csat/tok");
    await userEvent.click(await screen.findByRole("button", { name: "Send rating" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Choose good, okay or bad.");
    expect(calls.every((c) => c.method === "GET")).toBe(true);
  });

  it("says an expired or reopened ticket's link does not work any more", async () => {
    stubApi({ "GET /api/csat/old": { status: 404, body: { detail: "This rating link is invalid or has expired", code: "not_found" } } });
    renderAt("/csat/old?rating=good");
    expect(await screen.findByRole("heading", { name: "This link does not work any more" })).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole("radio")).not.toBeInTheDocument());
  });
});
