import type { ReactNode } from "react";
import { errorMessage } from "../../api/client";
import { Button } from "./Button";
import { Icon, type IconName } from "./Icon";

export function EmptyState({
  icon = "inbox",
  title,
  children,
  action,
}: {
  icon?: IconName;
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <div className="atum-empty">
      <div className="atum-empty__glyph" aria-hidden="true">
        <Icon name={icon} size="lg" />
      </div>
      <h2 className="atum-empty__title">{title}</h2>
      {children ? <p className="atum-empty__text">{children}</p> : null}
      {action ? <div className="atum-empty__action">{action}</div> : null}
    </div>
  );
}

/** An inline "could not load" block with a retry. */
export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="atum-error-state" role="alert">
      <Icon name="alert" />
      <p>{errorMessage(error)}</p>
      {onRetry ? (
        <Button size="sm" variant="secondary" icon="refresh" onClick={onRetry}>
          Try again
        </Button>
      ) : null}
    </div>
  );
}

export function Skeleton({ lines = 3, className }: { lines?: number; className?: string }) {
  return (
    <div className={["atum-skeleton", className].filter(Boolean).join(" ")} aria-hidden="true">
      {Array.from({ length: lines }, (_, i) => (
        <span key={i} className="atum-skeleton__line" />
      ))}
    </div>
  );
}

/** A loading placeholder announced once to screen readers. */
export function Loading({ label = "Loading", lines = 4 }: { label?: string; lines?: number }) {
  return (
    <div className="atum-loading" role="status" aria-live="polite">
      <span className="visually-hidden">{label}…</span>
      <Skeleton lines={lines} />
    </div>
  );
}

export function SkeletonRows({ rows = 6 }: { rows?: number }) {
  return (
    <div className="atum-skeleton-rows" role="status">
      <span className="visually-hidden">Loading…</span>
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="atum-skeleton-row" aria-hidden="true">
          <span className="atum-skeleton__line atum-skeleton__line--xs" />
          <span className="atum-skeleton__line" />
          <span className="atum-skeleton__line atum-skeleton__line--sm" />
        </div>
      ))}
    </div>
  );
}
