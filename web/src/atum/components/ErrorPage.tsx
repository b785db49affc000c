import type { ReactNode } from "react";
import { Icon } from "./Icon";

/** A full 403 / 404 page body (inside whatever layout is around it). */
export function ErrorPage({
  code,
  title,
  children,
  actions,
}: {
  code: 403 | 404 | 500;
  title?: string;
  children?: ReactNode;
  actions?: ReactNode;
}) {
  const heading =
    title ?? (code === 404 ? "We could not find that" : code === 403 ? "You do not have access to this" : "Something went wrong");
  const text =
    children ??
    (code === 404
      ? "The page or ticket does not exist, or it belongs to another organization."
      : code === 403
        ? "Your role does not allow this page. If you think it should, ask your administrator."
        : "Please try again in a moment.");
  return (
    <section className="atum-error-page" aria-labelledby="error-page-title">
      <div className="atum-error-page__code tnum" aria-hidden="true">
        {code}
      </div>
      <Icon name={code === 403 ? "lock" : code === 404 ? "search" : "alert"} size="lg" className="atum-error-page__glyph" />
      <h1 id="error-page-title">{heading}</h1>
      <p className="muted">{text}</p>
      {actions ? <div className="atum-error-page__actions">{actions}</div> : null}
    </section>
  );
}
