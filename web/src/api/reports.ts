/** Reports: /api/internal/reports/* (managers and admins; the dashboard's counts for all staff).
 * Keys under ["reports"]. Definitions of every figure: docs/RUNBOOK.md "Reports and CSV export". */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { request } from "./client";
import type { components } from "./schema";

type S = components["schemas"];
export type ReportSummary = S["ReportSummary"];
export type ReportSeries = S["ReportSeries"];
export type ReportBacklog = S["ReportBacklog"];
export type ReportBreakdown = S["ReportBreakdown"];
export type ReportBreakdownRow = S["ReportBreakdownRow"];
export type DashboardCounts = S["DashboardCounts"];
export type BreakdownBy = "agent" | "team" | "organization";
export type CsvReport = "tickets" | "agents" | "teams" | "organizations" | "sla";

export interface ReportFilter {
  /** YYYY-MM-DD (local midnight in `tz`), both days included; unset = the API's default. */
  from?: string;
  to?: string;
  tz?: string;
  org_id?: string;
  team_id?: string;
  assignee_id?: string;
  priority?: string;
  category?: string;
  channel?: string;
}

const KEYS = ["from", "to", "tz", "org_id", "team_id", "assignee_id", "priority", "category", "channel"] as const;

export const reportKeys = {
  all: ["reports"] as const,
  of: (what: string, filter: ReportFilter, extra?: string) => [...reportKeys.all, what, reportQuery(filter), extra ?? ""] as const,
  dashboard: (tz: string) => [...reportKeys.all, "dashboard", tz] as const,
};

/** The filters that are set, in a fixed order (the queries and the CSV links share it). */
export function reportQuery(filter: ReportFilter): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of KEYS) {
    const value = filter[key];
    if (value) out[key] = value;
  }
  return out;
}

/** A CSV export with the same filters (a plain link: the session cookie authenticates it). */
export function reportCsvUrl(name: CsvReport, filter: ReportFilter): string {
  const query = new URLSearchParams(reportQuery(filter)).toString();
  return `/api/internal/reports/${name}.csv${query ? `?${query}` : ""}`;
}

const common = { placeholderData: keepPreviousData, staleTime: 60_000 } as const;

export function useReportSummary(filter: ReportFilter) {
  return useQuery({
    ...common,
    queryKey: reportKeys.of("summary", filter),
    queryFn: ({ signal }) => request("get", "/api/internal/reports/summary", { query: reportQuery(filter), signal }),
  });
}

export function useReportSeries(filter: ReportFilter, interval: "day" | "week") {
  return useQuery({
    ...common,
    queryKey: reportKeys.of("series", filter, interval),
    queryFn: ({ signal }) =>
      request("get", "/api/internal/reports/series", { query: { ...reportQuery(filter), interval }, signal }),
  });
}

export function useReportBacklog(filter: ReportFilter) {
  return useQuery({
    ...common,
    queryKey: reportKeys.of("backlog", filter),
    queryFn: ({ signal }) => request("get", "/api/internal/reports/backlog", { query: reportQuery(filter), signal }),
  });
}

export function useReportBreakdown(filter: ReportFilter, by: BreakdownBy) {
  return useQuery({
    ...common,
    queryKey: reportKeys.of("breakdown", filter, by),
    queryFn: ({ signal }) =>
      request("get", "/api/internal/reports/breakdown", { query: { ...reportQuery(filter), by }, signal }),
  });
}

/** The dashboard's counts (every staff member). */
export function useDashboardCounts(tz: string) {
  return useQuery({
    queryKey: reportKeys.dashboard(tz),
    queryFn: ({ signal }) => request("get", "/api/internal/reports/dashboard", { query: { tz }, signal }),
    staleTime: 60_000,
  });
}
