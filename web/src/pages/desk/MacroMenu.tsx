import { useEffect, useId, useRef, useState } from "react";
import { errorMessage } from "../../api/client";
import { describeAction, useApplyMacro, useMacroList, type Macro } from "../../api/workspace";
import { Button, useToast } from "../../atum";
import "./workspace.css";

/**
 * "Macros": apply one of the agent's macros to the ticket in one click. All of its actions happen
 * or none; a refusal names the action that was refused.
 */
export function MacroMenu({ ticketId }: { ticketId: string }) {
  const [open, setOpen] = useState(false);
  const macros = useMacroList(open);
  const apply = useApplyMacro(ticketId);
  const toast = useToast();
  const menuId = useId();
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onDown = (event: MouseEvent) => {
      if (root.current && !root.current.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") setOpen(false);
    };
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const run = async (macro: Macro) => {
    setOpen(false);
    try {
      await apply.mutateAsync(macro.id);
      toast.success(`Macro “${macro.name}” applied`);
    } catch (error) {
      toast.error(`Macro “${macro.name}” not applied — nothing was changed. ${errorMessage(error)}`);
    }
  };

  const items = macros.data?.items ?? [];
  return (
    <div className="ws-macros" ref={root}>
      <Button
        variant="secondary"
        icon="play"
        iconAfter="chevronDown"
        busy={apply.isPending}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        Macros
      </Button>
      {open ? (
        <ul className="ws-macros__menu" id={menuId} role="menu" aria-label="Macros">
          {macros.isPending ? <li className="ws-macros__empty">Loading…</li> : null}
          {!macros.isPending && items.length === 0 ? (
            <li className="ws-macros__empty">No macros yet — add some under Replies &amp; macros.</li>
          ) : null}
          {items.map((macro) => (
            <li key={macro.id} role="none">
              <button type="button" role="menuitem" className="ws-macros__item" onClick={() => void run(macro)}>
                <span>{macro.name}</span>
                <span className="ws-macros__steps">{macro.actions.map(describeAction).join(" · ")}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
