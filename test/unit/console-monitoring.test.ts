import { describe, expect, it } from 'vitest';
import type { MonitorReport, MonitorWire } from '../../console/src/api/wire.ts';
import { draftOf, settingsOf } from '../../console/src/monitoring/monitor-settings.ts';
import {
  driftSeries,
  healthSeries,
  limitOf,
  methodsIn,
  qualitySeries,
  type TimedReport,
} from '../../console/src/monitoring/report-series.ts';
import { eventKindsOf } from '../../shared/monitoring/events/names.ts';

/** A report with only what the series read: features' statistics, quality and health per version. */
function report(
  features: Array<{ name: string; psi?: number; ks?: number; drifted?: boolean }>,
  extra: Partial<Pick<MonitorReport, 'quality' | 'health'>> = {},
): MonitorReport {
  return {
    drift: {
      features: features.map((f) => ({
        name: f.name,
        drifted: f.drifted ?? false,
        statistics: { psi: f.psi, ks: f.ks, pValue: null, test: null },
      })),
    },
    predictionDrift: { versions: [], drifted: [], referencesRecorded: [] },
    quality: extra.quality ?? [],
    health: extra.health ?? [],
  } as unknown as MonitorReport;
}

const at = (minute: number, value: MonitorReport): TimedReport => ({
  windowEnd: minute * 60_000,
  report: value,
});

describe('drift over time', () => {
  it('one series per feature, points at each window end (seconds), sorted, gaps where a run lacks the feature', () => {
    const reports = [
      at(2, report([{ name: 'a', psi: 0.5 }])),
      at(
        1,
        report([
          { name: 'a', psi: 0.1 },
          { name: 'b', psi: 0.02 },
        ]),
      ),
    ];
    const series = driftSeries(reports, 'psi');
    expect(series?.labels).toEqual(['a', 'b']);
    expect(series?.data).toEqual([
      [60, 120],
      [0.1, 0.5],
      [0.02, null],
    ]);
  });

  it('offers the methods the reports measured, in the API order; none without values', () => {
    const reports = [at(1, report([{ name: 'a', ks: 0.2, psi: 0.1 }]))];
    expect(methodsIn(reports)).toEqual(['psi', 'ks']);
    expect(driftSeries(reports, 'wasserstein')).toBeNull();
    expect(methodsIn([])).toEqual([]);
  });

  it("holds a feature to the monitor's own limit, else the method's, else the default", () => {
    const monitor = {
      drift: { thresholds: { psi: 0.3 }, feature_thresholds: { a: { psi: 0.5 } } },
    } as unknown as MonitorWire;
    expect(limitOf(monitor, 'psi')).toBe(0.3);
    expect(limitOf(monitor, 'psi', 'a')).toBe(0.5);
    expect(limitOf(monitor, 'psi', 'b')).toBe(0.3);
    expect(limitOf(monitor, 'ks', 'a')).toBe(0.1);
  });
});

describe('quality and health over time', () => {
  const quality = (version: string, accuracy: number) =>
    ({
      modelVersion: version,
      metrics: { accuracy },
      breaches: [],
    }) as unknown as MonitorReport['quality'][number];
  const health = (version: string, invocations: number, p99Ms: number | null, errorRate: number) =>
    ({
      modelVersion: version,
      invocations,
      p99Ms,
      errorRate,
      breaches: [],
    }) as unknown as MonitorReport['health'][number];

  it('a series per metric and version; health leaves out versions without invocations', () => {
    const reports = [
      at(
        1,
        report([], {
          quality: [quality('1', 0.9)],
          health: [health('1', 20, 12, 0.05), health('2', 0, null, 0)],
        }),
      ),
      at(
        2,
        report([], { quality: [quality('1', 0.7), quality('2', 0.95)], health: [health('2', 10, 30, 0)] }),
      ),
    ];
    expect(qualitySeries(reports)).toEqual({
      labels: ['accuracy v1', 'accuracy v2'],
      data: [
        [60, 120],
        [0.9, 0.7],
        [null, 0.95],
      ],
    });
    expect(healthSeries(reports, 'p99Ms')?.data).toEqual([
      [60, 120],
      [12, null],
      [null, 30],
    ]);
    expect(healthSeries(reports, 'errorRate')?.data[1]).toEqual([5, null]);
    expect(qualitySeries([at(1, report([]))])).toBeNull();
  });
});

