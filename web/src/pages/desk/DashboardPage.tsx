import { Link } from "react-router";
import { useRecentTickets } from "../../api/internal";
import { ErrorState, Icon, Loading, PageHeader, Panel, PRIORITY_LOOK, STATUS_LOOK, useDocumentTitle, useNow, type IconName } from "../../atum";
import { GroupedColumns, HBarChart } from "./Charts";
import { dashboardStats } from "./stats";
import "./desk.css";

const STATUS_TONE: Record<string, string> = {
  NEW: "var(--status-new)",
  ACCEPTED: "var(--status-accepted)",
  ASSIGNED: "var(--status-assigned)",
  IN_PROGRESS: "var(--status-in-progress)",
  WAITING_CUSTOMER: "var(--status-waiting)",
};

const SAMPLE = 400;

export function DashboardPage() {
  useDocumentTitle("Dashboard");
  const recent = useRecentTickets(SAMPLE);
  const now = useNow(60_000);
  if (recent.isPending) return <Loading label="Loading the dashboard" lines={8} />;
  if (recent.isError) return <ErrorState error={recent.error} onRetry={() => void recent.refetch()} />;
  const s = dashboardStats(recent.data, now);
  const dayFmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  const breachTotal = s.breachesByPriority.reduce((n, b) => n + b.firstResponse + b.resolution, 0);

  return (
    <>
      <PageHeader
        title="Dashboard"
        subtitle={`From the ${s.total} most recent tickets${s.total >= SAMPLE ? ` (sample of ${SAMPLE})` : ""}.`}
      />
      <ul className="desk-stats" aria-label="Key numbers">
        <Stat icon="ticket" label="Open tickets" value={s.open} to="/desk/tickets?status=open" />
        <Stat icon="inbox" label="Awaiting acceptance" value={s.awaitingAcceptance} to="/desk/inbox" />
        <Stat icon="alert" label="Open with SLA breach" value={s.breachedOpen} to="/desk/tickets?breached=1" tone={s.breachedOpen > 0 ? "danger" : undefined} />
        <Stat icon="checkCircle" label="Resolved in the last 7 days" value={s.resolvedLast7} to="/desk/tickets?status=RESOLVED" />
      </ul>
      <div className="desk-charts">
        <Panel surface="content" className="desk-charts__wide">
          <GroupedColumns
            title="Created vs resolved per day (last 14 days)"
            series={[
              { name: "Created", tone: "var(--chart-created)" },
              { name: "Resolved", tone: "var(--chart-resolved)" },
            ]}
            data={s.perDay.map((d) => ({ label: dayFmt.format(new Date(`${d.day}T00:00:00Z`)), values: [d.created, d.resolved] }))}
            tickLabel={(label, i) => (i % 2 === 0 ? label : null)}
            width={960}
            height={220}
            summary={`Over 14 days: ${s.perDay.reduce((n, d) => n + d.created, 0)} created, ${s.perDay.reduce((n, d) => n + d.resolved, 0)} resolved.`}
          />
        </Panel>
        <Panel surface="content">
          <HBarChart
            title="Open tickets by status"
            data={s.byStatus.map((b) => ({ label: STATUS_LOOK[b.status].label, value: b.count, tone: STATUS_TONE[b.status]! }))}
            summary={s.byStatus.map((b) => `${STATUS_LOOK[b.status].label}: ${b.count}`).join(", ")}
          />
        </Panel>
        <Panel surface="content">
          <GroupedColumns
            title="SLA breaches by priority"
            series={[
              { name: "First response", tone: "var(--chart-breach)" },
              { name: "Resolution", tone: "var(--priority-p2)" },
            ]}
            data={s.breachesByPriority.map((b) => ({ label: `${b.priority} ${PRIORITY_LOOK[b.priority].label}`, values: [b.firstResponse, b.resolution] }))}
            note={breachTotal === 0 ? "No SLA breaches among these tickets." : undefined}
            summary={`${breachTotal} SLA breaches: ${s.breachesByPriority.map((b) => `${b.priority} ${b.firstResponse} first response, ${b.resolution} resolution`).join("; ")}.`}
          />
        </Panel>
      </div>
    </>
  );
}

function Stat({ icon, label, value, to, tone }: { icon: IconName; label: string; value: number; to: string; tone?: "danger" }) {
  return (
    <li>
      <Link to={to} className={["desk-stat", tone && `desk-stat--${tone}`].filter(Boolean).join(" ")}>
        <span className="desk-stat__icon" aria-hidden="true">
          <Icon name={icon} />
        </span>
        <span className="desk-stat__value tnum">{value}</span>
        <span className="desk-stat__label">{label}</span>
      </Link>
    </li>
  );
}
