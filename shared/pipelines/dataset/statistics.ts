/**
 * Dataset statistics and schema inference, after TFX Data Validation: per column its inferred type,
 * missing values, and either numeric statistics (range, mean, standard deviation, quantiles, a
 * histogram, a CDF summary) or categorical ones (distinct values and their frequencies). The schema
 * is what a later dataset must conform to; the statistics are the baseline that drift is measured
 * against.
 *
 * One implementation serves both users: the training pipeline's data validation (a whole CSV in
 * memory: {@link computeStatistics}) and model monitoring (a window of captured invocations streamed
 * row by row: `shared/monitoring/`). Both feed values one at a time into the accumulators below
 * ({@link NumericAccumulator}, {@link CategoricalAccumulator}); only what they keep differs: the
 * pipeline keeps a column's values to compute exact quantiles and the CDF summary that becomes the
 * baseline, a monitor keeps counts on the baseline's grid (memory independent of the window's size).
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
/** Points of a numeric column's CDF summary: every distinct value up to this many, else this many quantiles. */
export const CDF_POINTS = 1000;

export interface NumericStatistics {
  min: number;
  max: number;
  mean: number;
  stdDev: number;
  /** 0, 25, 50, 75 and 100th percentiles (linear interpolation). */
  quantiles: [number, number, number, number, number];
  zeros: number;
  histogram: { low: number; high: number; counts: number[] };
  /**
   * The empirical CDF at increasing `points`: `cumulative[k]` is the fraction of values `<= points[k]`.
   * Every distinct value when there are at most {@link CDF_POINTS} (then exact), else the values at
   * {@link CDF_POINTS} evenly spaced ranks (between two points the CDF is known within their gap).
   * What drift statistics (PSI, Kolmogorov-Smirnov, Wasserstein) compare live data with. Absent in
   * statistics written before it existed.
   */
  cdf?: { points: number[]; cumulative: number[]; exact: boolean };
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

function quantile(sorted: ArrayLike<number>, q: number): number {
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

/**
 * The CDF summary of sorted values: every distinct value with the fraction at or below it, or, past
 * `maxPoints` distinct values, the values at `maxPoints` evenly spaced ranks (with their exact fractions).
 */
export function cdfSummary(sorted: ArrayLike<number>, maxPoints = CDF_POINTS): NumericStatistics['cdf'] {
  const n = sorted.length;
  const points: number[] = [];
  const cumulative: number[] = [];
  // The last index holding each distinct value: its fraction is (index + 1) / n.
  const ends: number[] = [];
  for (let i = 0; i < n; i++) if (i === n - 1 || sorted[i] !== sorted[i + 1]) ends.push(i);
  const step = ends.length <= maxPoints ? 1 : n / maxPoints;
  if (step === 1) {
    for (const end of ends) {
      points.push(sorted[end] as number);
      cumulative.push((end + 1) / n);
    }
    return { points, cumulative, exact: true };
  }
  for (let k = 1; k <= maxPoints; k++) {
    const rank = Math.min(n - 1, Math.ceil(k * step) - 1);
    const value = sorted[rank] as number;
    if (points.length > 0 && points[points.length - 1] === value) continue;
    // Ties: the fraction at or below the value counts every copy of it.
    let end = rank;
    while (end + 1 < n && sorted[end + 1] === value) end++;
    points.push(value);
    cumulative.push((end + 1) / n);
  }
  return { points, cumulative, exact: false };
}

/**
 * A numeric column, one value at a time: count, mean and variance (Welford's update, numerically
 * stable over millions of values), range and zeros; and, as the user asks, the values themselves
 * (`keepValues`: exact quantiles and the CDF summary), counts in a fixed histogram's bins
 * (`histogramRange`), or counts on a CDF grid (`grid`: the cells between and at its points, from
 * which drift statistics against that grid's distribution are exact at its points).
 */
export class NumericAccumulator {
  count = 0;
  private mean = 0;
  private m2 = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  zeros = 0;
  private values: number[] | undefined;
  readonly histogramCounts: number[] | undefined;
  /** `cells[2k]`: values strictly between point k-1 and point k; `cells[2k+1]`: values equal to point k; the last: above every point. */
  readonly cells: Float64Array | undefined;
  /** Sum of (first point - x) over values below the grid, and of (x - last point) above it (Wasserstein's tails). */
  belowGridDistance = 0;
  aboveGridDistance = 0;

  constructor(
    private readonly options: {
      keepValues?: boolean;
      histogramRange?: { low: number; high: number };
      grid?: readonly number[];
    } = {},
  ) {
    if (options.keepValues) this.values = [];
    if (options.histogramRange) this.histogramCounts = new Array<number>(HISTOGRAM_BINS).fill(0);
    if (options.grid) this.cells = new Float64Array(options.grid.length * 2 + 1);
  }

  add(value: number): void {
    this.count++;
    const delta = value - this.mean;
    this.mean += delta / this.count;
    this.m2 += delta * (value - this.mean);
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value === 0) this.zeros++;
    this.values?.push(value);
    const range = this.options.histogramRange;
    if (range && this.histogramCounts) {
      const bin = binOf(value, range.low, range.high);
      this.histogramCounts[bin] = (this.histogramCounts[bin] as number) + 1;
    }
    const grid = this.options.grid;
    if (grid && this.cells) {
      // The first point >= value, by binary search.
      let low = 0;
      let high = grid.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if ((grid[middle] as number) < value) low = middle + 1;
        else high = middle;
      }
      const cell = low < grid.length && grid[low] === value ? 2 * low + 1 : 2 * low;
      this.cells[cell] = (this.cells[cell] as number) + 1;
      if (low === 0 && cell === 0) this.belowGridDistance += (grid[0] as number) - value;
      else if (low === grid.length) this.aboveGridDistance += value - (grid[grid.length - 1] as number);
    }
  }

