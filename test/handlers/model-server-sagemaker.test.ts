import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type S3Emulator, startS3Emulator } from '../../infra/local/emulators/s3.ts';
import { sageMakerEndpointName } from '../../shared/deployments/deploy/sagemaker-plan.ts';
import { deploymentKeys } from '../../shared/deployments/keys.ts';
import type { Endpoint, Traffic } from '../../shared/deployments/model.ts';
import { apiEvent, lambdaContext } from '../support/api-event.ts';
import { readCaptureLines } from '../support/capture.ts';
import type { ApiHandler } from '../support/handler-call.ts';
import { emulatorDocumentClient, tableName, useEmulators } from '../support/handler-env.ts';

/**
 * The model server forwarding SageMaker-target endpoints, against a fake SageMaker Runtime that
 * checks each InvokeEndpoint request's shape and answers as SageMaker does (restJson1: the error's
 * type in `x-amzn-ErrorType`, its fields in the JSON body). There is no SageMaker emulator.
 */

const BUCKET = 'runway-serving-sagemaker-test';
const LOCAL = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const run = Date.now();

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Answer = { status: number; headers?: Record<string, string | undefined>; body: string };

let handler: ApiHandler;
let readVariantStats: typeof import('../../shared/serving/variant-stats.ts').readVariantStats;
let fake: Server;
let received: Received[] = [];
let answer: (request: Received) => Answer;
let s3: S3Emulator;
let raw: S3Client;
let dataDir: string;
let table: string;

async function putEndpoint(name: string, traffic: Partial<Traffic>) {
  const now = Date.now();
  const item: Endpoint = {
    name,
    modelName: 'churn',
    follows: { alias: 'production' },
    target: 'sagemaker',
    rolloutPolicy: {
      trafficSteps: [10, 100],
      bakeSeconds: 60,
      maxErrorRate: 0.01,
      maxLatencyMs: 1000,
      minInvocations: 0,
    },
    traffic: { primary: null, canary: null, canaryWeight: 0, revision: 1, ...traffic },
    sagemaker: { instanceType: 'ml.m5.large', initialInstanceCount: 1 },
    status: 'InService',
    createdAt: now,
    updatedAt: now,
  } as Endpoint;
  await emulatorDocumentClient().send(
    new PutCommand({ TableName: table, Item: { ...deploymentKeys.endpoint(name), ...item } }),
  );
}

function invoke(name: string, body: string, contentType = 'application/json') {
  const event = apiEvent('POST', `/endpoints/${name}/invocations`, body, { 'content-type': contentType });
  event.pathParameters = { name };
  event.routeKey = 'POST /endpoints/{name}/invocations';
  return handler(event, lambdaContext);
}

