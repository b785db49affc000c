import { Link, useParams, useSearchParams } from "react-router";
import { isStatus } from "../../api/client";
import { usePublicKbArticle } from "../../api/kb";
import { ButtonLink, EmptyState, ErrorState, Icon, Loading, PageHeader, Panel, formatDateTime, useDocumentTitle } from "../../atum";
import { Markdown } from "./Markdown";
import "./kb.css";

/** A public knowledge-base article, as customers read it. `?q=` is the help-articles search it
 * was opened from, kept for the way back. */
export function PortalKbArticlePage() {
  const { id = "" } = useParams();
  const [params] = useSearchParams();
  const q = params.get("q");
  const back = q ? `/portal/kb?${new URLSearchParams({ q }).toString()}` : "/portal/kb";
  const article = usePublicKbArticle(id);
  useDocumentTitle(article.data?.title ?? "Article");
  if (article.isPending) return <Loading label="Loading the article" />;
  if (article.isError) {
    return isStatus(article.error, 404, 422) ? (
      <EmptyState icon="file" title="Article not found">
        It may have been removed. <Link to="/portal/tickets/new">Open a ticket</Link> and we will help.
      </EmptyState>
    ) : (
      <ErrorState error={article.error} onRetry={() => void article.refetch()} />
    );
  }
  const a = article.data;
  return (
    <div className="kb-article">
      <Link to={back} className="kb-back">
        <Icon name="arrowLeft" /> Help articles
      </Link>
      <PageHeader eyebrow="Help article" title={a.title} subtitle={`Updated ${formatDateTime(a.updated_at)}`} />
      <Panel surface="content" padding="lg">
        <Markdown source={a.body} />
      </Panel>
      <section className="kb-stuck" aria-labelledby="kb-stuck-title">
        <h2 id="kb-stuck-title" className="kb-stuck__title">
          Still stuck?
        </h2>
        <p className="kb-stuck__text">Tell the support team what happened and we will help.</p>
        <ButtonLink to="/portal/tickets/new" variant="primary" icon="plus">
          Open a ticket
        </ButtonLink>
      </section>
    </div>
  );
}
