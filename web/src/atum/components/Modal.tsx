/**
 * A modal dialog: rendered over a scrim outside the app root, which becomes inert (and hidden
 * from assistive tech) while the dialog is open; Tab cycles inside; Esc closes; focus returns
 * to whatever opened it.
 */
import { useEffect, useId, useRef, type ReactNode } from "react";
import { createPortal } from "react-dom";
import { Icon } from "./Icon";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export interface ModalProps {
  open: boolean;
  onClose: () => void;
  title: ReactNode;
  description?: ReactNode;
  children?: ReactNode;
  footer?: ReactNode;
  /** Ignore Esc and the close button while something is in flight. */
  busy?: boolean;
  size?: "md" | "lg";
  /** The element that owns the page (made inert while open). */
  appRootId?: string;
}

export function focusableIn(container: HTMLElement): HTMLElement[] {
  return Array.from(container.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (el) => !el.hasAttribute("disabled") && el.getAttribute("aria-hidden") !== "true",
  );
}

export function Modal({ open, onClose, title, description, children, footer, busy, size = "md", appRootId = "root" }: ModalProps) {
  const titleId = useId();
  const descId = useId();
  const dialogRef = useRef<HTMLDivElement>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  const busyRef = useRef(busy);
  busyRef.current = busy;

  useEffect(() => {
    if (!open) return;
    const previous = document.activeElement as HTMLElement | null;
    const root = document.getElementById(appRootId);
    root?.setAttribute("inert", "");
    root?.setAttribute("aria-hidden", "true");
    const dialog = dialogRef.current;
    if (dialog) {
      const preferred = dialog.querySelector<HTMLElement>("[data-autofocus]");
      const first = preferred ?? focusableIn(dialog).find((el) => el.dataset.dialogClose === undefined) ?? dialog;
      first.focus();
    }
    const onKey = (event: KeyboardEvent) => {
      if (!dialogRef.current) return;
      if (event.key === "Escape") {
        event.stopPropagation();
        if (!busyRef.current) onCloseRef.current();
        return;
      }
      if (event.key !== "Tab") return;
      const items = focusableIn(dialogRef.current);
      if (items.length === 0) {
        event.preventDefault();
        dialogRef.current.focus();
        return;
      }
      const first = items[0]!;
      const last = items[items.length - 1]!;
      const active = document.activeElement;
      if (event.shiftKey && (active === first || !dialogRef.current.contains(active))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (active === last || !dialogRef.current.contains(active))) {
        event.preventDefault();
        first.focus();
      }
    };
    document.addEventListener("keydown", onKey, true);
    return () => {
      document.removeEventListener("keydown", onKey, true);
      root?.removeAttribute("inert");
      root?.removeAttribute("aria-hidden");
      if (previous && document.contains(previous)) previous.focus();
    };
  }, [open, appRootId]);

  if (!open) return null;
  return createPortal(
    <div className="atum-dialog-scrim">
      <div
        ref={dialogRef}
        className={`atum-dialog atum-dialog--${size}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={description ? descId : undefined}
        tabIndex={-1}
      >
        <div className="atum-dialog__head">
          <h2 id={titleId} className="atum-dialog__title">
            {title}
          </h2>
          <button
            type="button"
            className="atum-icon-btn"
            onClick={() => !busy && onClose()}
            aria-label="Close dialog"
            data-dialog-close=""
            disabled={busy}
          >
            <Icon name="x" />
          </button>
        </div>
        {description ? (
          <p id={descId} className="atum-dialog__desc">
            {description}
          </p>
        ) : null}
        <div className="atum-dialog__body">{children}</div>
        {footer ? <div className="atum-dialog__foot">{footer}</div> : null}
      </div>
    </div>,
    document.body,
  );
}
