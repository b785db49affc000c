import { QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { RouterProvider } from "react-router";
import { errorMessage, setEnrolmentRequiredHandler, setUnauthorizedHandler } from "../api/client";
import { authKeys, readNotice, setNotice } from "../api/auth";
import type { Me } from "../api/types";
import { createQueryClient } from "../api/query";
import { ToastProvider, toastOutsideReact } from "../atum";
import { createAppRouter } from "./router";
import { loginPathFor, profilePathFor, TWO_FACTOR_HASH } from "../lib/session";

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
      setNotice(queryClient, null);
      if (!here.pathname.startsWith("/login")) {
        void router.navigate(loginPathFor(here), { replace: true });
      }
    });
    // The role requires a second factor and the grace period is over: this session may only set
    // one up, on the profile page.
    setEnrolmentRequiredHandler(() => {
      const me = queryClient.getQueryData<Me | null>(authKeys.me);
      const before = readNotice();
      setNotice(queryClient, { setupRequired: true, graceUntil: before?.graceUntil ?? null, restricted: true });
      if (!me) return;
      const profile = profilePathFor(me.role);
      if (router.state.location.pathname !== profile) {
        void router.navigate(profile + TWO_FACTOR_HASH, { replace: true });
      }
    });
    return () => {
      setUnauthorizedHandler(() => undefined);
      setEnrolmentRequiredHandler(() => undefined);
    };
  }, [queryClient, router]);

  return (
    <QueryClientProvider client={queryClient}>
      <ToastProvider>
        <RouterProvider router={router} />
      </ToastProvider>
    </QueryClientProvider>
  );
}
