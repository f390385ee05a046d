import { describe, expect, it } from 'vitest';
import { EmfMetricsSink } from '../../shared/monitoring/adapters/metrics.emf.ts';
import { driftSettings, monitorSettings } from '../../shared/monitoring/model.ts';
import type { ObjectSource } from '../../shared/monitoring/ports.ts';
import { predictionsOf, readCaptureLine } from '../../shared/monitoring/run/capture-reader.ts';
import { FeatureProfile, limitsOf } from '../../shared/monitoring/run/feature-drift.ts';
import { QualityCollector } from '../../shared/monitoring/run/quality.ts';
import { analyzeWindow, type WindowInput } from '../../shared/monitoring/run/window-analysis.ts';
import { computeStatistics } from '../../shared/pipelines/dataset/statistics.ts';
import { hourPath } from '../../shared/serving/capture.ts';
import { inferenceTimeOf, newInferenceId } from '../../shared/serving/inference-id.ts';
import { normals } from '../support/random.ts';

/** The statistics a pipeline would have written for these columns. */
function baselineOf(columns: Record<string, Array<number | string>>) {
  const names = Object.keys(columns);
  const length = columns[names[0] as string]?.length ?? 0;
  return computeStatistics({
    columns: names,
    rows: Array.from({ length }, (_, i) => names.map((name) => String(columns[name]?.[i] ?? ''))),
  });
}

const SETTINGS = driftSettings.parse({});
const judge = (profile: FeatureProfile, tests = 1, minSamples = 100) =>
  profile.judge(SETTINGS, SETTINGS.significance / tests, minSamples, SETTINGS.numericMethods);

describe('a feature against its baseline', () => {
  const baseline = baselineOf({
    x: normals(1, 5000),
    c: Array.from({ length: 5000 }, (_, i) => ['a', 'b', 'c'][i % 3] as string),
  });
  const column = (name: string) => baseline.columns.find((c) => c.name === name);

  it('does not drift on a sample of the same distribution, and does on a shift of two standard deviations', () => {
    const same = new FeatureProfile('x', column('x'));
    for (const value of normals(2, 2000)) same.add(value);
    const calm = judge(same);
    expect(calm.drifted).toBe(false);
    expect(calm.statistics.psi).toBeLessThan(0.05);
    expect(calm.statistics.ks).toBeLessThan(0.05);
    const moved = new FeatureProfile('x', column('x'));
    for (const value of normals(3, 2000, 2)) moved.add(value);
    const report = judge(moved);
    expect(report.drifted).toBe(true);
    expect(report.statistics.psi).toBeGreaterThan(2);
    expect(report.statistics.ks).toBeGreaterThan(0.6);
    expect(report.reasons[0]).toMatch(/^psi .* > 0\.2, ks .* > 0\.1 \(p < 1e-12\)$/);
    expect(report.live.mean as number).toBeCloseTo(2, 1);
  });

  it('says "not enough data (n of min)" rather than drift on a small sample', () => {
    const few = new FeatureProfile('x', column('x'));
    for (const value of normals(4, 20, 3)) few.add(value);
    const report = judge(few);
    expect(report).toMatchObject({ drifted: false, notEnoughData: 'not enough data (20 of 100)' });
  });

  it('holds a distance past its limit to significance: a small window is not flagged on PSI alone', () => {
    const small = new FeatureProfile('x', column('x'));
    for (const value of normals(5, 120, 0.25)) small.add(value);
    const report = small.judge(SETTINGS, SETTINGS.significance / 50, 100, ['psi', 'ks']);
    // Fifty features tested: each at 0.001, which a quarter of a standard deviation on 120 rows does not reach.
    expect(report.statistics.pValue).toBeGreaterThan(0.001);
    expect(report.drifted).toBe(false);
  });

  it('bounds false alarms over many features: 40 unchanged features in 30 windows raise none', () => {
    const columns = Object.fromEntries(
      Array.from({ length: 40 }, (_, f) => [`f${f}`, normals(100 + f, 2000)]),
    );
    const wide = baselineOf(columns);
    let alarms = 0;
    for (let window = 0; window < 30; window++) {
      for (let f = 0; f < 40; f++) {
        const profile = new FeatureProfile(`f${f}`, wide.columns[f]);
        for (const value of normals(10_000 + window * 40 + f, 300)) profile.add(value);
        if (judge(profile, 40).drifted) alarms++;
      }
    }
    expect(alarms).toBe(0);
  });

  it('counts missing values, values of the wrong type and values outside the baseline range', () => {
    const profile = new FeatureProfile('x', column('x'));
    for (const value of [...normals(6, 200), null, undefined, Number.NaN, '', 'abc', 99, -99])
      profile.add(value);
    const report = judge(profile);
    expect(report).toMatchObject({ rows: 207, missing: 4, invalid: 1, aboveRange: 1, belowRange: 1 });
    // 5 of 207 rows without a number: under the 10% rise that drifts on its own.
    expect(report.missingRate).toBeCloseTo(5 / 207, 6);
    const gappy = new FeatureProfile('x', column('x'));
    for (const [i, value] of normals(7, 400).entries()) gappy.add(i % 3 === 0 ? null : value);
    expect(judge(gappy).reasons).toContain('missing 33.5% of rows (baseline 0.0%)');
  });

  it('compares categories by Jensen-Shannon and L-infinity, and reports unseen values', () => {
    const same = new FeatureProfile('c', column('c'));
    for (let i = 0; i < 600; i++) same.add(['a', 'b', 'c'][i % 3]);
    const calm = judge(same);
    expect(calm).toMatchObject({ drifted: false, statistics: { test: 'chi_square' } });
    expect(calm.statistics.lInfinity).toBeCloseTo(0, 3);
    const skewed = new FeatureProfile('c', column('c'));
    for (let i = 0; i < 600; i++) skewed.add(i % 10 < 7 ? 'a' : i % 10 < 9 ? 'b' : 'd');
    const report = judge(skewed);
    expect(report.drifted).toBe(true);
    expect(report.unseen).toBe(60);
    expect(report.unseenExamples).toEqual(['d']);
    // a: 70% live against 1667 of 5000 in the baseline.
    expect(report.statistics.lInfinity).toBeCloseTo(0.7 - 1667 / 5000, 5);
    expect(report.reasons.some((reason) => reason.startsWith('unseen values in 10.0% of rows'))).toBe(false);
    expect(report.reasons[0]).toMatch(/^js .* > 0\.1, l-inf .* > 0\.2/);
  });

  it("takes per-feature limits over the monitor's over the defaults", () => {
    const settings = driftSettings.parse({
      thresholds: { psi: 0.3 },
      featureThresholds: { x: { psi: 0.5, ks: 0.4 } },
    });
    expect(limitsOf(settings, 'x')).toMatchObject({ psi: 0.5, ks: 0.4, wasserstein: 0.1 });
    expect(limitsOf(settings, 'y')).toMatchObject({ psi: 0.3, ks: 0.1 });
  });

  it('reads statistics written before CDF summaries, from their histogram', () => {
    const old = structuredClone(column('x'));
    if (old?.numeric) delete old.numeric.cdf;
    const profile = new FeatureProfile('x', old);
    for (const value of normals(8, 1000, 2)) profile.add(value);
    const report = judge(profile);
    expect(report.drifted).toBe(true);
    expect(report.statistics.ksErrorBound).toBeGreaterThan(0);
  });
});

