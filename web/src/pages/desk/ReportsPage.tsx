import { useState } from "react";
import { useOrgs } from "../../api/orgs";
import {
  reportCsvUrl,
  useReportBacklog,
  useReportBreakdown,
  useReportSeries,
  useReportSummary,
  type BreakdownBy,
  type CsvReport,
  type ReportBreakdownRow,
  type ReportFilter,
  type ReportSummary,
} from "../../api/reports";
import { useCategorySuggestions } from "../../api/tags";
import { useTeams } from "../../api/teams";
import { useAssignees } from "../../api/users";
import { EmptyState, ErrorState, Icon, Loading, PageHeader, Panel, SelectField, Skeleton, Table, TextField, useDocumentTitle, type Column } from "../../atum";
import { BarChart } from "./Charts";
import { browserTimeZone, dayLabel, formatDuration, formatPct, formatRate, intervalFor, presetRange, RANGE_PRESETS, type RangePreset } from "./stats";
import "./desk.css";

interface Form {
  preset: RangePreset;
  from: string;
  to: string;
  org_id: string;
  team_id: string;
  assignee_id: string;
  priority: string;
  category: string;
  channel: string;
}

const START: Form = { preset: "30d", from: "", to: "", org_id: "", team_id: "", assignee_id: "", priority: "", category: "", channel: "" };

/** The API's filter for the form: a preset's dates, or the custom ones once both are set. */
export function filterOf(form: Form, today: Date, tz: string): ReportFilter {
  const range = form.preset === "custom" ? { from: form.from, to: form.to } : presetRange(form.preset, today);
  const { preset: _preset, from: _from, to: _to, ...rest } = form;
  const custom = form.preset === "custom" && !(range.from && range.to);
  return { ...rest, ...(custom ? {} : range), tz };
}

export function ReportsPage() {
  useDocumentTitle("Reports");
  const [form, setForm] = useState<Form>(START);
  const set = (patch: Partial<Form>) => setForm((f) => ({ ...f, ...patch }));
  const tz = browserTimeZone();
  const filter = filterOf(form, new Date(), tz);
  const interval = filter.from && filter.to ? intervalFor(filter.from, filter.to) : "day";
  const summary = useReportSummary(filter);
  const series = useReportSeries(filter, interval);
  const backlog = useReportBacklog(filter);
  const badRange = form.preset === "custom" && form.from && form.to && form.to < form.from;

  return (
    <>
      <PageHeader
        title="Reports"
        subtitle={`Durations are business time of each ticket's SLA calendar. Dates in ${tz}.`}
        actions={
          <>
            <CsvLink name="tickets" filter={filter} label="Tickets CSV" />
            <CsvLink name="sla" filter={filter} label="SLA CSV" />
          </>
        }
      />
      <Panel surface="content" padding="none" className="report-filters-panel">
        <Filters form={form} set={set} badRange={Boolean(badRange)} />
      </Panel>
      {summary.isError ? (
        <ErrorState error={summary.error} onRetry={() => void summary.refetch()} />
      ) : summary.isPending ? (
        <Loading label="Loading the report" lines={4} />
      ) : (
        <Kpis s={summary.data} />
      )}
      <div className="desk-charts">
        <Panel surface="content" className="desk-charts__wide">
          {series.data ? (
            <BarChart
              title={`Created vs resolved per ${interval}`}
              firstColumn={interval === "day" ? "Day" : "Week of"}
              labels={series.data.items.map((p) => dayLabel(p.bucket))}
              series={[
                { name: "Created", tone: "--chart-created", values: series.data.items.map((p) => p.created) },
                { name: "Resolved", tone: "--chart-resolved", values: series.data.items.map((p) => p.resolved) },
              ]}
              summary={`${series.data.items.reduce((n, p) => n + p.created, 0)} created and ${series.data.items.reduce((n, p) => n + p.resolved, 0)} resolved over ${series.data.items.length} ${interval}s.`}
            />
          ) : series.isError ? (
            <ErrorState error={series.error} onRetry={() => void series.refetch()} />
          ) : (
            <Skeleton lines={6} />
          )}
        </Panel>
        <Panel surface="content" className="desk-charts__wide">
          {backlog.data ? (
            <BarChart
              title={`Open now by age (${backlog.data.total} tickets)`}
              firstColumn="Age"
              stacked
              labels={backlog.data.by_age.map((b) => b.label)}
              series={(["P1", "P2", "P3", "P4"] as const).map((p) => ({
                name: p,
                tone: `--priority-${p.toLowerCase()}`,
                values: backlog.data.by_age.map((b) => b.by_priority[p]),
              }))}
              summary={backlog.data.by_age.map((b) => `${b.label}: ${b.count}`).join(", ")}
            />
          ) : backlog.isError ? (
            <ErrorState error={backlog.error} onRetry={() => void backlog.refetch()} />
          ) : (
            <Skeleton lines={6} />
          )}
        </Panel>
      </div>
      <Breakdown by="agent" title="Per agent" filter={filter} csv="agents" />
      <Breakdown by="team" title="Per team" filter={filter} csv="teams" />
      <Breakdown by="organization" title="Per organization" filter={filter} csv="organizations" />
    </>
  );
}

