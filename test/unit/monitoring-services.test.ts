import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudTemplate } from '../../infra/local/cloud-template.ts';
import { LocalScheduler } from '../../infra/local/events/local-scheduler.ts';
import { type Monitor, monitorSettings } from '../../shared/monitoring/model.ts';
import { settingsFromWire } from '../../shared/monitoring/monitor.wire.ts';
import type { MonitorStore } from '../../shared/monitoring/ports.ts';
import { RetrainService, retrainExecutionName } from '../../shared/monitoring/retrain.service.ts';
import { logger } from '../../shared/platform/logger.ts';

const PIPELINE_INPUT = {
  datasetUri: 'mlflow-artifacts:/datasets/iris-2027.csv',
  targetColumn: 'species',
  modelType: 'logistic_regression',
  positiveClass: 'virginica',
  modelName: 'iris',
  threshold: 0.9,
  alias: 'production',
};

/** The retrain action's cooldown as the DynamoDB store keeps it (its conditions, in memory). */
function memoryStore(
  monitor: Monitor,
): Pick<MonitorStore, 'get' | 'claimRetrain' | 'recordRetrain'> & { monitor: Monitor } {
  return {
    monitor,
    async get(name) {
      return name === monitor.name ? monitor : undefined;
    },
    async claimRetrain(_name, runId, now, cooldownMs) {
      const last = monitor.lastRetrain;
      if (last && last.at > now - cooldownMs && last.runId !== runId) return 'cooldown';
      monitor.lastRetrain = { at: now, runId, executionArn: '' };
      return 'claimed';
    },
    async recordRetrain(_name, runId, executionArn) {
      if (monitor.lastRetrain?.runId === runId) monitor.lastRetrain.executionArn = executionArn;
    },
  };
}

function driftEvent(runId: string, monitorName = 'watch') {
  return {
    version: 1,
    idempotencyKey: `${monitorName}:${runId}:drift`,
    occurredAt: '2026-12-07T10:00:00.000Z',
    monitorName,
    endpointName: 'ep',
    modelName: 'iris',
    runId,
    windowStart: '2026-12-07T09:00:00.000Z',
    windowEnd: '2026-12-07T10:00:00.000Z',
    reportUri: 'mlflow-artifacts:/1/r/artifacts/monitoring/report.json',
    mlflowRunId: 'r',
    actions: ['retrain'],
    modelVersion: '1',
    rows: 300,
    features: [{ name: 'x', kind: 'input', type: 'numeric', reasons: ['psi 2 > 0.2'], missing: 0 }],
  };
}

