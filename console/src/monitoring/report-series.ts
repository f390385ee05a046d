/**
 * A monitor's reports as chart series over time (pure: unit-tested in Node). Each report is one
 * point at its window's end: per feature the drift distance of one method, per version the live
 * quality metrics, the p99 latency and the error rate.
 */
import {
  DRIFT_METHOD_NAMES,
  DRIFT_METHODS,
  type DriftMethod,
  limitsOver,
} from '../../../shared/monitoring/drift-methods.ts';
import type { MonitorReport, MonitorWire } from '../api/wire.ts';
import { type Aligned, align, type Series } from '../charts/series.ts';

/** A run's report with the time it stands at: its window's end (epoch ms). */
export interface TimedReport {
  windowEnd: number;
  report: MonitorReport;
}

export interface ChartSeries {
  labels: string[];
  /** x in seconds (uPlot's time scale), then one column per label. */
  data: Aligned;
}

/** Series from per-report values: each report gives `[label, value]` pairs; labels keep first-seen order. */
export function seriesOver(
  reports: readonly TimedReport[],
  pick: (report: MonitorReport) => Array<[string, number | null | undefined]>,
): ChartSeries | null {
  const byLabel = new Map<string, Series>();
  const xs = new Set<number>();
  for (const { windowEnd, report } of [...reports].sort((a, b) => a.windowEnd - b.windowEnd)) {
    const x = windowEnd / 1000;
    xs.add(x);
    for (const [label, value] of pick(report)) {
      if (value === null || value === undefined || !Number.isFinite(value)) continue;
      const series = byLabel.get(label) ?? { label, points: [] };
      byLabel.set(label, series);
      series.points.push({ x, y: value });
    }
  }
  if (byLabel.size === 0) return null;
  // Every report's time is on the axis, so a window without a value is a gap in its line.
  const all: Series = { label: '', points: [...xs].map((x) => ({ x, y: Number.NaN })) };
  const [x, , ...columns] = align([all, ...byLabel.values()]);
  return { labels: [...byLabel.keys()], data: [x, ...columns] };
}

/** The drift methods the reports hold a value of, in the API's order. */
export function methodsIn(reports: readonly TimedReport[]): DriftMethod[] {
  return DRIFT_METHOD_NAMES.filter((method) =>
    reports.some(({ report }) =>
      report.drift.features.some((f) => f.statistics[DRIFT_METHODS[method].statistic] !== undefined),
    ),
  );
}

/** One series per input feature: its distance by `method` in each report. */
export function driftSeries(reports: readonly TimedReport[], method: DriftMethod): ChartSeries | null {
  const statistic = DRIFT_METHODS[method].statistic;
  return seriesOver(reports, (report) =>
    report.drift.features.map((f) => [f.name, f.statistics[statistic]] as [string, number | undefined]),
  );
}

/**
 * The limit a feature's distance is held to now: the monitor's per-feature limit, else its limit for
 * the method, else the default (the run's own rule, `limitsOver`).
 */
export function limitOf(monitor: MonitorWire, method: DriftMethod, feature?: string): number {
  const { thresholds, feature_thresholds } = monitor.drift;
  return limitsOver(thresholds, feature === undefined ? undefined : feature_thresholds[feature])[method];
}

/** Live quality per version: `accuracy v1`, `rmse v2`, ... */
export function qualitySeries(reports: readonly TimedReport[]): ChartSeries | null {
  return seriesOver(reports, (report) =>
    report.quality.flatMap((q) =>
      Object.entries(q.metrics).map(
        ([metric, value]) => [`${metric} v${q.modelVersion}`, value] as [string, number],
      ),
    ),
  );
}

/** Health per version: the p99 latency (ms) or the error rate (%). */
export function healthSeries(
  reports: readonly TimedReport[],
  metric: 'p99Ms' | 'errorRate',
): ChartSeries | null {
  return seriesOver(reports, (report) =>
    report.health
      .filter((h) => h.invocations > 0)
      .map((h) => [`v${h.modelVersion}`, metric === 'p99Ms' ? h.p99Ms : h.errorRate * 100]),
  );
}