function CsvLink({ name, filter, label }: { name: CsvReport; filter: ReportFilter; label: string }) {
  return (
    <a className="atum-btn atum-btn--secondary atum-btn--md" href={reportCsvUrl(name, filter)} download>
      <Icon name="download" size="sm" />
      {label}
    </a>
  );
}

function Filters({ form, set, badRange }: { form: Form; set: (patch: Partial<Form>) => void; badRange: boolean }) {
  const orgs = useOrgs();
  const teams = useTeams();
  const { people } = useAssignees();
  const categories = useCategorySuggestions("");
  return (
    <form className="report-filters" aria-label="Report filters" onSubmit={(e) => e.preventDefault()}>
      <SelectField label="Period" value={form.preset} onChange={(e) => set({ preset: e.target.value as RangePreset })}>
        {RANGE_PRESETS.map((p) => (
          <option key={p.value} value={p.value}>
            {p.label}
          </option>
        ))}
      </SelectField>
      {form.preset === "custom" ? (
        <>
          <TextField label="From" type="date" value={form.from} onChange={(e) => set({ from: e.target.value })} />
          <TextField label="To" type="date" value={form.to} onChange={(e) => set({ to: e.target.value })} error={badRange ? "The end is before the start." : undefined} />
        </>
      ) : null}
      <SelectField label="Organization" value={form.org_id} onChange={(e) => set({ org_id: e.target.value })}>
        <option value="">All organizations</option>
        {(orgs.data?.items ?? []).map((o) => (
          <option key={o.id} value={o.id}>
            {o.name}
          </option>
        ))}
      </SelectField>
      <SelectField label="Team" value={form.team_id} onChange={(e) => set({ team_id: e.target.value })}>
        <option value="">All teams</option>
        {(teams.data?.items ?? []).map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
      </SelectField>
      <SelectField label="Agent" value={form.assignee_id} onChange={(e) => set({ assignee_id: e.target.value })}>
        <option value="">All agents</option>
        {people.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </SelectField>
      <SelectField label="Priority" value={form.priority} onChange={(e) => set({ priority: e.target.value })}>
        <option value="">All priorities</option>
        {["P1", "P2", "P3", "P4"].map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </SelectField>
      <SelectField label="Category" value={form.category} onChange={(e) => set({ category: e.target.value })}>
        <option value="">All categories</option>
        {(categories.data?.items ?? []).map((c) => (
          <option key={c.name} value={c.name}>
            {c.name}
          </option>
        ))}
      </SelectField>
      <SelectField label="Channel" value={form.channel} onChange={(e) => set({ channel: e.target.value })}>
        <option value="">All channels</option>
        {[
          ["portal", "Portal"],
          ["email", "E-mail"],
          ["phone", "Phone"],
          ["api", "API"],
        ].map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </SelectField>
    </form>
  );
}

function Kpis({ s }: { s: ReportSummary }) {
  const csat = s.csat;
  const ratings = csat.good + csat.okay + csat.bad;
  const tiles: [string, string, string?][] = [
    ["Created", String(s.created)],
    ["Resolved", String(s.resolved)],
    ["Backlog at the end", String(s.backlog)],
    ["Accept, median", formatDuration(s.accept_p50_s)],
    ["First response, median", formatDuration(s.first_response_p50_s)],
    ["First response, 90th percentile", formatDuration(s.first_response_p90_s)],
    ["Resolution, median", formatDuration(s.resolution_p50_s)],
    ["Resolution, 90th percentile", formatDuration(s.resolution_p90_s)],
    ["SLA compliance", formatPct(s.sla_compliance_pct), "of the tickets resolved"],
    ["Reopen rate", formatRate(s.reopen_rate), "of the tickets resolved"],
    ["CSAT score", formatPct(csat.score_pct), `${csat.good} good, ${csat.okay} okay, ${csat.bad} bad${ratings ? "" : " (no ratings)"}`],
  ];
  return (
    <dl className="report-kpis" aria-label="Key figures">
      {tiles.map(([label, value, note]) => (
        <div key={label} className="report-kpi">
          <dt className="report-kpi__label">{label}</dt>
          <dd className="report-kpi__value tnum">{value}</dd>
          {note ? <dd className="report-kpi__note">{note}</dd> : null}
        </div>
      ))}
    </dl>
  );
}

const BREAKDOWN_COLUMNS: Column<ReportBreakdownRow>[] = [
  { key: "name", header: "Name", rowHeader: true, cell: (r) => r.name },
  { key: "created", header: "Created", align: "end", cell: (r) => r.created },
  { key: "resolved", header: "Resolved", align: "end", cell: (r) => r.resolved },
  { key: "fr", header: "First response", align: "end", cell: (r) => formatDuration(r.first_response_p50_s), hideOnMobile: true },
  { key: "res", header: "Resolution", align: "end", cell: (r) => formatDuration(r.resolution_p50_s), hideOnMobile: true },
  { key: "sla", header: "SLA met", align: "end", cell: (r) => formatPct(r.sla_compliance_pct) },
  { key: "csat", header: "CSAT", align: "end", cell: (r) => formatPct(r.csat.score_pct), hideOnMobile: true },
];

function Breakdown({ by, title, filter, csv }: { by: BreakdownBy; title: string; filter: ReportFilter; csv: CsvReport }) {
  const rows = useReportBreakdown(filter, by);
  return (
    <Panel surface="content" className="report-breakdown" aria-labelledby={`report-${by}`}>
      <div className="report-breakdown__head">
        <div>
          <h2 id={`report-${by}`} className="report-breakdown__title">
            {title}
          </h2>
          <p className="report-breakdown__note">Durations are medians; SLA met is the share resolved without a breach.</p>
        </div>
        <a className="atum-btn atum-btn--ghost atum-btn--sm" href={reportCsvUrl(csv, filter)} download>
          <Icon name="download" size="sm" />
          Download CSV
        </a>
      </div>
      {rows.isError ? (
        <ErrorState error={rows.error} onRetry={() => void rows.refetch()} />
      ) : !rows.data ? (
        <Skeleton lines={4} />
      ) : rows.data.items.length === 0 ? (
        <EmptyState title="Nothing in this period" />
      ) : (
        <Table caption={title} captionHidden dense columns={BREAKDOWN_COLUMNS} rows={rows.data.items} rowKey={(r) => r.id ?? "none"} />
      )}
    </Panel>
  );
}
