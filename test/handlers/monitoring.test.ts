import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalAwsEndpoint } from '../../infra/local/aws-api-server.ts';
import { CloudTemplate } from '../../infra/local/cloud-template.ts';
import { type S3Emulator, startS3Emulator } from '../../infra/local/emulators/s3.ts';
import { LocalScheduler } from '../../infra/local/events/local-scheduler.ts';
import { LocalStepFunctions } from '../../infra/local/stepfunctions/local-step-functions.ts';
import { FEEDBACK_LIMITS, monitorRunWire, monitorWire } from '../../shared/monitoring/model.ts';
import { newInferenceId } from '../../shared/serving/inference-id.ts';
import { apiEvent, lambdaContext } from '../support/api-event.ts';
import { EventRecorder, TEST_BUS } from '../support/event-recorder.ts';
import { type ApiHandler, handlerCaller, unique } from '../support/handler-call.ts';
import { tableName, useEmulators } from '../support/handler-env.ts';

/**
 * The monitors API and feedback through the real handler, on the emulators: DynamoDB, S3, the local
 * runtime's EventBridge Scheduler (the schedules a monitor writes) and Step Functions (runs started
 * on demand; the machine here is a Pass, since the run's own steps are tested end to end in
 * test/local/monitoring.test.ts).
 */

const BUCKET = 'runway-monitoring-handler-test';
const GROUP = 'Runway-Monitoring';
const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:monitor-run';
let handler: ApiHandler;
let deployments: ApiHandler;
let registry: ApiHandler;
let s3: S3Emulator;
let s3Dir: string;
let raw: S3Client;
let aws: LocalAwsEndpoint;
let scheduler: LocalScheduler;
let stepFunctions: LocalStepFunctions;
let schedulerDir: string;
let recorder: EventRecorder;

const call = handlerCaller(() => handler, '/api/2.0/runway/');
const ajax = handlerCaller(() => handler, '/ajax-api/2.0/runway/');
const feedback = handlerCaller(() => handler, '/endpoints/');
const endpoints = handlerCaller(() => deployments, '/api/2.0/runway/');
const mlflow = handlerCaller(() => registry);

beforeAll(async () => {
  s3Dir = mkdtempSync(path.join(tmpdir(), 'runway-monitoring-s3-'));
  s3 = await startS3Emulator({ dataDir: s3Dir, port: 0 });
  raw = new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await raw.send(new CreateBucketCommand({ Bucket: BUCKET }));
  schedulerDir = mkdtempSync(path.join(tmpdir(), 'runway-monitoring-scheduler-'));
  const template = new CloudTemplate(
    [
      {
        stackName: 'Runway-Monitoring',
        template: {
          Resources: { Group: { Type: 'AWS::Scheduler::ScheduleGroup', Properties: { Name: GROUP } } },
        },
      },
    ],
    'us-east-1',
    '000000000000',
  );
  stepFunctions = new LocalStepFunctions({
    region: 'us-east-1',
    accountId: '000000000000',
    env: { invokeLambda: async () => undefined, callAws: async () => undefined },
  });
  stepFunctions.register({
    arn: MACHINE,
    name: 'monitor-run',
    definition: { StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } },
    type: 'STANDARD',
  });
  scheduler = new LocalScheduler(template, {
    region: 'us-east-1',
    accountId: '000000000000',
    dataDir: schedulerDir,
    invoke: async (arn, input) => {
      await stepFunctions.startExecution({ stateMachineArn: arn, input });
    },
  });
  aws = new LocalAwsEndpoint([
    {
      targetPrefix: 'AWSStepFunctions',
      contentType: 'application/x-amz-json-1.0',
      handleApiRequest: (action, body) => stepFunctions.handleApiRequest(action, body),
    },
  ]);
  aws.addRestService({
    pathPrefix: '/schedules/',
    handleRestRequest: (method, url, body) => scheduler.handleRestRequest(method, url, body),
  });
  const endpoint = await aws.listen();
  const events = await EventRecorder.start();
  recorder = events.recorder;
  useEmulators({
    MONITORING_TABLE_NAME: tableName('MonitoringTable'),
    DEPLOYMENTS_TABLE_NAME: tableName('DeploymentsTable'),
    REGISTRY_TABLE_NAME: tableName('RegistryTable'),
    TRACKING_TABLE_NAME: tableName('TrackingTable'),
    SAGEMAKER_TARGET_ENABLED: 'false',
    // The registry publishes its events to a bus nobody reads here.
    EVENT_BUS_NAME: TEST_BUS,
    AWS_ENDPOINT_URL_EVENTBRIDGE: events.endpoint,
    ARTIFACT_BUCKET_NAME: BUCKET,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_SFN: endpoint,
    AWS_ENDPOINT_URL_SCHEDULER: endpoint,
    MONITOR_STATE_MACHINE_ARN: MACHINE,
    SCHEDULE_GROUP_NAME: GROUP,
    SCHEDULER_ROLE_ARN: 'arn:aws:iam::000000000000:role/scheduler',
  });
  handler = (await import('../../functions/monitoring-api.ts')).handler as unknown as ApiHandler;
  deployments = (await import('../../functions/deployments-api.ts')).handler as unknown as ApiHandler;
  registry = (await import('../../functions/registry-api.ts')).handler as unknown as ApiHandler;
});

