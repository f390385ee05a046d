/**
 * Distances between two distributions of a column, and the tests that say whether a distance is more
 * than sampling noise. One implementation for the pipeline's data validation (Jensen-Shannon on a
 * numeric column's histogram, L-infinity on a string column's frequencies, as TFDV) and for model
 * monitoring (those, plus the population stability index, Kolmogorov-Smirnov and Wasserstein on a
 * baseline's CDF summary: `NumericStatistics.cdf`).
 *
 * Live data is compared with a baseline summary through the counts a `NumericAccumulator` keeps on the
 * baseline's grid (`cells`). Where the baseline summary holds every distinct baseline value, KS and
 * PSI are exactly what they are on the two samples (unit tests compare them with scipy's); where it
 * holds quantiles of a larger sample, the KS statistic is within the largest CDF gap between two
 * points (about 1/1000), reported as `errorBound`.
 */
import type { NumericStatistics } from './statistics.ts';

type Cdf = NonNullable<NumericStatistics['cdf']>;

/** Jensen-Shannon divergence (base 2, 0..1) of two count vectors over the same bins. */
export function jensenShannon(a: readonly number[], b: readonly number[]): number {
  const sumA = a.reduce((s, x) => s + x, 0);
  const sumB = b.reduce((s, x) => s + x, 0);
  if (sumA === 0 || sumB === 0) return 0;
  let divergence = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const p = (a[i] ?? 0) / sumA;
    const q = (b[i] ?? 0) / sumB;
    const m = (p + q) / 2;
    if (p > 0) divergence += 0.5 * p * Math.log2(p / m);
    if (q > 0) divergence += 0.5 * q * Math.log2(q / m);
  }
  return Math.max(0, Math.min(1, divergence));
}

/** L-infinity distance between two value -> count maps, as frequencies (TFDV's categorical drift). */
export function lInfinity(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): number {
  const sumA = [...a.values()].reduce((s, x) => s + x, 0);
  const sumB = [...b.values()].reduce((s, x) => s + x, 0);
  if (sumA === 0 || sumB === 0) return 0;
  let distance = 0;
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    distance = Math.max(distance, Math.abs((a.get(key) ?? 0) / sumA - (b.get(key) ?? 0) / sumB));
  }
  return distance;
}

/** Bin fractions are floored at this before PSI's logarithm, so an empty bin gives a large finite value. */
export const PSI_EPSILON = 1e-4;

/**
 * Population stability index of two count vectors over the same bins:
 * sum((a - e) * ln(a / e)) over bin fractions, each floored at {@link PSI_EPSILON}.
 * Rules of thumb: below 0.1 stable, 0.1-0.2 a moderate shift, above 0.2 a significant one.
 */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  const sumE = expected.reduce((s, x) => s + x, 0);
  const sumA = actual.reduce((s, x) => s + x, 0);
  if (sumE === 0 || sumA === 0) return 0;
  let value = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max((expected[i] ?? 0) / sumE, PSI_EPSILON);
    const a = Math.max((actual[i] ?? 0) / sumA, PSI_EPSILON);
    value += (a - e) * Math.log(a / e);
  }
  return value;
}

