import { useId, useState, type ReactNode } from "react";
import { formatDateTime, formatRelative } from "../domain";
import { Button } from "./Button";
import { Icon } from "./Icon";
import { InternalBadge } from "./Pills";

export interface RefusedFileView {
  file_name: string;
  reason: string;
}

export interface MessageProps {
  author: string;
  /** "staff" messages sit on the right-hand tone; "customer" on the neutral one. */
  side: "staff" | "customer";
  at: string;
  internal?: boolean;
  badge?: ReactNode;
  children: ReactNode;
  /** The quoted history split off a mail: folded behind "Show quoted text". */
  quoted?: string | null;
  /** Files that came with a mail and were not stored. */
  refused?: RefusedFileView[];
  /** Links under the message (e.g. the original .eml). */
  footer?: ReactNode;
  now?: number;
}

/** One entry of a conversation. Internal notes carry the stripe, the lock and "Internal". */
export function Message({ author, side, at, internal, badge, children, quoted, refused, footer, now }: MessageProps) {
  return (
    <article
      className={["atum-msg", `atum-msg--${side}`, internal && "atum-internal atum-msg--internal"].filter(Boolean).join(" ")}
      aria-label={`${internal ? "Internal note" : "Message"} from ${author}`}
      data-internal={internal ? "true" : undefined}
    >
      <header className="atum-msg__head">
        <span className="atum-msg__author">{author}</span>
        {badge}
        {internal ? <InternalBadge /> : null}
        <time className="atum-msg__time" dateTime={at} title={formatDateTime(at)}>
          {formatRelative(at, now)}
        </time>
      </header>
      <div className="atum-msg__body pre-wrap">{children}</div>
      {quoted ? <QuotedText text={quoted} /> : null}
      {refused && refused.length > 0 ? <RefusedFiles files={refused} /> : null}
      {footer ? <div className="atum-msg__foot">{footer}</div> : null}
    </article>
  );
}

/** Quoted mail history, folded by default; the toggle says whether it is open (aria-expanded). */
export function QuotedText({ text }: { text: string }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  return (
    <div className="atum-quoted">
      <Button
        size="sm"
        variant="ghost"
        icon="chevronDown"
        className="atum-quoted__toggle"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen((o) => !o)}
      >
        {open ? "Hide quoted text" : "Show quoted text"}
      </Button>
      <blockquote id={id} className="atum-quoted__text pre-wrap" hidden={!open}>
        {text}
      </blockquote>
    </div>
  );
}

/** "Not attached: name — reason" for every file of a mail the upload rules refused. */
export function RefusedFiles({ files }: { files: RefusedFileView[] }) {
  return (
    <ul className="atum-refused" aria-label="Files not attached">
      {files.map((f, i) => (
        <li key={`${i}-${f.file_name}`} className="atum-refused__item">
          <Icon name="alert" size="sm" />
          <span>
            Not attached: {f.file_name} — {f.reason}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** A download of the mail as received (cookie auth: a plain link). */
export function OriginalMailLink({ href, title }: { href: string; title?: string }) {
  return (
    <a className="atum-original" href={href} download title={title}>
      <Icon name="download" size="sm" />
      Download original (.eml)
    </a>
  );
}