afterAll(async () => {
  await recorder?.close();
  scheduler?.close();
  await stepFunctions?.close();
  await aws?.close();
  raw?.destroy();
  await s3?.stop();
  for (const dir of [s3Dir, schedulerDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A registered model and an endpoint that follows it. */
async function endpoint(): Promise<{ name: string; model: string }> {
  const model = unique('model');
  const name = unique('ep').toLowerCase().slice(0, 40);
  expect((await mlflow('POST', 'registered-models/create', { name: model })).status).toBe(200);
  const created = await endpoints('POST', 'endpoints', {
    name,
    model_name: model,
    follows: { alias: 'production' },
  });
  expect(created.status, JSON.stringify(created.json)).toBe(200);
  return { name, model };
}

async function monitor(body: Record<string, unknown> = {}) {
  const target = body.endpoint_name ? { name: String(body.endpoint_name), model: '' } : await endpoint();
  const name = unique('mon').toLowerCase().slice(0, 40);
  const response = await call('POST', 'monitors', { name, endpoint_name: target.name, ...body });
  expect(response.status, JSON.stringify(response.json)).toBe(200);
  return { name, endpoint: target.name, model: target.model, monitor: response.json.monitor };
}

const RETRAIN_INPUT = {
  datasetUri: 'mlflow-artifacts:/datasets/iris.csv',
  targetColumn: 'species',
  modelType: 'logistic_regression',
  positiveClass: 'virginica',
  modelName: 'iris',
  threshold: 0.9,
  alias: 'production',
};

describe('monitors', () => {
  it('creates a monitor with the defaults, its schedule in the group, under both prefixes', async () => {
    const { name, endpoint: watched, model, monitor: created } = await monitor();
    expect(monitorWire.parse(created)).toEqual(created);
    expect(created).toMatchObject({
      name,
      endpoint_name: watched,
      model_name: model,
      schedule: 'rate(1 hour)',
      window_seconds: 3600,
      baseline: { type: 'training' },
      drift: {
        numeric_methods: ['psi', 'ks'],
        categorical_methods: ['jensen_shannon', 'l_infinity'],
        significance: 0.05,
      },
      prediction_drift: true,
      min_samples: 100,
      health: { max_error_rate: 0.05, max_p99_ms: 1000, min_invocations: 10 },
      actions: {},
      enabled: true,
    });
    expect(created).not.toHaveProperty('quality');
    const schedule = scheduler.list().find((each) => each.Name === name);
    expect(schedule).toMatchObject({
      GroupName: GROUP,
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Target: { Arn: MACHINE, RoleArn: 'arn:aws:iam::000000000000:role/scheduler' },
    });
    expect(JSON.parse(schedule?.Target.Input ?? '{}')).toEqual({
      monitor: name,
      trigger: 'schedule',
      scheduledTime: '<aws.scheduler.scheduled-time>',
    });
    expect((await ajax('GET', `monitors/${name}`)).json.monitor).toEqual(created);
  });

  it('keeps every setting given at creation', async () => {
    const { monitor: created } = await monitor({
      schedule: 'cron(0 6 * * ? *)',
      window_seconds: 86_400,
      baseline: { type: 'dataset', dataset_uri: 's3://bucket-a/data/reference.csv' },
      features: ['a', 'b'],
      drift: {
        numeric_methods: ['psi', 'wasserstein'],
        thresholds: { psi: 0.3, wasserstein: 0.2 },
        feature_thresholds: { a: { psi: 0.5 } },
        significance: 0.01,
        max_missing_increase: 0.2,
      },
      prediction_drift: false,
      min_samples: 500,
      quality: { problem_type: 'regression', min_labeled: 10, limits: { rmse: 2.5, r2: 0.6 } },
      health: { max_error_rate: 0.01, max_p99_ms: 250, min_invocations: 100 },
      actions: { retrain: { pipeline_input: RETRAIN_INPUT, cooldown_seconds: 7200, on: ['quality'] } },
      description: 'nightly',
      enabled: false,
    });
    expect(created).toMatchObject({
      schedule: 'cron(0 6 * * ? *)',
      window_seconds: 86_400,
      baseline: { type: 'dataset', dataset_uri: 's3://bucket-a/data/reference.csv' },
      features: ['a', 'b'],
      drift: {
        numeric_methods: ['psi', 'wasserstein'],
        thresholds: { psi: 0.3, wasserstein: 0.2 },
        feature_thresholds: { a: { psi: 0.5 } },
      },
      quality: {
        problem_type: 'regression',
        min_labeled: 10,
        decision_threshold: 0.5,
        limits: { rmse: 2.5, r2: 0.6 },
      },
      health: { max_error_rate: 0.01, max_p99_ms: 250, min_invocations: 100 },
      actions: { retrain: { cooldown_seconds: 7200, on: ['quality'] } },
      description: 'nightly',
      enabled: false,
    });
    // The pipeline input is stored with the pipeline's defaults filled in.
    expect(created.actions.retrain.pipeline_input).toMatchObject({
      ...RETRAIN_INPUT,
      split: { testFraction: 0.2 },
    });
    expect(scheduler.list().find((each) => each.Name === created.name)?.State).toBe('DISABLED');
  });

  it.each([
    [{ name: 'Upper' }, "'name'"],
    [{ name: undefined }, "Missing value for required parameter 'name'"],
    [{ endpoint_name: undefined }, "Missing value for required parameter 'endpoint_name'"],
    [{ schedule: 'rate(1 minute)' }, 'at most every 5 minutes'],
    [{ schedule: 'every hour' }, "'schedule'"],
    [{ window_seconds: 60 }, "'window_seconds'"],
    [{ window_seconds: 8 * 86_400 }, "'window_seconds'"],
    [{ baseline: { type: 'dataset', dataset_uri: 'file:///etc/passwd' } }, "'baseline.dataset_uri'"],
    [{ features: [] }, "'features'"],
    [{ drift: { numeric_methods: ['ks', 'wasserstein'] } }, 'choose ks or wasserstein'],
    [{ drift: { thresholds: { psi: -1 } } }, "'drift.thresholds.psi'"],
    [{ drift: { thresholds: { ks: 2 } } }, "'drift.thresholds.ks'"],
    [{ drift: { significance: 0 } }, "'drift.significance'"],
    [{ min_samples: 0 }, "'min_samples'"],
    [{ quality: { limits: { wrong: 1 } } }, "'quality.limits"],
    [{ quality: { decision_threshold: 1 } }, "'quality.decision_threshold'"],
    [{ health: { max_error_rate: 2 } }, "'health.max_error_rate'"],
    [
      { actions: { retrain: { pipeline_input: { ...RETRAIN_INPUT, datasetUri: 'ftp://x' } } } },
      "'actions.retrain.pipeline_input.datasetUri'",
    ],
    [
      { actions: { retrain: { pipeline_input: RETRAIN_INPUT, cooldown_seconds: 10 } } },
      "'actions.retrain.cooldown_seconds'",
    ],
    [{ extra: 1 }, 'extra'],
  ])('refuses %j with 400 INVALID_PARAMETER_VALUE naming %s, and writes nothing', async (change, words) => {
    const { name: watched } = await endpoint();
    const name = unique('bad').toLowerCase().slice(0, 40);
    const response = await call('POST', 'monitors', { name, endpoint_name: watched, ...change });
    expect(response.status, JSON.stringify(response.json)).toBe(400);
    expect(response.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(response.json.message).toContain(words);
    expect((await call('GET', `monitors/${name}`)).status).toBe(404);
    expect(scheduler.list().find((each) => each.Name === name)).toBeUndefined();
  });

  it('refuses a cron expression EventBridge Scheduler refuses, and takes the monitor back', async () => {
    const { name: watched } = await endpoint();
    const name = unique('cron').toLowerCase().slice(0, 40);
    const response = await call('POST', 'monitors', {
      name,
      endpoint_name: watched,
      schedule: 'cron(0 6 * * * *)',
    });
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringContaining("'schedule'"),
    });
    expect((await call('GET', `monitors/${name}`)).status).toBe(404);
  });

  it('answers 404 for an endpoint that does not exist and 400 RESOURCE_ALREADY_EXISTS for a taken name', async () => {
    const missing = await call('POST', 'monitors', { name: 'lonely', endpoint_name: 'no-such-endpoint' });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: "Endpoint 'no-such-endpoint' does not exist",
    });
    const { name, endpoint: watched } = await monitor();
    const taken = await call('POST', 'monitors', { name, endpoint_name: watched });
    expect(taken.status).toBe(400);
    expect(taken.json).toEqual({
      error_code: 'RESOURCE_ALREADY_EXISTS',
      message: `Monitor '${name}' already exists`,
    });
  });

  it('lists monitors by name, paged, and those of one endpoint', async () => {
    const { name: watched } = await endpoint();
    const names = [];
    for (let i = 0; i < 3; i++) names.push((await monitor({ endpoint_name: watched })).name);
    const mine = await call('GET', `monitors?endpoint_name=${watched}`);
    expect(mine.json.monitors.map((m: { name: string }) => m.name)).toEqual([...names].sort());
    const first = await call('GET', `monitors?endpoint_name=${watched}&max_results=2`);
    expect(first.json.monitors).toHaveLength(2);
    const second = await call(
      'GET',
      `monitors?endpoint_name=${watched}&max_results=2&page_token=${first.json.next_page_token}`,
    );
    expect(second.json.monitors).toHaveLength(1);
    expect(second.json.next_page_token).toBeUndefined();
    expect((await call('GET', 'monitors?max_results=1001')).status).toBe(400);
    expect((await call('GET', 'monitors?page_token=garbage')).json.error_code).toBe(
      'INVALID_PARAMETER_VALUE',
    );
    expect((await call('GET', 'monitors?endpoint_name=nobody')).json).toEqual({});
  });

  it('updates single settings, keeping the rest, and moves the schedule with them', async () => {
    const { name, monitor: created } = await monitor({ quality: { limits: { accuracy: 0.9 } } });
    const patched = await call('PATCH', `monitors/${name}`, {
      schedule: 'rate(15 minutes)',
      drift: { thresholds: { psi: 0.25 } },
      health: { max_p99_ms: 300 },
    });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);
    expect(patched.json.monitor).toMatchObject({
      schedule: 'rate(15 minutes)',
      drift: { thresholds: { psi: 0.25 }, numeric_methods: ['psi', 'ks'] },
      health: { max_p99_ms: 300, max_error_rate: 0.05 },
      quality: { limits: { accuracy: 0.9 } },
      creation_timestamp: created.creation_timestamp,
    });
    expect(scheduler.list().find((each) => each.Name === name)?.ScheduleExpression).toBe('rate(15 minutes)');
    const disabled = await call('PATCH', `monitors/${name}`, { enabled: false });
    expect(disabled.json.monitor.enabled).toBe(false);
    expect(scheduler.list().find((each) => each.Name === name)?.State).toBe('DISABLED');
    const bad = await call('PATCH', `monitors/${name}`, { window_seconds: 1 });
    expect(bad.status).toBe(400);
    expect((await call('GET', `monitors/${name}`)).json.monitor.window_seconds).toBe(3600);
    expect((await call('PATCH', 'monitors/nobody-here', { enabled: true })).status).toBe(404);
  });

  it('deletes a monitor with its schedule; a second delete is 404', async () => {
    const { name } = await monitor();
    expect((await call('DELETE', `monitors/${name}`)).status).toBe(200);
    expect(scheduler.list().find((each) => each.Name === name)).toBeUndefined();
    expect((await call('GET', `monitors/${name}`)).status).toBe(404);
    expect((await call('DELETE', `monitors/${name}`)).json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});

describe('runs and reports', () => {
  it('starts a run now over the window that ends now, or the one given (202), named after the monitor', async () => {
    const { name } = await monitor();
    const before = Date.now();
    const started = await call('POST', `monitors/${name}/run`, {});
    expect(started.status).toBe(202);
    expect(started.json.run_id).toMatch(/^\d{13}-[0-9a-f]{8}$/);
    expect(started.json.window_end).toBeGreaterThanOrEqual(before);
    expect(started.json.window_end - started.json.window_start).toBe(3600_000);
    const execution = await stepFunctions.describeExecution(started.json.execution_arn);
    expect(execution.name).toBe(`manual-${name}-${started.json.run_id}`);
    expect(JSON.parse(execution.input ?? '{}')).toEqual({
      monitor: name,
      trigger: 'manual',
      windowStart: started.json.window_start,
      windowEnd: started.json.window_end,
      runId: started.json.run_id,
    });
    const given = await call('POST', `monitors/${name}/run`, { window_start: 1_000, window_end: '2000' });
    expect(given.json).toMatchObject({ window_start: 1000, window_end: 2000 });
  });

  it('refuses a window that ends before it starts, or is longer than 7 days', async () => {
    const { name } = await monitor();
    for (const window of [
      { window_start: 2000, window_end: 1000 },
      { window_start: 0, window_end: 8 * 86_400_000 },
      { window_start: -5 },
    ]) {
      const response = await call('POST', `monitors/${name}/run`, window);
      expect(response.status, JSON.stringify(window)).toBe(400);
      expect(response.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await call('POST', 'monitors/nobody-here/run', {})).status).toBe(404);
  });

  it('lists no runs as {} and answers 404 for a run that does not exist', async () => {
    const { name } = await monitor();
    expect(await call('GET', `monitors/${name}/reports`)).toMatchObject({ status: 200, json: {} });
    expect((await call('GET', `monitors/${name}/reports/1800000000000-0badcafe`)).status).toBe(404);
    expect((await call('GET', `monitors/${name}/reports/not-a-run`)).status).toBe(404);
    expect((await call('GET', 'monitors/nobody-here/reports')).status).toBe(404);
    expect(monitorRunWire.safeParse({}).success).toBe(false);
  });
});

describe('POST /endpoints/{name}/feedback', () => {
  const id = (ago = 0) => newInferenceId(Date.now() - ago);

  it('files each label under the hour of the invocation it names', async () => {
    const { name } = await endpoint();
    const hourAgo = id(3600_000);
    const now = id();
    const response = await feedback('POST', `${name}/feedback`, {
      feedback: [
        { inference_id: now, ground_truth: 'virginica' },
        { inference_id: hourAgo, ground_truth: [1, 0, 1] },
      ],
    });
    expect(response.status, JSON.stringify(response.json)).toBe(200);
    expect(response.json).toEqual({ accepted: 2 });
    const listed = await raw.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `serving-feedback/${name}/` }),
    );
    const keys = (listed.Contents ?? []).map((object) => object.Key as string);
    expect(keys).toHaveLength(2);
    for (const key of keys)
      expect(key).toMatch(
        new RegExp(`^serving-feedback/${name}/\\d{4}/\\d{2}/\\d{2}/\\d{2}/\\d{13}-[0-9a-f-]{36}\\.jsonl$`),
      );
    const lines = await Promise.all(
      keys.map(
        async (Key) =>
          (await (await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key }))).Body?.transformToString()) ??
          '',
      ),
    );
    const records = lines.flatMap((text) =>
      text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    );
    expect(records).toEqual(
      expect.arrayContaining([
        { inferenceId: now, groundTruth: ['virginica'], receivedAt: expect.any(Number) },
        { inferenceId: hourAgo, groundTruth: [1, 0, 1], receivedAt: expect.any(Number) },
      ]),
    );
  });

  it.each([
    [
      'an id that is no inference id',
      () => [{ inference_id: 'abc', ground_truth: 1 }],
      "'feedback[0].inference_id'",
    ],
    ['an id from the future', () => [{ inference_id: id(-3600_000), ground_truth: 1 }], 'in the future'],
    [
      'an id older than 90 days',
      () => [{ inference_id: id(91 * 86_400_000), ground_truth: 1 }],
      'older than 90 days',
    ],
    [
      'an id twice',
      () => {
        const twice = id();
        return [
          { inference_id: twice, ground_truth: 1 },
          { inference_id: twice, ground_truth: 0 },
        ];
      },
      'appears twice',
    ],
    ['no items', () => [], "'feedback'"],
    [
      `${FEEDBACK_LIMITS.items + 1} items`,
      () =>
        Array.from({ length: FEEDBACK_LIMITS.items + 1 }, () => ({ inference_id: id(), ground_truth: 1 })),
      "'feedback'",
    ],
    [
      `more than ${FEEDBACK_LIMITS.values} values`,
      () => Array.from({ length: 11 }, () => ({ inference_id: id(), ground_truth: new Array(1000).fill(1) })),
      'at most 10000 values',
    ],
    [
      'a ground truth that is an object',
      () => [{ inference_id: id(), ground_truth: { a: 1 } }],
      'ground_truth',
    ],
    ['a missing ground truth', () => [{ inference_id: id() }], 'ground_truth'],
  ])('refuses %s with 400 and writes nothing', async (_label, items, words) => {
    const { name } = await endpoint();
    const response = await feedback('POST', `${name}/feedback`, { feedback: items() });
    expect(response.status, JSON.stringify(response.json)).toBe(400);
    expect(response.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(response.json.message).toContain(words);
    const listed = await raw.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `serving-feedback/${name}/` }),
    );
    expect(listed.Contents ?? []).toEqual([]);
  });

  it('answers 404 for an endpoint that does not exist, and 413 for a body over 1 MiB', async () => {
    const missing = await feedback('POST', 'nobody-here/feedback', {
      feedback: [{ inference_id: id(), ground_truth: 1 }],
    });
    expect(missing.status).toBe(404);
    expect(missing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    const { name } = await endpoint();
    const big = JSON.stringify({
      feedback: [{ inference_id: id(), ground_truth: 'x'.repeat(FEEDBACK_LIMITS.bodyBytes) }],
    });
    const response = await handler(apiEvent('POST', `/endpoints/${name}/feedback`, big), lambdaContext);
    expect(response.statusCode).toBe(413);
    expect(JSON.parse(response.body).error_code).toBe('INVALID_PARAMETER_VALUE');
  });
});

