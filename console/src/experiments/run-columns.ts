import type { RunWire } from '../api/wire.ts';
import { formatNumber } from '../ui/format.ts';

/** A column of the runs table: an attribute, or a param, metric or tag chosen by its key. */
export interface Column {
  id: string;
  kind: 'attribute' | 'metrics' | 'params' | 'tags';
  key: string;
  label: string;
  width: number;
  /** MLflow's `order_by` name, when the API can sort by it. */
  orderBy?: string;
}

/** A run with its values indexed by key once, so a visible row reads each cell in O(1). */
export interface IndexedRun {
  run: RunWire;
  metrics: Map<string, number | string>;
  params: Map<string, string>;
  tags: Map<string, string>;
}

export function indexRun(run: RunWire): IndexedRun {
  return {
    run,
    metrics: new Map((run.data.metrics ?? []).map((m) => [m.key, m.value])),
    params: new Map((run.data.params ?? []).map((p) => [p.key, p.value])),
    tags: new Map((run.data.tags ?? []).map((t) => [t.key, t.value])),
  };
}

/** A key in MLflow's search syntax: backquoted, so keys with dots or spaces work. */
const quoted = (key: string) => `\`${key.replace(/`/g, '')}\``;

export function keyColumn(kind: 'metrics' | 'params' | 'tags', key: string): Column {
  return { id: `${kind}.${key}`, kind, key, label: key, width: 130, orderBy: `${kind}.${quoted(key)}` };
}

/** `metrics.loss,params.lr` (the `cols` query parameter) into columns. */
export function parseColumns(text: string | null): Column[] {
  if (!text) return [];
  return text
    .split(',')
    .map((id) => {
      const dot = id.indexOf('.');
      const kind = id.slice(0, dot);
      const key = id.slice(dot + 1);
      return kind === 'metrics' || kind === 'params' || kind === 'tags' ? keyColumn(kind, key) : undefined;
    })
    .filter((column): column is Column => column !== undefined);
}

export function cellText(row: IndexedRun, column: Column): string {
  if (column.kind === 'metrics') return formatNumber(row.metrics.get(column.key));
  if (column.kind === 'params') return row.params.get(column.key) ?? '';
  if (column.kind === 'tags') return row.tags.get(column.key) ?? '';
  return '';
}

/** The keys seen in some runs, by kind, sorted: what the column picker offers. */
export function availableKeys(rows: IndexedRun[]) {
  const seen = { metrics: new Set<string>(), params: new Set<string>(), tags: new Set<string>() };
  for (const row of rows) {
    for (const key of row.metrics.keys()) seen.metrics.add(key);
    for (const key of row.params.keys()) seen.params.add(key);
    for (const key of row.tags.keys()) if (!key.startsWith('mlflow.')) seen.tags.add(key);
  }
  return {
    metrics: [...seen.metrics].sort(),
    params: [...seen.params].sort(),
    tags: [...seen.tags].sort(),
  };
}
