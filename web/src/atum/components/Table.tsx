import type { ReactNode } from "react";

export interface Column<T> {
  key: string;
  header: ReactNode;
  cell: (row: T) => ReactNode;
  /** Row header cell (th scope=row) — the column that names the row. */
  rowHeader?: boolean;
  align?: "start" | "end" | "center";
  width?: "xs" | "sm" | "md" | "lg" | "auto";
  /** Hidden on narrow screens. */
  hideOnMobile?: boolean;
}

export interface TableProps<T> {
  caption: ReactNode;
  captionHidden?: boolean;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  rowClassName?: (row: T) => string | undefined;
  dense?: boolean;
}

/** A semantic data table (caption, column headers, a row header) on the content surface. */
export function Table<T>({ caption, captionHidden, columns, rows, rowKey, rowClassName, dense }: TableProps<T>) {
  return (
    <div className="atum-table-wrap">
      <table className={["atum-table", dense && "atum-table--dense"].filter(Boolean).join(" ")}>
        <caption className={captionHidden ? "visually-hidden" : "atum-table__caption"}>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th
                key={c.key}
                scope="col"
                className={[
                  c.align && `atum-align--${c.align}`,
                  c.width && `atum-w--${c.width}`,
                  c.hideOnMobile && "atum-hide-mobile",
                ]
                  .filter(Boolean)
                  .join(" ") || undefined}
              >
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} className={rowClassName?.(row)}>
              {columns.map((c) => {
                const cls =
                  [c.align && `atum-align--${c.align}`, c.hideOnMobile && "atum-hide-mobile"].filter(Boolean).join(" ") ||
                  undefined;
                return c.rowHeader ? (
                  <th key={c.key} scope="row" className={cls}>
                    {c.cell(row)}
                  </th>
                ) : (
                  <td key={c.key} className={cls}>
                    {c.cell(row)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
