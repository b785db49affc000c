import type { Sla } from "../../api/types";
import { formatDateTime, formatDuration } from "../domain";
import { useNow } from "../hooks";
import { slaClock, slaSummary, type SlaClockKind, type SlaClockState, type SlaContext } from "../sla";
import { Icon } from "./Icon";

const KIND_LABEL: Record<SlaClockKind, string> = {
  first_response: "First response",
  resolution: "Resolution",
};

export function describeSla(state: SlaClockState): { text: string; tone: string; title: string } {
  const kind = KIND_LABEL[state.kind];
  switch (state.state) {
    case "none":
      return state.stopped
        ? { text: "Stopped", tone: "none", title: `${kind}: the clock stopped with the ticket` }
        : { text: "Starts at acceptance", tone: "none", title: `${kind}: the clock starts when the ticket is accepted` };
    case "met":
      return { text: "Met", tone: "met", title: `${kind} met${state.at ? ` at ${formatDateTime(state.at)}` : ""}` };
    case "running": {
      const hours = state.businessHours ? " business time" : "";
      return {
        text: `${formatDuration(state.remainingMs)} left${state.outsideHours ? " · outside hours" : ""}`,
        tone: state.urgent ? "urgent" : state.outsideHours ? "paused" : "running",
        title: `${kind}: ${formatDuration(state.remainingMs)}${hours} left, due ${formatDateTime(state.dueAt)}${
          state.outsideHours ? " (business hours are closed now: the clock waits until they open)" : ""
        }`,
      };
    }
    case "paused":
      return {
        text: state.remainingMs === null ? "Paused" : `Paused · ${formatDuration(state.remainingMs)} left`,
        tone: "paused",
        title: `${kind} clock paused while waiting on the customer`,
      };
    case "breached":
      return {
        text: state.overdueMs > 0 ? `Breached · ${formatDuration(state.overdueMs)} over` : "Breached",
        tone: "breached",
        title: `${kind} SLA breached${state.dueAt ? ` (was due ${formatDateTime(state.dueAt)})` : ""}`,
      };
  }
}

const GLYPH = { none: "clock", met: "check", running: "clock", urgent: "clock", paused: "pause", breached: "alert" } as const;

export function SlaChipView({ state, showKind = true }: { state: SlaClockState; showKind?: boolean }) {
  const { text, tone, title } = describeSla(state);
  return (
    <span className={`atum-pill atum-pill--sm atum-sla atum-sla--${tone}`} title={title} data-sla={state.state}>
      <Icon name={GLYPH[tone as keyof typeof GLYPH]} size="sm" />
      <span className="tnum">
        {showKind ? <span className="atum-sla__kind">{KIND_LABEL[state.kind]}: </span> : null}
        {text}
      </span>
    </span>
  );
}

/** One clock, ticking. */
export function SlaChip({ kind, sla, context }: { kind: SlaClockKind; sla: Sla; context?: SlaContext }) {
  const now = useNow(15_000);
  return <SlaChipView state={slaClock(kind, sla, now, context)} />;
}

/** The clock that matters most now (lists). */
export function SlaSummaryChip({ sla, context }: { sla: Sla; context?: SlaContext }) {
  const now = useNow(30_000);
  const state = slaSummary(sla, now, context);
  if (state.state === "none") return <span className="faint">—</span>;
  return <SlaChipView state={state} showKind={false} />;
}
