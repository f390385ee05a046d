import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalAwsEndpoint } from '../../infra/local/aws-api-server.ts';
import { CloudTemplate } from '../../infra/local/cloud-template.ts';
import { type DynamoEmulator, startDynamoEmulator } from '../../infra/local/emulators/dynamodb.ts';
import { type S3Emulator, startS3Emulator } from '../../infra/local/emulators/s3.ts';
import { provisionTables } from '../../infra/local/provision.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, stateMachineDefinition } from '../../infra/local/runtime.ts';
import { LocalStepFunctions } from '../../infra/local/stepfunctions/local-step-functions.ts';
import { synthesize } from '../../infra/local/synth.ts';
import { defineRunwayApp } from '../../infra/runway-app.ts';
import type { Operation } from '../../shared/platform/http/operation.ts';
import { apiEvent, lambdaContext } from '../support/api-event.ts';
import { apiOperations, MONITORING_DEFAULTS } from '../support/api-operations.ts';
import { EventRecorder, TEST_BUS } from '../support/event-recorder.ts';
import { unique } from '../support/handler-call.ts';
import { tableName, useEmulators } from '../support/handler-env.ts';

/**
 * Bad input, tried on purpose: for every operation of every API function (enumerated from the
 * functions' own routers, not listed by hand), generated malformed requests (wrong types, huge and
 * unicode strings, NaN, negative numbers, deep nesting, invalid JSON, odd content types, odd path
 * segments) go through the real handlers on the emulators. None may answer 5xx (but the 501 of
 * endpoints Runway does not serve), and every error is MLflow's `{error_code, message}`. Then, for
 * writes that take many entries, one bad entry must leave nothing written.
 *
 * Then every operation that reads a JSON body gets truncated and garbled JSON: each must answer 400
 * INVALID_PARAMETER_VALUE naming the JSON error (MLflow reads some as `{}` and writes from them), and
 * every table's items and the bucket's objects are counted before and after: nothing written. The
 * file runs on emulators of its own so that the counts are its own.
 *
 * Fixed seed: `FUZZ_SEED` and `FUZZ_RUNS` (per endpoint) override it to explore further.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);

type Handler = (
  event: ReturnType<typeof apiEvent>,
  context: typeof lambdaContext,
) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;

interface Target {
  name: string;
  handler: Handler;
  operations: Operation[];
}

let targets: Target[] = [];
let recorder: EventRecorder;
let s3: S3Emulator;
let dynamo: DynamoEmulator;
let dataDir: string;
let rawS3: S3Client;
let rawDynamo: DynamoDBClient;
let tables: string[] = [];
const BUCKET = 'runway-fuzz-artifacts';
let sfn: LocalAwsEndpoint | undefined;
let closeStepFunctions: (() => Promise<void> | void) | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-fuzz-'));
  s3 = await startS3Emulator({ dataDir: path.join(dataDir, 's3'), port: 0 });
  rawS3 = new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await rawS3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  // Tables of its own (the app's, provisioned as the local runtime does), so that counting every
  // table's items before and after a request counts only what this file's requests wrote.
  dynamo = await startDynamoEmulator({ dataDir: path.join(dataDir, 'dynamo') });
  rawDynamo = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const env = { account: LOCAL_ACCOUNT, region: LOCAL_REGION };
  const template = new CloudTemplate(
    synthesize((app, e) => defineRunwayApp(app, { env: e }), env),
    env.region,
    env.account,
  );
  tables = await provisionTables(template, rawDynamo);
  // The pipelines API calls Step Functions: the runtime's own, with the app's training pipeline and no
  // functions (an execution a request starts fails at its first step, writing nothing).
  const machine = template
    .resourcesOfType('AWS::StepFunctions::StateMachine')
    .find((resource) => resource.logicalId.startsWith('TrainingStateMachine'));
  if (!machine) throw new Error('no training pipeline in the app');
  const stepFunctions = new LocalStepFunctions({
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT,
    env: {
      invokeLambda: async () => {
        throw new Error('the fuzz runs no pipeline step');
      },
    },
  });
  stepFunctions.register({
    arn: template.arn(machine),
    name: template.physicalName(machine),
    definition: stateMachineDefinition(template, machine),
    type: 'STANDARD',
  });
  sfn = new LocalAwsEndpoint([]);
  sfn.addService({
    targetPrefix: 'AWSStepFunctions',
    contentType: 'application/x-amz-json-1.0',
    handleApiRequest: (target, body) => stepFunctions.handleApiRequest(target, body),
  });
  const sfnEndpoint = await sfn.listen();
  closeStepFunctions = () => stepFunctions.close();
  const started = await EventRecorder.start();
  recorder = started.recorder;
  useEmulators({
    TRACKING_TABLE_NAME: tableName('TrackingTable'),
    REGISTRY_TABLE_NAME: tableName('RegistryTable'),
    DEPLOYMENTS_TABLE_NAME: tableName('DeploymentsTable'),
    SAGEMAKER_TARGET_ENABLED: 'false',
    EVENT_BUS_NAME: TEST_BUS,
    AWS_ENDPOINT_URL_EVENTBRIDGE: started.endpoint,
    ...MONITORING_DEFAULTS,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    ARTIFACT_BUCKET_NAME: BUCKET,
    MONITORING_TABLE_NAME: tableName('MonitoringTable'),
    PIPELINE_STATE_MACHINE_ARN: template.arn(machine),
    AWS_ENDPOINT_URL_SFN: sfnEndpoint,
  });
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  const operations = await apiOperations();
  const handlers: Record<string, Promise<{ handler: unknown }>> = {
    tracking: import('../../functions/tracking-api.ts'),
    registry: import('../../functions/registry-api.ts'),
    artifacts: import('../../functions/artifacts-api.ts'),
    traces: import('../../functions/traces-api.ts'),
    webhooks: import('../../functions/webhook-api.ts'),
    access: import('../../functions/access-api.ts'),
    deployments: import('../../functions/deployments-api.ts'),
    monitoring: import('../../functions/monitoring-api.ts'),
    pipelines: import('../../functions/pipelines-api.ts'),
    platform: import('../../functions/platform-api.ts'),
  };
  targets = await Promise.all(
    Object.entries(operations).map(async ([name, list]) => ({
      name,
      handler: (await handlers[name])?.handler as Handler,
      operations: list,
    })),
  );
});

afterAll(async () => {
  await closeStepFunctions?.();
  await sfn?.close();
  await recorder?.close();
  rawS3?.destroy();
  rawDynamo?.destroy();
  await s3?.stop();
  await dynamo?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** The items of every table of the app and the objects of the artifact bucket, by name. */
