import { formatBytes, formatRelative } from "../domain";
import { Icon } from "./Icon";
import { InternalBadge } from "./Pills";

export interface AttachmentView {
  id: string;
  file_name: string;
  size_bytes: number;
  created_at: string;
  href: string;
  internal?: boolean;
  by?: string | null;
}

/** Download links (the server answers with Content-Disposition: attachment). */
export function AttachmentList({ items, empty = "No attachments yet." }: { items: AttachmentView[]; empty?: string }) {
  if (items.length === 0) return <p className="faint">{empty}</p>;
  return (
    <ul className="atum-files">
      {items.map((a) => (
        <li key={a.id} className={["atum-file", a.internal && "atum-internal"].filter(Boolean).join(" ")}>
          <Icon name="paperclip" size="sm" />
          <div className="atum-file__main">
            <a className="atum-file__name" href={a.href} download={a.file_name}>
              {a.file_name}
            </a>
            <span className="atum-file__meta tnum">
              {formatBytes(a.size_bytes)} · {a.by ? `${a.by} · ` : ""}
              {formatRelative(a.created_at)}
            </span>
          </div>
          {a.internal ? <InternalBadge /> : null}
        </li>
      ))}
    </ul>
  );
}
