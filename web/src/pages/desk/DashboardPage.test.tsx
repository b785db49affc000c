import "@testing-library/jest-dom/vitest";
import { screen, within } from "@testing-library/react";
import { authKeys } from "../../api/auth";
import type { DashboardCounts } from "../../api/reports";
import type { Me } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { DashboardPage } from "./DashboardPage";

const me = (role: Me["role"]): Me => ({
  id: "u1",
  email: "u@desk.example",
  name: "Una User",
  role,
  org_id: null,
  org_name: null,
  is_active: true,
  language: "en",
});

const COUNTS: DashboardCounts = {
  open: 12,
  awaiting_acceptance: 3,
  breached_open: 2,
  resolved_last_7d: 9,
  by_status: [
    { status: "NEW", count: 3 },
    { status: "ACCEPTED", count: 1 },
    { status: "ASSIGNED", count: 2 },
    { status: "IN_PROGRESS", count: 5 },
    { status: "WAITING_CUSTOMER", count: 1 },
  ],
  breaches_by_priority: [
    { priority: "P1", first_response: 1, resolution: 0 },
    { priority: "P2", first_response: 0, resolution: 1 },
    { priority: "P3", first_response: 0, resolution: 0 },
    { priority: "P4", first_response: 0, resolution: 0 },
  ],
  per_day: [
    { bucket: "2026-03-01", created: 4, resolved: 2 },
    { bucket: "2026-03-02", created: 6, resolved: 7 },
  ],
  tz: "UTC",
};

describe("the dashboard", () => {
  it("shows the server's counts (not a sample of tickets) and offers reports to managers only", async () => {
    const { calls } = stubApi({ "GET /api/internal/reports/dashboard": { body: COUNTS } });
    const { unmount } = renderWithApp(<DashboardPage />, { prepare: (client) => client.setQueryData(authKeys.me, me("agent")) });
    const numbers = await screen.findByRole("list", { name: "Key numbers" });
    expect(within(numbers).getByRole("link", { name: /Open tickets/ })).toHaveTextContent("12");
    expect(within(numbers).getByRole("link", { name: /Open with SLA breach/ })).toHaveTextContent("2");
    expect(within(numbers).getByRole("link", { name: /Resolved in the last 7 days/ })).toHaveTextContent("9");
    const perDay = screen.getByRole("table", { name: /Created vs resolved per day/ });
    expect(within(perDay).getByRole("rowheader", { name: "2 Mar" }).parentElement).toHaveTextContent("2 Mar67");
    expect(screen.getByRole("img", { name: "Over 2 days: 10 created, 9 resolved." })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Reports" })).not.toBeInTheDocument();
    expect(calls.some((c) => c.url.startsWith("/api/internal/tickets"))).toBe(false);
    const asked = new URL(calls.find((c) => c.url.startsWith("/api/internal/reports/dashboard"))!.url, "http://x");
    expect(asked.searchParams.get("tz")).toBeTruthy();
    unmount();

    renderWithApp(<DashboardPage />, { prepare: (client) => client.setQueryData(authKeys.me, me("manager")) });
    expect(await screen.findByRole("link", { name: "Reports" })).toHaveAttribute("href", "/desk/reports");
  });
});
