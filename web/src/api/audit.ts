/** The global audit trail: /api/internal/audit (managers and admins). Keys under ["audit"]. */
import { useInfiniteQuery } from "@tanstack/react-query";
import { request } from "./client";
import { nextCursor } from "./query";

export interface AuditFilter {
  actor_id?: string;
  action?: string;
  org_id?: string;
  /** ISO date-times; `until` is exclusive. */
  since?: string;
  until?: string;
}

export const auditKeys = {
  all: ["audit"] as const,
  list: (filter: AuditFilter) => [...auditKeys.all, "list", filter] as const,
};

export const AUDIT_PAGE_SIZE = 50;

/** The filters that are set, in a fixed order (the list's query and the export link share it). */
export function auditQuery(filter: AuditFilter): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["actor_id", "action", "org_id", "since", "until"] as const) {
    const value = filter[key];
    if (value) out[key] = value;
  }
  return out;
}

/** The CSV export of the filtered entries (a plain link: the session cookie authenticates it). */
export function auditExportUrl(filter: AuditFilter): string {
  const query = new URLSearchParams(auditQuery(filter)).toString();
  return `/api/internal/audit/export.csv${query ? `?${query}` : ""}`;
}

export function useAuditLog(filter: AuditFilter) {
  return useInfiniteQuery({
    queryKey: auditKeys.list(filter),
    queryFn: ({ pageParam, signal }) =>
      request("get", "/api/internal/audit", {
        query: { ...auditQuery(filter), cursor: pageParam, limit: AUDIT_PAGE_SIZE },
        signal,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
  });
}
