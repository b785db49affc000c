import { useState } from "react";
import { useTicketSearch } from "../../api/internal";
import type { StaffTicket } from "../../api/types";
import { Button, StatusPill, TextField, ticketNumber, useDebounced } from "../../atum";

/** Find a ticket by number or words (the desk list's search); `exclude` is left out. */
export function TicketPicker({
  label,
  exclude,
  onPick,
  disabled,
}: {
  label: string;
  exclude: string;
  onPick: (ticket: StaffTicket) => void;
  disabled?: boolean;
}) {
  const [q, setQ] = useState("");
  const query = useDebounced(q.trim(), 300);
  const found = useTicketSearch(query);
  const rows = (found.data?.items ?? []).filter((t) => t.id !== exclude).slice(0, 8);
  return (
    <div className="atum-stack">
      <TextField
        label={label}
        type="search"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        placeholder="Number or words, e.g. 1042"
        autoComplete="off"
        disabled={disabled}
      />
      {query && found.isSuccess ? (
        rows.length > 0 ? (
          <ul className="desk-ticket-refs" aria-label="Matching tickets">
            {rows.map((t) => (
              <li key={t.id}>
                <Button type="button" variant="ghost" size="sm" onClick={() => onPick(t)} disabled={disabled}>
                  <span className="atum-ticket-no">{ticketNumber(t.number)}</span> {t.title} · {t.org_name}
                </Button>
                <StatusPill status={t.status} />
              </li>
            ))}
          </ul>
        ) : (
          <p className="desk-side-empty">No ticket matches.</p>
        )
      ) : null}
    </div>
  );
}
