/**
 * Bar charts drawn by Chart.js (loaded on first use, only the bar parts registered). Each chart
 * is a <figure>: a caption, a legend, the canvas marked as an image with a summary, and the same
 * numbers as a data table behind a "Show the numbers" disclosure (keyboard and screen readers
 * read the table; the canvas is only a picture of it).
 */
import { useEffect, useRef, type ReactNode } from "react";
import type { Chart as ChartType } from "chart.js";

export interface ChartSeries {
  name: string;
  /** A colour token of atum/tokens.css, e.g. "--chart-created". */
  tone: string;
  values: number[];
}

type ChartModule = typeof import("chart.js");
let loading: Promise<ChartModule> | null = null;

function loadChartJs(): Promise<ChartModule> {
  loading ??= import("chart.js").then((m) => {
    m.Chart.register(m.BarController, m.BarElement, m.CategoryScale, m.LinearScale, m.Tooltip);
    return m;
  });
  return loading;
}

/** jsdom (unit tests) has no canvas: the figure, legend and table still render. */
const CAN_DRAW = typeof navigator !== "undefined" && !navigator.userAgent.includes("jsdom");

export function BarChart({
  title,
  labels,
  series,
  summary,
  firstColumn,
  horizontal = false,
  stacked = false,
  note,
  tall = false,
}: {
  title: string;
  labels: string[];
  series: ChartSeries[];
  summary: string;
  /** The header of the table's first column (what a label is: "Day", "Age", …). */
  firstColumn: string;
  horizontal?: boolean;
  stacked?: boolean;
  note?: string;
  tall?: boolean;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const data = JSON.stringify({ labels, series, horizontal, stacked });
  useEffect(() => {
    if (!CAN_DRAW) return;
    let chart: ChartType | undefined;
    let cancelled = false;
    void loadChartJs().then(({ Chart }) => {
      const element = canvas.current;
      const context = element?.getContext("2d");
      if (cancelled || !element || !context) return;
      const css = getComputedStyle(element);
      const token = (name: string) => css.getPropertyValue(name).trim() || undefined;
      const parsed = JSON.parse(data) as { labels: string[]; series: ChartSeries[]; horizontal: boolean; stacked: boolean };
      const axis = {
        stacked: parsed.stacked,
        grid: { color: token("--chart-grid") },
        border: { color: token("--chart-axis") },
        ticks: { color: token("--text-2"), precision: 0 },
      };
      chart = new Chart(context, {
        type: "bar",
        data: {
          labels: parsed.labels,
          datasets: parsed.series.map((s) => ({
            label: s.name,
            data: s.values,
            backgroundColor: token(s.tone),
            borderRadius: 3,
            maxBarThickness: 28,
          })),
        },
        options: {
          indexAxis: parsed.horizontal ? "y" : "x",
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { tooltip: { enabled: true } },
          scales: { x: axis, y: axis },
        },
      });
    });
    return () => {
      cancelled = true;
      chart?.destroy();
    };
  }, [data]);

  return (
    <figure className="desk-chart">
      <figcaption className="desk-chart__title">{title}</figcaption>
      <Legend series={series} />
      <div className={["desk-chart__canvas", tall && "desk-chart__canvas--tall"].filter(Boolean).join(" ")}>
        <canvas ref={canvas} role="img" aria-label={summary}>
          {summary}
        </canvas>
      </div>
      {note ? <p className="desk-chart__note">{note}</p> : null}
      <details className="desk-chart__data">
        <summary>Show the numbers</summary>
        <DataTable caption={title} headers={[firstColumn, ...series.map((s) => s.name)]} rows={labels.map((l, i) => [l, ...series.map((s) => s.values[i] ?? 0)])} />
      </details>
    </figure>
  );
}

function Legend({ series }: { series: ChartSeries[] }) {
  if (series.length < 2) return null;
  return (
    <ul className="desk-legend-list">
      {series.map((s) => (
        <li key={s.name}>
          <span className="desk-legend-list__swatch" style={{ background: `var(${s.tone})` }} aria-hidden="true" /> {s.name}
        </li>
      ))}
    </ul>
  );
}

function DataTable({ caption, headers, rows }: { caption: string; headers: string[]; rows: (string | number)[][] }): ReactNode {
  return (
    <div className="atum-table-wrap">
      <table className="atum-table atum-table--dense">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {headers.map((h, i) => (
              <th key={i} scope="col" className={i ? "atum-align--end" : undefined}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) =>
                j === 0 ? (
                  <th key={j} scope="row">
                    {c}
                  </th>
                ) : (
                  <td key={j} className="atum-align--end tnum">
                    {c}
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