describe('captured invocations', () => {
  const line = (
    request: unknown,
    response: unknown = { predictions: [0.5] },
    extra: Record<string, unknown> = {},
  ) =>
    JSON.stringify({
      capturedAt: '2026-12-07T10:15:00.000Z',
      inferenceId: 'i',
      version: '3',
      status: 200,
      request,
      response,
      ...extra,
    });

  it("reads every scoring format into named rows, with the model's feature names for bare tensors", () => {
    const names = ['a', 'b'];
    expect(
      readCaptureLine(
        line({
          inputs: [
            [1, 2],
            [3, 4],
          ],
        }),
        names,
      ),
    ).toMatchObject({
      columns: names,
      rows: [
        [1, 2],
        [3, 4],
      ],
    });
    expect(readCaptureLine(line({ inputs: [[1, 2]] }), undefined)).toMatchObject({ columns: ['0', '1'] });
    expect(
      readCaptureLine(line({ dataframe_split: { columns: ['b', 'a'], data: [[1, 2]] } }), names),
    ).toMatchObject({ columns: ['b', 'a'], rows: [[1, 2]] });
    expect(readCaptureLine(line({ dataframe_records: [{ a: 1 }, { b: 2 }] }), names)).toMatchObject({
      columns: ['a', 'b'],
      rows: [
        [1, null],
        [null, 2],
      ],
    });
    expect(readCaptureLine(line({ instances: [{ a: 1, b: 'x' }] }), names)).toMatchObject({
      columns: ['a', 'b'],
      rows: [[1, 'x']],
    });
    expect(readCaptureLine(line({ inputs: { a: [1, 2], b: [[3], [4]] } }), names)).toMatchObject({
      rows: [
        [1, 3],
        [2, 4],
      ],
    });
    expect(readCaptureLine(line('a,b\n1,x\n'), names)).toMatchObject({
      columns: ['a', 'b'],
      rows: [[1, 'x']],
    });
  });

  it('skips what is not a record or has no request, saying why', () => {
    expect(readCaptureLine('{', undefined)).toEqual({ skipped: 'not JSON' });
    expect(readCaptureLine('{"x":1}', undefined)).toEqual({ skipped: 'not a capture record' });
    expect(readCaptureLine(line(null, {}, { requestTruncated: true }), undefined)).toEqual({
      skipped: 'request too large to capture',
    });
    expect(readCaptureLine(line({ nothing: 1 }), undefined)).toEqual({
      skipped: 'request in no scoring format',
    });
  });

  it('takes one prediction per row from every answer shape, none from errors', () => {
    expect(predictionsOf({ predictions: { output: [[0.1], [0.9]] } })).toEqual([0.1, 0.9]);
    expect(predictionsOf({ predictions: [{ p: 0.2, q: 1 }] })).toEqual([0.2]);
    expect(predictionsOf({ predictions: ['setosa', 'virginica'] })).toEqual(['setosa', 'virginica']);
    expect(predictionsOf({ error_code: 'BAD_REQUEST' })).toEqual([]);
    const failed = readCaptureLine(line({ inputs: [[1]] }, { error_code: 'X' }, { status: 400 }), undefined);
    expect(failed).toMatchObject({ status: 400, predictions: [] });
  });
});

