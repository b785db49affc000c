/**
 * The knowledge base on the desk: every article (internal ones for staff only, public ones also
 * offered to customers while they write a ticket), full-text search, and one dialog to write or
 * edit an article in Markdown. Managers and admins may delete. `?article=<id>` opens an article.
 */
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { useMe } from "../../api/auth";
import { ApiError, errorMessage } from "../../api/client";
import {
  useCreateKbArticle,
  useDeleteKbArticle,
  useKbArticle,
  useKbArticles,
  useUpdateKbArticle,
  type KbArticle,
  type KbArticleSummary,
  type KbVisibility,
} from "../../api/kb";
import {
  Button,
  EmptyState,
  ErrorState,
  FormError,
  InternalBadge,
  Loading,
  Modal,
  PageHeader,
  Panel,
  SelectField,
  SkeletonRows,
  Table,
  TextArea,
  TextField,
  formatDateTime,
  formatRelative,
  useDebounced,
  useDocumentTitle,
  type Column,
} from "../../atum";
import { Markdown } from "../portal/Markdown";
import "./desk.css";
import "./kb.css";
import "../portal/kb.css";

export const KB_TITLE_MAX = 200;
export const KB_BODY_MAX = 50_000;

export function VisibilityPill({ visibility }: { visibility: KbVisibility }) {
  return visibility === "internal" ? (
    <InternalBadge />
  ) : (
    <span className="atum-pill atum-pill--sm atum-status--resolved">Public</span>
  );
}