const primary = (version: string) => ({
  version,
  storageLocation: `s3://${BUCKET}/m/${version}`,
  deploymentId: `d-${version}`,
});
/** An error as SageMaker Runtime answers it (restJson1): its type in a header, its fields in the body. */
const awsError = (status: number, type: string, fields: Record<string, unknown>): Answer => ({
  status,
  headers: { 'content-type': 'application/json', 'x-amzn-ErrorType': type },
  body: JSON.stringify(fields),
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  fake = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const seen: Received = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks),
      };
      received.push(seen);
      const { status, headers, body } = answer(seen);
      response.writeHead(status, { 'x-amzn-requestid': 'fake-request', ...headers });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-serving-sagemaker-'));
  s3 = await startS3Emulator({ dataDir, port: 0 });
  raw = new S3Client({ ...LOCAL, endpoint: s3.endpoint, forcePathStyle: true });
  await raw.send(new CreateBucketCommand({ Bucket: BUCKET }));
  table = tableName('DeploymentsTable');
  useEmulators({
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`,
    DEPLOYMENTS_TABLE_NAME: table,
    ARTIFACT_BUCKET_NAME: BUCKET,
    CAPTURE_SAMPLE_RATE: '1',
    CAPTURE_FLUSH_SECONDS: '1',
  });
  ({ handler } = (await import('../../functions/model-server.ts')) as unknown as { handler: ApiHandler });
  ({ readVariantStats } = await import('../../shared/serving/variant-stats.ts'));
});

afterAll(async () => {
  await new Promise((resolve) => fake?.close(resolve));
  raw?.destroy();
  await s3?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  received = [];
});

describe('POST /endpoints/{name}/invocations on a SageMaker endpoint', () => {
  it('forwards the body byte for byte, signed, to runway-<name>, and answers what SageMaker answers', async () => {
    const name = `ok-${run}`;
    await putEndpoint(name, { primary: primary('4') });
    answer = () => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"predictions": [[0.65]]}',
    });
    // Odd spacing, unicode and a trailing newline: nothing is re-serialized on the way.
    const body = '{"inputs":  [[0.36, 0.11]], "params": {"note": "héllo ✓"}}\n';
    const response = await invoke(name, body);
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('{"predictions": [[0.65]]}');
    expect(response.headers).toMatchObject({
      'content-type': 'application/json',
      'x-runway-model-version': '4',
      'x-runway-variant': 'primary',
    });
    expect(received).toHaveLength(1);
    const [request] = received as [Received];
    expect(request.method).toBe('POST');
    expect(request.path).toBe(`/endpoints/${sageMakerEndpointName(name)}/invocations`);
    expect(request.path).toBe(`/endpoints/runway-${name}/invocations`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.accept).toBe('application/json');
    expect(request.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/us-east-1\/sagemaker\/aws4_request, SignedHeaders=.+, Signature=[0-9a-f]{64}$/,
    );

    // CSV in, CSV out, with SageMaker's content type.
    answer = () => ({ status: 200, headers: { 'content-type': 'text/csv' }, body: '0.65\n0.12\n' });
    const csv = await invoke(name, 'f0,f1\n0.36,0.11\n1,2\n', 'text/csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toBe('0.65\n0.12\n');
    expect(csv.headers['content-type']).toBe('text/csv');
    expect(received[1]?.headers['content-type']).toBe('text/csv');
    expect(received[1]?.body.toString('utf8')).toBe('f0,f1\n0.36,0.11\n1,2\n');
  });

  it("answers the container's 4xx as 400 with its message, truncated", async () => {
    const name = `model-error-${run}`;
    await putEndpoint(name, { primary: primary('2') });
    const original = `{"error_code": "BAD_REQUEST", "message": "Invalid input. ${'x'.repeat(3000)}"}`;
    answer = () =>
      awsError(424, 'ModelError', {
        ErrorCode: 'CLIENT_ERROR_FROM_MODEL',
        LogStreamArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/runway-x',
        Message: `Received client error (400) from primary with message "${original}". See https://... in account 123456789012 for more information.`,
        OriginalMessage: original,
        OriginalStatusCode: 400,
      });
    const response = await invoke(name, '{"inputs": [[1]]}');
    expect(response.statusCode).toBe(400);
    expect(response.headers['x-runway-model-version']).toBe('2');
    const error = JSON.parse(response.body) as { error_code: string; message: string };
    expect(error.error_code).toBe('BAD_REQUEST');
    expect(error.message).toMatch(
      /^The model refused the input \(status 400\): \{"error_code": "BAD_REQUEST", "message": "Invalid input\. x+\.\.\. \(truncated\)$/,
    );
    expect(error.message.length).toBeLessThan(1100);
    expect(response.body).not.toContain('123456789012');

    // A container failing (5xx) is the model's error, not the caller's.
    answer = () =>
      awsError(424, 'ModelError', {
        Message: 'Received server error (500)',
        OriginalMessage: 'boom',
        OriginalStatusCode: 500,
      });
    const failed = await invoke(name, '{"inputs": [[1]]}');
    expect(failed.statusCode).toBe(500);
    expect(JSON.parse(failed.body)).toEqual({
      error_code: 'INTERNAL_ERROR',
      message: 'The model failed (status 500): boom',
    });
  });

  it('answers 503 with Retry-After while the SageMaker endpoint does not exist yet, or is throttled', async () => {
    const name = `missing-${run}`;
    await putEndpoint(name, {});
    answer = () =>
      awsError(400, 'ValidationError', {
        message: `Endpoint runway-${name} of account 123456789012 not found.`,
      });
    const missing = await invoke(name, '{"inputs": [[1]]}');
    expect(missing.statusCode).toBe(503);
    expect(missing.headers['retry-after']).toBe('5');
    expect(missing.headers['x-runway-model-version']).toBe('sagemaker');
    expect(JSON.parse(missing.body)).toEqual({
      error_code: 'TEMPORARILY_UNAVAILABLE',
      message: `Endpoint '${name}' is not deployed on SageMaker yet; retry once its first deployment has finished`,
    });

    answer = () =>
      awsError(400, 'ValidationError', {
        message:
          'Request body size 7340033 exceeds the maximum of 6291456 for arn:aws:sagemaker:us-east-1:123456789012:endpoint/x',
      });
    const invalid = await invoke(name, '{"inputs": [[1]]}');
    expect(invalid.statusCode).toBe(400);
    expect(JSON.parse(invalid.body).message).toBe(
      'SageMaker refused the request: Request body size 7340033 exceeds the maximum of 6291456 for <arn>',
    );

    received = [];
    answer = () => awsError(400, 'ThrottlingException', { message: 'Rate exceeded' });
    const throttled = await invoke(name, '{"inputs": [[1]]}');
    expect(throttled.statusCode).toBe(503);
    expect(throttled.headers['retry-after']).toBe('1');
    expect(JSON.parse(throttled.body).error_code).toBe('TEMPORARILY_UNAVAILABLE');
    // One retry by the SDK, then the caller is answered rather than kept waiting.
    expect(received).toHaveLength(2);

    answer = () =>
      awsError(403, 'AccessDeniedException', {
        message:
          'User: arn:aws:sts::123456789012:assumed-role/ModelServer/fn is not authorized to perform: sagemaker:InvokeEndpoint',
      });
    const denied = await invoke(name, '{"inputs": [[1]]}');
    expect(denied.statusCode).toBe(502);
    expect(JSON.parse(denied.body)).toEqual({
      error_code: 'INTERNAL_ERROR',
      message: `SageMaker could not invoke the endpoint for '${name}' (AccessDeniedException)`,
    });
  });

  it('counts and captures SageMaker invocations under the primary version', async () => {
    const name = `stats-${run}`;
    const since = Date.now();
    await putEndpoint(name, { primary: primary('7') });
    let n = 0;
    answer = () =>
      ++n % 4 === 0
        ? awsError(424, 'ModelError', { OriginalMessage: 'bad input', OriginalStatusCode: 400 })
        : { status: 200, headers: { 'content-type': 'application/json' }, body: '{"predictions": [1]}' };
    for (let i = 0; i < 8; i++) await invoke(name, '{"inputs": [[1]]}');
    await sleep(1100);
    answer = () => ({ status: 200, headers: { 'content-type': 'text/csv' }, body: '1\n' });
    await invoke(name, 'a\n1\n', 'text/csv'); // finds the flush due

    const stats = await readVariantStats(name, '7', since, {
      tableName: table,
      client: emulatorDocumentClient(),
    });
    expect(stats.invocations).toBe(9);
    expect(stats.clientErrors).toBe(2);
    expect(stats.errors).toBe(0);
    expect(stats.p99LatencyMs).toBeGreaterThan(0);

    await sleep(1100);
    await invoke(name, 'a\n1\n', 'text/csv');
    const listed = await raw.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `serving-capture/${name}/` }),
    );
    const lines = await readCaptureLines(
      raw,
      BUCKET,
      (listed.Contents ?? []).map((object) => object.Key),
    );
    expect(lines.length).toBeGreaterThanOrEqual(9);
    expect(lines[0]).toMatchObject({
      endpoint: name,
      version: '7',
      variant: 'primary',
      status: 200,
      request: { inputs: [[1]] },
      response: { predictions: [1] },
    });
    expect(lines[3]).toMatchObject({ status: 400, response: { error_code: 'BAD_REQUEST' } });
    expect(lines[8]).toMatchObject({
      status: 200,
      contentType: 'text/csv',
      request: 'a\n1\n',
      response: '1\n',
    });
  });
});
