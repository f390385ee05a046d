import type { ComponentChildren } from 'preact';

export interface ColumnDef<T> {
  label: string;
  cell: (row: T) => ComponentChildren;
  width?: string;
  class?: string;
}

/** A plain table of rows (the list pages): one header, one row per item. */
export function DataTable<T>({
  rows,
  columns,
  rowKey,
  testId,
}: {
  rows: T[];
  columns: Array<ColumnDef<T>>;
  rowKey: (row: T) => string;
  testId?: string;
}) {
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          {columns.map((column) => (
            <th key={column.label} style={column.width ? { width: column.width } : undefined}>
              {column.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)}>
            {columns.map((column) => (
              <td key={column.label} class={column.class}>
                {column.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
