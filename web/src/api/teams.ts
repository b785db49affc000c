/** Teams (assignment targets): /api/teams (staff read, admins write). Keys under ["teams"]. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
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

export interface TeamInput {
  name: string;
  member_ids: string[];
}

export function useCreateTeam() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: TeamInput) => request("post", "/api/teams", { body }),
    meta: { silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: teamKeys.all }),
  });
}

export function useUpdateTeam() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: TeamInput & { id: string }) =>
      request("patch", "/api/teams/{team_id}", { path: { team_id: id }, body }),
    meta: { silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: teamKeys.all }),
  });
}
