/**
 * One feature (or a version's predictions) over a window: its values accumulated with the pipeline's
 * statistics module (`shared/pipelines/dataset/statistics.ts`, on the baseline's grid and histogram,
 * so memory does not grow with the window), then compared with the baseline by the configured drift
 * methods (`shared/pipelines/dataset/drift.ts`).
 *
 * A feature drifts when its test says the difference is more than sampling noise at the run's
 * Bonferroni-corrected level (KS for numbers, chi-square for categories) AND a configured distance
 * is past its limit: significance alone would flag trivial shifts in a million rows, a distance alone
 * false alarms on small windows. A rise in missing values (or, for categories, values the baseline
 * never had) beyond `maxMissingIncrease` drifts on its own.
 */
import {
  chiSquareGoodnessOfFit,
  jensenShannon,
  ksFromGrid,
  ksPValue,
  lInfinity,
  psiFromGrid,
  wassersteinFromGrid,
} from '../../pipelines/dataset/drift.ts';
import { seededRandom } from '../../pipelines/dataset/split.ts';
import {
  CategoricalAccumulator,
  type ColumnStatistics,
  HISTOGRAM_BINS,
  NumericAccumulator,
  type NumericStatistics,
  numberOf,
} from '../../pipelines/dataset/statistics.ts';
import { DRIFT_METHODS, type DriftMethod, limitsOver } from '../drift-methods.ts';
import type { DriftSettings } from '../model.ts';

/** Distinct values a categorical profile tracks; beyond, new values are counted, not kept. */
const MAX_LIVE_CATEGORIES = 10_000;
const EXAMPLES = 5;

/** What a feature is compared with: the baseline column's statistics. */
export type FeatureBaseline = Pick<
  ColumnStatistics,
  'name' | 'type' | 'count' | 'missing' | 'numeric' | 'categorical'
>;

export interface FeatureReport {
  name: string;
  kind: 'input' | 'prediction';
  /** For predictions: the version that made them. */
  modelVersion?: string;
  type: 'numeric' | 'categorical';
  rows: number;
  missing: number;
  missingRate: number;
  baselineMissingRate: number | null;
  /** Values of the wrong type (text in a numeric feature). */
  invalid: number;
  /** Categories the baseline never had, and a few of them. */
  unseen: number;
  unseenExamples: string[];
  /** Numbers below the baseline's minimum and above its maximum. */
  belowRange: number;
  aboveRange: number;
  live: Record<string, number | null | Array<[string, number]>>;
  baseline: Record<string, number | null | Array<[string, number]>> | null;
  statistics: {
    psi?: number;
    ks?: number;
    ksErrorBound?: number;
    wasserstein?: number;
    jensenShannon?: number;
    lInfinity?: number;
    /** The significance test's p-value (KS for numbers, chi-square for categories), and which. */
    pValue: number | null;
    test: 'ks' | 'chi_square' | null;
  };
  thresholds: Partial<Record<DriftMethod, number>>;
  /** Set when the feature had fewer present values than the run needs. */
  notEnoughData?: string;
  drifted: boolean;
  reasons: string[];
}

const round = (value: number, digits = 6) =>
  Number.isFinite(value) ? Number(value.toPrecision(digits)) : value;

/** A CDF summary for a baseline that predates them: the histogram's bin edges (not exact). */
function cdfOf(numeric: NumericStatistics): NonNullable<NumericStatistics['cdf']> {
  if (numeric.cdf) return numeric.cdf;
  const { low, high, counts } = numeric.histogram;
  const total = counts.reduce((s, c) => s + c, 0) || 1;
  const points: number[] = [];
  const cumulative: number[] = [];
  let running = 0;
  counts.forEach((count, i) => {
    running += count;
    points.push(i === counts.length - 1 ? high : low + ((high - low) * (i + 1)) / counts.length);
    cumulative.push(running / total);
  });
  return { points, cumulative, exact: false };
}

