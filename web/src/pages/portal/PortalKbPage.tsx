/**
 * Help articles: customers browse the public knowledge base (newest first, a page at a time) or
 * search it before (or instead of) opening a ticket. A search answers with the best public
 * matches (at most five, ranked by relevance; the same search as the new-ticket deflection
 * panel). The search sits in `?q=` so the back link of an article returns to the same results.
 */
import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { KB_QUESTION_MAX, useKbLibrary, useKbMatches } from "../../api/kb";
import { Button, ButtonLink, EmptyState, ErrorState, PageHeader, Panel, SkeletonRows, TextField, useDebounced, useDocumentTitle } from "../../atum";
import "./portal.css";
import "./kb.css";

export const KB_SEARCH_DELAY_MS = 300;

export function PortalKbPage() {
  useDocumentTitle("Help articles");
  const [params, setParams] = useSearchParams();
  const [q, setQ] = useState(params.get("q") ?? "");
  const query = useDebounced(q.trim(), KB_SEARCH_DELAY_MS).slice(0, KB_QUESTION_MAX);
  const matches = useKbMatches(query, query !== "");
  const items = matches.data?.items ?? [];
  const library = useKbLibrary(query === "");
  const libraryItems = library.data?.pages.flatMap((page) => page.items) ?? [];

  // Keep the address in step with the search (replace: typing is not history).
  useEffect(() => {
    if ((params.get("q") ?? "") === query) return;
    const next = new URLSearchParams(params);
    if (query) next.set("q", query);
    else next.delete("q");
    setParams(next, { replace: true });
  }, [query, params, setParams]);

  const status =
    !query || matches.isPending || matches.isError
      ? ""
      : items.length === 0
        ? "No article matches."
        : `${items.length} matching article${items.length === 1 ? "" : "s"}.`;

  const openTicket = (
    <ButtonLink to="/portal/tickets/new" variant="primary" icon="plus">
      Open a ticket
    </ButtonLink>
  );

  return (
    <>
      <PageHeader
        title="Help articles"
        subtitle="Answers the support team has written for common questions. Browse them, or describe your problem in a few words."
      />
      <Panel surface="content" padding="none" className="portal-list">
        <form className="portal-kb__search" role="search" aria-label="Help articles" onSubmit={(e) => e.preventDefault()}>
          <TextField
            label="Search help articles"
            type="search"
            placeholder="For example: forgot my password"
            maxLength={KB_QUESTION_MAX}
            value={q}
            onChange={(e) => setQ(e.target.value)}
          />
        </form>
        {!query ? (
          library.isPending ? (
            <SkeletonRows rows={3} />
          ) : library.isError ? (
            <div className="portal-list__pad">
              <ErrorState error={library.error} onRetry={() => void library.refetch()} />
            </div>
          ) : libraryItems.length === 0 ? (
            <EmptyState icon="file" title="No help articles yet" action={openTicket}>
              The support team has not published any articles. Open a ticket and they will help.
            </EmptyState>
          ) : (
            <>
              <h2 id="portal-kb-library" className="visually-hidden">
                All help articles
              </h2>
              <ul className="portal-tickets" aria-labelledby="portal-kb-library">
                {libraryItems.map((article) => (
                  <li key={article.id} className="portal-ticket">
                    <div className="portal-ticket__main">
                      <Link to={`/portal/kb/${article.id}`} className="portal-ticket__title">
                        {article.title}
                      </Link>
                      <p className="kb-deflect__excerpt">{article.excerpt}</p>
                    </div>
                  </li>
                ))}
              </ul>
              {library.hasNextPage ? (
                <div className="portal-list__pad">
                  <Button variant="ghost" onClick={() => void library.fetchNextPage()} disabled={library.isFetchingNextPage}>
                    {library.isFetchingNextPage ? "Loading…" : "Load more"}
                  </Button>
                </div>
              ) : null}
            </>
          )
        ) : matches.isPending ? (
          <SkeletonRows rows={3} />
        ) : matches.isError ? (
          <div className="portal-list__pad">
            <ErrorState error={matches.error} onRetry={() => void matches.refetch()} />
          </div>
        ) : items.length === 0 ? (
          <EmptyState icon="file" title="No article matches" action={openTicket}>
            Try other words, or open a ticket and the support team will help.
          </EmptyState>
        ) : (
          <>
            <h2 id="portal-kb-results" className="visually-hidden">
              Matching articles
            </h2>
            <ul className="portal-tickets" aria-labelledby="portal-kb-results">
              {items.map((article) => (
                <li key={article.id} className="portal-ticket">
                  <div className="portal-ticket__main">
                    <Link to={{ pathname: `/portal/kb/${article.id}`, search: `?q=${encodeURIComponent(query)}` }} className="portal-ticket__title">
                      {article.title}
                    </Link>
                    <p className="kb-deflect__excerpt">{article.excerpt}</p>
                  </div>
                </li>
              ))}
            </ul>
            <p className="portal-kb__note faint">
              Showing the {items.length === 1 ? "best match" : `${items.length} best matches`}. Not what you need?{" "}
              <Link to="/portal/tickets/new">Open a ticket</Link>.
            </p>
          </>
        )}
      </Panel>
      <p role="status" className="visually-hidden">
        {status}
      </p>
    </>
  );
}
