/**
 * The drift methods, their default limits, and the MLflow metric keys a monitor run logs: a plain
 * module without zod, so the console reads the very names and defaults the runs use (`model.ts`
 * builds its schemas from these, `run/report.ts` names its metrics with them).
 */

export const NUMERIC_METHODS = ['psi', 'ks', 'wasserstein'] as const;
export const CATEGORICAL_METHODS = ['jensen_shannon', 'l_infinity'] as const;
export type NumericMethod = (typeof NUMERIC_METHODS)[number];
export type CategoricalMethod = (typeof CATEGORICAL_METHODS)[number];
export type DriftMethod = NumericMethod | CategoricalMethod;

/** Limits by method; a method left out has its default. */
export type DriftLimits = Partial<Record<DriftMethod, number>>;

/**
 * Defaults: PSI above 0.2 is the industry's "significant shift"; a KS distance of 0.1 is a tenth of
 * the population moved; a Wasserstein distance is in baseline standard deviations (0.1); Jensen-Shannon
 * (base 2, 0..1) and L-infinity as TFDV reads them.
 */
export const DEFAULT_THRESHOLDS: Record<DriftMethod, number> = {
  psi: 0.2,
  ks: 0.1,
  wasserstein: 0.1,
  jensen_shannon: 0.1,
  l_infinity: 0.2,
};

/**
 * Each method's field in a report's `statistics`, its segment of the MLflow metric key
 * (`drift.<metric>.<feature>`), and its short label in the text report.
 */
export const DRIFT_METHODS = {
  psi: { statistic: 'psi', metric: 'psi', label: 'psi' },
  ks: { statistic: 'ks', metric: 'ks', label: 'ks' },
  wasserstein: { statistic: 'wasserstein', metric: 'wasserstein', label: 'wasserstein' },
  jensen_shannon: { statistic: 'jensenShannon', metric: 'js', label: 'js' },
  l_infinity: { statistic: 'lInfinity', metric: 'linf', label: 'l-inf' },
} as const satisfies Record<DriftMethod, { statistic: string; metric: string; label: string }>;

export const DRIFT_METHOD_NAMES = Object.keys(DRIFT_METHODS) as DriftMethod[];

/** A feature's limits: the later sources over the earlier, all over the defaults. */
export function limitsOver(...sources: Array<DriftLimits | undefined>): Record<DriftMethod, number> {
  const merged = { ...DEFAULT_THRESHOLDS };
  for (const source of sources) {
    for (const [method, value] of Object.entries(source ?? {})) {
      if (value !== undefined) merged[method as DriftMethod] = value;
    }
  }
  return merged;
}

/** MLflow metric keys allow letters, digits, `_ - . / ` and space; anything else becomes `_`. */
export const metricKey = (key: string) => key.replace(/[^A-Za-z0-9_\-./ ]/g, '_').slice(0, 250);

/** The MLflow metric a run logs a feature's distance under: `drift.psi.<feature>`. */
export const driftMetricKey = (method: DriftMethod, feature: string) =>
  metricKey(`drift.${DRIFT_METHODS[method].metric}.${feature}`);

/**
 * The endpoint-wide metrics of a run, for the served (primary) version: `quality.<metric>` (accuracy,
 * rmse, ...), and the health metrics below. Per-version copies end in `.v<version>`.
 */
export const qualityMetricKey = (metric: string) => `quality.${metric}`;
export const HEALTH_METRIC_KEYS = {
  errorRate: 'health.error_rate',
  p99Ms: 'health.p99_ms',
  invocations: 'health.invocations',
} as const;
