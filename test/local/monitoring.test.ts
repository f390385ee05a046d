import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PutEventsEntry } from '../../infra/local/events/local-event-bus.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, LocalRuntime } from '../../infra/local/runtime.ts';
import { defineRunwayApp } from '../../infra/runway-app.ts';
import { formatCsv } from '../../shared/pipelines/dataset/csv.ts';
import { DEFAULT_PIPELINE_NAME } from '../../shared/pipelines/model.ts';
import { IRIS_FEATURES, iris, irisSample, PETAL_LENGTH_SD } from '../support/iris.ts';
import { LocalDeployDriver } from '../support/local-deploy.ts';
import { runRunwayCli } from '../support/runway-cli.ts';

/**
 * Model monitoring end to end on the local runtime, as a user meets it: the pipeline trains on the
 * shipped Iris dataset and continuous deployment serves the result; a monitor watches the endpoint;
 * windows of in-distribution traffic, of traffic with one feature shifted by two standard deviations,
 * and of traffic whose feedback says the model is wrong, each produce the report, MLflow run and
 * events they should; with `retrain` configured, the drift event retrains on a newer dataset and the
 * endpoint rolls to the new version through the canary by itself.
 */

const PIPELINE = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${DEFAULT_PIPELINE_NAME}`;
const MODEL = 'iris-monitored';
const ENDPOINT = 'iris-live';
const MONITOR = 'iris-watch';

const INPUT = {
  datasetUri: 'mlflow-artifacts:/datasets/iris.csv',
  targetColumn: 'species',
  positiveClass: 'virginica',
  modelType: 'logistic_regression',
  hyperparameters: { l2: 0.1 },
  modelName: MODEL,
  threshold: 0.9,
  alias: 'production',
};

let dataDir: string;
let runtime: LocalRuntime;
let driver: LocalDeployDriver;
const published: PutEventsEntry[] = [];

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered.
async function api(method: string, pathname: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${runtime.url}${pathname}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : {} };
}

/** Sends traffic in invocations of `batch` rows; answers each invocation's id with its rows. */
async function traffic(data: ReturnType<typeof irisSample>, batch: number) {
  const sent: Array<{ inferenceId: string; species: string[] }> = [];
  for (let i = 0; i < data.length; i += batch) {
    const part = data.slice(i, i + batch);
    const response = await fetch(`${runtime.url}/endpoints/${ENDPOINT}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: part.map((row) => row.x) }),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const inferenceId = response.headers.get('x-runway-inference-id');
    expect(inferenceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    sent.push({ inferenceId: inferenceId as string, species: part.map((row) => row.species) });
  }
  return sent;
}

/**
 * A window of traffic: what `send` sends lands in [start, end). The model server writes its capture
 * buffer when an invocation finds it older than its flush interval (1 s here), so one more invocation
 * after the window writes it; that one falls outside the window.
 */
