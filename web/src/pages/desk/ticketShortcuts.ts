/** The ticket page's keys: r reply, n internal note (the composer listens), a assign to me. */
import { useMe } from "../../api/auth";
import { useAssign } from "../../api/internal";
import type { StaffTicketDetail } from "../../api/types";
import { requestCompose, useShortcuts } from "../../atum/keyboard";

export function useTicketShortcuts(ticket: StaffTicketDetail) {
  const meId = useMe().data?.id;
  const assign = useAssign(ticket.id);
  useShortcuts({
    r: () => {
      if (ticket.actions.reply) requestCompose("reply");
    },
    n: () => {
      if (ticket.actions.note) requestCompose("note");
    },
    a: () => {
      if (!meId || !ticket.actions.assign || ticket.assigned_to?.id === meId || assign.isPending) return;
      assign.mutate({ assignee_id: meId, team_id: ticket.assigned_team?.id ?? null });
    },
  });
}
