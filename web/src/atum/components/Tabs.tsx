/** WAI-ARIA tabs: arrow keys move between tabs, only the active tab is in the tab order. */
import { useId, useRef, type KeyboardEvent, type ReactNode } from "react";

export interface TabDef<K extends string> {
  key: K;
  label: ReactNode;
  /** Extra class on the tab (e.g. the internal-note tab). */
  className?: string;
}

export interface TabsProps<K extends string> {
  tabs: TabDef<K>[];
  active: K;
  onChange: (key: K) => void;
  label: string;
  /** Name the panel itself (instead of by its tab) — keeps getByLabel() on fields inside unambiguous. */
  panelLabel?: string;
  children: ReactNode;
  className?: string;
}

export function Tabs<K extends string>({ tabs, active, onChange, label, panelLabel, children, className }: TabsProps<K>) {
  const base = useId();
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  const onKey = (event: KeyboardEvent<HTMLButtonElement>, index: number) => {
    let next = index;
    if (event.key === "ArrowRight") next = (index + 1) % tabs.length;
    else if (event.key === "ArrowLeft") next = (index - 1 + tabs.length) % tabs.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = tabs.length - 1;
    else return;
    event.preventDefault();
    const tab = tabs[next]!;
    onChange(tab.key);
    refs.current[tab.key]?.focus();
  };
  return (
    <div className={["atum-tabs", className].filter(Boolean).join(" ")}>
      <div role="tablist" aria-label={label} className="atum-tabs__list">
        {tabs.map((tab, index) => (
          <button
            key={tab.key}
            ref={(el) => {
              refs.current[tab.key] = el;
            }}
            type="button"
            role="tab"
            id={`${base}-tab-${tab.key}`}
            aria-selected={tab.key === active}
            aria-controls={`${base}-panel`}
            tabIndex={tab.key === active ? 0 : -1}
            className={["atum-tabs__tab", tab.className].filter(Boolean).join(" ")}
            onClick={() => onChange(tab.key)}
            onKeyDown={(event) => onKey(event, index)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <div
        role="tabpanel"
        id={`${base}-panel`}
        aria-labelledby={panelLabel ? undefined : `${base}-tab-${active}`}
        aria-label={panelLabel}
        className="atum-tabs__panel"
      >
        {children}
      </div>
    </div>
  );
}
