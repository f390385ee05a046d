import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3Emulator, startS3Emulator } from '../../infra/local/emulators/s3.ts';
import { deploymentKeys } from '../../shared/deployments/keys.ts';
import type { Endpoint, Traffic } from '../../shared/deployments/model.ts';
import { inferenceTimeOf } from '../../shared/serving/inference-id.ts';
import { apiEvent, lambdaContext } from '../support/api-event.ts';
import { readCaptureLines } from '../support/capture.ts';
import type { ApiHandler } from '../support/handler-call.ts';
import { emulatorDocumentClient, tableName, useEmulators } from '../support/handler-env.ts';
import {
  consistentLogreg,
  consistentLogregLayers,
  denseNetworkOnnx,
  denseNetworkWithExternalData,
  randomMlpLayers,
} from '../support/onnx-models.ts';

type Handler = ApiHandler;

const BUCKET = 'runway-serving-handler-test';
const LOCAL = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const FIXTURE = path.join(import.meta.dirname, '../fixtures/models/mlflow-onnx-logreg');
const EXPECTED = JSON.parse(
  readFileSync(path.join(import.meta.dirname, '../fixtures/models/mlflow-onnx-logreg.expected.json'), 'utf8'),
) as { x: number[][]; expected: number[][] };
const run = Date.now();

let handler: Handler;
let readVariantStats: typeof import('../../shared/serving/variant-stats.ts').readVariantStats;
let s3: S3Emulator;
let raw: S3Client;
let dataDir: string;
let table: string;

/** Uploads the fixture model directory under `prefix`, with the consistent graph unless `original`. */
async function uploadModel(prefix: string, original = false): Promise<string> {
  for (const file of await readdir(FIXTURE)) {
    let body: Uint8Array = readFileSync(path.join(FIXTURE, file));
    if (file === 'model.onnx' && !original) body = consistentLogreg(body);
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${file}`, Body: body }));
  }
  return `s3://${BUCKET}/${prefix}`;
}

/**
 * Uploads the fixture's directory under `prefix` with another graph (`write` gets the fixture's
 * graph), its data file beside it when it has one, and the signature's width set to `width`.
 */
async function uploadModelWith(
  prefix: string,
  write: (fixtureOnnx: Uint8Array) => { onnx: Uint8Array; location?: string; data?: Uint8Array },
  width = 10,
  options: { withoutData?: boolean } = {},
): Promise<string> {
  const written = write(readFileSync(path.join(FIXTURE, 'model.onnx')));
  const files: Array<[string, Uint8Array]> = [
    [
      'MLmodel',
      Buffer.from(readFileSync(path.join(FIXTURE, 'MLmodel'), 'utf8').replace('[-1, 10]', `[-1, ${width}]`)),
    ],
    ['model.onnx', written.onnx],
  ];
  if (written.location && written.data && !options.withoutData) files.push([written.location, written.data]);
  for (const [file, body] of files) {
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${file}`, Body: body }));
  }
  return `s3://${BUCKET}/${prefix}`;
}

const version = (v: string, storageLocation: string) => ({
  version: v,
  storageLocation,
  deploymentId: `d-${v}`,
});

async function putEndpoint(
  name: string,
  traffic: Partial<Traffic>,
  target: 'lambda' | 'sagemaker' = 'lambda',
  extra: Partial<Endpoint> = {},
) {
  const now = Date.now();
  const item: Endpoint = {
    ...extra,
    name,
    modelName: 'churn',
    follows: { alias: 'production' },
    target,
    rolloutPolicy: {
      trafficSteps: [10, 100],
      bakeSeconds: 60,
      maxErrorRate: 0.01,
      maxLatencyMs: 1000,
      minInvocations: 0,
    },
    traffic: { primary: null, canary: null, canaryWeight: 0, revision: 1, ...traffic },
    status: traffic.primary ? 'InService' : 'Creating',
    createdAt: now,
    updatedAt: now,
  };
  await emulatorDocumentClient().send(
    new PutCommand({ TableName: table, Item: { ...deploymentKeys.endpoint(name), ...item } }),
  );
}

function invoke(name: string, body: unknown, headers: Record<string, string> = {}) {
  const event = apiEvent('POST', `/endpoints/${name}/invocations`, body, headers);
  event.pathParameters = { name };
  event.routeKey = 'POST /endpoints/{name}/invocations';
  return handler(event, lambdaContext);
}

let v1: string;
let v2: string;
let broken: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-serving-handlers-'));
  s3 = await startS3Emulator({ dataDir, port: 0 });
  raw = new S3Client({ ...LOCAL, endpoint: s3.endpoint, forcePathStyle: true });
  await raw.send(new CreateBucketCommand({ Bucket: BUCKET }));
  [v1, v2, broken] = await Promise.all([
    uploadModel('models/v1'),
    uploadModel('models/v2'),
    uploadModel('models/v3', true),
  ]);
  table = tableName('DeploymentsTable');
  useEmulators({
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    DEPLOYMENTS_TABLE_NAME: table,
    ARTIFACT_BUCKET_NAME: BUCKET,
    CAPTURE_SAMPLE_RATE: '1',
    CAPTURE_FLUSH_SECONDS: '1',
    // As the local runtime runs it: no SageMaker to forward to (see model-server-sagemaker.test.ts).
    SAGEMAKER_TARGET_ENABLED: 'false',
  });
  ({ handler } = (await import('../../functions/model-server.ts')) as unknown as { handler: Handler });
  ({ readVariantStats } = await import('../../shared/serving/variant-stats.ts'));
});