export function KbPage() {
  useDocumentTitle("Knowledge base");
  const me = useMe().data;
  const [params, setParams] = useSearchParams();
  const [q, setQ] = useState("");
  const query = useDebounced(q.trim(), 300);
  const articles = useKbArticles(query);
  const items = articles.data?.pages.flatMap((p) => p.items) ?? [];
  const open = params.get("article");
  const [creating, setCreating] = useState(false);
  const canDelete = me?.role === "manager" || me?.role === "admin";

  const openArticle = (id: string | null) => {
    const next = new URLSearchParams(params);
    if (id) next.set("article", id);
    else next.delete("article");
    setParams(next, { replace: true });
  };

  const columns: Column<KbArticleSummary>[] = [
    {
      key: "title",
      header: "Article",
      rowHeader: true,
      cell: (a) => (
        <div className="desk-kb__title">
          <button type="button" className="desk-kb__open" onClick={() => openArticle(a.id)}>
            {a.title}
          </button>
          <span className="desk-kb__excerpt faint">{a.excerpt}</span>
        </div>
      ),
    },
    { key: "visibility", header: "Visibility", cell: (a) => <VisibilityPill visibility={a.visibility} /> },
    { key: "by", header: "Last edited by", cell: (a) => a.updated_by.name, hideOnMobile: true },
    {
      key: "updated",
      header: "Updated",
      hideOnMobile: true,
      cell: (a) => (
        <time dateTime={a.updated_at} title={formatDateTime(a.updated_at)} className="nowrap">
          {formatRelative(a.updated_at)}
        </time>
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title="Knowledge base"
        subtitle="Answers written once. Internal articles help the desk; public ones are also offered to customers while they describe a problem. Ticket suggestions cite both."
        actions={
          <Button variant="primary" icon="plus" onClick={() => setCreating(true)}>
            New article
          </Button>
        }
      />
      <Panel surface="content" padding="none">
        <form className="desk-kb__search" role="search" aria-label="Search articles" onSubmit={(e) => e.preventDefault()}>
          <TextField label="Search" type="search" placeholder="Words in the title or text" value={q} onChange={(e) => setQ(e.target.value)} />
        </form>
        {articles.isPending ? (
          <SkeletonRows rows={5} />
        ) : articles.isError ? (
          <div className="desk-pad">
            <ErrorState error={articles.error} onRetry={() => void articles.refetch()} />
          </div>
        ) : items.length === 0 ? (
          <EmptyState icon="file" title={query ? "No article matches" : "No articles yet"}>
            {query ? "Try other words." : "Write the first one: the answer you find yourself giving again and again."}
          </EmptyState>
        ) : (
          <>
            <Table caption="Articles" captionHidden columns={columns} rows={items} rowKey={(a) => a.id} />
            <div className="atum-load-more">
              {articles.hasNextPage ? (
                <Button onClick={() => void articles.fetchNextPage()} busy={articles.isFetchingNextPage}>
                  Load more
                </Button>
              ) : (
                <p className="faint">
                  {items.length} article{items.length === 1 ? "" : "s"} — that is all.
                </p>
              )}
            </div>
          </>
        )}
      </Panel>
      {creating ? <ArticleDialog article={null} canDelete={false} onClose={() => setCreating(false)} /> : null}
      {open ? <ExistingArticle id={open} canDelete={canDelete} onClose={() => openArticle(null)} /> : null}
    </>
  );
}

function ExistingArticle({ id, canDelete, onClose }: { id: string; canDelete: boolean; onClose: () => void }) {
  const article = useKbArticle(id);
  if (article.data) return <ArticleDialog key={article.data.id} article={article.data} canDelete={canDelete} onClose={onClose} />;
  return (
    <Modal open onClose={onClose} title="Article">
      {article.isError ? <ErrorState error={article.error} /> : <Loading label="Loading the article" />}
    </Modal>
  );
}

function ArticleDialog({ article, canDelete, onClose }: { article: KbArticle | null; canDelete: boolean; onClose: () => void }) {
  const create = useCreateKbArticle();
  const update = useUpdateKbArticle();
  const remove = useDeleteKbArticle();
  const [title, setTitle] = useState(article?.title ?? "");
  const [body, setBody] = useState(article?.body ?? "");
  const [visibility, setVisibility] = useState<KbVisibility>(article?.visibility ?? "internal");
  const [preview, setPreview] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const pending = create.isPending || update.isPending || remove.isPending;

  const onError = (error: unknown) => {
    const fields = error instanceof ApiError ? error.fieldErrors() : {};
    setErrors(fields);
    setFailure(Object.keys(fields).length ? null : errorMessage(error));
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!title.trim()) found.title = "Give the article a title.";
    if (!body.trim()) found.body = "Write the article.";
    setErrors(found);
    setFailure(null);
    if (Object.keys(found).length) return;
    const input = { title: title.trim(), body: body.trim(), visibility };
    if (article) update.mutate({ id: article.id, ...input }, { onSuccess: onClose, onError });
    else create.mutate(input, { onSuccess: onClose, onError });
  };

  const onDelete = () => {
    if (!article) return;
    remove.mutate(article.id, { onSuccess: onClose, onError });
  };

  return (
    <Modal open size="lg" onClose={onClose} busy={pending} title={article ? `Edit “${article.title}”` : "New article"}>
      <form className="atum-form" onSubmit={onSubmit} noValidate>
        <TextField label="Title" required value={title} onChange={(e) => setTitle(e.target.value)} maxLength={KB_TITLE_MAX} error={errors.title} />
        <SelectField
          label="Visibility"
          value={visibility}
          onChange={(e) => setVisibility(e.target.value as KbVisibility)}
          hint={visibility === "public" ? "Customers are offered it while they write a ticket." : "Staff only. Ticket suggestions still cite it."}
          error={errors.visibility}
        >
          <option value="internal">Internal — staff only</option>
          <option value="public">Public — customers too</option>
        </SelectField>
        {preview ? (
          <div className="desk-kb__preview" aria-label="Preview">
            <Markdown source={body} />
          </div>
        ) : (
          <TextArea
            label="Text (Markdown)"
            required
            rows={14}
            value={body}
            onChange={(e) => setBody(e.target.value)}
            maxLength={KB_BODY_MAX}
            hint="Headings (##), lists (-), **bold**, `code`, [links](https://…). No HTML."
            error={errors.body}
          />
        )}
        {failure ? <FormError>{failure}</FormError> : null}
        {confirming ? (
          <div className="desk-kb__confirm" role="alert">
            <p>Delete this article? Customers and ticket suggestions lose it at once; this cannot be undone.</p>
            <Button variant="ghost" onClick={() => setConfirming(false)} disabled={pending}>
              Keep it
            </Button>
            <Button variant="danger" onClick={onDelete} busy={remove.isPending}>
              Delete article
            </Button>
          </div>
        ) : null}
        <div className="atum-form__actions">
          {article && canDelete && !confirming ? (
            <Button variant="danger" onClick={() => setConfirming(true)} disabled={pending} className="desk-kb__delete">
              Delete
            </Button>
          ) : null}
          <Button variant="secondary" onClick={() => setPreview(!preview)} disabled={pending}>
            {preview ? "Edit text" : "Preview"}
          </Button>
          <Button variant="ghost" onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={create.isPending || update.isPending}>
            {article ? "Save article" : "Create article"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