async function everything(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await rawDynamo.send(
        new ScanCommand({ TableName: table, Select: 'COUNT', ExclusiveStartKey: start as never }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    counts[table] = count;
  }
  let objects = 0;
  let token: string | undefined;
  do {
    const page = await rawS3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
    objects += page.KeyCount ?? 0;
    token = page.NextContinuationToken;
  } while (token);
  counts[`s3://${BUCKET}`] = objects;
  return counts;
}

/** Values of every wrong shape a client might send for a field. */
const badValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    'NaN',
    'Infinity',
    '-1',
    '1e309',
    '0x10',
    '../../etc/passwd',
    '%00',
    '\u0000',
    '😀'.repeat(300),
  ),
  fc.constant('x'.repeat(70_000)),
  fc.integer(),
  fc.constantFrom(-1, -(2 ** 63), 2 ** 63, Number.MAX_SAFE_INTEGER + 2, 1.5, -0),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A nested value deeper than any parser's comfort. */
const deep = (depth: number) => `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`;

function fieldsOf(operation: Operation): string[] {
  const shape = (operation.input as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

/** A generated request for one operation: its method, a path with odd segments, query and body. */
function requestFor(operation: Operation) {
  const fields = fieldsOf(operation);
  const name =
    fields.length > 0 ? fc.oneof(fc.constantFrom(...fields), fc.string({ maxLength: 12 })) : fc.string();
  const params = fc.dictionary(name, badValue, { maxKeys: 6 });
  const segment = fc.oneof(
    fc.string({ minLength: 1, maxLength: 20 }),
    fc.constantFrom('0', '-1', '..', '%', 'NaN', '😀', 'a'.repeat(3000), '1/2/artifacts/x'),
  );
  const path = fc
    .array(segment, { minLength: 1, maxLength: 3 })
    .map((segments) =>
      operation.path.replace(/\{(\w+)(\+?)\}/g, (_m, _n, greedy) =>
        (greedy ? segments : segments.slice(0, 1)).map((s) => encodeURIComponent(s)).join('/'),
      ),
    );
  const body = fc.oneof(
    params.map((value) => JSON.stringify(value)),
    fc.string({ maxLength: 60 }),
    fc.constantFrom(
      '{',
      '[]',
      'null',
      '42',
      '"text"',
      '{"a":NaN}',
      deep(20_000),
      `[${'1,'.repeat(100_000)}1]`,
    ),
    fc.constant(undefined),
  );
  const query = params.map((value) =>
    Object.entries(value)
      .flatMap(([key, v]) =>
        (Array.isArray(v) ? v : [v]).map((item) => [
          key,
          typeof item === 'string' ? item : (JSON.stringify(item) ?? ''),
        ]),
      )
      .map(([key, v]) => `${encodeURIComponent(String(key))}=${encodeURIComponent(String(v))}`)
      .join('&'),
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/json',
    'text/plain',
    undefined,
    'application/x-www-form-urlencoded',
  );
  const prefix = fc.constantFrom('/api/2.0/', '/ajax-api/2.0/');
  return fc.record({ path, body, query, contentType, prefix });
}

interface Tally {
  endpoint: string;
  tried: number;
  failed: number;
  examples: string[];
}

describe('fuzz: generated bad requests against every endpoint', () => {
  it(
    'never answers 5xx (but 501 NOT_IMPLEMENTED) and always answers errors in MLflow’s shape',
    async () => {
      const tallies: Tally[] = [];
      let index = 0;
      for (const target of targets) {
        for (const operation of target.operations) {
          const endpoint = `${target.name} ${operation.method} ${operation.path}`;
          const tally: Tally = { endpoint, tried: 0, failed: 0, examples: [] };
          const samples = fc.sample(requestFor(operation), { seed: SEED + index++, numRuns: RUNS });
          for (const sample of samples) {
            const base = operation.path.startsWith('/') ? sample.path : `${sample.prefix}${sample.path}`;
            const target_ = sample.query ? `${base}?${sample.query}` : base;
            const event = apiEvent(
              operation.method,
              target_,
              sample.body,
              sample.contentType ? { 'content-type': sample.contentType } : {},
            );
            if (!sample.contentType)
              delete (event.headers as Record<string, string | undefined>)['content-type'];
            tally.tried++;
            let problem: string | undefined;
            try {
              const response = await target.handler(event, lambdaContext);
              const status = response.statusCode;
              if (status >= 400) {
                const json = JSON.parse(response.body) as { error_code?: unknown; message?: unknown };
                if (typeof json.error_code !== 'string' || typeof json.message !== 'string')
                  problem = `status ${status} without an MLflow error body`;
                else if (status >= 500 && !(status === 501 && json.error_code === 'NOT_IMPLEMENTED'))
                  problem = `status ${status} ${json.error_code}`;
              }
            } catch (error) {
              problem = `threw ${(error as Error).message}`;
            }
            if (problem) {
              tally.failed++;
              if (tally.examples.length < 2)
                tally.examples.push(
                  `${problem}: ${operation.method} ${target_.slice(0, 160)} body=${String(sample.body).slice(0, 120)}`,
                );
            }
          }
          tallies.push(tally);
        }
      }
      const tried = tallies.reduce((sum, t) => sum + t.tried, 0);
      const failed = tallies.filter((t) => t.failed > 0);
      process.stdout.write(
        [
          `fuzz (seed ${SEED}): ${tallies.length} endpoints, ${tried} requests, ${RUNS} per endpoint; failed: ${failed.reduce((s, t) => s + t.failed, 0)}`,
          ...tallies.map((t) => `  ${t.endpoint}: ${t.tried} tried, ${t.failed} failed`),
          '',
        ].join('\n'),
      );
      expect(tallies.length).toBeGreaterThan(100);
      expect(failed.flatMap((t) => t.examples)).toEqual([]);
    },
    60_000 + RUNS * 4_000,
  );
});

describe('fuzz: a write with one bad entry writes nothing', () => {
  const call = async (name: string, method: string, route: string, body?: unknown) => {
    const target = targets.find((t) => t.name === name) as Target;
    const response = await target.handler(apiEvent(method, `/api/2.0/mlflow/${route}`, body), lambdaContext);
    // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the handler answered.
    return { status: response.statusCode, json: JSON.parse(response.body || '{}') as any };
  };
  const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
  const metric = fc.record({
    key,
    value: fc.double({ noNaN: true, noDefaultInfinity: true }),
    timestamp: fc.integer({ min: 0, max: 2 ** 40 }),
    step: fc.integer({ min: 0, max: 1000 }),
  });
  const keyValue = fc.record({ key, value: fc.string({ maxLength: 20 }) });
  const long = 'k'.repeat(251);
  const badEntry = fc.constantFrom(
    { field: 'metrics', entry: { key: long, value: 1, timestamp: 1, step: 0 } },
    { field: 'metrics', entry: { key: 'm', value: 'abc', timestamp: 1, step: 0 } },
    { field: 'metrics', entry: { key: 'm', value: 1, timestamp: 'soon', step: 0 } },
    { field: 'metrics', entry: { value: 1, timestamp: 1 } },
    { field: 'params', entry: { key: long, value: 'v' } },
    { field: 'params', entry: { value: 'v' } },
    { field: 'tags', entry: { key: long, value: 'v' } },
    { field: 'tags', entry: { key: 7, value: 'v' } },
  );
  const batch = fc.record({
    metrics: fc.array(metric, { maxLength: 8 }),
    params: fc.uniqueArray(keyValue, { maxLength: 8, selector: (p) => p.key }),
    tags: fc.uniqueArray(keyValue, { maxLength: 8, selector: (t) => t.key }),
    bad: badEntry,
    at: fc.nat(),
  });

  it('log-batch: the run is unchanged after a batch with one malformed metric, param or tag', async () => {
    const experimentId = (
      await call('tracking', 'POST', 'experiments/create', { name: unique('fuzz-batch') })
    ).json.experiment_id;
    await fc.assert(
      fc.asyncProperty(batch, async (input) => {
        const runId = (await call('tracking', 'POST', 'runs/create', { experiment_id: experimentId })).json
          .run.info.run_id;
        const before = await call('tracking', 'GET', `runs/get?run_id=${runId}`);
        const body: Record<string, unknown[]> = {
          metrics: input.metrics,
          params: input.params,
          tags: input.tags,
        };
        const list = body[input.bad.field] as unknown[];
        list.splice(input.at % (list.length + 1), 0, input.bad.entry);
        const response = await call('tracking', 'POST', 'runs/log-batch', { run_id: runId, ...body });
        expect(response.status).toBe(400);
        expect(response.json.error_code).toBe('INVALID_PARAMETER_VALUE');
        expect(await call('tracking', 'GET', `runs/get?run_id=${runId}`)).toEqual(before);
      }),
      { seed: SEED, numRuns: 15 },
    );
  });

  it('experiments/create and registered-models/create: nothing is created when one tag is malformed', async () => {
    const tags = fc.uniqueArray(keyValue, { maxLength: 5, selector: (t) => t.key });
    const bad = fc.constantFrom(
      { key: long, value: 'v' },
      { key: 7, value: 'v' },
      { value: 'v' },
      { key: 'k', value: 5 },
    );
    await fc.assert(
      fc.asyncProperty(tags, bad, fc.nat(), async (good, wrong, at) => {
        const list: unknown[] = [...good];
        list.splice(at % (list.length + 1), 0, wrong);
        const name = unique('fuzz-create');
        const experiment = await call('tracking', 'POST', 'experiments/create', { name, tags: list });
        expect(experiment.status).toBe(400);
        expect(
          (await call('tracking', 'GET', `experiments/get-by-name?experiment_name=${name}`)).status,
        ).toBe(404);
        const model = await call('registry', 'POST', 'registered-models/create', { name, tags: list });
        expect(model.status).toBe(400);
        expect((await call('registry', 'GET', `registered-models/get?name=${name}`)).status).toBe(404);
      }),
      { seed: SEED, numRuns: 15 },
    );
  });
});

describe('fuzz: truncated and garbled JSON bodies', () => {
  /** Operations whose parameters come from the JSON body (the rest ignore the body or take bytes). */
  const jsonBodied = (operation: Operation) =>
    operation.method !== 'GET' && (operation.source ?? 'body') === 'body';

  /** A body as a client would send it for the operation: its fields with plausible values. */
  function plausibleBody(operation: Operation): string {
    const body: Record<string, unknown> = {};
    for (const field of fieldsOf(operation)) {
      body[field] = /_ids?$|^ids$/.test(field)
        ? field.endsWith('s')
          ? ['1']
          : '1'
        : /tags|params|metrics|datasets|models|parts|inputs/.test(field)
          ? [{ key: 'k', value: 'v' }]
          : /max_results|num_parts|timestamp|step|version/.test(field)
            ? 5
            : 'value';
    }
    if (Object.keys(body).length === 0) body.name = 'value';
    return JSON.stringify(body);
  }

  /** True when `body` is not JSON, nor a JSON string holding JSON (the double encoding MLflow reads). */
  function holdsNoObject(body: string): boolean {
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed !== 'string') return false;
      JSON.parse(parsed);
      return false;
    } catch {
      return true;
    }
  }

  /** Truncations of the plausible body and garbled texts: none of them holds JSON (checked below). */
  function garbled(operation: Operation): string[] {
    const text = plausibleBody(operation);
    const cuts = [1, 2, Math.floor(text.length / 3), Math.floor(text.length / 2), text.length - 1];
    return [
      ...cuts.map((at) => text.slice(0, at)),
      text.replace(':', ''),
      text.replace('"', "'"),
      `${text.slice(0, -1)},}`,
      `${text}}`,
      text.replaceAll('"', ''),
      '{"a": NaN}',
      '{"a": undefined}',
      'nul',
      '\u0000{}',
      '{"a":\u0001}',
      JSON.stringify(text.slice(0, -3)),
    ];
  }

  it('answers 400 INVALID_PARAMETER_VALUE naming the JSON error on every JSON operation, and writes nothing', async () => {
    const before = await everything();
    const problems: string[] = [];
    let sent = 0;
    let operationsTried = 0;
    for (const target of targets) {
      for (const operation of target.operations.filter(jsonBodied)) {
        operationsTried++;
        const route = operation.path.replace(/\{(\w+)(\+?)\}/g, (_m, name: string, greedy: string) =>
          greedy ? '0/abc/artifacts/x' : name === 'model_id' ? `m-${'0'.repeat(32)}` : 'fuzz',
        );
        const url = operation.path.startsWith('/') ? route : `/api/2.0/${route}`;
        for (const body of garbled(operation)) {
          expect(holdsNoObject(body), body).toBe(true);
          sent++;
          const response = await target.handler(
            apiEvent(operation.method, url, body, { 'content-type': 'application/json' }),
            lambdaContext,
          );
          const json = JSON.parse(response.body) as { error_code?: string; message?: string };
          if (
            response.statusCode !== 400 ||
            json.error_code !== 'INVALID_PARAMETER_VALUE' ||
            !/JSON/.test(json.message ?? '')
          ) {
            problems.push(
              `${target.name} ${operation.method} ${operation.path} ${JSON.stringify(body).slice(0, 60)}: ${response.statusCode} ${response.body.slice(0, 120)}`,
            );
          }
        }
      }
    }
    process.stdout.write(`garbled JSON: ${operationsTried} operations, ${sent} requests\n`);
    expect(operationsTried).toBeGreaterThan(50);
    expect(problems.slice(0, 10)).toEqual([]);
    // Nothing was written anywhere: every table and the artifact bucket hold what they held.
    expect(await everything()).toEqual(before);
  });

  it('would see a write: the counts change when a request does write', async () => {
    const tracking = targets.find((t) => t.name === 'tracking') as Target;
    const before = await everything();
    const created = await tracking.handler(
      apiEvent('POST', '/api/2.0/mlflow/experiments/create', { name: unique('fuzz-counted') }),
      lambdaContext,
    );
    expect(created.statusCode).toBe(200);
    expect(await everything()).not.toEqual(before);
  });
});
