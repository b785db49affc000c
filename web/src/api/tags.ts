/** Tag and category suggestions for the desk: /api/internal/tags, /api/internal/categories. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { request } from "./client";

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
