import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileEventPattern } from '../../infra/local/events/event-pattern.ts';
import {
  DriftDetected,
  MONITORING_EVENT_MODULES,
  MONITORING_EVENT_SOURCE,
  monitoringEventModule,
  QualityDegraded,
} from '../../shared/monitoring/events/index.ts';
import { monitorRunWire, monitorWire } from '../../shared/monitoring/model.ts';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/monitoring/events');

interface DeliveredEvent {
  'detail-type': string;
  source: string;
  detail: Record<string, unknown>;
}

const fixtures = readdirSync(DIR)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({ file, event: JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as DeliveredEvent }));

/**
 * Monitoring events are a public contract: the retrain rule, alarms and users' own integrations
 * match on them. Every event version ever published keeps parsing.
 */
describe('monitoring events: published versions keep parsing', () => {
  it.each(fixtures.map(({ file, event }) => [file, event] as const))('%s', (file, event) => {
    const module = monitoringEventModule(event['detail-type']);
    expect(module, `no event module for ${event['detail-type']}`).toBeDefined();
    expect(event.source).toBe(MONITORING_EVENT_SOURCE);
    expect(file).toBe(`${event['detail-type'].replace(/^monitoring\./, '')}.v${event.detail.version}.json`);
    const parsed = module?.schema.safeParse(event.detail);
    expect(parsed?.success, JSON.stringify(parsed?.error?.issues)).toBe(true);
  });

  it('has a fixture for the current version of every event', () => {
    const covered = new Set(fixtures.map(({ event }) => `${event['detail-type']}@${event.detail.version}`));
    for (const module of MONITORING_EVENT_MODULES)
      expect(covered).toContain(`${module.name}@${module.version}`);
  });

  it('names events monitoring.<what>, once each, all from runway.monitoring', () => {
    const names = MONITORING_EVENT_MODULES.map((module) => module.name);
    expect(names).toEqual([
      'monitoring.drift-detected',
      'monitoring.quality-degraded',
      'monitoring.health-degraded',
    ]);
    for (const module of MONITORING_EVENT_MODULES) {
      expect(module.source).toBe(MONITORING_EVENT_SOURCE);
      expect(module.version).toBe(1);
    }
  });
});

describe('monitoring events: schemas', () => {
  const drift = fixtures.find(({ event }) => event['detail-type'] === DriftDetected.name)!.event;

  it('accept fields added later, and refuse details without the envelope or of another version', () => {
    expect(DriftDetected.schema.safeParse({ ...drift.detail, addedLater: [1] }).success).toBe(true);
    for (const field of [
      'version',
      'idempotencyKey',
      'occurredAt',
      'monitorName',
      'runId',
      'reportUri',
      'actions',
    ]) {
      const { [field]: _dropped, ...rest } = drift.detail;
      expect(DriftDetected.schema.safeParse(rest).success, field).toBe(false);
    }
    expect(DriftDetected.schema.safeParse({ ...drift.detail, version: 2 }).success).toBe(false);
    expect(DriftDetected.schema.safeParse({ ...drift.detail, features: [] }).success).toBe(false);
  });

  it('match the retrain rule only when the monitor retrains', () => {
    const rule = compileEventPattern({
      source: [MONITORING_EVENT_SOURCE],
      'detail-type': [DriftDetected.name, QualityDegraded.name],
      detail: { actions: ['retrain'] },
    });
    expect(rule.matches(drift)).toBe(true);
    expect(rule.matches({ ...drift, detail: { ...drift.detail, actions: [] } })).toBe(false);
    const quality = fixtures.find(({ event }) => event['detail-type'] === QualityDegraded.name)!.event;
    expect(rule.matches(quality)).toBe(false);
    expect(rule.matches({ ...quality, detail: { ...quality.detail, actions: ['retrain'] } })).toBe(true);
  });
});

describe('monitors API wire shapes (what the console reads)', () => {
  it('parse what the API answers, and refuse what it never does', () => {
    const monitor = {
      name: 'iris-watch',
      endpoint_name: 'iris-live',
      model_name: 'iris-classifier',
      schedule: 'rate(1 hour)',
      window_seconds: 3600,
      baseline: { type: 'training' },
      drift: {
        numeric_methods: ['psi', 'ks'],
        categorical_methods: ['jensen_shannon', 'l_infinity'],
        thresholds: {},
        feature_thresholds: {},
        significance: 0.05,
        max_missing_increase: 0.1,
      },
      prediction_drift: true,
      min_samples: 100,
      health: { max_error_rate: 0.05, max_p99_ms: 1000, min_invocations: 10 },
      actions: {},
      enabled: true,
      creation_timestamp: 1796670374126,
      last_updated_timestamp: 1796670374126,
    };
    expect(monitorWire.parse(monitor)).toEqual(monitor);
    expect(monitorWire.safeParse({ ...monitor, baseline: { type: 'nothing' } }).success).toBe(false);
    const run = {
      run_id: '1796670374275-8492016b',
      monitor_name: 'iris-watch',
      endpoint_name: 'iris-live',
      trigger: 'manual',
      window_start: 1796666774275,
      window_end: 1796670374275,
      status: 'Completed',
      rows: 0,
      labeled: 0,
      not_enough_data: 'not enough data (0 of 100)',
      drifted_features: [],
      prediction_drift: false,
      quality_degraded: [],
      health_degraded: [],
      summary: 'not enough data (0 of 100): drift not judged',
      start_time: 1796670377753,
      end_time: 1796670378177,
    };
    expect(monitorRunWire.parse(run)).toEqual(run);
    expect(monitorRunWire.safeParse({ ...run, status: 'Done' }).success).toBe(false);
  });
});
