/**
 * Toasts: short confirmations (polite) and API errors (assertive). The viewport lives outside
 * the app root so it stays announced while a dialog makes the page inert.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { createPortal } from "react-dom";
import { Icon } from "./Icon";

export type ToastTone = "success" | "error" | "info";

export interface ToastItem {
  id: number;
  tone: ToastTone;
  message: string;
}

interface ToastApi {
  show: (message: string, tone?: ToastTone) => void;
  success: (message: string) => void;
  error: (message: string) => void;
}

const ToastContext = createContext<ToastApi | null>(null);

/** The app's toast API outside React (the QueryClient's global error hook). */
let external: ToastApi | null = null;
export function toastOutsideReact(): ToastApi | null {
  return external;
}

export function ToastProvider({ children, timeoutMs = 6000 }: { children: ReactNode; timeoutMs?: number }) {
  const [items, setItems] = useState<ToastItem[]>([]);
  const nextId = useRef(1);
  const dismiss = useCallback((id: number) => setItems((list) => list.filter((t) => t.id !== id)), []);
  const show = useCallback(
    (message: string, tone: ToastTone = "info") => {
      const id = nextId.current++;
      setItems((list) => [...list.filter((t) => t.message !== message), { id, tone, message }].slice(-4));
      window.setTimeout(() => dismiss(id), tone === "error" ? timeoutMs * 1.5 : timeoutMs);
    },
    [dismiss, timeoutMs],
  );
  const api = useMemo<ToastApi>(
    () => ({ show, success: (m) => show(m, "success"), error: (m) => show(m, "error") }),
    [show],
  );
  useEffect(() => {
    external = api;
    return () => {
      if (external === api) external = null;
    };
  }, [api]);
  return (
    <ToastContext.Provider value={api}>
      {children}
      {createPortal(<ToastViewport items={items} onDismiss={dismiss} />, document.body)}
    </ToastContext.Provider>
  );
}

export function useToast(): ToastApi {
  const ctx = useContext(ToastContext);
  if (!ctx) throw new Error("useToast outside ToastProvider");
  return ctx;
}

function ToastViewport({ items, onDismiss }: { items: ToastItem[]; onDismiss: (id: number) => void }) {
  // One polite live region is always present (announces confirmations); each error toast is
  // its own role="alert" while it is shown, so an idle page carries no empty alert.
  return (
    <div className="atum-toasts">
      <div aria-live="polite" className="atum-toasts__region">
        {items.map((t) => (
          <Toast key={t.id} item={t} onDismiss={onDismiss} />
        ))}
      </div>
    </div>
  );
}

function Toast({ item, onDismiss }: { item: ToastItem; onDismiss: (id: number) => void }) {
  const glyph = item.tone === "error" ? "alert" : item.tone === "success" ? "checkCircle" : "spark";
  return (
    <div className={`atum-toast atum-toast--${item.tone}`} role={item.tone === "error" ? "alert" : undefined}>
      <Icon name={glyph} />
      <p className="atum-toast__msg">{item.message}</p>
      <button type="button" className="atum-icon-btn atum-icon-btn--sm" onClick={() => onDismiss(item.id)} aria-label="Dismiss notification">
        <Icon name="x" size="sm" />
      </button>
    </div>
  );
}