describe("permissions follow the endpoint's model", () => {
  const id = () => newInferenceId();
  /** Calls as a token user with a grant on nothing, under the default permission READ. */
  const asReader = async (method: string, pathAndQuery: string, body?: unknown) => {
    const event = apiEvent(method, pathAndQuery, body);
    (event.requestContext as { authorizer?: unknown }).authorizer = {
      lambda: { user: 'reader', admin: false, ceiling: 'MANAGE' },
    } as never;
    const response = await handler(event, lambdaContext);
    return { status: response.statusCode, json: JSON.parse(response.body) };
  };

  it('lets READ read monitors and reports, not create, change, run, delete or send feedback', async () => {
    const { name, endpoint: watched } = await monitor();
    expect((await asReader('GET', `/api/2.0/runway/monitors/${name}`)).status).toBe(200);
    expect((await asReader('GET', `/api/2.0/runway/monitors/${name}/reports`)).status).toBe(200);
    expect(
      (await asReader('GET', `/api/2.0/runway/monitors?endpoint_name=${watched}`)).json.monitors,
    ).toHaveLength(1);
    for (const [method, pathname, body] of [
      ['POST', '/api/2.0/runway/monitors', { name: 'mine', endpoint_name: watched }],
      ['PATCH', `/api/2.0/runway/monitors/${name}`, { enabled: false }],
      ['POST', `/api/2.0/runway/monitors/${name}/run`, {}],
      ['DELETE', `/api/2.0/runway/monitors/${name}`, undefined],
      ['POST', `/endpoints/${watched}/feedback`, { feedback: [{ inference_id: id(), ground_truth: 1 }] }],
    ] as const) {
      const response = await asReader(method, pathname, body);
      expect(response.status, `${method} ${pathname}`).toBe(403);
      expect(response.json.error_code).toBe('PERMISSION_DENIED');
    }
    expect((await call('GET', `monitors/${name}`)).json.monitor.enabled).toBe(true);
  });
});