export class FeatureProfile {
  rows = 0;
  missing = 0;
  invalid = 0;
  unseen = 0;
  belowRange = 0;
  aboveRange = 0;
  readonly unseenExamples = new Set<string>();
  readonly numeric: NumericAccumulator | undefined;
  readonly categorical: CategoricalAccumulator | undefined;
  private readonly known: ReadonlySet<string> | undefined;
  private readonly cdf: NonNullable<NumericStatistics['cdf']> | undefined;

  constructor(
    readonly name: string,
    readonly baseline: FeatureBaseline | undefined,
    readonly kind: 'input' | 'prediction' = 'input',
    readonly modelVersion?: string,
  ) {
    const numericBaseline = baseline?.numeric;
    if (baseline && baseline.type !== 'string' && numericBaseline) {
      this.cdf = cdfOf(numericBaseline);
      this.numeric = new NumericAccumulator({
        grid: this.cdf.points,
        histogramRange: { low: numericBaseline.histogram.low, high: numericBaseline.histogram.high },
      });
    } else if (baseline?.categorical) {
      this.categorical = new CategoricalAccumulator(MAX_LIVE_CATEGORIES);
      this.known = new Set(Object.keys(baseline.categorical.frequencies));
    } else {
      // No baseline for it: profile it as what it looks like, to report (nothing to compare with).
      this.numeric = new NumericAccumulator();
      this.categorical = new CategoricalAccumulator(MAX_LIVE_CATEGORIES);
    }
  }

  get type(): 'numeric' | 'categorical' {
    if (this.baseline) return this.baseline.type === 'string' ? 'categorical' : 'numeric';
    return (this.categorical?.count ?? 0) > (this.numeric?.count ?? 0) ? 'categorical' : 'numeric';
  }