/** The two-sample Kolmogorov-Smirnov statistic of raw samples: sup |F_a(x) - F_b(x)| (scipy's `ks_2samp`). */
export function ksStatistic(a: readonly number[], b: readonly number[]): number {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const value = Math.min(x[i] as number, y[j] as number);
    while (i < x.length && x[i] === value) i++;
    while (j < y.length && y[j] === value) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

/** Live counts on a baseline grid, as `NumericAccumulator` keeps them (see its `cells`). */
export interface GridCounts {
  cells: ArrayLike<number>;
  /** The live values counted. */
  n: number;
  belowGridDistance?: number;
  aboveGridDistance?: number;
}

/** The live CDF at each grid point (`at`) and just before it (`before`). */
function liveCdf(grid: GridCounts, points: number): { at: Float64Array; before: Float64Array } {
  const at = new Float64Array(points);
  const before = new Float64Array(points);
  let running = 0;
  for (let k = 0; k < points; k++) {
    running += grid.cells[2 * k] as number;
    before[k] = running / grid.n;
    running += grid.cells[2 * k + 1] as number;
    at[k] = running / grid.n;
  }
  return { at, before };
}

/**
 * The KS statistic between the baseline's CDF summary and live counts on its grid. Between two grid
 * points the baseline CDF is constant when the summary holds every distinct value, so the supremum is
 * at a point or just before one: exact. Otherwise it is within `errorBound`, the largest step of the
 * summary's CDF.
 */
export function ksFromGrid(baseline: Cdf, live: GridCounts): { statistic: number; errorBound: number } {
  const m = baseline.points.length;
  if (live.n === 0 || m === 0) return { statistic: 0, errorBound: 0 };
  const { at, before } = liveCdf(live, m);
  let d = 0;
  let gap = 0;
  for (let k = 0; k < m; k++) {
    const previous = k === 0 ? 0 : (baseline.cumulative[k - 1] as number);
    d = Math.max(
      d,
      Math.abs((at[k] as number) - (baseline.cumulative[k] as number)),
      Math.abs((before[k] as number) - previous),
    );
    gap = Math.max(gap, (baseline.cumulative[k] as number) - previous);
  }
  // Exact when every point is one distinct baseline value (each step is then that value's own mass).
  return { statistic: d, errorBound: baseline.exact ? 0 : gap };
}

/**
 * PSI between the baseline and live counts on its grid, over `bins` quantile bins of the baseline:
 * the edges are the first grid points whose baseline CDF reaches 1/bins, 2/bins, ... (fewer bins when
 * values repeat), the bins `(-inf, e1], (e1, e2], ..., (e_last, inf)`.
 */
export function psiFromGrid(
  baseline: Cdf,
  live: GridCounts,
  bins = 10,
): { value: number; expected: number[]; actual: number[]; edges: number[] } {
  const m = baseline.points.length;
  if (live.n === 0 || m === 0) return { value: 0, expected: [], actual: [], edges: [] };
  const { at } = liveCdf(live, m);
  const edgeIndexes: number[] = [];
  for (let j = 1; j < bins; j++) {
    const index = baseline.cumulative.findIndex((c) => c >= j / bins - 1e-12);
    if (index >= 0 && index < m - 1 && !edgeIndexes.includes(index)) edgeIndexes.push(index);
  }
  const expected: number[] = [];
  const actual: number[] = [];
  let previousBase = 0;
  let previousLive = 0;
  for (const index of edgeIndexes) {
    expected.push((baseline.cumulative[index] as number) - previousBase);
    actual.push((at[index] as number) - previousLive);
    previousBase = baseline.cumulative[index] as number;
    previousLive = at[index] as number;
  }
  expected.push(1 - previousBase);
  actual.push(1 - previousLive);
  return {
    value: psi(expected, actual),
    expected,
    actual,
    edges: edgeIndexes.map((index) => baseline.points[index] as number),
  };
}

/**
 * The Wasserstein-1 distance (the area between the two CDFs) between the baseline summary and live
 * counts on its grid. Exact outside the grid (the accumulator sums the distances of values beyond
 * it) and between points where the live CDF does not move; between points where it moves, the live
 * values are taken as spread evenly over the gap.
 */
export function wassersteinFromGrid(baseline: Cdf, live: GridCounts): number {
  const m = baseline.points.length;
  if (live.n === 0 || m === 0) return 0;
  const { at, before } = liveCdf(live, m);
  let area = ((live.belowGridDistance ?? 0) + (live.aboveGridDistance ?? 0)) / live.n;
  for (let k = 1; k < m; k++) {
    const width = (baseline.points[k] as number) - (baseline.points[k - 1] as number);
    const base = baseline.cumulative[k - 1] as number;
    const from = (at[k - 1] as number) - base;
    const to = (before[k] as number) - base;
    // The integral of |linear from `from` to `to`| over the gap.
    area +=
      from * to >= 0
        ? (width * (Math.abs(from) + Math.abs(to))) / 2
        : (width * (from * from + to * to)) / (2 * Math.abs(to - from));
  }
  return area;
}

/**
 * The Kolmogorov distribution's survival function, P(K > z) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 z^2)
 * (scipy's `special.kolmogorov`): the asymptotic p-value of sqrt(n m / (n + m)) * D.
 */
export function kolmogorovSurvival(z: number): number {
  if (z <= 0) return 1;
  if (z < 0.27) {
    // The alternating series converges slowly here; use the theta-function form of the CDF.
    const t = Math.exp((-Math.PI * Math.PI) / (8 * z * z));
    const cdf = (Math.sqrt(2 * Math.PI) / z) * (t + t ** 9 + t ** 25 + t ** 49);
    return Math.min(1, Math.max(0, 1 - cdf));
  }
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * z * z);
    sum += k % 2 === 1 ? term : -term;
    if (term < 1e-18) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/** The asymptotic two-sided p-value of a two-sample KS statistic `d` on samples of sizes `n` and `m`. */
export function ksPValue(d: number, n: number, m: number): number {
  if (n === 0 || m === 0) return 1;
  return kolmogorovSurvival(Math.sqrt((n * m) / (n + m)) * d);
}

/** ln Γ(x), Lanczos (g = 7, n = 9), good to about 15 digits for x > 0. */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularized upper incomplete gamma function Q(a, x) (series below a + 1, continued fraction above). */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const front = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.min(1, Math.max(0, 1 - sum * front));
  }
  // Lentz's method for the continued fraction.
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.max(0, front * h));
}

