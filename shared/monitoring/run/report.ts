/**
 * A monitor run's report: JSON for programs (the console, `runway monitors reports`), text for people
 * (like the pipeline's `validation_report.txt`), the MLflow metrics that plot it over time, and the
 * findings that decide which events go on the bus.
 */
import {
  DRIFT_METHOD_NAMES,
  DRIFT_METHODS,
  driftMetricKey,
  HEALTH_METRIC_KEYS,
  metricKey,
  qualityMetricKey,
} from '../drift-methods.ts';
import type { RunFindings } from '../model.ts';
import type { FeatureReport } from './feature-drift.ts';
import type { QualityReport } from './quality.ts';
import type { WindowResult } from './window-analysis.ts';

export interface HealthReport {
  modelVersion: string;
  invocations: number;
  errors: number;
  errorRate: number;
  p99Ms: number | null;
  limits: { maxErrorRate: number; maxP99Ms: number };
  breaches: Array<{ metric: 'error_rate' | 'p99_ms'; value: number; limit: number }>;
  notEnoughData?: string;
}

export interface MonitorReport {
  version: 1;
  monitor: string;
  endpoint: string;
  model: string;
  runId: string;
  window: { start: string; end: string };
  generatedAt: string;
  baseline: { description: string; uri: string | null; modelVersion: string | null; rows: number | null };
  data: {
    records: number;
    rows: number;
    rowsByVersion: Record<string, number>;
    captureObjects: number;
    skippedRecords: Record<string, number>;
    newColumns: string[];
    feedback: { received: number; matched: number };
  };
  notEnoughData: string | null;
  drift: {
    /** Tests in the run, and the level each was held to (the family-wise level over them). */
    tests: number;
    significance: number;
    perTestSignificance: number;
    drifted: string[];
    features: FeatureReport[];
  };
  predictionDrift: { drifted: string[]; versions: FeatureReport[]; referencesRecorded: string[] };
  quality: QualityReport[];
  health: HealthReport[];
  summary: string;
}

export function findingsOf(report: MonitorReport): RunFindings {
  return {
    rows: report.data.rows,
    labeled: report.quality.reduce((sum, quality) => sum + quality.labeled, 0),
    ...(report.notEnoughData ? { notEnoughData: report.notEnoughData } : {}),
    drifted: report.drift.drifted,
    predictionDrift: report.predictionDrift.drifted.length > 0,
    qualityDegraded: report.quality.flatMap((q) => q.breaches.map((b) => `v${q.modelVersion} ${b.metric}`)),
    healthDegraded: report.health.flatMap((h) => h.breaches.map((b) => `v${h.modelVersion} ${b.metric}`)),
    summary: report.summary,
  };
}

/** The run's one-sentence outcome. */
export function summarize(input: {
  notEnoughData: string | null;
  drifted: string[];
  predictionDrifted: string[];
  quality: QualityReport[];
  health: HealthReport[];
}): string {
  const parts: string[] = [];
  if (input.notEnoughData) parts.push(`${input.notEnoughData}: drift not judged`);
  else if (input.drifted.length > 0) parts.push(`drift in ${input.drifted.join(', ')}`);
  else parts.push('no drift');
  if (input.predictionDrifted.length > 0)
    parts.push(`prediction drift (version ${input.predictionDrifted.join(', ')})`);
  const quality = input.quality.flatMap((q) =>
    q.breaches.map(
      (b) => `${b.metric} ${b.value.toPrecision(3)} (limit ${b.limit}) on version ${q.modelVersion}`,
    ),
  );
  if (quality.length > 0) parts.push(`quality degraded: ${quality.join('; ')}`);
  const health = input.health.flatMap((h) =>
    h.breaches.map(
      (b) => `${b.metric} ${b.value.toPrecision(3)} (limit ${b.limit}) on version ${h.modelVersion}`,
    ),
  );
  if (health.length > 0) parts.push(`health degraded: ${health.join('; ')}`);
  return parts.join('; ');
}

