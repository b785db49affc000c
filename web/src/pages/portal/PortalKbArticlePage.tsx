import { Link, useParams } from "react-router";
import { isStatus } from "../../api/client";
import { usePublicKbArticle } from "../../api/kb";
import { EmptyState, ErrorState, Icon, Loading, PageHeader, Panel, formatDateTime, useDocumentTitle } from "../../atum";
import { Markdown } from "./Markdown";
import "./kb.css";

/** A public knowledge-base article, as customers read it. */
export function PortalKbArticlePage() {
  const { id = "" } = useParams();
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
      <Link to="/portal/tickets/new" className="kb-back">
        <Icon name="plus" /> New ticket
      </Link>
      <PageHeader eyebrow="Knowledge base" title={a.title} subtitle={`Updated ${formatDateTime(a.updated_at)}`} />
      <Panel surface="content" padding="lg">
        <Markdown source={a.body} />
      </Panel>
    </div>
  );
}