  get average(): number {
    return this.count === 0 ? Number.NaN : this.mean;
  }

  /** The population standard deviation (as the pipeline has always reported it). */
  get stdDev(): number {
    return this.count === 0 ? Number.NaN : Math.sqrt(this.m2 / this.count);
  }

  /** Full statistics; needs `keepValues` (quantiles, histogram and CDF come from the sorted values). */
  statistics(): NumericStatistics | undefined {
    if (this.count === 0) return undefined;
    if (!this.values) throw new Error('NumericAccumulator.statistics() needs keepValues');
    const sorted = Float64Array.from(this.values).sort();
    return {
      min: this.min,
      max: this.max,
      mean: this.mean,
      stdDev: this.stdDev,
      quantiles: [0, 0.25, 0.5, 0.75, 1].map((q) => quantile(sorted, q)) as NumericStatistics['quantiles'],
      zeros: this.zeros,
      histogram: { low: this.min, high: this.max, counts: histogram(this.values, this.min, this.max) },
      cdf: cdfSummary(sorted),
    };
  }
}

/**
 * A categorical column, one value at a time: value frequencies, at most `maxTracked` distinct values
 * (later new values are counted in `untracked`, so memory stays bounded whatever the data).
 */
export class CategoricalAccumulator {
  count = 0;
  untracked = 0;
  readonly counts = new Map<string, number>();

  constructor(private readonly maxTracked = Number.POSITIVE_INFINITY) {}

  add(value: string): void {
    this.count++;
    const seen = this.counts.get(value);
    if (seen !== undefined) this.counts.set(value, seen + 1);
    else if (this.counts.size < this.maxTracked) this.counts.set(value, 1);
    else this.untracked++;
  }

  statistics(): CategoricalStatistics {
    const counts = [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return { unique: counts.length, frequencies: Object.fromEntries(counts.slice(0, MAX_TRACKED_VALUES)) };
  }
}

export function frequenciesOf(present: readonly string[]): Map<string, number> {
  const accumulator = new CategoricalAccumulator();
  for (const field of present) accumulator.add(field);
  return accumulator.counts;
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
    if (type === 'string') {
      const categorical = new CategoricalAccumulator();
      for (const field of present) categorical.add(field);
      return { ...base, categorical: categorical.statistics() };
    }
    const numeric = new NumericAccumulator({ keepValues: true });
    for (const field of present) numeric.add(numberOf(field) as number);
    const statistics = numeric.statistics();
    return statistics ? { ...base, numeric: statistics } : base;
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
