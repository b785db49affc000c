/** The QueryClient every page shares, and the meta fields mutations may carry. */
import { MutationCache, QueryClient } from "@tanstack/react-query";
import { ApiError } from "./client";

declare module "@tanstack/react-query" {
  interface Register {
    mutationMeta: {
      /** Do not toast failures: the form shows the error itself. */
      silent?: boolean;
      /** Toast this text on success. */
      success?: string;
    };
  }
}

export interface QueryClientHooks {
  onMutationError?: (error: unknown) => void;
  onMutationSuccess?: (message: string) => void;
}

export function createQueryClient(hooks: QueryClientHooks = {}): QueryClient {
  return new QueryClient({
    mutationCache: new MutationCache({
      onError: (error, _vars, _ctx, mutation) => {
        if (mutation.meta?.silent) return;
        // 401 is handled globally (back to sign in): no toast on top of the redirect.
        if (error instanceof ApiError && error.status === 401) return;
        hooks.onMutationError?.(error);
      },
      onSuccess: (_data, _vars, _ctx, mutation) => {
        if (mutation.meta?.success) hooks.onMutationSuccess?.(mutation.meta.success);
      },
    }),
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        refetchOnWindowFocus: true,
        retry: (count, error) => {
          if (error instanceof ApiError && error.status < 500) return false;
          return count < 2;
        },
      },
      mutations: { retry: false },
    },
  });
}

/** The next-page parameter for keyset pages. */
export function nextCursor(last: { next_cursor: string | null }): string | undefined {
  return last.next_cursor ?? undefined;
}