afterAll(async () => {
  raw?.destroy();
  await s3?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const COLUMNS = Array.from({ length: 10 }, (_, i) => `f${i}`);

describe('POST /endpoints/{name}/invocations', () => {
  it('answers all four MLflow formats with the primary version, reproducing expected.json', async () => {
    const name = `formats-${run}`;
    await putEndpoint(name, { primary: version('1', v1) });
    const bodies = [
      { inputs: EXPECTED.x },
      { instances: EXPECTED.x },
      { dataframe_split: { columns: COLUMNS, data: EXPECTED.x } },
      { dataframe_records: EXPECTED.x.map((row) => Object.fromEntries(row.map((v, i) => [COLUMNS[i], v]))) },
    ];
    for (const body of bodies) {
      const response = await invoke(name, body);
      expect(response.statusCode).toBe(200);
      expect(response.headers).toMatchObject({
        'x-runway-model-version': '1',
        'x-runway-variant': 'primary',
      });
      const { predictions } = JSON.parse(response.body) as { predictions: { p: number[][] } };
      predictions.p.forEach((row, i) => {
        expect(row[0]).toBeCloseTo(EXPECTED.expected[i]?.[0] as number, 6);
      });
    }
    const csv = await invoke(
      name,
      `${COLUMNS.join(',')}\n${EXPECTED.x.map((r) => r.join(',')).join('\n')}\n`,
      {
        'content-type': 'text/csv',
      },
    );
    expect(csv.statusCode).toBe(200);
  });

  it('answers 404 for an unknown or impossible endpoint, 503 before the first deploy, 501 for SageMaker without SageMaker', async () => {
    const missing = await invoke(`nobody-${run}`, { inputs: [[1]] });
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: `Endpoint 'nobody-${run}' does not exist`,
    });
    expect((await invoke('Not_A_Name', { inputs: [[1]] })).statusCode).toBe(404);
    await putEndpoint(`empty-${run}`, {});
    const empty = await invoke(`empty-${run}`, { inputs: EXPECTED.x });
    expect(empty.statusCode).toBe(503);
    expect(JSON.parse(empty.body)).toMatchObject({
      error_code: 'TEMPORARILY_UNAVAILABLE',
      message: expect.stringContaining('has no model version deployed yet (status Creating)'),
    });
    await putEndpoint(`sm-${run}`, { primary: version('1', v1) }, 'sagemaker');
    const sageMaker = await invoke(`sm-${run}`, { inputs: EXPECTED.x });
    expect(sageMaker.statusCode).toBe(501);
    expect(JSON.parse(sageMaker.body)).toEqual({
      error_code: 'NOT_IMPLEMENTED',
      message: `Endpoint 'sm-${run}' is served by SageMaker, which this runtime does not have`,
    });
  });

  it('answers 400 naming what is wrong, with the version that refused it', async () => {
    const name = `bad-${run}`;
    await putEndpoint(name, { primary: version('1', v1) });
    const shape = await invoke(name, { inputs: [[1, 2, 3]] });
    expect(shape.statusCode).toBe(400);
    expect(shape.headers['x-runway-model-version']).toBe('1');
    expect(JSON.parse(shape.body)).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: "Shape of input (1, 3) does not match expected shape (-1, 10) for input 'x'",
    });
    const format = await invoke(name, { data: [[1]] });
    expect(JSON.parse(format.body).error_code).toBe('BAD_REQUEST');
    expect((await invoke(name, 'a,b', { 'content-type': 'text/plain' })).statusCode).toBe(415);
  });

  it('splits traffic by the canary weight and follows a traffic shift within a second', async () => {
    const name = `canary-${run}`;
    await putEndpoint(name, { primary: version('1', v1), canary: version('2', v2), canaryWeight: 30 });
    let canary = 0;
    const n = 400;
    for (let i = 0; i < n; i++) {
      const response = await invoke(name, { inputs: EXPECTED.x });
      expect(response.statusCode).toBe(200);
      if (response.headers['x-runway-model-version'] === '2') {
        expect(response.headers['x-runway-variant']).toBe('canary');
        canary++;
      }
    }
    // Binomial(400, 0.3): mean 120, sd 9.2; five sd either way.
    expect(canary).toBeGreaterThan(74);
    expect(canary).toBeLessThan(166);

    await emulatorDocumentClient().send(
      new UpdateCommand({
        TableName: table,
        Key: deploymentKeys.endpoint(name),
        UpdateExpression: 'SET traffic = :t',
        ExpressionAttributeValues: {
          ':t': { primary: version('2', v2), canary: null, canaryWeight: 0, revision: 2 },
        },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1100));
    for (let i = 0; i < 20; i++) {
      expect((await invoke(name, { inputs: EXPECTED.x })).headers['x-runway-model-version']).toBe('2');
    }
  });

  it('counts each version: client errors apart from model errors, flushed to the table for the canary check', async () => {
    const name = `stats-${run}`;
    const since = Date.now();
    await putEndpoint(name, { primary: version('1', v1), canary: version('3', broken), canaryWeight: 50 });
    for (let i = 0; i < 60; i++)
      await invoke(name, i % 10 === 0 ? { inputs: [[1]] } : { inputs: EXPECTED.x });
    // The broken model (ONNX graph of 11 features) fails on valid input as MLflow's server does: 400 BAD_REQUEST.
    let sent = 60;
    const failing = await (async () => {
      for (;;) {
        const response = await invoke(name, { inputs: EXPECTED.x });
        sent++;
        if (response.headers['x-runway-model-version'] === '3') return response;
      }
    })();
    expect(failing.statusCode).toBe(400);
    expect(JSON.parse(failing.body)).toMatchObject({
      error_code: 'BAD_REQUEST',
      message: expect.stringContaining('evaluating the model'),
    });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await invoke(name, { inputs: EXPECTED.x }); // the invocation that finds the flush due
    sent++;

    const options = { tableName: table, client: emulatorDocumentClient() };
    const [primary, canary] = await Promise.all([
      readVariantStats(name, '1', since, options),
      readVariantStats(name, '3', since, options),
    ]);
    expect(primary.invocations + canary.invocations).toBe(sent);
    expect(primary.errors).toBe(0);
    expect(canary.errors).toBeGreaterThan(0);
    // Every valid request to version 3 fails; the ones with a bad shape are refused before the model runs.
    expect(canary.errors + canary.clientErrors).toBe(canary.invocations);
    expect(primary.clientErrors + canary.clientErrors).toBe(6);
    expect(primary.p99LatencyMs).toBeGreaterThan(0);
  });

  it('captures invocations as JSON lines under serving-capture/<endpoint>/<yyyy>/<mm>/<dd>/<hh>/', async () => {
    const name = `capture-${run}`;
    await putEndpoint(name, { primary: version('1', v1) });
    const first = await invoke(name, JSON.stringify({ inputs: EXPECTED.x }, null, 2));
    const inferenceId = first.headers['x-runway-inference-id'] as string;
    // A UUIDv7 whose time is the invocation's.
    expect(inferenceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Math.abs(inferenceTimeOf(inferenceId)! - Date.now())).toBeLessThan(60_000);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await invoke(name, { inputs: [[1]] });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await invoke(name, { inputs: EXPECTED.x });
    const listed = await raw.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `serving-capture/${name}/` }),
    );
    const keys = (listed.Contents ?? []).map((object) => object.Key as string);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys[0]).toMatch(
      new RegExp(`^serving-capture/${name}/\\d{4}/\\d{2}/\\d{2}/\\d{2}/\\d{13}-[0-9a-f]{8}-\\d+\\.jsonl$`),
    );
    const lines = await readCaptureLines(raw, BUCKET, keys);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatchObject({
      inferenceId,
      endpoint: name,
      version: '1',
      variant: 'primary',
      status: 200,
      contentType: 'application/json',
      request: { inputs: EXPECTED.x },
      response: { predictions: { p: expect.any(Array) } },
    });
    expect(lines[1]).toMatchObject({
      status: 400,
      request: { inputs: [[1]] },
      response: { error_code: 'INVALID_PARAMETER_VALUE' },
    });
    expect(lines[1]?.inferenceId).not.toBe(inferenceId);
  });

  it("captures nothing of an endpoint whose own capture_sample_rate is 0, whatever the server's rate", async () => {
    const name = `nocapture-${run}`;
    await putEndpoint(name, { primary: version('1', v1) }, 'lambda', { captureSampleRate: 0 });
    const answered = await invoke(name, { inputs: EXPECTED.x });
    expect(answered.statusCode).toBe(200);
    expect(answered.headers['x-runway-inference-id']).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await invoke(name, { inputs: EXPECTED.x });
    const listed = await raw.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `serving-capture/${name}/` }),
    );
    expect(listed.Contents ?? []).toEqual([]);
  });

  it("serves models saved with external data, MLflow 3's default: the tensors read from the data file beside model.onnx", async () => {
    // The fixture's logistic regression, every tensor in `<uuid>.data` (threshold 0): expected.json holds.
    const logreg = await uploadModelWith('models/external-logreg', (fixtureOnnx) =>
      denseNetworkWithExternalData(10, consistentLogregLayers(fixtureOnnx), {
        location: '5b0e3a52-0000-11f1-8000-02fc00000001.data',
        threshold: 0,
      }),
    );
    const name = `external-${run}`;
    await putEndpoint(name, { primary: version('1', logreg) });
    const answer = await invoke(name, { inputs: EXPECTED.x });
    expect(answer.statusCode).toBe(200);
    const { predictions } = JSON.parse(answer.body) as { predictions: { p: number[][] } };
    predictions.p.forEach((row, i) => {
      expect(row[0]).toBeCloseTo(EXPECTED.expected[i]?.[0] as number, 6);
    });

    // A network of a few MB (weights over the 1 KB threshold in the data file, biases inline): the same
    // answers as the same network saved whole.
    const layers = randomMlpLayers(256, [1024, 1024], 3);
    const whole = await uploadModelWith(
      'models/mlp-whole',
      () => ({ onnx: denseNetworkOnnx(256, layers) }),
      256,
    );
    const split = await uploadModelWith(
      'models/mlp-external',
      () =>
        denseNetworkWithExternalData(256, layers, { location: 'a1b2c3d4-0000-11f1-8000-02fc00000001.data' }),
      256,
    );
    await putEndpoint(`mlp-whole-${run}`, { primary: version('1', whole) });
    await putEndpoint(`mlp-external-${run}`, { primary: version('1', split) });
    const x = Array.from({ length: 4 }, (_, row) =>
      Array.from({ length: 256 }, (_, i) => Math.sin(row * 256 + i)),
    );
    const [a, b] = await Promise.all([
      invoke(`mlp-whole-${run}`, { inputs: x }),
      invoke(`mlp-external-${run}`, { inputs: x }),
    ]);
    expect(b.statusCode).toBe(200);
    expect(JSON.parse(b.body)).toEqual(JSON.parse(a.body));
  });

  it('answers 500 naming the data file a model saved with external data is missing', async () => {
    const location = 'c0ffee00-0000-11f1-8000-02fc00000001.data';
    const storage = await uploadModelWith(
      'models/external-missing',
      (fixtureOnnx) =>
        denseNetworkWithExternalData(10, consistentLogregLayers(fixtureOnnx), { location, threshold: 0 }),
      10,
      { withoutData: true },
    );
    const name = `external-missing-${run}`;
    await putEndpoint(name, { primary: version('1', storage) });
    const answer = await invoke(name, { inputs: EXPECTED.x });
    expect(answer.statusCode).toBe(500);
    expect(JSON.parse(answer.body)).toEqual({
      error_code: 'INTERNAL_ERROR',
      message: `The ONNX tensor 'w0' of model.onnx is stored in ${location}, which is missing from ${storage}`,
    });
  });
});
