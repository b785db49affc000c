import type { ReactNode } from "react";
import { formatDateTime, formatRelative } from "../domain";
import { InternalBadge } from "./Pills";

export interface MessageProps {
  author: string;
  /** "staff" messages sit on the right-hand tone; "customer" on the neutral one. */
  side: "staff" | "customer";
  at: string;
  internal?: boolean;
  badge?: ReactNode;
  children: ReactNode;
  now?: number;
}

/** One entry of a conversation. Internal notes carry the stripe, the lock and "Internal". */
export function Message({ author, side, at, internal, badge, children, now }: MessageProps) {
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
    </article>
  );
}
