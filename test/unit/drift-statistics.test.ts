import { describe, expect, it } from 'vitest';
import {
  chiSquareGoodnessOfFit,
  chiSquareSurvival,
  jensenShannon,
  kolmogorovSurvival,
  ksFromGrid,
  ksPValue,
  ksStatistic,
  psi,
  psiFromGrid,
  psiPValue,
  wassersteinFromGrid,
} from '../../shared/pipelines/dataset/drift.ts';
import { cdfSummary, NumericAccumulator } from '../../shared/pipelines/dataset/statistics.ts';
import { normals } from '../support/random.ts';

/**
 * Known answers computed independently with scipy 1.17.1 and numpy 2.4.6 (Python 3.11), not with
 * this code. The samples and every reference value below come from this script (run outside the
 * repository; nothing of it is committed but what it printed):
 *
 *   import numpy as np
 *   from scipy import stats, special
 *   from scipy.spatial.distance import jensenshannon
 *   rng = np.random.default_rng(7)
 *   A = np.round(rng.normal(5.0, 1.0, 40), 1); B = np.round(rng.normal(5.6, 1.2, 30), 1)
 *   stats.ks_2samp(A, B).statistic                      # 0.5166666666666667
 *   special.kolmogorov(np.sqrt(40*30/70) * D)            # 0.0002119343985836204
 *   special.kolmogorov(z) for z in 0.2, 0.5, 1, 1.36, 2
 *   stats.chi2.sf(x, df) for (3, 2), (12.5, 9), (0.5, 4), (40, 9), (100, 3)
 *   Bs = A[[0,3,3,7,11,19,25,25,30,39]]; stats.wasserstein_distance(Bs, A)   # 0.1775
 *   stats.wasserstein_distance(B, A)                     # 1.0241666666666667
 *   jensenshannon([10,20,30,0,40], [15,15,25,5,40], base=2)**2              # 0.03285794373100937
 *   stats.chisquare([18,22,35,25], f_exp=[25,25,30,20])  # statistic 4.40333..., p 0.2210765087182761
 *   PSI by the definition in drift.ts (edges: first baseline values whose CDF reaches j/10; bins
 *   (-inf,e1],...,(e9,inf) via np.searchsorted(edges, x, side='left'); fractions floored at 1e-4;
 *   sum((a-e)*ln(a/e))): psi(A -> B) = 3.6151922569848667 with edges [3.5,4.0,4.2,4.5,4.9,5.0,5.2,5.5]
 */
const A = [
  5.0, 5.3, 4.7, 4.1, 4.5, 4.0, 5.1, 6.3, 4.5, 4.4, 5.5, 5.4, 5.1, 4.1, 5.0, 5.7, 3.7, 4.5, 3.1, 3.7, 3.2,
  4.8, 3.7, 5.3, 5.2, 4.8, 2.5, 4.5, 5.0, 5.1, 3.5, 4.5, 4.0, 4.2, 6.1, 4.2, 5.0, 5.9, 4.4, 4.9,
];
const B = [
  5.7, 5.7, 4.1, 5.7, 7.2, 3.7, 6.6, 5.7, 4.8, 8.0, 6.5, 4.2, 5.7, 6.3, 5.4, 6.4, 5.5, 6.4, 7.3, 4.8, 5.8,
  5.0, 5.8, 4.2, 4.9, 5.4, 6.7, 7.0, 4.0, 4.6,
];
const Bs = [5.0, 4.1, 4.1, 6.3, 5.4, 3.7, 4.8, 4.8, 3.5, 4.9];

/** The baseline summary of a sample and a live sample counted on its grid, as a monitor does. */
function onGrid(baseline: readonly number[], live: readonly number[]) {
  const summary = cdfSummary(Float64Array.from(baseline).sort());
  if (!summary) throw new Error('no summary');
  const accumulator = new NumericAccumulator({ grid: summary.points });
  for (const value of live) accumulator.add(value);
  return {
    summary,
    counts: {
      cells: accumulator.cells ?? [],
      n: accumulator.count,
      belowGridDistance: accumulator.belowGridDistance,
      aboveGridDistance: accumulator.aboveGridDistance,
    },
  };
}

