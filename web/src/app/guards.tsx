import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { useMe } from "../api/auth";
import { ButtonLink, ErrorPage, ErrorState, Loading, PublicLayout } from "../atum";
import { homeFor, loginPathFor, mayEnter, type Area } from "../lib/session";

/**
 * Signed-in users of the right kind only: anonymous → /login (with the return path),
 * wrong role → a 403 page (inline when already inside a shell).
 */
export function RequireArea({ area, inline, children }: { area: Area; inline?: boolean; children: ReactNode }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <Loading label="Checking your session" />;
  if (me.isError) {
    return (
      <div className="atum-guard-error">
        <ErrorState error={me.error} onRetry={() => void me.refetch()} />
      </div>
    );
  }
  if (!me.data) return <Navigate to={loginPathFor(location)} replace />;
  if (!mayEnter(me.data, area)) {
    const page = (
      <ErrorPage
        code={403}
        actions={
          <ButtonLink to={homeFor(me.data.role)} variant="primary">
            Go to my start page
          </ButtonLink>
        }
      />
    );
    return inline ? page : <PublicLayout footer={false}>{page}</PublicLayout>;
  }
  return <>{children}</>;
}