async function windowOf<T>(send: () => Promise<T>): Promise<{ start: number; end: number; result: T }> {
  const start = Date.now();
  const result = await send();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const end = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await traffic(irisSample(99, 1), 1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { start, end, result };
}

/** Runs the monitor over a window and waits for its execution; answers the run with its report. */
async function runMonitor(name: string, window: { start: number; end: number }) {
  const started = await api('POST', `/api/2.0/runway/monitors/${name}/run`, {
    window_start: window.start,
    window_end: window.end,
  });
  expect(started.status, JSON.stringify(started.json)).toBe(202);
  const execution = await runtime.stepFunctions.waitForExecution(started.json.execution_arn, 60_000);
  expect(execution.status, execution.cause).toBe('SUCCEEDED');
  const report = await api('GET', `/api/2.0/runway/monitors/${name}/reports/${started.json.run_id}`);
  expect(report.status).toBe(200);
  return report.json;
}

const monitorMachine = () =>
  runtime.template.arn(
    runtime.template
      .resourcesOfType('AWS::StepFunctions::StateMachine')
      .find((machine) => machine.logicalId.startsWith('MonitorRun')) as never,
  );

const eventsOf = (detailType: string) =>
  published
    .filter((entry) => entry.DetailType === detailType)
    .map((entry) => JSON.parse(entry.Detail ?? '{}'));

async function runArtifact(uri: string): Promise<string> {
  const proxyPath = uri.replace(/^mlflow-artifacts:\//, '');
  const response = await fetch(`${runtime.url}/api/2.0/mlflow-artifacts/artifacts/${proxyPath}`);
  expect(response.status, uri).toBe(200);
  return response.text();
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-monitoring-'));
  runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    functionLogs: 'silent',
    log: () => undefined,
    define: (app, env) => defineRunwayApp(app, { env, captureFlushSeconds: 1 }),
  });
  driver = new LocalDeployDriver(runtime);
  const putEvents = runtime.eventBus.putEvents.bind(runtime.eventBus);
  runtime.eventBus.putEvents = (entries) => {
    published.push(...entries);
    return putEvents(entries);
  };
  const upload = await fetch(`${runtime.url}/api/2.0/mlflow-artifacts/artifacts/datasets/iris.csv`, {
    method: 'PUT',
    body: iris().text,
  });
  expect(upload.status).toBe(200);
});

