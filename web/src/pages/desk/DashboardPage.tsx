import { Link } from "react-router";
import { useDashboardCounts } from "../../api/reports";
import { useMe } from "../../api/auth";
import { ButtonLink, ErrorState, Icon, Loading, PageHeader, Panel, PRIORITY_LOOK, STATUS_LOOK, useDocumentTitle, type IconName } from "../../atum";
import { BarChart } from "./Charts";
import { browserTimeZone, dayLabel } from "./stats";
import "./desk.css";

/** Every staff member's overview, counted by the server over all tickets
 * (GET /api/internal/reports/dashboard); managers and admins find durations in Reports. */
export function DashboardPage() {
  useDocumentTitle("Dashboard");
  const tz = browserTimeZone();
  const counts = useDashboardCounts(tz);
  const me = useMe().data;
  if (counts.isPending) return <Loading label="Loading the dashboard" lines={8} />;
  if (counts.isError) return <ErrorState error={counts.error} onRetry={() => void counts.refetch()} />;
  const s = counts.data;
  const breachTotal = s.breaches_by_priority.reduce((n, b) => n + b.first_response + b.resolution, 0);
  const created = s.per_day.reduce((n, d) => n + d.created, 0);
  const resolved = s.per_day.reduce((n, d) => n + d.resolved, 0);
  const reports = me?.role === "manager" || me?.role === "admin";

  return (
    <>
      <PageHeader
        title="Dashboard"
        subtitle="Counted over every ticket."
        actions={
          reports ? (
            <ButtonLink to="/desk/reports" icon="dashboard">
              Reports
            </ButtonLink>
          ) : undefined
        }
      />
      <ul className="desk-stats" aria-label="Key numbers">
        <Stat icon="ticket" label="Open tickets" value={s.open} to="/desk/tickets?status=open" />
        <Stat icon="inbox" label="Awaiting acceptance" value={s.awaiting_acceptance} to="/desk/inbox" />
        <Stat icon="alert" label="Open with SLA breach" value={s.breached_open} to="/desk/tickets?breached=1" tone={s.breached_open > 0 ? "danger" : undefined} />
        <Stat icon="checkCircle" label="Resolved in the last 7 days" value={s.resolved_last_7d} to="/desk/tickets?status=RESOLVED" />
      </ul>
      <div className="desk-charts">
        <Panel surface="content" className="desk-charts__wide">
          <BarChart
            title={`Created vs resolved per day (last ${s.per_day.length} days)`}
            firstColumn="Day"
            labels={s.per_day.map((d) => dayLabel(d.bucket))}
            series={[
              { name: "Created", tone: "--chart-created", values: s.per_day.map((d) => d.created) },
              { name: "Resolved", tone: "--chart-resolved", values: s.per_day.map((d) => d.resolved) },
            ]}
            summary={`Over ${s.per_day.length} days: ${created} created, ${resolved} resolved.`}
          />
        </Panel>
        <Panel surface="content">
          <BarChart
            title="Open tickets by status"
            firstColumn="Status"
            horizontal
            labels={s.by_status.map((b) => STATUS_LOOK[b.status].label)}
            series={[{ name: "Tickets", tone: "--chart-created", values: s.by_status.map((b) => b.count) }]}
            summary={s.by_status.map((b) => `${STATUS_LOOK[b.status].label}: ${b.count}`).join(", ")}
          />
        </Panel>
        <Panel surface="content">
          <BarChart
            title="SLA breaches by priority (tickets of the last 30 days)"
            firstColumn="Priority"
            labels={s.breaches_by_priority.map((b) => `${b.priority} ${PRIORITY_LOOK[b.priority].label}`)}
            series={[
              { name: "First response", tone: "--chart-breach", values: s.breaches_by_priority.map((b) => b.first_response) },
              { name: "Resolution", tone: "--priority-p2", values: s.breaches_by_priority.map((b) => b.resolution) },
            ]}
            note={breachTotal === 0 ? "No SLA breaches among these tickets." : undefined}
            summary={`${breachTotal} SLA breaches: ${s.breaches_by_priority.map((b) => `${b.priority} ${b.first_response} first response, ${b.resolution} resolution`).join("; ")}.`}
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
