import "@testing-library/jest-dom/vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReportBacklog, ReportBreakdown, ReportSeries, ReportSummary } from "../../api/reports";
import type { Org } from "../../api/types";
import { stubApi } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { ReportsPage, filterOf } from "./ReportsPage";

const ACME: Org = {
  id: "22222222-2222-4222-8222-222222222222",
  name: "Acme Corp",
  status: "active",
  portal_visibility: "organization",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  email_domains: [],
};

const SUMMARY: ReportSummary = {
  created: 7,
  resolved: 4,
  backlog: 3,
  first_response_p50_s: 1200,
  first_response_p90_s: 2760,
  resolution_p50_s: 27000,
  resolution_p90_s: 73800,
  accept_p50_s: 3600,
  sla_compliance_pct: 50,
  reopen_rate: 0.25,
  csat: { good: 2, okay: 1, bad: 1, score_pct: 50 },
  from: "2026-03-01T00:00:00Z",
  to: "2026-04-01T00:00:00Z",
};

const SERIES: ReportSeries = {
  interval: "day",
  tz: "UTC",
  items: [
    { bucket: "2026-03-01", created: 2, resolved: 1 },
    { bucket: "2026-03-02", created: 5, resolved: 3 },
  ],
};

const BACKLOG: ReportBacklog = {
  total: 3,
  at: "2026-04-01T00:00:00Z",
  by_priority: [
    { priority: "P1", count: 1 },
    { priority: "P2", count: 2 },
    { priority: "P3", count: 0 },
    { priority: "P4", count: 0 },
  ],
  by_age: [
    { bucket: "lt_1d", label: "< 1 d", count: 1, by_priority: { P1: 1, P2: 0, P3: 0, P4: 0 } },
    { bucket: "1_3d", label: "1-3 d", count: 0, by_priority: { P1: 0, P2: 0, P3: 0, P4: 0 } },
    { bucket: "3_7d", label: "3-7 d", count: 0, by_priority: { P1: 0, P2: 0, P3: 0, P4: 0 } },
    { bucket: "7_30d", label: "7-30 d", count: 2, by_priority: { P1: 0, P2: 2, P3: 0, P4: 0 } },
    { bucket: "gt_30d", label: "> 30 d", count: 0, by_priority: { P1: 0, P2: 0, P3: 0, P4: 0 } },
  ],
};

const AGENTS: ReportBreakdown = {
  by: "agent",
  items: [
    {
      id: "44444444-4444-4444-8444-444444444444",
      name: "Xena Agent",
      created: 3,
      resolved: 3,
      first_response_p50_s: 1200,
      resolution_p50_s: 36000,
      sla_compliance_pct: 33.33,
      csat: { good: 2, okay: 0, bad: 1, score_pct: 66.67 },
    },
  ],
};

describe("the reports page", () => {
  it("builds the API filter from a preset or complete custom dates", () => {
    const today = new Date(2026, 2, 31, 12);
    const base = { preset: "7d" as const, from: "", to: "", org_id: "o1", team_id: "", assignee_id: "", priority: "P1", category: "", channel: "" };
    expect(filterOf(base, today, "Europe/Berlin")).toEqual({
      from: "2026-03-25",
      to: "2026-03-31",
      tz: "Europe/Berlin",
      org_id: "o1",
      team_id: "",
      assignee_id: "",
      priority: "P1",
      category: "",
      channel: "",
    });
    // A custom range only counts once both ends are chosen (until then, the API's default).
    expect(filterOf({ ...base, preset: "custom", from: "2026-01-01" }, today, "UTC").from).toBeUndefined();
    expect(filterOf({ ...base, preset: "custom", from: "2026-01-01", to: "2026-01-31" }, today, "UTC")).toMatchObject({
      from: "2026-01-01",
      to: "2026-01-31",
    });
  });

  it("shows the server's figures, refetches with a filter and links the CSVs with the same filters", async () => {
    const { calls } = stubApi({
      "GET /api/orgs": { body: { items: [ACME], next_cursor: null } },
      "GET /api/internal/reports/summary": { body: SUMMARY },
      "GET /api/internal/reports/series": { body: SERIES },
      "GET /api/internal/reports/backlog": { body: BACKLOG },
      "GET /api/internal/reports/breakdown": { body: AGENTS },
      "GET /api/internal/categories": { body: { items: [] } },
    });
    renderWithApp(<ReportsPage />);
    const kpis = await screen.findByLabelText("Key figures");
    expect(within(kpis).getByText("Created").nextSibling).toHaveTextContent("7");
    expect(within(kpis).getByText("Resolution, median").nextSibling).toHaveTextContent("7 h 30 min");
    expect(within(kpis).getByText("First response, 90th percentile").nextSibling).toHaveTextContent("46 min");
    expect(within(kpis).getByText("Accept, median").nextSibling).toHaveTextContent("1 h");
    expect(within(kpis).getByText("Reopen rate").nextSibling).toHaveTextContent("25 %");
    expect(within(kpis).getByText("CSAT score").nextSibling).toHaveTextContent("50 %");
    // The chart's numbers are in a table too.
    const table = screen.getByRole("table", { name: "Created vs resolved per day" });
    expect(within(table).getByRole("rowheader", { name: "2 Mar" }).parentElement).toHaveTextContent("2 Mar53");
    const agents = await screen.findAllByRole("table", { name: "Per agent" });
    expect(within(agents[0]!).getByText("Xena Agent")).toBeInTheDocument();

    await userEvent.selectOptions(await screen.findByLabelText("Organization"), ACME.id);
    const summaries = () => calls.filter((c) => c.url.startsWith("/api/internal/reports/summary")).map((c) => new URL(c.url, "http://x"));
    await waitFor(() => expect(summaries().at(-1)!.searchParams.get("org_id")).toBe(ACME.id));
    const sent = Object.fromEntries(summaries().at(-1)!.searchParams);
    expect(sent.from).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(sent.tz).toBeTruthy();

    const csv = new URL(screen.getByRole("link", { name: "Tickets CSV" }).getAttribute("href")!, "http://x");
    expect(csv.pathname).toBe("/api/internal/reports/tickets.csv");
    expect(Object.fromEntries(csv.searchParams)).toEqual(sent);
    const perAgent = screen.getAllByRole("link", { name: "Download CSV" }).map((a) => new URL(a.getAttribute("href")!, "http://x").pathname);
    expect(perAgent).toEqual(["/api/internal/reports/agents.csv", "/api/internal/reports/teams.csv", "/api/internal/reports/organizations.csv"]);
  });
});