describe('live quality', () => {
  const settings = { decisionThreshold: 0.5, minLabeled: 4, limits: { accuracy: 0.9, rmse: 1 } } as const;

  it("scores a classifier with the pipeline's metrics, labels read by the positive class", () => {
    const quality = new QualityCollector('2', 'binary_classification', {
      ...settings,
      positiveClass: 'virginica',
    });
    for (const [truth, p] of [
      ['virginica', 0.9],
      ['setosa', 0.2],
      ['virginica', 0.3],
      ['setosa', 0.1],
      [true, 0.8],
      [{}, 0.5],
    ] as const) {
      quality.add(truth, p);
    }
    const report = quality.report();
    // `true` is class 1 whatever the positive class; `{}` is not the positive class, so class 0
    // (and 0.5 predicts class 1 at the 0.5 threshold): 4 of 6 right, 2 of 3 predicted positives.
    expect(report).toMatchObject({ labeled: 6, unusable: 0 });
    expect(report.metrics.accuracy).toBeCloseTo(4 / 6, 12);
    expect(report.metrics.precision).toBeCloseTo(2 / 3, 12);
    expect(report.metrics.recall).toBeCloseTo(2 / 3, 12);
    expect(report.breaches).toEqual([{ metric: 'accuracy', value: 4 / 6, limit: 0.9 }]);
  });

  it('scores a regression (rmse a maximum), and says when too few are labeled', () => {
    const quality = new QualityCollector('1', 'regression', settings);
    for (const [truth, p] of [
      [1, 1.5],
      [2, 2],
      [3, 5],
      [4, 4],
      ['x', 1],
    ] as const)
      quality.add(truth, p);
    const report = quality.report();
    expect(report.unusable).toBe(1);
    expect(report.metrics.rmse).toBeCloseTo(Math.sqrt((0.25 + 4) / 4), 12);
    expect(report.breaches.map((b) => b.metric)).toEqual(['rmse']);
    const few = new QualityCollector('1', 'regression', settings);
    few.add(1, 1);
    expect(few.report()).toMatchObject({ notEnoughData: 'not enough data (1 of 4 labeled)', breaches: [] });
  });
});

