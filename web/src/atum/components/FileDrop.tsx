/**
 * File picker + drop zone with per-file upload progress. The real <input type=file> stays in
 * the tab order (visually hidden, its label is the drop zone), so keyboard and getByLabel work.
 */
import { useCallback, useId, useRef, useState, type DragEvent } from "react";
import { errorMessage } from "../../api/client";
import { formatBytes } from "../domain";
import { Icon } from "./Icon";

export type UploadStatus = "queued" | "uploading" | "done" | "error";

export interface UploadItem {
  id: string;
  file: File;
  progress: number;
  status: UploadStatus;
  error?: string;
}

export type Uploader = (file: File, onProgress: (fraction: number) => void) => Promise<unknown>;

let counter = 0;

/** Files picked for upload and their progress; `uploadAll` sends the queued ones one by one. */
export function useUploadQueue() {
  const [items, setItems] = useState<UploadItem[]>([]);
  const patch = useCallback(
    (id: string, change: Partial<UploadItem>) =>
      setItems((list) => list.map((it) => (it.id === id ? { ...it, ...change } : it))),
    [],
  );
  /** Queue files; returns the new items (pass them to uploadAll to send them right away). */
  const add = useCallback((files: File[]): UploadItem[] => {
    const added = files.map((file) => ({ id: `up-${++counter}`, file, progress: 0, status: "queued" as const }));
    setItems((list) => [...list, ...added]);
    return added;
  }, []);
  const remove = useCallback((id: string) => setItems((list) => list.filter((it) => it.id !== id)), []);
  const clearDone = useCallback(() => setItems((list) => list.filter((it) => it.status !== "done")), []);
  const reset = useCallback(() => setItems([]), []);

  /** Upload every queued (or failed) item; resolves with the number that failed. */
  const uploadAll = useCallback(
    async (uploader: Uploader, pending: UploadItem[]) => {
      let failed = 0;
      for (const item of pending) {
        if (item.status === "done") continue;
        patch(item.id, { status: "uploading", progress: 0, error: undefined });
        try {
          await uploader(item.file, (fraction) => patch(item.id, { progress: fraction }));
          patch(item.id, { status: "done", progress: 1 });
        } catch (error) {
          failed += 1;
          patch(item.id, { status: "error", error: errorMessage(error) });
        }
      }
      return failed;
    },
    [patch],
  );
  return { items, add, remove, clearDone, reset, uploadAll };
}

export interface FileDropProps {
  label: string;
  hint?: string;
  items: UploadItem[];
  onAdd: (files: File[]) => void;
  onRemove?: (id: string) => void;
  disabled?: boolean;
  compact?: boolean;
}

export function FileDrop({ label, hint, items, onAdd, onRemove, disabled, compact }: FileDropProps) {
  const inputId = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);

  const onDrop = (event: DragEvent<HTMLLabelElement>) => {
    event.preventDefault();
    setOver(false);
    if (disabled) return;
    const files = Array.from(event.dataTransfer.files);
    if (files.length) onAdd(files);
  };

  return (
    <div className={["atum-drop", compact && "atum-drop--compact"].filter(Boolean).join(" ")}>
      <input
        ref={inputRef}
        id={inputId}
        type="file"
        multiple
        className="atum-drop__input"
        disabled={disabled}
        aria-labelledby={`${inputId}-label`}
        aria-describedby={[`${inputId}-cta`, hint ? `${inputId}-hint` : null].filter(Boolean).join(" ")}
        onChange={(event) => {
          const files = Array.from(event.target.files ?? []);
          if (files.length) onAdd(files);
          event.target.value = "";
        }}
      />
      <label
        htmlFor={inputId}
        className={["atum-drop__zone", over && "atum-drop__zone--over", disabled && "atum-drop__zone--disabled"]
          .filter(Boolean)
          .join(" ")}
        onDragOver={(event) => {
          event.preventDefault();
          if (!disabled) setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <Icon name="upload" />
        <span className="atum-drop__text">
          <span id={`${inputId}-label`} className="atum-drop__label">
            {label}
          </span>
          <span id={`${inputId}-cta`} className="atum-drop__cta">
            Drop files here or choose files
          </span>
        </span>
      </label>
      {hint ? (
        <p id={`${inputId}-hint`} className="atum-field__hint">
          {hint}
        </p>
      ) : null}
      {items.length > 0 ? (
        <ul className="atum-drop__list" aria-label="Selected files">
          {items.map((item) => (
            <UploadRow key={item.id} item={item} onRemove={onRemove} />
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function UploadRow({ item, onRemove }: { item: UploadItem; onRemove?: (id: string) => void }) {
  const pct = Math.round(item.progress * 100);
  const statusText =
    item.status === "done"
      ? "Uploaded"
      : item.status === "uploading"
        ? `${pct}%`
        : item.status === "error"
          ? "Failed"
          : "Ready";
  return (
    <li className={`atum-upload atum-upload--${item.status}`}>
      <Icon name={item.status === "done" ? "checkCircle" : item.status === "error" ? "alert" : "file"} size="sm" />
      <div className="atum-upload__main">
        <div className="atum-upload__row">
          <span className="atum-upload__name">{item.file.name}</span>
          <span className="atum-upload__meta tnum">
            {formatBytes(item.file.size)} · {statusText}
          </span>
        </div>
        {item.status === "uploading" || item.status === "done" ? (
          <div
            className="atum-progress"
            role="progressbar"
            aria-label={`Upload of ${item.file.name}`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={pct}
          >
            <div className="atum-progress__bar" style={{ width: `${pct}%` }} />
          </div>
        ) : null}
        {item.error ? <p className="atum-upload__error">{item.error}</p> : null}
      </div>
      {onRemove && item.status !== "uploading" && item.status !== "done" ? (
        <button type="button" className="atum-icon-btn atum-icon-btn--sm" onClick={() => onRemove(item.id)} aria-label={`Remove ${item.file.name}`}>
          <Icon name="x" size="sm" />
        </button>
      ) : null}
    </li>
  );
}
