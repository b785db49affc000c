import { QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { QueryClient } from "@tanstack/react-query";
import type { ReactElement } from "react";
import { MemoryRouter } from "react-router";
import { createQueryClient } from "../api/query";
import { ToastProvider } from "../atum";

/** Render inside the app's providers (query client, toasts, a memory router). */
export function renderWithApp(
  ui: ReactElement,
  { route = "/", prepare }: { route?: string; /** Seed the cache (e.g. who is signed in). */ prepare?: (client: QueryClient) => void } = {},
) {
  const client = createQueryClient();
  client.setDefaultOptions({ queries: { retry: false, staleTime: Infinity } });
  prepare?.(client);
  return {
    client,
    ...render(
      <QueryClientProvider client={client}>
        <ToastProvider>
          <MemoryRouter initialEntries={[route]}>{ui}</MemoryRouter>
        </ToastProvider>
      </QueryClientProvider>,
    ),
  };
}