  add(value: unknown): void {
    this.rows++;
    if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) {
      this.missing++;
      return;
    }
    if (typeof value === 'string' && value.trim() === '') {
      this.missing++;
      return;
    }
    const asNumber =
      typeof value === 'number' ? value : typeof value === 'string' ? numberOf(value) : undefined;
    if (this.numeric && (this.categorical === undefined || asNumber !== undefined)) {
      if (asNumber === undefined || !Number.isFinite(asNumber)) {
        if (this.categorical === undefined) this.invalid++;
        else this.categorical.add(String(value));
        return;
      }
      this.numeric.add(asNumber);
      const range = this.baseline?.numeric;
      if (range && asNumber < range.min) this.belowRange++;
      if (range && asNumber > range.max) this.aboveRange++;
      return;
    }
    if (this.categorical) {
      const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
      this.categorical.add(text);
      if (this.known && !this.known.has(text)) {
        this.unseen++;
        if (this.unseenExamples.size < EXAMPLES) this.unseenExamples.add(text.slice(0, 100));
      }
    }
  }

  /** Present values counted. */
  get present(): number {
    return this.rows - this.missing - this.invalid;
  }

  /** The significance tests this feature takes part in (for the run's Bonferroni correction). */
  get testable(): boolean {
    return (
      this.baseline !== undefined &&
      (this.baseline.numeric !== undefined || this.baseline.categorical !== undefined)
    );
  }

  judge(
    settings: DriftSettings,
    perTestAlpha: number,
    minSamples: number,
    numericMethods: readonly string[],
  ): FeatureReport {
    const limits = limitsOf(settings, this.name);
    const baseline = this.baseline;
    const baselineMissingRate = baseline && baseline.count > 0 ? baseline.missing / baseline.count : null;
    const missingRate = this.rows === 0 ? 0 : (this.missing + this.invalid) / this.rows;
    const report: FeatureReport = {
      name: this.name,
      kind: this.kind,
      ...(this.modelVersion === undefined ? {} : { modelVersion: this.modelVersion }),
      type: this.type,
      rows: this.rows,
      missing: this.missing,
      missingRate: round(missingRate),
      baselineMissingRate: baselineMissingRate === null ? null : round(baselineMissingRate),
      invalid: this.invalid,
      unseen: this.unseen,
      unseenExamples: [...this.unseenExamples],
      belowRange: this.belowRange,
      aboveRange: this.aboveRange,
      live: this.liveSummary(),
      baseline: baselineSummary(baseline),
      statistics: { pValue: null, test: null },
      thresholds: {},
      drifted: false,
      reasons: [],
    };
    const reasons: string[] = [];
    if (baselineMissingRate !== null && this.rows >= minSamples) {
      const rise = missingRate - baselineMissingRate;
      if (rise > settings.maxMissingIncrease) {
        reasons.push(
          `missing ${(missingRate * 100).toFixed(1)}% of rows (baseline ${(baselineMissingRate * 100).toFixed(1)}%)`,
        );
      }
    }
    if (!this.testable) {
      report.reasons = reasons;
      report.drifted = reasons.length > 0;
      return report;
    }
    if (this.present < minSamples) {
      report.notEnoughData = `not enough data (${this.present} of ${minSamples})`;
      report.reasons = reasons;
      report.drifted = reasons.length > 0;
      return report;
    }
    if (this.numeric && this.cdf && baseline?.numeric) {
      const counts = {
        cells: this.numeric.cells ?? [],
        n: this.numeric.count,
        belowGridDistance: this.numeric.belowGridDistance,
        aboveGridDistance: this.numeric.aboveGridDistance,
      };
      const baseN = baseline.count - baseline.missing;
      const ks = ksFromGrid(this.cdf, counts);
      const pValue = ksPValue(ks.statistic, baseN, this.numeric.count);
      report.statistics = { pValue: round(pValue), test: 'ks' };
      const distances: Partial<Record<DriftMethod, number>> = {};
      for (const method of numericMethods) {
        if (method === 'psi') distances.psi = psiFromGrid(this.cdf, counts).value;
        if (method === 'ks') {
          distances.ks = ks.statistic;
          report.statistics.ksErrorBound = round(ks.errorBound);
        }
        if (method === 'wasserstein') {
          const sd = baseline.numeric.stdDev;
          distances.wasserstein = wassersteinFromGrid(this.cdf, counts) / (sd > 0 ? sd : 1);
        }
      }
      Object.assign(report.statistics, roundAll(distances));
      reasons.push(...this.breaches(distances, limits, pValue, perTestAlpha, report));
    } else if (this.categorical && baseline?.categorical) {
      const keys = [
        ...new Set([...Object.keys(baseline.categorical.frequencies), ...this.categorical.counts.keys()]),
      ];
      const base = keys.map((key) => baseline.categorical?.frequencies[key] ?? 0);
      const live = keys.map((key) => this.categorical?.counts.get(key) ?? 0);
      const test = chiSquareGoodnessOfFit(base, live);
      report.statistics = { pValue: round(test.pValue), test: 'chi_square' };
      const distances: Partial<Record<DriftMethod, number>> = {};
      for (const method of settings.categoricalMethods) {
        if (method === 'jensen_shannon') distances.jensen_shannon = jensenShannon(base, live);
        if (method === 'l_infinity') {
          distances.l_infinity = lInfinity(
            new Map(Object.entries(baseline.categorical.frequencies)),
            this.categorical.counts,
          );
        }
      }
      if (distances.jensen_shannon !== undefined)
        report.statistics.jensenShannon = round(distances.jensen_shannon);
      if (distances.l_infinity !== undefined) report.statistics.lInfinity = round(distances.l_infinity);
      reasons.push(...this.breaches(distances, limits, test.pValue, perTestAlpha, report));
      const unseenRate = this.present === 0 ? 0 : this.unseen / this.present;
      if (unseenRate > settings.maxMissingIncrease) {
        reasons.push(
          `unseen values in ${(unseenRate * 100).toFixed(1)}% of rows (${report.unseenExamples.join(', ')})`,
        );
      }
    }
    report.reasons = reasons;
    report.drifted = reasons.length > 0;
    return report;
  }

  private breaches(
    distances: Partial<Record<DriftMethod, number>>,
    limits: Record<DriftMethod, number>,
    pValue: number,
    alpha: number,
    report: FeatureReport,
  ): string[] {
    const over: string[] = [];
    for (const [method, value] of Object.entries(distances) as Array<[DriftMethod, number]>) {
      report.thresholds[method] = limits[method];
      if (value > limits[method]) over.push(`${label(method)} ${value.toPrecision(3)} > ${limits[method]}`);
    }
    if (over.length === 0) return [];
    // Past a limit but within sampling noise at the run's corrected level: not drift.
    if (pValue >= alpha) return [];
    return [`${over.join(', ')} (p ${pValue < 1e-12 ? '< 1e-12' : pValue.toPrecision(2)})`];
  }

  private liveSummary(): FeatureReport['live'] {
    if (this.numeric && this.numeric.count > 0 && this.type === 'numeric') {
      return {
        count: this.numeric.count,
        mean: round(this.numeric.average),
        stdDev: round(this.numeric.stdDev),
        min: this.numeric.min,
        max: this.numeric.max,
      };
    }
    if (this.categorical && this.categorical.count > 0) {
      const top = [...this.categorical.counts].sort((a, b) => b[1] - a[1]).slice(0, 10);
      return { count: this.categorical.count, unique: this.categorical.counts.size, top };
    }
    return { count: 0 };
  }
}

