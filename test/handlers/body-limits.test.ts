import { beforeAll, describe, expect, it } from 'vitest';
import { PayloadTooLargeError } from '../../shared/platform/errors.ts';
import {
  DEFAULT_MAX_BODY_BYTES,
  MAX_JSON_BODY_BYTES,
  maxBodyBytesOf,
} from '../../shared/platform/http/body-limit.ts';
import { errorResponse } from '../../shared/platform/http/error-response.ts';
import type { HttpRequest } from '../../shared/platform/http/http-request.ts';
import type { Operation } from '../../shared/platform/http/operation.ts';
import { API_PREFIXES, Router } from '../../shared/platform/http/router.ts';
import { MAX_INLINE_BYTES } from '../../shared/tracking/artifacts/model.ts';
import { RUN_LIMITS } from '../../shared/tracking/run.model.ts';
import { apiEvent, lambdaContext } from '../support/api-event.ts';
import { type ApiHandler, unique } from '../support/handler-call.ts';
import { tableName, useEmulators } from '../support/handler-env.ts';

let tracking: ApiHandler;
let operations: Record<string, Operation[]>;

beforeAll(async () => {
  useEmulators({
    TRACKING_TABLE_NAME: tableName('TrackingTable'),
    REGISTRY_TABLE_NAME: tableName('RegistryTable'),
    DEPLOYMENTS_TABLE_NAME: tableName('DeploymentsTable'),
    // Only read into configuration: no request of this file reaches the bus.
    EVENT_BUS_NAME: 'runway-body-limits',
    SAGEMAKER_TARGET_ENABLED: 'false',
    ARTIFACT_BUCKET_NAME: process.env.ARTIFACT_BUCKET_NAME ?? 'runway-body-limits',
  });
  ({ handler: tracking } = (await import('../../functions/tracking-api.ts')) as unknown as {
    handler: ApiHandler;
  });
  const { apiOperations } = await import('../support/api-operations.ts');
  operations = await apiOperations();
});

/** Sends `body` as it is (no re-serialization), so its size is exactly what the test says. */
async function send(path: string, body: string) {
  const response = await tracking(apiEvent('POST', `/api/2.0/mlflow/${path}`, body), lambdaContext);
  return { status: response.statusCode, json: JSON.parse(response.body) };
}

/** `json` padded with trailing whitespace (valid JSON) to exactly `size` bytes. */
function padded(json: unknown, size: number): string {
  const text = JSON.stringify(json);
  expect(Buffer.byteLength(text)).toBeLessThanOrEqual(size);
  return text + ' '.repeat(size - Buffer.byteLength(text));
}

async function newRun(): Promise<string> {
  const experiment = await send('experiments/create', JSON.stringify({ name: unique('limits') }));
  const run = await send('runs/create', JSON.stringify({ experiment_id: experiment.json.experiment_id }));
  return run.json.run.info.run_id;
}