describe('a window, hour by hour', () => {
  const HOUR = 3600_000;
  const start = Date.UTC(2026, 11, 7, 10, 30);

  /** Capture and feedback objects in memory, with S3's listing order. */
  function source(objects: Record<string, string[]>): ObjectSource & { listed: string[] } {
    const listed: string[] = [];
    return {
      listed,
      requests: {},
      async *list(prefix) {
        listed.push(prefix);
        for (const key of Object.keys(objects).sort()) if (key.startsWith(prefix)) yield key;
      },
      async read(key) {
        return (objects[key] ?? []).join('\n');
      },
    };
  }

  const record = (
    at: number,
    version: string,
    rows: number[][],
    p: number[],
    inferenceId = newInferenceId(at),
  ) =>
    JSON.stringify({
      capturedAt: new Date(at).toISOString(),
      inferenceId,
      version,
      status: 200,
      request: { inputs: rows },
      response: { predictions: { output: p.map((v) => [v]) } },
    });

  it("lists each hour of the window, keeps only its records, joins the hour's feedback, and samples predictions", async () => {
    const id = newInferenceId(start + 10 * 60_000);
    const objects = {
      [`serving-capture/ep/${hourPath(start)}/a.jsonl`]: [
        record(start - 60_000, '1', [[9, 9]], [0.1]),
        record(
          start + 10 * 60_000,
          '1',
          [
            [1, 2],
            [3, 4],
          ],
          [0.9, 0.2],
          id,
        ),
      ],
      [`serving-capture/ep/${hourPath(start + HOUR)}/b.jsonl`]: [
        record(start + HOUR + 60_000, '2', [[5, 6]], [0.7]),
        'not json',
        record(start + 2 * HOUR, '2', [[7, 8]], [0.7]),
      ],
      [`serving-feedback/ep/${hourPath(start)}/1.jsonl`]: [
        JSON.stringify({ inferenceId: id, groundTruth: [1, 1] }),
      ],
    };
    const objectSource = source(objects);
    const monitor = {
      name: 'm',
      endpointName: 'ep',
      ...monitorSettings.parse({ minSamples: 1, quality: { minLabeled: 1, limits: { accuracy: 0.9 } } }),
    };
    const input: WindowInput = {
      monitor,
      windowStart: start,
      windowEnd: start + HOUR + 30 * 60_000,
      baseline: baselineOf({ a: [1, 3, 5, 7], b: [2, 4, 6, 8] }),
      modelFeatures: ['a', 'b'],
      problemType: 'binary_classification',
      positiveClass: undefined,
      predictionReferences: new Map(),
      seed: 1,
    };
    const result = await analyzeWindow(objectSource, input);
    expect(objectSource.listed).toEqual([
      `serving-feedback/ep/${hourPath(start)}/`,
      `serving-capture/ep/${hourPath(start)}/`,
      `serving-feedback/ep/${hourPath(start + HOUR)}/`,
      `serving-capture/ep/${hourPath(start + HOUR)}/`,
    ]);
    expect(result).toMatchObject({
      records: 2,
      rows: 3,
      rowsByVersion: { '1': 2, '2': 1 },
      skipped: { 'not JSON': 1 },
    });
    expect(result.feedback).toEqual({ received: 1, matched: 1 });
    expect(result.quality).toMatchObject([{ modelVersion: '1', labeled: 2, metrics: { accuracy: 0.5 } }]);
    expect(result.features.map((f) => [f.name, f.rows])).toEqual([
      ['a', 3],
      ['b', 3],
    ]);
    expect([...result.predictionSamples.keys()].sort()).toEqual(['1', '2']);
  });
});

describe('inference ids', () => {
  it('are UUIDv7s that carry their invocation time, distinct per call', () => {
    const at = Date.UTC(2026, 11, 7, 10, 15, 30, 123);
    const ids = new Set(Array.from({ length: 1000 }, () => newInferenceId(at)));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(inferenceTimeOf(id)).toBe(at);
    }
    expect(inferenceTimeOf('0190a0b2-0000-4000-8000-000000000000')).toBeUndefined();
    expect(inferenceTimeOf('not an id')).toBeUndefined();
  });
});

describe('CloudWatch metrics of a run', () => {
  it('are one EMF line: findings and rows per monitor, findings again without dimensions (what the alarms watch)', () => {
    const lines: string[] = [];
    new EmfMetricsSink((line) => lines.push(line)).put(
      { name: 'm', endpointName: 'ep' },
      {
        rows: 10,
        labeled: 2,
        drifted: ['x'],
        predictionDrift: false,
        qualityDegraded: [],
        healthDegraded: ['v1 p99_ms'],
        summary: '',
      },
    );
    const emf = JSON.parse(lines[0] as string);
    expect(emf._aws.CloudWatchMetrics.map((d: { Dimensions: string[][] }) => d.Dimensions)).toEqual([
      [['Monitor', 'Endpoint']],
      [[]],
    ]);
    expect(emf._aws.CloudWatchMetrics[1].Metrics.map((m: { Name: string }) => m.Name)).toEqual([
      'DriftDetected',
      'QualityDegraded',
      'HealthDegraded',
    ]);
    expect(emf).toMatchObject({
      Monitor: 'm',
      Endpoint: 'ep',
      DriftDetected: 1,
      HealthDegraded: 1,
      QualityDegraded: 0,
      Rows: 10,
    });
  });
});
