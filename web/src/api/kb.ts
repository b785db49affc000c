/** The knowledge base: staff articles (/api/internal/kb/articles*, keys under ["kb"]) and the
 * public articles customers are offered while they write a ticket (/api/kb/articles*, keys under
 * ["kb-public"]). */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { request } from "./client";
import { nextCursor } from "./query";
import type { Schemas } from "./types";

export type KbArticle = Schemas["KbArticle"];
export type KbArticleSummary = Schemas["KbArticleSummary"];
export type KbVisibility = KbArticle["visibility"];
export type KbArticleInput = Schemas["KbArticleCreate"];
export type PublicKbArticle = Schemas["CustomerKbArticle"];
export type KbMatch = Schemas["CustomerKbMatch"];

export const KB_PAGE_SIZE = 50;
/** The longest question the deflection endpoint takes (the server's limit). */
export const KB_QUESTION_MAX = 2000;

export const kbKeys = {
  all: ["kb"] as const,
  list: (q: string) => [...kbKeys.all, "list", q] as const,
  detail: (id: string) => [...kbKeys.all, "detail", id] as const,
};

export const publicKbKeys = {
  all: ["kb-public"] as const,
  matches: (q: string) => [...publicKbKeys.all, "matches", q] as const,
  library: () => [...publicKbKeys.all, "library"] as const,
  detail: (id: string) => [...publicKbKeys.all, "detail", id] as const,
};

export function useKbArticles(q: string) {
  return useInfiniteQuery({
    queryKey: kbKeys.list(q),
    queryFn: ({ pageParam, signal }) =>
      request("get", "/api/internal/kb/articles", {
        query: { q: q || undefined, cursor: pageParam, limit: KB_PAGE_SIZE },
        signal,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
  });
}

export function useKbArticle(id: string | null) {
  return useQuery({
    queryKey: kbKeys.detail(id ?? ""),
    queryFn: ({ signal }) => request("get", "/api/internal/kb/articles/{article_id}", { path: { article_id: id ?? "" }, signal }),
    enabled: Boolean(id),
  });
}

export function useCreateKbArticle() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: KbArticleInput) => request("post", "/api/internal/kb/articles", { body }),
    meta: { success: "Article created", silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: kbKeys.all }),
  });
}

export function useUpdateKbArticle() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: Partial<KbArticleInput> & { id: string }) =>
      request("patch", "/api/internal/kb/articles/{article_id}", { path: { article_id: id }, body }),
    meta: { success: "Article saved", silent: true },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: kbKeys.all }),
  });
}

export function useDeleteKbArticle() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request("delete", "/api/internal/kb/articles/{article_id}", { path: { article_id: id } }),
    meta: { success: "Article deleted" },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: kbKeys.all }),
  });
}

/** Public articles that may answer `question` (at most five); nothing is asked while disabled. */
export function useKbMatches(question: string, enabled: boolean) {
  return useQuery({
    queryKey: publicKbKeys.matches(question),
    queryFn: ({ signal }) => request("get", "/api/kb/articles", { query: { q: question }, signal }),
    enabled,
    staleTime: 60_000,
  });
}

/** Every public article, newest first (the portal's help-articles list), a page at a time. */
export function useKbLibrary(enabled: boolean) {
  return useInfiniteQuery({
    queryKey: publicKbKeys.library(),
    queryFn: ({ pageParam, signal }) =>
      request("get", "/api/kb/library", { query: { cursor: pageParam, limit: KB_PAGE_SIZE }, signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
    enabled,
  });
}

export function usePublicKbArticle(id: string) {
  return useQuery({
    queryKey: publicKbKeys.detail(id),
    queryFn: ({ signal }) => request("get", "/api/kb/articles/{article_id}", { path: { article_id: id }, signal }),
  });
}