describe('the retrain action', () => {
  const setup = (retrain: Record<string, unknown> | undefined) => {
    const monitor: Monitor = {
      ...monitorSettings.parse({ actions: retrain ? { retrain } : {} }),
      name: 'watch',
      endpointName: 'ep',
      modelName: 'iris',
      createdAt: 0,
      updatedAt: 0,
    };
    const store = memoryStore(monitor);
    const started: Array<{ name: string; input: unknown }> = [];
    const names = new Set<string>();
    let now = Date.UTC(2026, 11, 7, 10);
    const service = new RetrainService({
      store: store as unknown as MonitorStore,
      pipeline: {
        async start(name, input) {
          // Step Functions refuses a second execution of one name.
          const outcome = names.has(name) ? 'duplicate' : 'started';
          names.add(name);
          if (outcome === 'started') started.push({ name, input });
          return { outcome, executionArn: `arn:aws:states:::execution:runway-training:${name}` };
        },
      },
      clock: { now: () => now },
      logger,
    });
    return { service, store, started, advance: (ms: number) => (now += ms) };
  };

  it("starts the pipeline with the monitor's input, once per run, and at most once per cooldown", async () => {
    const { service, store, started, advance } = setup({
      pipelineInput: PIPELINE_INPUT,
      cooldownSeconds: 3600,
    });
    const first = await service.handle('monitoring.drift-detected', driftEvent('1796670000000-aaaaaaaa'));
    expect(first).toMatchObject({
      outcome: 'started',
      executionName: retrainExecutionName('watch', '1796670000000-aaaaaaaa'),
    });
    expect(started).toHaveLength(1);
    expect(started[0]?.input).toMatchObject(PIPELINE_INPUT);
    // The same event again (a duplicate delivery, or the quality event of the same run): nothing new.
    expect(
      await service.handle('monitoring.drift-detected', driftEvent('1796670000000-aaaaaaaa')),
    ).toMatchObject({
      outcome: 'duplicate',
    });
    // Another run within the cooldown: skipped.
    advance(30 * 60_000);
    const cooling = await service.handle('monitoring.drift-detected', driftEvent('1796671800000-bbbbbbbb'));
    expect(cooling).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringContaining('less than 3600 s ago'),
    });
    advance(31 * 60_000);
    expect(
      await service.handle('monitoring.drift-detected', driftEvent('1796673660000-cccccccc')),
    ).toMatchObject({
      outcome: 'started',
    });
    expect(started).toHaveLength(2);
    expect(store.monitor.lastRetrain).toMatchObject({
      runId: '1796673660000-cccccccc',
      executionArn: expect.stringContaining('retrain-watch-'),
    });
    expect(retrainExecutionName('w'.repeat(63), 'x').length).toBeLessThanOrEqual(80);
  });

  it('does nothing for monitors without the action, events it does not retrain on, or details that are not v1', async () => {
    expect(await setup(undefined).service.handle('monitoring.drift-detected', driftEvent('1'))).toMatchObject(
      {
        outcome: 'skipped',
        reason: 'monitor watch has no retrain action',
      },
    );
    const qualityOnly = setup({ pipelineInput: PIPELINE_INPUT, on: ['quality'] });
    expect(await qualityOnly.service.handle('monitoring.drift-detected', driftEvent('1'))).toMatchObject({
      reason: 'monitor watch does not retrain on drift',
    });
    expect(await qualityOnly.service.handle('monitoring.health-degraded', {})).toMatchObject({
      outcome: 'skipped',
    });
    expect(await qualityOnly.service.handle('monitoring.drift-detected', { version: 2 })).toMatchObject({
      reason: 'the event does not match monitoring.drift-detected v1',
    });
    expect(
      await qualityOnly.service.handle('monitoring.drift-detected', driftEvent('1', 'gone')),
    ).toMatchObject({
      reason: 'monitor gone no longer exists',
    });
    expect(qualityOnly.started).toEqual([]);
  });
});

describe('monitor settings from the wire', () => {
  it('lays a create over the defaults and an update over the current settings', () => {
    const created = settingsFromWire(
      { drift: { thresholds: { psi: 0.3 } }, health: { max_p99_ms: 200 } },
      undefined,
    );
    expect(created.drift).toMatchObject({ thresholds: { psi: 0.3 }, numericMethods: ['psi', 'ks'] });
    expect(created.health).toEqual({ maxErrorRate: 0.05, maxP99Ms: 200, minInvocations: 10 });
    const updated = settingsFromWire({ drift: { thresholds: { ks: 0.2 } }, min_samples: 7 }, created);
    expect(updated.drift.thresholds).toEqual({ psi: 0.3, ks: 0.2 });
    expect(updated).toMatchObject({ minSamples: 7, health: { maxP99Ms: 200 } });
    expect(
      settingsFromWire({ actions: {} }, { ...updated, actions: { retrain: undefined } }).actions,
    ).toEqual({});
  });

  it("names a problem by its wire field, inside the pipeline input by the pipeline's own name", () => {
    expect(() => settingsFromWire({ health: { max_error_rate: 2 } }, undefined)).toThrow(
      /'health.max_error_rate'/,
    );
    expect(() =>
      settingsFromWire(
        { actions: { retrain: { pipeline_input: { ...PIPELINE_INPUT, modelType: 'svm' } } } },
        undefined,
      ),
    ).toThrow(/'actions.retrain.pipeline_input.modelType'/);
    expect(() =>
      settingsFromWire({ drift: { feature_thresholds: { a_b: { psi: -1 } } } }, undefined),
    ).toThrow(/'drift.feature_thresholds.a_b.psi'/);
  });
});