afterAll(async () => {
  driver?.close();
  await runtime?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('monitoring an endpoint the pipeline deployed', () => {
  let inDistribution: Awaited<ReturnType<typeof runMonitor>>;

  it('trains on the shipped dataset, serves the result, and watches it', async () => {
    await driver.ok('POST', 'mlflow/registered-models/create', { name: MODEL });
    await driver.ok('POST', 'runway/endpoints', {
      name: ENDPOINT,
      model_name: MODEL,
      follows: { alias: 'production' },
      rollout_policy: { traffic_steps: [50, 100], bake_seconds: 0 },
      capture_sample_rate: 1,
    });
    const { executionArn } = await runtime.stepFunctions.startExecution({
      stateMachineArn: PIPELINE,
      input: JSON.stringify(INPUT),
    });
    const trained = await runtime.stepFunctions.waitForExecution(executionArn, 60_000);
    expect(trained.status, trained.cause).toBe('SUCCEEDED');
    expect(JSON.parse(trained.output ?? '{}')).toMatchObject({ version: '1', alias: 'production' });
    await driver.waitForPrimary(ENDPOINT, '1', 60_000, 250);

    const created = await api('POST', '/api/2.0/runway/monitors', {
      name: MONITOR,
      endpoint_name: ENDPOINT,
      min_samples: 100,
      quality: { limits: { accuracy: 0.9 } },
      health: { max_p99_ms: 10_000 },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    expect(created.json.monitor).toMatchObject({
      name: MONITOR,
      endpoint_name: ENDPOINT,
      model_name: MODEL,
      schedule: 'rate(1 hour)',
      baseline: { type: 'training' },
    });
    // Its schedule is in Runway's schedule group, starting the monitor state machine.
    const schedule = runtime.scheduler.list().find((each) => each.Name === MONITOR);
    expect(schedule).toMatchObject({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' });
    expect(schedule?.Target.Arn).toMatch(/:stateMachine:.*MonitorRun/);
  }, 180_000);

  it('reports no drift for in-distribution traffic', async () => {
    const window = await windowOf(() => traffic(irisSample(1, 300), 10));
    inDistribution = await runMonitor(MONITOR, window);
    const { run, report } = inDistribution;
    expect(run).toMatchObject({ status: 'Completed', rows: 300, drifted_features: [] });
    expect(run.not_enough_data).toBeUndefined();
    expect(report.baseline.description).toContain(`training statistics of ${MODEL} version 1`);
    // The model's own inputs, from its MLmodel metadata: the target is not a feature.
    expect(report.drift.features.map((f: { name: string }) => f.name).sort()).toEqual(
      [...IRIS_FEATURES].sort(),
    );
    expect(report.drift.tests).toBe(4);
    for (const feature of report.drift.features) {
      expect(feature.drifted, JSON.stringify(feature)).toBe(false);
      expect(feature.rows).toBe(300);
      expect(feature.statistics.psi).toBeLessThan(0.2);
    }
    expect(report.predictionDrift.referencesRecorded).toEqual(['1']);
    expect(eventsOf('monitoring.drift-detected')).toEqual([]);
    const text = await runArtifact(run.report_uri.replace(/report\.json$/, 'report.txt'));
    expect(text).toMatch(/^Monitor iris-watch on endpoint iris-live .*: no drift/);
  }, 120_000);

  it('names the feature shifted by two standard deviations, publishes the drift event, and the MLflow run shows it', async () => {
    const window = await windowOf(() => traffic(irisSample(2, 300, 2 * PETAL_LENGTH_SD), 10));
    const { run, report } = await runMonitor(MONITOR, window);
    expect(run.drifted_features).toEqual(['petal_length']);
    const petal = report.drift.features.find((f: { name: string }) => f.name === 'petal_length');
    expect(petal).toMatchObject({ drifted: true, statistics: { test: 'ks' } });
    expect(petal.statistics.psi).toBeGreaterThan(1);
    expect(petal.statistics.ks).toBeGreaterThan(0.5);
    expect(petal.live.mean - petal.baseline.mean).toBeGreaterThan(2 * PETAL_LENGTH_SD - 0.6);
    expect(petal.aboveRange).toBeGreaterThan(50);
    // The predictions moved with it.
    expect(report.predictionDrift.drifted).toEqual(['1']);

    const [event] = eventsOf('monitoring.drift-detected');
    expect(event).toMatchObject({
      version: 1,
      monitorName: MONITOR,
      endpointName: ENDPOINT,
      modelName: MODEL,
      modelVersion: '1',
      runId: run.run_id,
      mlflowRunId: run.mlflow_run_id,
      reportUri: run.report_uri,
      actions: [],
    });
    expect(event.features.map((f: { name: string }) => f.name)).toContain('petal_length');
    expect(published.find((e) => e.DetailType === 'monitoring.drift-detected')?.Source).toBe(
      'runway.monitoring',
    );

    const { json } = await api('GET', `/api/2.0/mlflow/runs/get?run_id=${run.mlflow_run_id}`);
    const metrics = Object.fromEntries(
      (json.run.data.metrics as Array<{ key: string; value: number }>).map((m) => [m.key, m.value]),
    );
    expect(metrics['drift.psi.petal_length']).toBeCloseTo(petal.statistics.psi, 4);
    expect(metrics['drift.ks.petal_length']).toBeCloseTo(petal.statistics.ks, 4);
    expect(metrics['drift.features_drifted']).toBe(1);
    expect(metrics['health.p99_ms']).toBeGreaterThan(0);
    expect(metrics['health.error_rate']).toBe(0);
    const experiment = await api('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${run.experiment_id}`);
    expect(experiment.json.experiment.name).toBe(`monitor-${ENDPOINT}`);
    expect(json.run.info.status).toBe('FINISHED');
  }, 120_000);

  it('publishes a quality event when feedback drops live accuracy below the limit', async () => {
    const window = await windowOf(() => traffic(irisSample(3, 120), 4));
    const sent = window.result;
    // Every third invocation's labels are wrong: live accuracy falls well under 0.9.
    const feedback = sent.map((invocation, i) => ({
      inference_id: invocation.inferenceId,
      ground_truth: invocation.species.map((species) =>
        i % 3 === 0 ? (species === 'virginica' ? 'setosa' : 'virginica') : species,
      ),
    }));
    const answered = await api('POST', `/endpoints/${ENDPOINT}/feedback`, { feedback });
    expect(answered.status, JSON.stringify(answered.json)).toBe(200);
    expect(answered.json).toEqual({ accepted: sent.length });

    const { run, report } = await runMonitor(MONITOR, window);
    expect(run.drifted_features).toEqual([]);
    expect(run.quality_degraded).toEqual(['v1 accuracy']);
    const [quality] = report.quality;
    expect(quality).toMatchObject({ modelVersion: '1', labeled: 120, problemType: 'binary_classification' });
    expect(quality.metrics.accuracy).toBeLessThan(0.9);
    expect(quality.metrics.accuracy).toBeGreaterThan(0.4);
    const [event] = eventsOf('monitoring.quality-degraded');
    expect(event).toMatchObject({
      runId: run.run_id,
      breaches: [{ modelVersion: '1', metric: 'accuracy', limit: 0.9, labeled: 120 }],
    });
  }, 120_000);

  it('with retrain configured, retrains on the newer dataset after drift and rolls the endpoint to the new version through the canary', async () => {
    // The newer dataset: what the world looks like now (petal_length shifted), with its labels.
    const shifted = iris().table;
    const newer = {
      columns: shifted.columns,
      rows: shifted.rows.map((row) => [
        row[0],
        row[1],
        String(Number(row[2]) + 2 * PETAL_LENGTH_SD),
        row[3],
        row[4],
      ]),
    } as { columns: string[]; rows: string[][] };
    const upload = await fetch(`${runtime.url}/api/2.0/mlflow-artifacts/artifacts/datasets/iris-2027.csv`, {
      method: 'PUT',
      body: formatCsv(newer),
    });
    expect(upload.status).toBe(200);
    const patched = await api('PATCH', `/api/2.0/runway/monitors/${MONITOR}`, {
      actions: {
        retrain: {
          pipeline_input: {
            ...INPUT,
            datasetUri: 'mlflow-artifacts:/datasets/iris-2027.csv',
            // The newer data is expected to differ from the last training set.
            validation: { rangeMargin: 100, maxNumericDrift: 1, maxCategoricalDrift: 1 },
          },
          cooldown_seconds: 3600,
          on: ['drift'],
        },
      },
    });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);
    expect(patched.json.monitor.actions.retrain.pipeline_input.datasetUri).toBe(
      'mlflow-artifacts:/datasets/iris-2027.csv',
    );

    const window = await windowOf(() => traffic(irisSample(4, 300, 2 * PETAL_LENGTH_SD), 10));
    const { run } = await runMonitor(MONITOR, window);
    expect(run.drifted_features).toEqual(['petal_length']);
    const drift = eventsOf('monitoring.drift-detected').find((event) => event.runId === run.run_id);
    expect(drift.actions).toEqual(['retrain']);

    // The rule starts the pipeline by itself, once, named after the run.
    const retraining = await driver.waitFor(
      async () => {
        const { executions = [] } = await runtime.stepFunctions.listExecutions({ stateMachineArn: PIPELINE });
        return executions.find((execution) => execution.name?.startsWith(`retrain-${MONITOR}-`));
      },
      60_000,
      250,
    );
    const trained = await runtime.stepFunctions.waitForExecution(retraining.executionArn as string, 60_000);
    expect(trained.status, trained.cause).toBe('SUCCEEDED');
    const output = JSON.parse(trained.output ?? '{}');
    // The gate and the champion check decided: the new model beats version 1 on the new data.
    expect(output).toMatchObject({ registered: true, version: '2', alias: 'production' });
    expect(output.gate).toMatch(/beats version 1/);

    // Continuous deployment takes it through the canary (50%, then 100%).
    await driver.waitForPrimary(ENDPOINT, '2', 60_000, 250);
    const [deployment] = await driver.deployments(ENDPOINT);
    expect(deployment).toMatchObject({
      version: '2',
      previous_version: '1',
      trigger: 'event',
      status: 'Succeeded',
    });
    expect(deployment.steps.map((step: { weight: number }) => step.weight)).toEqual([50, 100]);

    // A duplicate of the event starts nothing more; the monitor records the retraining.
    const entry = published.find(
      (e) =>
        e.DetailType === 'monitoring.drift-detected' && JSON.parse(e.Detail ?? '{}').runId === run.run_id,
    );
    runtime.eventBus.putEvents([entry as PutEventsEntry]);
    await runtime.eventBus.idle();
    const { executions = [] } = await runtime.stepFunctions.listExecutions({ stateMachineArn: PIPELINE });
    expect(executions.filter((execution) => execution.name?.startsWith(`retrain-${MONITOR}-`))).toHaveLength(
      1,
    );
    const { json } = await api('GET', `/api/2.0/runway/monitors/${MONITOR}`);
    expect(json.monitor.last_retrain).toMatchObject({
      run_id: run.run_id,
      execution_arn: retraining.executionArn,
    });
  }, 240_000);

  it('runs on its schedule over the window ending at the scheduled time, once however often the schedule fires it', async () => {
    const hour = Date.now() - (Date.now() % 3600_000);
    const fire = async () => {
      const before =
        (await runtime.stepFunctions.listExecutions({ stateMachineArn: monitorMachine() })).executions ?? [];
      await runtime.scheduler.fire('Runway-Monitoring', MONITOR, new Date(hour));
      return driver.waitFor(async () => {
        const { executions = [] } = await runtime.stepFunctions.listExecutions({
          stateMachineArn: monitorMachine(),
        });
        const started = executions.find((e) => !before.some((b) => b.executionArn === e.executionArn));
        return (
          started && (await runtime.stepFunctions.waitForExecution(started.executionArn as string, 60_000))
        );
      });
    };
    const first = await fire();
    expect(first.status, first.cause).toBe('SUCCEEDED');
    expect(JSON.parse(first.input ?? '{}')).toEqual({
      monitor: MONITOR,
      trigger: 'schedule',
      scheduledTime: new Date(hour).toISOString().replace('.000Z', 'Z'),
    });
    const { json } = await api('GET', `/api/2.0/runway/monitors/${MONITOR}/reports`);
    const scheduled = json.runs.find((run: { trigger: string }) => run.trigger === 'schedule');
    expect(scheduled).toMatchObject({ status: 'Completed', window_end: hour, window_start: hour - 3600_000 });
    // A second delivery of the same scheduled time (Scheduler delivers at least once) runs nothing.
    const again = await fire();
    expect(again.status).toBe('SUCCEEDED');
    expect(JSON.parse(again.output ?? '{}')).toMatchObject({
      skip: true,
      reason: expect.stringContaining('exists already'),
    });
    const after = await api('GET', `/api/2.0/runway/monitors/${MONITOR}/reports`);
    expect(after.json.runs.filter((run: { trigger: string }) => run.trigger === 'schedule')).toHaveLength(1);
  }, 120_000);

  it('reports "not enough data" for an endpoint with no traffic', async () => {
    await driver.ok('POST', 'runway/endpoints', {
      name: 'iris-idle',
      model_name: MODEL,
      follows: { alias: 'staging' },
    });
    const created = await api('POST', '/api/2.0/runway/monitors', {
      name: 'idle-watch',
      endpoint_name: 'iris-idle',
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const now = Date.now();
    const { run, report } = await runMonitor('idle-watch', { start: now - 3600_000, end: now });
    expect(run).toMatchObject({
      status: 'Completed',
      rows: 0,
      not_enough_data: 'not enough data (0 of 100)',
      drifted_features: [],
    });
    expect(report.summary).toBe('not enough data (0 of 100): drift not judged');
    expect(eventsOf('monitoring.drift-detected').filter((e) => e.monitorName === 'idle-watch')).toEqual([]);
  }, 60_000);
});

describe('a monitor whose endpoint is gone', () => {
  it('fails its run at Prepare, naming the endpoint, and the run says so', async () => {
    await driver.ok('POST', 'runway/endpoints', {
      name: 'iris-gone',
      model_name: MODEL,
      follows: { alias: 'staging' },
    });
    expect(
      (await api('POST', '/api/2.0/runway/monitors', { name: 'gone-watch', endpoint_name: 'iris-gone' }))
        .status,
    ).toBe(200);
    await driver.ok('DELETE', 'runway/endpoints/iris-gone');
    const started = await api('POST', '/api/2.0/runway/monitors/gone-watch/run', {});
    const execution = await runtime.stepFunctions.waitForExecution(started.json.execution_arn, 60_000);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('MonitorRunError');
    expect(execution.cause).toBe("Prepare failed: Endpoint 'iris-gone' does not exist");
    const { json } = await api('GET', `/api/2.0/runway/monitors/gone-watch/reports/${started.json.run_id}`);
    expect(json.run).toMatchObject({
      status: 'Failed',
      error: "Prepare failed: Endpoint 'iris-gone' does not exist",
    });
  }, 60_000);
});

// Each command is a Node process that loads the TypeScript loader first: seconds apiece on a busy machine.
describe('runway monitors against the local runtime', { timeout: 180_000 }, () => {
  const runway = (...args: string[]) => runRunwayCli(['monitors', ...args, '--url', runtime.url]);

  it('creates, lists, runs (waiting for the run), reads the text report of, updates and deletes a monitor', async () => {
    const created = await runway(
      'create',
      'cli-watch',
      '--endpoint',
      ENDPOINT,
      '--schedule',
      'rate(30 minutes)',
      '--min-samples',
      '50',
      '--quality',
      'accuracy=0.8',
      '--psi',
      '0.25',
    );
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout).monitor).toMatchObject({
      name: 'cli-watch',
      schedule: 'rate(30 minutes)',
      min_samples: 50,
      quality: { limits: { accuracy: 0.8 } },
      drift: { thresholds: { psi: 0.25 } },
    });
    const listed = await runway('list', '--endpoint', ENDPOINT);
    expect(JSON.parse(listed.stdout).monitors.map((m: { name: string }) => m.name)).toEqual([
      'cli-watch',
      MONITOR,
    ]);

    // Version 2 now serves, trained on the shifted data: that is its baseline, and traffic like it is no drift.
    const window = await windowOf(() => traffic(irisSample(5, 100, 2 * PETAL_LENGTH_SD), 10));
    const ran = await runway(
      'run',
      'cli-watch',
      '--window-start',
      new Date(window.start).toISOString(),
      '--window-end',
      String(window.end),
      '--wait',
    );
    expect(ran.code, ran.stderr).toBe(0);
    const run = JSON.parse(ran.stdout);
    expect(run).toMatchObject({ status: 'Completed', rows: 100, drifted_features: [] });
    expect(run.summary).toMatch(/^no drift/);
    const text = await runway('reports', 'cli-watch', '--run', run.run_id, '--text');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Monitor cli-watch on endpoint iris-live/);
    expect(text.stdout).toContain('- [ok] petal_length: psi');

    const updated = await runway('update', 'cli-watch', '--disable');
    expect(JSON.parse(updated.stdout).monitor.enabled).toBe(false);
    expect(runtime.scheduler.list().find((each) => each.Name === 'cli-watch')?.State).toBe('DISABLED');
    const bad = await runway('update', 'cli-watch', '--schedule', 'rate(1 minute)');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('INVALID_PARAMETER_VALUE');
    const deleted = await runway('delete', 'cli-watch');
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(runtime.scheduler.list().find((each) => each.Name === 'cli-watch')).toBeUndefined();
    expect((await runway('get', 'cli-watch')).code).toBe(1);
    expect((await runway('create', 'x')).code).toBe(2);
  });
});
