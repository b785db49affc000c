/** "?" anywhere in the desk: the list of keyboard shortcuts. */
import { useState } from "react";
import { Modal } from "../atum";
import { SHORTCUTS, useShortcuts } from "../atum/keyboard";

export function ShortcutsHelp() {
  const [open, setOpen] = useState(false);
  useShortcuts({ "?": () => setOpen(true) });
  return (
    <Modal open={open} onClose={() => setOpen(false)} title="Keyboard shortcuts" description="Single keys; they do nothing while you type in a field.">
      <table className="atum-table atum-table--dense shortcuts-help">
        <caption className="visually-hidden">Keyboard shortcuts</caption>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Does</th>
            <th scope="col">Where</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.keys}>
              <th scope="row">
                <kbd>{s.keys}</kbd>
              </th>
              <td>{s.label}</td>
              <td>{s.where}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Modal>
  );
}