const fixed = (value: unknown, digits = 3) =>
  typeof value === 'number'
    ? Number.isInteger(value)
      ? String(value)
      : value.toFixed(digits)
    : String(value ?? '-');

function featureLine(feature: FeatureReport): string {
  const s = feature.statistics;
  const stats = [
    s.psi !== undefined ? `psi ${fixed(s.psi)}` : '',
    s.ks !== undefined ? `ks ${fixed(s.ks)}` : '',
    s.wasserstein !== undefined ? `wasserstein ${fixed(s.wasserstein)}` : '',
    s.jensenShannon !== undefined ? `js ${fixed(s.jensenShannon)}` : '',
    s.lInfinity !== undefined ? `l-inf ${fixed(s.lInfinity)}` : '',
    s.pValue !== null ? `p ${s.pValue < 1e-12 ? '< 1e-12' : s.pValue.toPrecision(2)} (${s.test})` : '',
  ].filter(Boolean);
  const live = feature.live;
  const base = feature.baseline;
  const shape =
    feature.type === 'numeric' && 'mean' in live
      ? `mean ${fixed(live.mean)} (baseline ${fixed(base?.mean)}), std ${fixed(live.stdDev)} (${fixed(base?.stdDev)})`
      : 'unique' in live
        ? `${live.unique} values (baseline ${fixed(base?.unique)})`
        : '';
  const extras = [
    `missing ${feature.missing} of ${feature.rows}`,
    feature.invalid > 0 ? `${feature.invalid} not numbers` : '',
    feature.unseen > 0 ? `${feature.unseen} unseen (${feature.unseenExamples.join(', ')})` : '',
    feature.belowRange + feature.aboveRange > 0
      ? `${feature.belowRange} below / ${feature.aboveRange} above the baseline range`
      : '',
  ].filter(Boolean);
  const mark = feature.drifted ? 'DRIFT' : feature.notEnoughData ? 'n/a' : 'ok';
  const name =
    feature.kind === 'prediction' ? `predictions of version ${feature.modelVersion}` : feature.name;
  const why = feature.drifted
    ? ` <- ${feature.reasons.join('; ')}`
    : feature.notEnoughData
      ? ` (${feature.notEnoughData})`
      : '';
  return `- [${mark}] ${name}: ${[...stats, shape, ...extras].filter(Boolean).join(', ')}${why}`;
}