describe('EventBridge Scheduler, locally', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const template = new CloudTemplate(
    [
      {
        stackName: 'S',
        template: {
          Resources: { G: { Type: 'AWS::Scheduler::ScheduleGroup', Properties: { Name: 'monitors' } } },
        },
      },
    ],
    'us-east-1',
    '000000000000',
  );
  const make = (dataDir: string, invoked: Array<{ arn: string; input: string }>) =>
    new LocalScheduler(template, {
      region: 'us-east-1',
      accountId: '000000000000',
      dataDir,
      invoke: async (arn, input) => {
        invoked.push({ arn, input });
      },
    });
  const schedule = (expression: string, extra: Record<string, unknown> = {}) => ({
    GroupName: 'monitors',
    ScheduleExpression: expression,
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: {
      Arn: 'arn:aws:states:us-east-1:000000000000:stateMachine:m',
      RoleArn: 'arn:aws:iam::0:role/r',
      Input: '{"at":"<aws.scheduler.scheduled-time>"}',
    },
    ...extra,
  });
  const url = (name: string, group?: string) =>
    new URL(`http://x/schedules/${name}${group ? `?groupName=${group}` : ''}`);

  it('creates, reads, updates and deletes schedules as the Scheduler API answers, and keeps them across restarts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'runway-scheduler-'));
    dirs.push(dir);
    const scheduler = make(dir, []);
    expect(await scheduler.handleRestRequest('POST', url('a'), schedule('rate(1 hour)'))).toMatchObject({
      status: 200,
      body: { ScheduleArn: 'arn:aws:scheduler:us-east-1:000000000000:schedule/monitors/a' },
    });
    expect(await scheduler.handleRestRequest('POST', url('a'), schedule('rate(1 hour)'))).toMatchObject({
      status: 409,
      headers: { 'x-amzn-errortype': 'ConflictException' },
    });
    expect(
      (await scheduler.handleRestRequest('PUT', url('a'), schedule('rate(2 hours)', { State: 'DISABLED' })))
        .status,
    ).toBe(200);
    expect(await scheduler.handleRestRequest('GET', url('a', 'monitors'), {})).toMatchObject({
      body: { ScheduleExpression: 'rate(2 hours)', State: 'DISABLED' },
    });
    const reopened = make(dir, []);
    expect(reopened.list().map((s) => s.Name)).toEqual(['a']);
    expect((await reopened.handleRestRequest('DELETE', url('a', 'monitors'), {})).status).toBe(200);
    expect(await reopened.handleRestRequest('DELETE', url('a', 'monitors'), {})).toMatchObject({
      status: 404,
      headers: { 'x-amzn-errortype': 'ResourceNotFoundException' },
    });
    scheduler.close();
    reopened.close();
  });

  it('refuses what Scheduler refuses: bad expressions, unknown groups, missing targets', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'runway-scheduler-'));
    dirs.push(dir);
    const scheduler = make(dir, []);
    for (const [body, type] of [
      [schedule('cron(0 6 * * * *)'), 'ValidationException'],
      [schedule('rate(0 hours)'), 'ValidationException'],
      [{ ...schedule('rate(1 hour)'), Target: {} }, 'ValidationException'],
      [{ ...schedule('rate(1 hour)'), GroupName: 'nope' }, 'ResourceNotFoundException'],
    ] as const) {
      const answer = await scheduler.handleRestRequest('POST', url('b'), body);
      expect(answer.headers?.['x-amzn-errortype'], JSON.stringify(body)).toBe(type);
    }
    expect(scheduler.list()).toEqual([]);
  });

  it("starts its target with Scheduler's context attributes filled in", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'runway-scheduler-'));
    dirs.push(dir);
    const invoked: Array<{ arn: string; input: string }> = [];
    const scheduler = make(dir, invoked);
    await scheduler.handleRestRequest('POST', url('c'), schedule('cron(0 * * * ? *)'));
    await scheduler.fire('monitors', 'c', new Date(Date.UTC(2026, 11, 7, 10, 0, 0, 250)));
    expect(invoked).toEqual([
      { arn: 'arn:aws:states:us-east-1:000000000000:stateMachine:m', input: '{"at":"2026-12-07T10:00:00Z"}' },
    ]);
    expect(scheduler.fired).toEqual([{ schedule: 'c', scheduledTime: '2026-12-07T10:00:00Z', ok: true }]);
  });
});