/** P(X > x) for a chi-square variable with `df` degrees of freedom (scipy's `chi2.sf`). */
export function chiSquareSurvival(x: number, df: number): number {
  if (df <= 0) return 1;
  return gammaQ(df / 2, x / 2);
}

/**
 * Pearson's chi-square test that live counts come from the baseline's frequencies (bins aligned):
 * sum((o - E)^2 / E) with E the live total times each baseline fraction, over bins with E > 0; live
 * counts in bins the baseline never saw are unseen values, reported apart and not tested here.
 */
export function chiSquareGoodnessOfFit(
  baseline: readonly number[],
  live: readonly number[],
): { statistic: number; df: number; pValue: number } {
  const totalBase = baseline.reduce((s, x) => s + x, 0);
  const totalLive = live.reduce((s, x, i) => ((baseline[i] ?? 0) > 0 ? s + x : s), 0);
  if (totalBase === 0 || totalLive === 0) return { statistic: 0, df: 0, pValue: 1 };
  let statistic = 0;
  let bins = 0;
  for (let i = 0; i < baseline.length; i++) {
    const expected = ((baseline[i] ?? 0) / totalBase) * totalLive;
    if (expected <= 0) continue;
    bins++;
    statistic += ((live[i] ?? 0) - expected) ** 2 / expected;
  }
  const df = Math.max(0, bins - 1);
  return { statistic, df, pValue: chiSquareSurvival(statistic, df) };
}

/**
 * The p-value of a PSI computed on `bins` bins from samples of sizes `n` (baseline) and `m` (live):
 * PSI is the symmetric Kullback-Leibler (Jeffreys) divergence, and (n m / (n + m)) PSI is
 * asymptotically chi-square with bins - 1 degrees of freedom when both come from one distribution.
 */
export function psiPValue(value: number, n: number, m: number, bins: number): number {
  if (n === 0 || m === 0 || bins < 2) return 1;
  return chiSquareSurvival(((n * m) / (n + m)) * value, bins - 1);
}
