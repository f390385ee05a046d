/**
 * Dataset statistics and schema inference, after TFX Data Validation: per column its inferred type,
 * missing values, and either numeric statistics (range, mean, standard deviation, quantiles, a
 * histogram) or categorical ones (distinct values and their frequencies). The schema is what a later
 * dataset must conform to; the statistics are the baseline that drift is measured against.
 */
import type { Table } from './csv.ts';

/** Field texts read as missing values (pandas' defaults, in the spellings CSV exporters write). */
const MISSING = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None']);

export const isMissing = (field: string): boolean => MISSING.has(field.trim());

/** A present field as a finite number, or `undefined` when it is not one. */
export function numberOf(field: string): number | undefined {
  const text = field.trim();
  if (text === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

export type ColumnType = 'integer' | 'float' | 'string';

/** Equal-width bins between the column's minimum and maximum. */
export const HISTOGRAM_BINS = 10;
/** Categorical statistics keep at most this many distinct values (the most frequent). */
export const MAX_TRACKED_VALUES = 1000;

export interface NumericStatistics {
  min: number;
  max: number;
  mean: number;
  stdDev: number;
  /** 0, 25, 50, 75 and 100th percentiles (linear interpolation). */
  quantiles: [number, number, number, number, number];
  zeros: number;
  histogram: { low: number; high: number; counts: number[] };
}

export interface CategoricalStatistics {
  unique: number;
  /** Value -> count, most frequent first, at most {@link MAX_TRACKED_VALUES}. */
  frequencies: Record<string, number>;
}

export interface ColumnStatistics {
  name: string;
  type: ColumnType;
  count: number;
  missing: number;
  numeric?: NumericStatistics;
  categorical?: CategoricalStatistics;
}

export interface DatasetStatistics {
  rows: number;
  columns: ColumnStatistics[];
}

/** What a dataset must look like: inferred from an accepted dataset, checked on the next one. */
export interface ColumnSchema {
  name: string;
  type: ColumnType;
  /** The smallest fraction of rows that must carry a value (1: never missing). */
  minPresence: number;
  /** Observed range of a numeric column. */
  range?: { min: number; max: number };
  /** Allowed values of a string column. */
  domain?: string[];
}

export interface DatasetSchema {
  version: 1;
  columns: ColumnSchema[];
}

function inferType(present: readonly string[]): ColumnType {
  if (present.length === 0) return 'string';
  let integer = true;
  for (const field of present) {
    const value = numberOf(field);
    if (value === undefined) return 'string';
    if (!Number.isInteger(value)) integer = false;
  }
  return integer ? 'integer' : 'float';
}

function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (position - low);
}

/** The histogram bin of `value` for bins over [low, high]; values outside fall in the end bins. */
export function binOf(value: number, low: number, high: number, bins = HISTOGRAM_BINS): number {
  if (high <= low) return 0;
  const bin = Math.floor(((value - low) / (high - low)) * bins);
  return Math.min(Math.max(bin, 0), bins - 1);
}

export function histogram(values: readonly number[], low: number, high: number): number[] {
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const value of values) counts[binOf(value, low, high)] = (counts[binOf(value, low, high)] ?? 0) + 1;
  return counts;
}

function numericStatistics(values: number[]): NumericStatistics | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
  const min = sorted[0] as number;
  const max = sorted.at(-1) as number;
  return {
    min,
    max,
    mean,
    stdDev: Math.sqrt(variance),
    quantiles: [0, 0.25, 0.5, 0.75, 1].map((q) => quantile(sorted, q)) as NumericStatistics['quantiles'],
    zeros: values.filter((value) => value === 0).length,
    histogram: { low: min, high: max, counts: histogram(values, min, max) },
  };
}

export function frequenciesOf(present: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const field of present) counts.set(field, (counts.get(field) ?? 0) + 1);
  return counts;
}

function categoricalStatistics(present: readonly string[]): CategoricalStatistics {
  const counts = [...frequenciesOf(present)].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return { unique: counts.length, frequencies: Object.fromEntries(counts.slice(0, MAX_TRACKED_VALUES)) };
}

/** The present (non-missing) fields of column `index`, trimmed. */
export function presentValues(table: Table, index: number): string[] {
  const out: string[] = [];
  for (const row of table.rows) {
    const field = row[index] as string;
    if (!isMissing(field)) out.push(field.trim());
  }
  return out;
}

/** Statistics of every column, the type of each inferred from its present values. */
export function computeStatistics(table: Table): DatasetStatistics {
  const columns = table.columns.map((name, index): ColumnStatistics => {
    const present = presentValues(table, index);
    const type = inferType(present);
    const base = { name, type, count: table.rows.length, missing: table.rows.length - present.length };
    if (type === 'string') return { ...base, categorical: categoricalStatistics(present) };
    const numeric = numericStatistics(present.map((field) => numberOf(field) as number));
    return numeric ? { ...base, numeric } : base;
  });
  return { rows: table.rows.length, columns };
}

/**
 * The schema an accepted dataset implies (TFX's `infer_schema`): each column's type, the presence it
 * showed, the observed range of numbers and the domain of strings with few distinct values (a string
 * column with more distinct values than {@link MAX_TRACKED_VALUES} gets no domain).
 */
export function inferSchema(statistics: DatasetStatistics): DatasetSchema {
  return {
    version: 1,
    columns: statistics.columns.map((column): ColumnSchema => {
      const presence = column.count === 0 ? 1 : (column.count - column.missing) / column.count;
      const schema: ColumnSchema = { name: column.name, type: column.type, minPresence: presence };
      if (column.numeric) schema.range = { min: column.numeric.min, max: column.numeric.max };
      if (column.categorical && column.categorical.unique <= MAX_TRACKED_VALUES) {
        schema.domain = Object.keys(column.categorical.frequencies).sort();
      }
      return schema;
    }),
  };
}