describe('body limits: every route', () => {
  it('has a declared or the default limit, within what a Lambda event carries', () => {
    const all = Object.values(operations).flat();
    expect(all.length).toBeGreaterThan(100);
    for (const operation of all) {
      const limit = maxBodyBytesOf(operation);
      expect(Number.isSafeInteger(limit) && limit > 0, `${operation.method} ${operation.path}`).toBe(true);
      // The raw artifact upload is bytes (base64 in the event); every other route is JSON.
      const ceiling =
        operation.source === 'query' && operation.method === 'PUT' ? MAX_INLINE_BYTES : MAX_JSON_BODY_BYTES;
      expect(limit, `${operation.method} ${operation.path}`).toBeLessThanOrEqual(ceiling);
    }
    // The routes that accept more than the default, and why (see each route's comment).
    const larger = all
      .filter((operation) => maxBodyBytesOf(operation) > DEFAULT_MAX_BODY_BYTES)
      .map((operation) => `${operation.method} ${operation.path}`)
      .sort();
    expect(larger).toEqual([
      // OTLP span export: 4 MiB of protobuf, about what a Lambda event carries as binary (docs/traces.md).
      'POST /v1/traces',
      'POST mlflow-artifacts/mpu/complete/{artifact_path+}',
      'POST mlflow/runs/log-inputs',
      'PUT mlflow-artifacts/artifacts/{artifact_path+}',
    ]);
  });

  it('refuses one byte over the limit with 413 before reading the body, on every route of every API', () => {
    for (const [api, list] of Object.entries(operations)) {
      const router = new Router(list);
      for (const operation of list) {
        const limit = maxBodyBytesOf(operation);
        // Not even JSON: the size is checked before the body is parsed.
        const request: HttpRequest = {
          method: operation.method,
          path: concretePath(operation.path),
          query: {},
          headers: { 'content-type': 'application/json' },
          body: undefined,
          rawBody: Buffer.alloc(limit + 1, 0x5b),
          requestId: 'r',
          pathParameters: {},
        };
        const where = `${api}: ${operation.method} ${operation.path}`;
        let thrown: unknown;
        try {
          router.resolve(request);
        } catch (error) {
          thrown = error;
        }
        // MLflow's own answer where it defines one (log-batch: 400), otherwise 413; both name the sizes.
        if (!operation.bodyTooLarge) expect(thrown, where).toBeInstanceOf(PayloadTooLargeError);
        const response = errorResponse(thrown, 'r');
        expect(response.statusCode, where).toBe(operation.bodyTooLarge ? 400 : 413);
        const body = JSON.parse(response.body);
        expect(body.error_code, where).toBe('INVALID_PARAMETER_VALUE');
        expect(body.message, where).toContain(String(limit + 1));
        expect(body.message, where).toContain(String(limit));
        if (!operation.bodyTooLarge) {
          expect(body.message, where).toContain(
            `The request body is ${limit + 1} bytes; ${operation.method} ${operation.path} accepts at most ${limit} bytes`,
          );
        }
      }
    }
  });
});

