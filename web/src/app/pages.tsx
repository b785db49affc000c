import { isRouteErrorResponse, useRouteError } from "react-router";
import { ButtonLink, ErrorPage, PublicLayout } from "../atum";

export function NotFoundPage({ inline }: { inline?: boolean }) {
  const page = (
    <ErrorPage
      code={404}
      title="Page not found"
      actions={
        <ButtonLink to="/" variant="secondary" icon="arrowLeft">
          Back to the start page
        </ButtonLink>
      }
    >
      There is nothing at this address.
    </ErrorPage>
  );
  return inline ? page : <PublicLayout footer={false}>{page}</PublicLayout>;
}

export function RouteErrorPage() {
  const error = useRouteError();
  const notFound = isRouteErrorResponse(error) && error.status === 404;
  return (
    <PublicLayout footer={false}>
      <ErrorPage
        code={notFound ? 404 : 500}
        actions={
          <ButtonLink to="/" variant="secondary" icon="arrowLeft" reloadDocument>
            Back to the start page
          </ButtonLink>
        }
      >
        {notFound ? "There is nothing at this address." : "The page failed to load. Reload to try again."}
      </ErrorPage>
    </PublicLayout>
  );
}
