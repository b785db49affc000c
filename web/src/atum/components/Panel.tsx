import type { ElementType, HTMLAttributes, ReactNode } from "react";

export interface PanelProps extends HTMLAttributes<HTMLElement> {
  /** glass: floats over the field (shell, cards); content: more opaque, for dense reading. */
  surface?: "glass" | "content" | "sunken";
  padding?: "none" | "sm" | "md" | "lg";
  as?: ElementType;
  children?: ReactNode;
}

/** A glass (or content) surface. Glass is for hierarchy only: do not nest glass in glass. */
export function Panel({ surface = "glass", padding = "md", as: As = "section", className, children, ...rest }: PanelProps) {
  return (
    <As className={["atum-panel", `atum-panel--${surface}`, `atum-pad--${padding}`, className].filter(Boolean).join(" ")} {...rest}>
      {children}
    </As>
  );
}

export interface CardProps extends Omit<PanelProps, "title"> {
  title?: ReactNode;
  titleId?: string;
  actions?: ReactNode;
  headingLevel?: 2 | 3;
}

/** A panel with a heading row. */
export function Card({ title, titleId, actions, headingLevel = 2, children, ...rest }: CardProps) {
  const H = headingLevel === 2 ? "h2" : "h3";
  return (
    <Panel aria-labelledby={title && titleId ? titleId : undefined} {...rest}>
      {title || actions ? (
        <div className="atum-card__head">
          {title ? (
            <H id={titleId} className="atum-card__title">
              {title}
            </H>
          ) : (
            <span />
          )}
          {actions ? <div className="atum-card__actions">{actions}</div> : null}
        </div>
      ) : null}
      {children}
    </Panel>
  );
}
