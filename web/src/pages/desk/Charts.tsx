/**
 * Hand-written SVG charts (no chart library). Each is a <figure> with a caption, an SVG marked
 * as an image with a summary, and a visually hidden data table for screen readers.
 */
import type { ReactNode } from "react";

export interface BarDatum {
  label: string;
  value: number;
  tone: string; // a CSS colour token, e.g. var(--status-new)
}

export function HBarChart({ title, data, summary }: { title: string; data: BarDatum[]; summary: string }) {
  const max = Math.max(1, ...data.map((d) => d.value));
  const rowH = 28;
  const labelW = 150;
  const width = 480;
  const height = data.length * rowH;
  return (
    <ChartFigure title={title} table={<DataTable headers={["", "Tickets"]} rows={data.map((d) => [d.label, d.value])} />}>
      <svg viewBox={`0 0 ${width} ${height}`} className="desk-chart__svg" role="img" aria-label={summary}>
        {data.map((d, i) => {
          const w = ((width - labelW - 40) * d.value) / max;
          const y = i * rowH;
          return (
            <g key={d.label}>
              <text x={labelW - 10} y={y + rowH / 2 + 4} textAnchor="end" className="desk-chart__label">
                {d.label}
              </text>
              <rect x={labelW} y={y + 6} width={width - labelW - 40} height={rowH - 12} rx="4" className="desk-chart__track" />
              <rect x={labelW} y={y + 6} width={Math.max(d.value > 0 ? 3 : 0, w)} height={rowH - 12} rx="4" style={{ fill: d.tone }} />
              <text x={labelW + Math.max(w, 0) + 8} y={y + rowH / 2 + 4} className="desk-chart__value">
                {d.value}
              </text>
            </g>
          );
        })}
      </svg>
    </ChartFigure>
  );
}

export interface SeriesDatum {
  label: string;
  values: number[];
}

export function GroupedColumns({
  title,
  series,
  data,
  summary,
  tickLabel,
  width = 560,
  height = 200,
  note,
}: {
  note?: string;
  width?: number;
  height?: number;
  title: string;
  series: { name: string; tone: string }[];
  data: SeriesDatum[];
  summary: string;
  tickLabel?: (label: string, index: number) => string | null;
}) {
  const pad = { l: 28, r: 8, t: 10, b: 26 };
  const max = Math.max(1, ...data.flatMap((d) => d.values));
  const niceMax = Math.max(2, Math.ceil(max / 2) * 2);
  const groupW = (width - pad.l - pad.r) / Math.max(1, data.length);
  const barW = Math.max(3, Math.min(14, (groupW - 6) / series.length));
  const y = (v: number) => pad.t + (height - pad.t - pad.b) * (1 - v / niceMax);
  const ticks = [0, niceMax / 2, niceMax];
  return (
    <ChartFigure
      title={title}
      legend={
        <ul className="desk-legend-list">
          {series.map((s) => (
            <li key={s.name}>
              <span className="desk-legend-list__swatch" style={{ background: s.tone }} aria-hidden="true" /> {s.name}
            </li>
          ))}
        </ul>
      }
      table={<DataTable headers={["Day", ...series.map((s) => s.name)]} rows={data.map((d) => [d.label, ...d.values])} />}
    >
      <svg viewBox={`0 0 ${width} ${height}`} className="desk-chart__svg" role="img" aria-label={summary}>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.l} x2={width - pad.r} y1={y(t)} y2={y(t)} className="desk-chart__grid" />
            <text x={pad.l - 6} y={y(t) + 4} textAnchor="end" className="desk-chart__tick">
              {t}
            </text>
          </g>
        ))}
        {data.map((d, i) => {
          const gx = pad.l + i * groupW + (groupW - barW * series.length) / 2;
          const tick = tickLabel ? tickLabel(d.label, i) : d.label;
          return (
            <g key={d.label}>
              {d.values.map((v, j) => (
                <rect
                  key={j}
                  x={gx + j * barW}
                  y={y(v)}
                  width={barW - 1}
                  height={Math.max(0, y(0) - y(v))}
                  rx="2"
                  style={{ fill: series[j]!.tone }}
                />
              ))}
              {tick ? (
                <text x={pad.l + i * groupW + groupW / 2} y={height - 8} textAnchor="middle" className="desk-chart__tick">
                  {tick}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      {note ? <p className="desk-chart__note">{note}</p> : null}
    </ChartFigure>
  );
}

function ChartFigure({ title, children, table, legend }: { title: string; children: ReactNode; table: ReactNode; legend?: ReactNode }) {
  return (
    <figure className="desk-chart">
      <figcaption className="desk-chart__title">{title}</figcaption>
      {legend}
      {children}
      <div className="visually-hidden">{table}</div>
    </figure>
  );
}

function DataTable({ headers, rows }: { headers: string[]; rows: (string | number)[][] }) {
  return (
    <table>
      <thead>
        <tr>
          {headers.map((h, i) => (
            <th key={i} scope="col">
              {h || "Item"}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            {r.map((c, j) => (j === 0 ? <th key={j} scope="row">{c}</th> : <td key={j}>{c}</td>))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
