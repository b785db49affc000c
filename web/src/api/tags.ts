/** Tag and category suggestions for the desk: /api/internal/tags, /api/internal/categories. */
import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import { nextCursor } from "./query";

export const tagKeys = {
  all: ["tags"] as const,
  suggestions: (q: string) => [...tagKeys.all, "suggestions", q] as const,
  categories: (q: string) => ["categories", q] as const,
};

export function useTagSuggestions(q: string, enabled = true) {
  return useQuery({
    enabled,
    queryKey: tagKeys.suggestions(q),
    queryFn: ({ signal }) => request("get", "/api/internal/tags", { query: { q: q || undefined, limit: 20 }, signal }),
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
}

export function useCategorySuggestions(q: string, enabled = true) {
  return useQuery({
    enabled,
    queryKey: tagKeys.categories(q),
    queryFn: ({ signal }) => request("get", "/api/internal/categories", { query: { q: q || undefined }, signal }),
    placeholderData: keepPreviousData,
    staleTime: 60_000,
  });
}

const TAG_PAGE_SIZE = 100;

/** Every tag with its number of tickets, by name, a page at a time (admin Tags page). */
export function useTagLibrary(q: string) {
  return useInfiniteQuery({
    queryKey: [...tagKeys.all, "library", q] as const,
    queryFn: ({ pageParam, signal }) =>
      request("get", "/api/internal/tags", { query: { q: q || undefined, cursor: pageParam, limit: TAG_PAGE_SIZE }, signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
  });
}

export function useRenameTag() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, name }: { id: string; name: string }) =>
      request("patch", "/api/admin/tags/{tag_id}", { path: { tag_id: id }, body: { name } }),
    meta: { silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: tagKeys.all }),
  });
}

export function useMergeTag() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, into }: { id: string; into: string }) =>
      request("post", "/api/admin/tags/{tag_id}/merge", { path: { tag_id: id }, body: { into_id: into } }),
    meta: { silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: tagKeys.all }),
  });
}
