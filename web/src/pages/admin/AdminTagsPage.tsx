import { useState, type FormEvent } from "react";
import { ApiError, errorMessage } from "../../api/client";
import { useMergeTag, useRenameTag, useTagLibrary } from "../../api/tags";
import {
  Button,
  EmptyState,
  ErrorState,
  FormError,
  Modal,
  Panel,
  SelectField,
  SkeletonRows,
  Table,
  TextField,
  useDebounced,
  useDocumentTitle,
  useToast,
  type Column,
} from "../../atum";

interface TagRow {
  id: string;
  name: string;
  count: number;
}

/** Tags on tickets: rename one, or merge a duplicate ("vpn " / "vpn-issue") into the one to keep. */
export function AdminTagsPage() {
  useDocumentTitle("Tags");
  const [q, setQ] = useState("");
  const search = useDebounced(q.trim().toLowerCase(), 250);
  const library = useTagLibrary(search);
  const [editing, setEditing] = useState<TagRow | null>(null);
  const rows: TagRow[] = (library.data?.pages ?? []).flatMap((p) => p.items);

  const columns: Column<TagRow>[] = [
    { key: "name", header: "Tag", rowHeader: true, cell: (t) => t.name },
    { key: "count", header: "Tickets", align: "end", cell: (t) => <span className="tnum">{t.count}</span> },
    {
      key: "edit",
      header: <span className="visually-hidden">Actions</span>,
      align: "end",
      cell: (t) => (
        <Button size="sm" variant="ghost" onClick={() => setEditing(t)} aria-label={`Rename or merge ${t.name}`}>
          Rename or merge
        </Button>
      ),
    },
  ];

  return (
    <Panel surface="content" padding="none">
      <div className="admin-toolbar">
        <div className="admin-toolbar__filters">
          <TextField label="Find a tag" type="search" value={q} onChange={(e) => setQ(e.target.value)} autoComplete="off" />
        </div>
      </div>
      {library.isPending ? (
        <SkeletonRows rows={4} />
      ) : library.isError ? (
        <div className="admin-pad">
          <ErrorState error={library.error} onRetry={() => void library.refetch()} />
        </div>
      ) : rows.length === 0 ? (
        <EmptyState icon="ticket" title={search ? "No tag matches" : "No tags yet"}>
          Agents create tags on the fly on a ticket page; they are never shown to customers.
        </EmptyState>
      ) : (
        <>
          <Table caption="Tags" captionHidden columns={columns} rows={rows} rowKey={(t) => t.id} />
          {library.hasNextPage ? (
            <div className="admin-pad">
              <Button variant="ghost" busy={library.isFetchingNextPage} onClick={() => void library.fetchNextPage()}>
                More tags
              </Button>
            </div>
          ) : null}
        </>
      )}
      {editing ? <TagDialog tag={editing} others={rows.filter((r) => r.id !== editing.id)} onClose={() => setEditing(null)} /> : null}
    </Panel>
  );
}

function TagDialog({ tag, others, onClose }: { tag: TagRow; others: TagRow[]; onClose: () => void }) {
  const rename = useRenameTag();
  const merge = useMergeTag();
  const toast = useToast();
  const [name, setName] = useState(tag.name);
  const [into, setInto] = useState("");
  const [failure, setFailure] = useState<string | null>(null);
  const [nameError, setNameError] = useState<string | undefined>();
  const pending = rename.isPending || merge.isPending;

  const onRename = (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    setNameError(undefined);
    rename.mutate(
      { id: tag.id, name: name.trim() },
      {
        onSuccess: (saved) => {
          toast.success(`Tag renamed to ${saved.name}`);
          onClose();
        },
        onError: (e) => {
          if (e instanceof ApiError && e.status === 409) setNameError("That name is taken: merge this tag into it instead.");
          else setNameError(e instanceof ApiError ? (e.fieldErrors().name ?? errorMessage(e)) : errorMessage(e));
        },
      },
    );
  };

  const onMerge = () => {
    setFailure(null);
    if (!into) return;
    merge.mutate(
      { id: tag.id, into },
      {
        onSuccess: (target) => {
          toast.success(`${tag.name} merged into ${target.name}`);
          onClose();
        },
        onError: (e) => setFailure(errorMessage(e)),
      },
    );
  };

  return (
    <Modal open onClose={onClose} busy={pending} title={`Tag ${tag.name}`}>
      <form className="atum-form" onSubmit={onRename} noValidate>
        <TextField
          label="New name"
          hint="Lower-case letters, digits, space, dot, dash and underscore; up to 40 characters."
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={nameError}
          autoComplete="off"
        />
        <div className="atum-form__actions">
          <Button type="submit" variant="primary" busy={rename.isPending} disabled={!name.trim() || name.trim() === tag.name}>
            Rename
          </Button>
        </div>
      </form>
      <div className="atum-form">
        <SelectField
          label={`Merge into another tag (its ${tag.count} ticket${tag.count === 1 ? "" : "s"} move over)`}
          value={into}
          onChange={(e) => setInto(e.target.value)}
        >
          <option value="">Choose a tag…</option>
          {others.map((o) => (
            <option key={o.id} value={o.id}>
              {o.name} ({o.count})
            </option>
          ))}
        </SelectField>
        {failure ? <FormError>{failure}</FormError> : null}
        <div className="atum-form__actions">
          <Button variant="ghost" onClick={onClose} disabled={pending}>
            Cancel
          </Button>
          <Button variant="danger" busy={merge.isPending} disabled={!into} onClick={onMerge}>
            Merge and delete {tag.name}
          </Button>
        </div>
      </div>
    </Modal>
  );
}