function baselineSummary(baseline: FeatureBaseline | undefined): FeatureReport['baseline'] {
  if (!baseline) return null;
  if (baseline.numeric) {
    const n = baseline.numeric;
    return {
      count: baseline.count - baseline.missing,
      mean: round(n.mean),
      stdDev: round(n.stdDev),
      min: n.min,
      max: n.max,
    };
  }
  if (baseline.categorical) {
    const top = Object.entries(baseline.categorical.frequencies).slice(0, 10);
    return { count: baseline.count - baseline.missing, unique: baseline.categorical.unique, top };
  }
  return { count: baseline.count - baseline.missing };
}

function roundAll(values: Partial<Record<DriftMethod, number>>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(values).map(([method, value]) => [
      DRIFT_METHODS[method as DriftMethod].statistic,
      round(value),
    ]),
  );
}

function label(method: DriftMethod): string {
  return DRIFT_METHODS[method].label;
}

/** A feature's limits: its own over the monitor's, over the defaults. */
export function limitsOf(settings: DriftSettings, feature: string): Record<DriftMethod, number> {
  return limitsOver(settings.thresholds, settings.featureThresholds[feature]);
}

/** Statistics of a version's predictions, kept as the reference later windows compare with. */
export interface PredictionReference {
  version: 1;
  modelVersion: string;
  windowEnd: number;
  column: FeatureBaseline;
}

/**
 * A bounded uniform sample of a stream (Vitter's algorithm R, seeded so a run is reproducible): the
 * first full window of a version keeps its predictions' sample as their reference.
 */
export class Reservoir {
  readonly values: number[] = [];
  readonly strings: string[] = [];
  private seen = 0;
  private readonly random: () => number;

  constructor(
    private readonly size: number,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  add(value: unknown): void {
    const isNumber = typeof value === 'number' && Number.isFinite(value);
    const target = isNumber ? this.values : this.strings;
    if (value === null || value === undefined) return;
    this.seen++;
    const item = isNumber ? value : String(value);
    if (target.length < this.size) {
      (target as unknown[]).push(item);
      return;
    }
    const index = Math.floor(this.random() * this.seen);
    if (index < this.size) (target as unknown[])[index] = item;
  }
}

export { HISTOGRAM_BINS };
