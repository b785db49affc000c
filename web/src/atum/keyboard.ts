/**
 * Single-key shortcuts for the desk. A shortcut never fires while the user types in a field
 * (input, textarea, select, contenteditable), with a modifier key held (Ctrl, Alt, Meta; Shift
 * only where the key itself needs it, as "?"), or on a key that repeats.
 */
import { useEffect, useRef } from "react";

/** A handler that returns false did not use the key (the browser's default then happens). */
export type ShortcutMap = Partial<Record<string, (event: KeyboardEvent) => boolean | void>>;

/** The shortcuts the desk knows, for the help dialog ("?"). */
export const SHORTCUTS: { keys: string; label: string; where: string }[] = [
  { keys: "j", label: "Next ticket", where: "Lists" },
  { keys: "k", label: "Previous ticket", where: "Lists" },
  { keys: "Enter", label: "Open the selected ticket", where: "Lists" },
  { keys: "x", label: "Select or unselect the ticket (bulk actions)", where: "Lists" },
  { keys: "/", label: "Search", where: "Lists" },
  { keys: "r", label: "Reply to the customer", where: "Ticket" },
  { keys: "n", label: "Write an internal note", where: "Ticket" },
  { keys: "a", label: "Assign to me", where: "Ticket" },
  { keys: "?", label: "Show these shortcuts", where: "Everywhere" },
];

const INTERACTIVE = "a[href], button, summary, [role='button'], [role='link'], [role='checkbox'], [role='menuitem'], [role='tab']";

/** Whether the event comes from somewhere the user types. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true'], [contenteditable='plaintext-only']")) return true;
  return target instanceof HTMLElement && target.isContentEditable;
}

/** The shortcut's name for *event*, or null when none may fire. */
export function shortcutKey(event: KeyboardEvent): string | null {
  if (event.defaultPrevented || event.repeat || event.isComposing) return null;
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  if (isTyping(event.target)) return null;
  // A dialog is open: the page behind it takes no keys.
  if (document.querySelector("[aria-modal='true']")) return null;
  // Shift is part of "?" on most layouts; any other shifted key is not a shortcut.
  if (event.shiftKey && event.key !== "?") return null;
  // Enter on a link, a button or a checkbox is theirs.
  if (event.key === "Enter" && event.target instanceof Element && event.target.closest(INTERACTIVE)) return null;
  return event.key;
}

/**
 * Binds *shortcuts* (key → handler) on the window while mounted and *enabled*. The handlers may
 * change on every render; the listener stays the same.
 */
export function useShortcuts(shortcuts: ShortcutMap, enabled = true): void {
  const current = useRef(shortcuts);
  useEffect(() => {
    current.current = shortcuts;
  });
  useEffect(() => {
    if (!enabled) return;
    const onKey = (event: KeyboardEvent) => {
      const key = shortcutKey(event);
      if (key === null) return;
      const handler = current.current[key];
      if (!handler) return;
      if (handler(event) !== false) event.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [enabled]);
}

/** Ask the ticket page's composer to open in reply or internal-note mode. */
export function requestCompose(mode: "reply" | "note"): void {
  window.dispatchEvent(new CustomEvent("atum:compose", { detail: { mode } }));
}