/** The report as text a person reads top to bottom: the verdict first, then the evidence. */
export function formatReport(report: MonitorReport): string {
  const lines = [
    `Monitor ${report.monitor} on endpoint ${report.endpoint} (model ${report.model}), window ${report.window.start} to ${report.window.end}: ${report.summary}`,
    `Run ${report.runId}; baseline: ${report.baseline.description}`,
    `Data: ${report.data.rows} rows in ${report.data.records} captured invocations (${
      Object.entries(report.data.rowsByVersion)
        .map(([version, rows]) => `version ${version}: ${rows}`)
        .join(', ') || 'none'
    }); ${report.data.captureObjects} capture objects`,
  ];
  const skipped = Object.entries(report.data.skippedRecords);
  if (skipped.length > 0)
    lines.push(`Skipped records: ${skipped.map(([why, n]) => `${n} ${why}`).join(', ')}`);
  if (report.data.newColumns.length > 0)
    lines.push(`Columns not in the baseline: ${report.data.newColumns.join(', ')}`);
  lines.push(
    '',
    `Drift (${report.drift.tests} tests, each at ${report.drift.perTestSignificance.toPrecision(2)}: ${report.drift.significance} family-wise, Bonferroni):`,
    ...(report.drift.features.length > 0
      ? report.drift.features.map(featureLine)
      : ['- no features to compare']),
  );
  if (report.predictionDrift.versions.length > 0 || report.predictionDrift.referencesRecorded.length > 0) {
    lines.push('', "Prediction drift (against each version's first full window):");
    lines.push(...report.predictionDrift.versions.map(featureLine));
    for (const version of report.predictionDrift.referencesRecorded) {
      lines.push(`- version ${version}: this window's predictions are its reference from now on`);
    }
  }
  if (report.quality.length > 0) {
    lines.push('', `Quality (${report.data.feedback.matched} invocations labeled by feedback):`);
    for (const q of report.quality) {
      const metrics = Object.entries(q.metrics)
        .map(([metric, value]) => `${metric} ${fixed(value)}`)
        .join(', ');
      const breaches = q.breaches.map((b) => `${b.metric} ${fixed(b.value)} breaks its limit ${b.limit}`);
      lines.push(
        `- [${q.breaches.length > 0 ? 'DEGRADED' : q.notEnoughData ? 'n/a' : 'ok'}] version ${q.modelVersion} (${q.labeled} labeled): ${q.notEnoughData ?? metrics}${breaches.length > 0 ? ` <- ${breaches.join('; ')}` : ''}`,
      );
    }
  }
  if (report.health.length > 0) {
    lines.push('', 'Health (serving statistics over the window):');
    for (const h of report.health) {
      const breaches = h.breaches.map((b) => `${b.metric} ${fixed(b.value)} breaks its limit ${b.limit}`);
      lines.push(
        `- [${h.breaches.length > 0 ? 'DEGRADED' : h.notEnoughData ? 'n/a' : 'ok'}] version ${h.modelVersion}: ${h.invocations} invocations, error rate ${fixed(h.errorRate, 4)} (limit ${h.limits.maxErrorRate}), p99 ${h.p99Ms ?? '-'} ms (limit ${h.limits.maxP99Ms})${h.notEnoughData ? ` (${h.notEnoughData})` : ''}${breaches.length > 0 ? ` <- ${breaches.join('; ')}` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The run's MLflow metrics: one value each, so any MLflow client plots them across runs. */
export function metricsOf(report: MonitorReport, primaryVersion: string | null): Record<string, number> {
  const metrics: Record<string, number> = {
    'data.rows': report.data.rows,
    'data.records': report.data.records,
    'data.labeled': report.data.feedback.matched,
    'drift.features_drifted': report.drift.drifted.length,
  };
  const set = (key: string, value: number | null | undefined) => {
    if (value !== null && value !== undefined && Number.isFinite(value)) metrics[metricKey(key)] = value;
  };
  for (const feature of report.drift.features) {
    const s = feature.statistics;
    for (const method of DRIFT_METHOD_NAMES) {
      set(driftMetricKey(method, feature.name), s[DRIFT_METHODS[method].statistic]);
    }
    set(`drift.p_value.${feature.name}`, s.pValue);
    set(`data.missing_rate.${feature.name}`, feature.missingRate);
    if ('mean' in feature.live) set(`data.mean.${feature.name}`, feature.live.mean as number);
  }
  for (const prediction of report.predictionDrift.versions) {
    const s = prediction.statistics;
    set(`prediction.psi.v${prediction.modelVersion}`, s.psi);
    set(`prediction.ks.v${prediction.modelVersion}`, s.ks);
    set(`prediction.js.v${prediction.modelVersion}`, s.jensenShannon);
  }
  for (const quality of report.quality) {
    for (const [metric, value] of Object.entries(quality.metrics)) {
      set(`quality.${metric}.v${quality.modelVersion}`, value);
      if (quality.modelVersion === primaryVersion) set(qualityMetricKey(metric), value);
    }
  }
  for (const health of report.health) {
    set(`health.error_rate.v${health.modelVersion}`, health.errorRate);
    set(`health.p99_ms.v${health.modelVersion}`, health.p99Ms);
    set(`health.invocations.v${health.modelVersion}`, health.invocations);
    if (health.modelVersion === primaryVersion) {
      set(HEALTH_METRIC_KEYS.errorRate, health.errorRate);
      set(HEALTH_METRIC_KEYS.p99Ms, health.p99Ms);
      set(HEALTH_METRIC_KEYS.invocations, health.invocations);
    }
  }
  return metrics;
}

export type { WindowResult };
