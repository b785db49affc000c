import { QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { RouterProvider } from "react-router";
import { errorMessage, setUnauthorizedHandler } from "../api/client";
import { authKeys } from "../api/auth";
import { createQueryClient } from "../api/query";
import { ToastProvider, toastOutsideReact } from "../atum";
import { createAppRouter } from "./router";
import { loginPathFor } from "../lib/session";

export function App() {
  const [queryClient] = useState(() =>
    createQueryClient({
      onMutationError: (error) => toastOutsideReact()?.error(errorMessage(error)),
      onMutationSuccess: (message) => toastOutsideReact()?.success(message),
    }),
  );
  const [router] = useState(() => createAppRouter());

  useEffect(() => {
    // The ONE 401 handler: forget the session and go to sign in, keeping the return path.
    setUnauthorizedHandler(() => {
      const here = router.state.location;
      queryClient.cancelQueries();
      queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== authKeys.me[0] });
      queryClient.setQueryData(authKeys.me, null);
      if (!here.pathname.startsWith("/login")) {
        void router.navigate(loginPathFor(here), { replace: true });
      }
    });
    return () => setUnauthorizedHandler(() => undefined);
  }, [queryClient, router]);

  return (
    <QueryClientProvider client={queryClient}>
      <ToastProvider>
        <RouterProvider router={router} />
      </ToastProvider>
    </QueryClientProvider>
  );
}