describe('Kolmogorov-Smirnov', () => {
  it("equals scipy's ks_2samp statistic on two raw samples with ties", () => {
    expect(ksStatistic(A, B)).toBeCloseTo(0.5166666666666667, 14);
    expect(ksStatistic(B, A)).toBeCloseTo(0.5166666666666667, 14);
    expect(ksStatistic(A, A)).toBe(0);
  });

  it('is exact from a baseline summary of every distinct value and live counts on its grid', () => {
    const { summary, counts } = onGrid(A, B);
    expect(summary.exact).toBe(true);
    const ks = ksFromGrid(summary, counts);
    expect(ks.statistic).toBeCloseTo(0.5166666666666667, 14);
    expect(ks.errorBound).toBe(0);
    expect(ksFromGrid(summary, onGrid(A, A).counts).statistic).toBeCloseTo(0, 14);
  });

  it('stays within its stated error bound from a 1000-point summary of 20,000 values', () => {
    const baseline = normals(1, 20_000, 0, 1);
    for (const [seed, shift] of [
      [2, 0],
      [3, 0.3],
      [4, 2],
    ] as const) {
      const live = normals(seed, 5_000, shift, 1);
      const { summary, counts } = onGrid(baseline, live);
      expect(summary.exact).toBe(false);
      expect(summary.points.length).toBeLessThanOrEqual(1000);
      const ks = ksFromGrid(summary, counts);
      expect(ks.errorBound).toBeGreaterThan(0);
      expect(ks.errorBound).toBeLessThan(0.0015);
      expect(Math.abs(ks.statistic - ksStatistic(baseline, live))).toBeLessThanOrEqual(ks.errorBound);
    }
  });

  it("p-values are the Kolmogorov distribution's tail (scipy.special.kolmogorov)", () => {
    const cases: Array<[number, number]> = [
      [0.2, 0.999999999999495],
      [0.5, 0.9639452436648751],
      [1.0, 0.26999967167735456],
      [1.36, 0.049485876755377876],
      [2.0, 0.0006709252557796953],
    ];
    for (const [z, expected] of cases) expect(kolmogorovSurvival(z)).toBeCloseTo(expected, 10);
    expect(ksPValue(0.5166666666666667, 40, 30)).toBeCloseTo(0.0002119343985836204, 12);
  });
});

describe('population stability index', () => {
  it('equals the numpy reference on the baseline quantile bins', () => {
    const { summary, counts } = onGrid(A, B);
    const result = psiFromGrid(summary, counts);
    expect(result.edges).toEqual([3.5, 4.0, 4.2, 4.5, 4.9, 5.0, 5.2, 5.5]);
    expect(result.value).toBeCloseTo(3.6151922569848667, 12);
    expect(psiFromGrid(summary, onGrid(A, A).counts).value).toBeCloseTo(0, 14);
  });

  it('is the symmetric sum over fractions, with empty bins floored', () => {
    expect(psi([50, 50], [50, 50])).toBe(0);
    // (0.7-0.5)ln(0.7/0.5) + (0.3-0.5)ln(0.3/0.5)
    expect(psi([50, 50], [70, 30])).toBeCloseTo(0.2 * Math.log(1.4) - 0.2 * Math.log(0.6), 14);
    expect(psi([100, 0], [50, 50])).toBeCloseTo(
      (0.5 - 1) * Math.log(0.5) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4),
      12,
    );
  });

  it('gets a chi-square p-value that is large for equal distributions and tiny for a shift', () => {
    // (1000 * 1000 / 2000) * 0.01 = 5 on 9 degrees of freedom: scipy chi2.sf(5, 9) = 0.8343082601934075
    expect(psiPValue(0.01, 1000, 1000, 10)).toBeCloseTo(0.8343082601934075, 12);
    expect(psiPValue(0.5, 1000, 1000, 10)).toBeLessThan(1e-20);
  });
});

describe('Wasserstein-1', () => {
  it("equals scipy's wasserstein_distance when live values sit on baseline values", () => {
    const { summary, counts } = onGrid(A, Bs);
    expect(wassersteinFromGrid(summary, counts)).toBeCloseTo(0.1775, 12);
  });

  it('is close to scipy with live values between and beyond the baseline values', () => {
    const { summary, counts } = onGrid(A, B);
    expect(wassersteinFromGrid(summary, counts)).toBeCloseTo(1.0241666666666667, 2);
  });
});

describe('chi-square and Jensen-Shannon', () => {
  it("chi-square tails equal scipy's chi2.sf", () => {
    const cases: Array<[number, number, number]> = [
      [3.0, 2, 0.22313016014842982],
      [12.5, 9, 0.18656597485845106],
      [0.5, 4, 0.9735009788392561],
      [40.0, 9, 7.598525229464264e-6],
      [100.0, 3, 1.5541594313896026e-21],
    ];
    for (const [x, df, expected] of cases) {
      expect(Math.abs(chiSquareSurvival(x, df) - expected) / expected).toBeLessThan(1e-9);
    }
  });

  it("goodness of fit equals scipy's chisquare", () => {
    const result = chiSquareGoodnessOfFit([25, 25, 30, 20], [18, 22, 35, 25]);
    expect(result.statistic).toBeCloseTo(4.403333333333333, 12);
    expect(result.df).toBe(3);
    expect(result.pValue).toBeCloseTo(0.2210765087182761, 10);
  });

  it("Jensen-Shannon divergence (base 2) is scipy's jensenshannon distance squared", () => {
    expect(jensenShannon([10, 20, 30, 0, 40], [15, 15, 25, 5, 40])).toBeCloseTo(0.03285794373100937, 14);
    expect(jensenShannon([1, 0], [0, 1])).toBe(1);
  });
});