describe('the events a report publishes', () => {
  it('drift when a feature drifted, quality and health when a version broke a limit', () => {
    expect(eventKindsOf(report([{ name: 'a' }]))).toEqual([]);
    expect(eventKindsOf(report([{ name: 'a', drifted: true }]))).toEqual(['drift']);
    const broken = report([], {
      quality: [{ breaches: [{}] }] as unknown as MonitorReport['quality'],
      health: [{ breaches: [] }, { breaches: [{}] }] as unknown as MonitorReport['health'],
    });
    expect(eventKindsOf(broken)).toEqual(['quality', 'health']);
    const predictions = report([]);
    predictions.predictionDrift.versions = [
      { drifted: true },
    ] as unknown as MonitorReport['predictionDrift']['versions'];
    expect(eventKindsOf(predictions)).toEqual(['drift']);
  });
});

describe('the monitor form', () => {
  const monitor = {
    name: 'watch',
    endpoint_name: 'live',
    model_name: 'm',
    schedule: 'rate(1 hour)',
    window_seconds: 3600,
    baseline: { type: 'training' },
    drift: {
      numeric_methods: ['psi', 'ks'],
      categorical_methods: ['jensen_shannon', 'l_infinity'],
      thresholds: { psi: 0.3 },
      feature_thresholds: {},
      significance: 0.05,
      max_missing_increase: 0.1,
    },
    prediction_drift: true,
    min_samples: 100,
    quality: { decision_threshold: 0.5, min_labeled: 30, limits: { accuracy: 0.9 } },
    health: { max_error_rate: 0.05, max_p99_ms: 1000, min_invocations: 10 },
    actions: { retrain: { pipeline_input: { datasetUri: 'x' }, cooldown_seconds: 86400, on: ['drift'] } },
    enabled: true,
    creation_timestamp: 0,
    last_updated_timestamp: 0,
  } as MonitorWire;

  it('a blank create sends the name, the endpoint and what the form always shows; the API fills the rest', () => {
    const draft = { ...draftOf(undefined, 'live'), name: 'new' };
    expect(settingsOf(draft, undefined)).toEqual({
      name: 'new',
      endpoint_name: 'live',
      baseline: { type: 'training' },
      drift: { numeric_methods: ['psi', 'ks'] },
      prediction_drift: true,
      enabled: true,
    });
  });

  it('sends numbers as numbers, and what is not a number as typed, for the API to word the refusal', () => {
    const draft = { ...draftOf(undefined, 'live'), name: 'n', threshold_psi: '0.25', min_samples: 'many' };
    expect(settingsOf(draft, undefined)).toMatchObject({
      drift: { thresholds: { psi: 0.25 } },
      min_samples: 'many',
    });
  });

  it('an edit starts from the monitor; emptied limits and retrain box remove them, other blanks keep values', () => {
    const draft = draftOf(monitor, undefined);
    expect(draft).toMatchObject({ threshold_psi: '0.3', quality_limits: 'accuracy=0.9', min_samples: '100' });
    const body = settingsOf({ ...draft, quality_limits: '', retrain_input: '', schedule: '' }, monitor);
    expect(body).not.toHaveProperty('name');
    expect(body).not.toHaveProperty('schedule');
    expect(body).toMatchObject({ quality: { limits: {} }, actions: {}, drift: { thresholds: { psi: 0.3 } } });
    expect(() => settingsOf({ ...draft, retrain_input: '{' }, monitor)).toThrow(/not JSON/);
  });
});
