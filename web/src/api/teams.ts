/** Teams (assignment targets): /api/teams. Keys under ["teams"]. */
import { useQuery } from "@tanstack/react-query";
import { request } from "./client";

export const teamKeys = {
  all: ["teams"] as const,
  list: () => [...teamKeys.all, "list"] as const,
};

export function useTeams(enabled = true) {
  return useQuery({
    queryKey: teamKeys.list(),
    queryFn: ({ signal }) => request("get", "/api/teams", { query: { limit: 200 }, signal }),
    enabled,
    staleTime: 5 * 60_000,
  });
}