describe('body limits: tracking handler', () => {
  it('accepts a 1 MiB experiments/create and refuses one byte more with 413, never a 500', async () => {
    const atLimit = await send('experiments/create', padded({ name: unique('at') }, DEFAULT_MAX_BODY_BYTES));
    expect(atLimit.status).toBe(200);
    expect(atLimit.json.experiment_id).toEqual(expect.any(String));
    const over = await send(
      'experiments/create',
      padded({ name: unique('over') }, DEFAULT_MAX_BODY_BYTES + 1),
    );
    expect(over.status).toBe(413);
    expect(over.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: `The request body is ${DEFAULT_MAX_BODY_BYTES + 1} bytes; POST mlflow/experiments/create accepts at most ${DEFAULT_MAX_BODY_BYTES} bytes.`,
    });
  });

  it("answers log-batch over MLflow's 1,000,000 bytes as MLflow does (400), whatever the size, before parsing", async () => {
    const runId = await newRun();
    const batch = { run_id: runId, params: [{ key: 'p', value: 'v' }] };
    expect((await send('runs/log-batch', padded(batch, RUN_LIMITS.batchBytes))).status).toBe(200);
    for (const size of [RUN_LIMITS.batchBytes + 1, 3 * DEFAULT_MAX_BODY_BYTES]) {
      const refused = await send('runs/log-batch', padded(batch, size));
      expect(refused).toEqual({
        status: 400,
        json: {
          error_code: 'INVALID_PARAMETER_VALUE',
          message: `Batched logging API requests must be at most ${RUN_LIMITS.batchBytes} bytes, got a request of size ${size}.`,
        },
      });
    }
    // Not even JSON: refused by its size alone.
    expect((await send('runs/log-batch', '['.repeat(RUN_LIMITS.batchBytes + 1))).status).toBe(400);
  });

  it('accepts a 4 MiB log-inputs (datasets with large schemas) and refuses one byte more', async () => {
    const runId = await newRun();
    const schema = JSON.stringify({ mlflow_colspec: [{ type: 'double', name: 'x'.repeat(300_000) }] });
    const dataset = (digest: string) => ({
      dataset: { name: 'big', digest, source_type: 'local', source: '{"uri":"x"}', schema },
    });
    const inputs = { run_id: runId, datasets: [dataset('d1')] };
    const atLimit = await send('runs/log-inputs', padded(inputs, MAX_JSON_BODY_BYTES));
    expect(atLimit.status).toBe(200);
    const got = await tracking(apiEvent('GET', `/api/2.0/mlflow/runs/get?run_id=${runId}`), lambdaContext);
    const logged = JSON.parse(got.body).run.inputs.dataset_inputs;
    expect(logged.map((input: { dataset: { schema: string } }) => input.dataset.schema)).toEqual([schema]);
    const over = await send('runs/log-inputs', padded(inputs, MAX_JSON_BODY_BYTES + 1));
    expect(over.status).toBe(413);
    expect(over.json.message).toContain(`runs/log-inputs accepts at most ${MAX_JSON_BODY_BYTES} bytes`);
    // Ten such datasets in one request (3 MB) are stored too: the route's limit is not one item's.
    const many = Array.from({ length: 10 }, (_, i) => dataset(`m${i}`));
    expect((await send('runs/log-inputs', JSON.stringify({ run_id: runId, datasets: many }))).status).toBe(
      200,
    );
  });

  it('refuses a dataset too large for one stored item with 400, never a 500', async () => {
    const runId = await newRun();
    // Within MLflow's 1 MB schema limit, beyond what one DynamoDB item holds.
    const schema = JSON.stringify({ mlflow_colspec: [{ type: 'double', name: 'x'.repeat(900_000) }] });
    const refused = await send(
      'runs/log-inputs',
      JSON.stringify({
        run_id: runId,
        datasets: [{ dataset: { name: 'huge', digest: 'd', source_type: 'local', source: '{}', schema } }],
      }),
    );
    expect(refused.status).toBe(400);
    expect(refused.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(refused.json.message).toContain('Runway stores at most 350000 bytes per dataset input');
  });

  it('counts the decoded bytes of a base64-encoded body, not its encoding', async () => {
    const body = padded({ name: unique('b64') }, DEFAULT_MAX_BODY_BYTES);
    const event = apiEvent('POST', '/api/2.0/mlflow/experiments/create', undefined, {
      'content-type': 'application/json',
    });
    event.body = Buffer.from(body).toString('base64');
    event.isBase64Encoded = true;
    // 1 MiB of JSON is about 1.33 MiB of base64: still accepted.
    expect(event.body.length).toBeGreaterThan(DEFAULT_MAX_BODY_BYTES);
    expect((await tracking(event, lambdaContext)).statusCode).toBe(200);
    event.body = Buffer.from(`${body} `).toString('base64');
    expect((await tracking(event, lambdaContext)).statusCode).toBe(413);
  });

  it('counts bytes, not characters, of a UTF-8 body', async () => {
    // 'é' is two bytes: a body under the limit in characters but over it in bytes is refused.
    const name = 'é'.repeat(DEFAULT_MAX_BODY_BYTES / 2);
    const over = await send('experiments/create', JSON.stringify({ name }));
    expect(JSON.stringify({ name }).length).toBeLessThan(DEFAULT_MAX_BODY_BYTES + 20);
    expect(over.status).toBe(413);
    expect(over.json.message).toContain(`is ${Buffer.byteLength(JSON.stringify({ name }))} bytes`);
  });
});

/** A path the route matches: a sample value in each variable, under the first API prefix. */
function concretePath(pattern: string): string {
  const filled = pattern
    .split('/')
    .map((segment) => (segment.endsWith('+}') ? 'a/b' : segment.startsWith('{') ? 'x' : segment))
    .join('/');
  return pattern.startsWith('/') ? filled : `${API_PREFIXES[0]}${filled}`;
}
