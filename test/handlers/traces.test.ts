import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3Emulator, startS3Emulator } from '../../infra/local/emulators/s3.ts';
import type { Permission } from '../../shared/access/permissions.ts';
import { apiEvent, lambdaContext } from '../support/api-event.ts';
import { type ApiHandler, unique } from '../support/handler-call.ts';
import { tableName, useEmulators } from '../support/handler-env.ts';

/**
 * The traces function (MLflow 3 tracing) through its real handler, against the DynamoDB and S3
 * emulators, with the tracking and access functions beside it for experiments, runs and grants:
 * the trace filter grammar, ordering, paging and every limit, span storage (OTLP parts and the
 * client's traces.json), assessments, and access by the experiment's permissions.
 */

const BUCKET = 'runway-traces-handler-test';
const LOCAL = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const FIXTURE = JSON.parse(
  readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/mlflow3/otlp-3.11.1.json'),
    'utf8',
  ),
) as {
  requests: Array<{ protobufBase64: string; otelSpanJson: unknown[]; mlflowSpans: string[] }>;
};

let traces: ApiHandler;
let tracking: ApiHandler;
let access: ApiHandler;
let s3: S3Emulator;
let s3Dir: string;
let raw: S3Client;

beforeAll(async () => {
  s3Dir = mkdtempSync(path.join(tmpdir(), 'runway-traces-'));
  s3 = await startS3Emulator({ dataDir: s3Dir, port: 0 });
  raw = new S3Client({ ...LOCAL, endpoint: s3.endpoint, forcePathStyle: true });
  await raw.send(new CreateBucketCommand({ Bucket: BUCKET }));
  useEmulators({
    TRACKING_TABLE_NAME: tableName('TrackingTable'),
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    ARTIFACT_BUCKET_NAME: BUCKET,
  });
  traces = (await import('../../functions/traces-api.ts')).handler as unknown as ApiHandler;
  tracking = (await import('../../functions/tracking-api.ts')).handler as unknown as ApiHandler;
  access = (await import('../../functions/access-api.ts')).handler as unknown as ApiHandler;
});

afterAll(async () => {
  raw?.destroy();
  await s3?.stop();
  if (s3Dir) rmSync(s3Dir, { recursive: true, force: true });
});

interface Caller {
  user: string;
  ceiling?: Permission;
}

interface Options {
  caller?: Caller;
  headers?: Record<string, string>;
  /** A binary body (OTLP protobuf), sent base64-encoded as API Gateway does. */
  bytes?: Buffer;
}

/** One request to the function that owns the path; without `caller`, the admin IAM caller. */
async function call(method: string, target: string, body?: unknown, options: Options = {}) {
  const event = apiEvent(method, target, body, options.headers);
  if (options.bytes) {
    event.body = options.bytes.toString('base64');
    event.isBase64Encoded = true;
  }
  if (options.caller) {
    (event.requestContext as { authorizer?: unknown }).authorizer = {
      lambda: { user: options.caller.user, admin: false, ceiling: options.caller.ceiling ?? 'MANAGE' },
    };
  }
  const handler = /\/v1\/traces|mlflow\/traces|get-trace-artifact/.test(target)
    ? traces
    : /permissions\//.test(target)
      ? access
      : tracking;
  const response = await handler(event, lambdaContext);
  const text = Buffer.from(
    response.body ?? '',
    (response as { isBase64Encoded?: boolean }).isBase64Encoded ? 'base64' : 'utf8',
  );
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text.toString('utf8')) : undefined;
  } catch {
    json = undefined;
  }
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the handler answered.
  return { status: response.statusCode, headers: response.headers, text, json: json as any };
}

const v3 = (route: string) => `/api/3.0/mlflow/${route}`;
const v2 = (route: string) => `/api/2.0/mlflow/${route}`;
const newTraceId = () => `tr-${randomBytes(16).toString('hex')}`;

async function experiment(caller?: Caller): Promise<string> {
  const created = await call('POST', v2('experiments/create'), { name: unique('traces') }, { caller });
  expect(created.status, JSON.stringify(created.json)).toBe(200);
  return created.json.experiment_id as string;
}

interface TraceSpec {
  id?: string;
  time: number;
  duration?: number;
  state?: string;
  tags?: Record<string, string>;
  metadata?: Record<string, string>;
  clientRequestId?: string;
}

/** `StartTraceV3` as the MLflow 3 client sends it. */
function startBody(experimentId: string, spec: TraceSpec) {
  return {
    trace: {
      trace_info: {
        trace_id: spec.id ?? newTraceId(),
        ...(spec.clientRequestId ? { client_request_id: spec.clientRequestId } : {}),
        trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
        request_time: new Date(spec.time).toISOString(),
        ...(spec.duration === undefined ? {} : { execution_duration: `${spec.duration / 1000}s` }),
        state: spec.state ?? 'OK',
        trace_metadata: spec.metadata ?? {},
        tags: spec.tags ?? {},
      },
    },
  };
}

async function startTrace(experimentId: string, spec: TraceSpec, caller?: Caller): Promise<string> {
  const started = await call('POST', v3('traces'), startBody(experimentId, spec), { caller });
  expect(started.status, JSON.stringify(started.json)).toBe(200);
  return started.json.trace.trace_info.trace_id as string;
}

async function search(experimentIds: string[], extra: Record<string, unknown> = {}, caller?: Caller) {
  return call(
    'POST',
    v3('traces/search'),
    {
      locations: experimentIds.map((id) => ({
        type: 'MLFLOW_EXPERIMENT',
        mlflow_experiment: { experiment_id: id },
      })),
      max_results: 100,
      ...extra,
    },
    { caller },
  );
}

const idsOf = (answer: { json: { traces?: Array<{ trace_id: string }> } }) =>
  (answer.json.traces ?? []).map((trace) => trace.trace_id);

/** An OTLP/JSON export request of spans. */
function otlpJson(spans: Array<Record<string, unknown>>) {
  return JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
}

function otlpSpan(
  traceHex: string,
  spanHex: string,
  options: {
    parent?: string;
    name?: string;
    start: bigint;
    end?: bigint;
    attributes?: unknown[];
    status?: number;
  },
) {
  return {
    traceId: traceHex,
    spanId: spanHex,
    ...(options.parent ? { parentSpanId: options.parent } : {}),
    name: options.name ?? 'span',
    startTimeUnixNano: options.start.toString(),
    ...(options.end ? { endTimeUnixNano: options.end.toString() } : {}),
    attributes: options.attributes ?? [],
    status: { code: options.status ?? 1 },
  };
}

async function ingest(experimentId: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const binary = Buffer.isBuffer(body);
  return call('POST', '/v1/traces', undefined, {
    headers: {
      'content-type': binary ? 'application/x-protobuf' : 'application/json',
      'x-mlflow-experiment-id': experimentId,
      ...headers,
    },
    bytes: binary ? body : Buffer.from(body, 'utf8'),
  });
}

async function storedKeys(prefix: string): Promise<string[]> {
  const listed = await raw.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key as string).sort();
}

// ---------------------------------------------------------------------------------------------

describe('traces: creating and reading', () => {
  it('stores the info StartTraceV3 sends and answers it in MLflow’s shapes (V3 and V2)', async () => {
    const experimentId = await experiment();
    const id = newTraceId();
    const started = await call(
      'POST',
      v3('traces'),
      startBody(experimentId, {
        id,
        time: 1_700_000_000_123,
        duration: 45,
        tags: { 'mlflow.traceName': 'predict', team: 'x' },
        metadata: { 'mlflow.user': 'ana' },
        clientRequestId: 'req-1',
      }),
    );
    expect(started.status).toBe(200);
    const info = started.json.trace.trace_info;
    expect(info).toEqual({
      trace_id: id,
      client_request_id: 'req-1',
      trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
      request_time: '2023-11-14T22:13:20.123Z',
      execution_duration: '0.045s',
      state: 'OK',
      trace_metadata: { 'mlflow.user': 'ana' },
      tags: {
        'mlflow.traceName': 'predict',
        team: 'x',
        'mlflow.artifactLocation': `mlflow-artifacts:/${experimentId}/traces/${id}/artifacts`,
      },
    });
    expect((await call('GET', v3(`traces/${id}`))).json).toEqual({ trace: { trace_info: info } });
    // MLflow 3's client reads tags through the 2.0 path; MLflow 2.x reads TraceInfo V2.
    expect((await call('GET', `/ajax-api/3.0/mlflow/traces/${id}`)).json.trace.trace_info).toEqual(info);
    const v2info = (await call('GET', v2(`traces/${id}/info`))).json.trace_info;
    expect(v2info).toEqual({
      request_id: id,
      experiment_id: experimentId,
      timestamp_ms: 1_700_000_000_123,
      execution_time_ms: 45,
      status: 'OK',
      request_metadata: [{ key: 'mlflow.user', value: 'ana' }],
      tags: expect.arrayContaining([{ key: 'team', value: 'x' }]),
    });
    const missing = await call('GET', v3(`traces/${newTraceId()}`));
    expect(missing.status).toBe(404);
    expect(missing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('refuses traces of unknown or deleted experiments, and a trace id moving experiments', async () => {
    const unknown = await call('POST', v3('traces'), startBody('999999', { time: 1 }));
    expect(unknown.status).toBe(404);
    const deleted = await experiment();
    await call('POST', v2('experiments/delete'), { experiment_id: deleted });
    const refused = await call('POST', v3('traces'), startBody(deleted, { time: 1 }));
    expect(refused.status).toBe(400);
    expect(refused.json.message).toContain("must be in the 'active' state");
    const [a, b] = [await experiment(), await experiment()];
    const id = await startTrace(a, { time: 1 });
    const moved = await call('POST', v3('traces'), startBody(b, { id, time: 1 }));
    expect(moved.status).toBe(400);
    expect(moved.json.message).toContain(`belongs to experiment ${a}`);
    for (const body of [{}, { trace: {} }, { trace: { trace_info: { trace_id: 'tr-1' } } }]) {
      const bad = await call('POST', v3('traces'), body);
      expect(bad.status).toBe(400);
      expect(bad.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('runs MLflow 2.x’s StartTrace / EndTrace, ids made by the server', async () => {
    const experimentId = await experiment();
    const started = await call('POST', v2('traces'), {
      experiment_id: experimentId,
      timestamp_ms: 1000,
      request_metadata: [{ key: 'mlflow.trace_schema.version', value: '2' }],
      tags: [{ key: 'mlflow.traceName', value: 'f' }],
    });
    expect(started.status).toBe(200);
    const info = started.json.trace_info;
    expect(info.request_id).toMatch(/^tr-[0-9a-f]{32}$/);
    expect(info.status).toBe('IN_PROGRESS');
    const ended = await call('PATCH', v2(`traces/${info.request_id}`), {
      request_id: info.request_id,
      timestamp_ms: 1250,
      status: 'OK',
      request_metadata: [{ key: 'mlflow.traceInputs', value: '{"x": 1}' }],
      tags: [],
    });
    expect(ended.json.trace_info).toMatchObject({ execution_time_ms: 250, status: 'OK' });
    expect(ended.json.trace_info.request_metadata).toContainEqual({
      key: 'mlflow.traceInputs',
      value: '{"x": 1}',
    });
    const listed = await call('GET', `${v2('traces')}?experiment_ids=${experimentId}&max_results=10`);
    expect(listed.json.traces.map((t: { request_id: string }) => t.request_id)).toEqual([info.request_id]);
  });
});

describe('traces: spans', () => {
  it('keeps the MLflow client’s OTLP spans as parts, serves them from the tracking store, writes traces.json once', async () => {
    const experimentId = await experiment();
    // The fixture's first four bodies are one trace's three spans (children first) and another's one.
    for (const request of FIXTURE.requests.slice(0, 4)) {
      const answer = await ingest(experimentId, Buffer.from(request.protobufBase64, 'base64'));
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('application/x-protobuf');
      expect(answer.text.length).toBe(0);
    }
    const found = await search([experimentId]);
    const ids = idsOf(found);
    expect(ids).toHaveLength(2);
    const first = found.json.traces.find(
      (t: { tags: Record<string, string> }) => t.tags['mlflow.traceName'] === 'predict',
    );
    expect(first).toMatchObject({
      state: 'OK',
      request_preview: '{"question": "hello"}',
      tags: { 'mlflow.trace.spansLocation': 'TRACKING_STORE' },
    });
    // The client then finishes the trace: all three spans arrived, so it uploads nothing more.
    const finished = await call(
      'POST',
      v3('traces'),
      startBody(experimentId, {
        id: first.trace_id,
        time: Date.parse(first.request_time),
        duration: 5,
        metadata: { 'mlflow.trace.sizeStats': '{"total_size_bytes": 2342, "num_spans": 3}' },
      }),
    );
    expect(finished.json.trace.trace_info.tags['mlflow.trace.spansLocation']).toBe('TRACKING_STORE');
    const directory = `${experimentId}/traces/${first.trace_id}/artifacts`;
    expect((await storedKeys(directory)).filter((key) => key.includes('/spans/'))).toHaveLength(3);

    const got = await call('GET', `${v3('traces/get')}?trace_id=${first.trace_id}`);
    expect(got.status).toBe(200);
    const spans = got.json.trace.spans as Array<{ name: string; parent_span_id?: string }>;
    expect(spans.map((span) => span.name)).toEqual(['predict', 'retrieve', 'add']);
    expect(spans[0]?.parent_span_id).toBeUndefined();
    // Byte for byte what MLflow's server would answer for these spans.
    const expected = FIXTURE.requests.slice(0, 3).flatMap((request) => request.otelSpanJson);
    for (const span of spans) expect(expected).toContainEqual(span);
    // Read once from the parts, then from the traces.json it wrote.
    expect(await storedKeys(directory)).toContain(`${directory}/traces.json`);
    const again = await call(
      'GET',
      `${v3('traces/batchGet')}?trace_ids=${first.trace_id}&trace_ids=${ids.find((id: string) => id !== first.trace_id)}`,
    );
    expect(again.json.traces).toHaveLength(2);
    expect(again.json.traces[0].spans).toEqual(spans);
    const artifact = await call(
      'GET',
      `/ajax-api/2.0/mlflow/get-trace-artifact?request_id=${first.trace_id}`,
    );
    expect(JSON.parse(artifact.text.toString('utf8')).spans).toHaveLength(3);
    const stored = await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${directory}/traces.json` }));
    expect(await stored.Body?.transformToString()).toBe(artifact.text.toString('utf8'));
  });

  it('leaves the spans to the client’s traces.json when OTLP missed some, or they are too big to answer', async () => {
    const experimentId = await experiment();
    const traceHex = randomBytes(16).toString('hex');
    const spanHex = randomBytes(8).toString('hex');
    expect(
      (
        await ingest(
          experimentId,
          otlpJson([otlpSpan(traceHex, spanHex, { start: 10n ** 18n, end: 10n ** 18n + 1000n })]),
        )
      ).status,
    ).toBe(200);
    const partial = await call(
      'POST',
      v3('traces'),
      startBody(experimentId, {
        id: `tr-${traceHex}`,
        time: 10 ** 12,
        metadata: { 'mlflow.trace.sizeStats': '{"num_spans": 2}' },
      }),
    );
    expect(partial.json.trace.trace_info.tags['mlflow.trace.spansLocation']).toBeUndefined();
    // So the client uploads traces.json (as through the artifact proxy), and that is what is read.
    const uploaded = `{"spans": [${FIXTURE.requests.at(-1)?.mlflowSpans[0]}]}`;
    await raw.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${experimentId}/traces/tr-${traceHex}/artifacts/traces.json`,
        Body: uploaded,
      }),
    );
    const got = await call('GET', `${v3('traces/get')}?trace_id=tr-${traceHex}`);
    expect(got.json.trace.spans.map((span: { name: string }) => span.name)).toEqual(['édge']);

    const big = randomBytes(16).toString('hex');
    const payload = { key: 'mlflow.spanOutputs', value: { stringValue: 'x'.repeat(300 * 1024) } };
    await ingest(
      experimentId,
      otlpJson([otlpSpan(big, spanHex, { start: 10n ** 18n, end: 10n ** 18n + 1n, attributes: [payload] })]),
    );
    const finished = await call(
      'POST',
      v3('traces'),
      startBody(experimentId, {
        id: `tr-${big}`,
        time: 10 ** 12,
        metadata: { 'mlflow.trace.sizeStats': '{"num_spans": 1}' },
      }),
    );
    expect(finished.json.trace.trace_info.tags['mlflow.trace.spansLocation']).toBeUndefined();
    // Without spans yet, GetTrace is MLflow's "not fully exported"; allow_partial answers the info.
    const early = await call(
      'GET',
      `${v3('traces/get')}?trace_id=${await startTrace(experimentId, { time: 5 })}`,
    );
    expect(early.status).toBe(404);
  });

  it('builds a trace from OTLP alone (any OpenTelemetry SDK): times, state and previews from the root span, gzip and JSON', async () => {
    const experimentId = await experiment();
    const traceHex = randomBytes(16).toString('hex');
    const [root, child] = [randomBytes(8).toString('hex'), randomBytes(8).toString('hex')];
    const t0 = 1_800_000_000_000_000_000n;
    const childBody = otlpJson([
      otlpSpan(traceHex, child, {
        parent: root,
        name: 'child',
        start: t0 + 5_000_000n,
        end: t0 + 9_000_000n,
      }),
    ]);
    const gzipped = gzipSync(Buffer.from(childBody, 'utf8'));
    expect(
      (
        await ingest(experimentId, gzipped, {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
        })
      ).status,
    ).toBe(200);
    const inProgress = (await call('GET', v3(`traces/tr-${traceHex}`))).json.trace.trace_info;
    expect(inProgress).toMatchObject({ state: 'IN_PROGRESS', request_time: '2027-01-15T08:00:00.005Z' });
    const inputs = {
      key: 'mlflow.spanInputs',
      value: { kvlistValue: { values: [{ key: 'q', value: { stringValue: 'hi' } }] } },
    };
    const rootBody = otlpJson([
      otlpSpan(traceHex, root, {
        name: 'agent',
        start: t0,
        end: t0 + 20_000_000n,
        attributes: [inputs],
        status: 2,
      }),
    ]);
    const answer = await ingest(experimentId, rootBody);
    expect(answer.json).toEqual({});
    const info = (await call('GET', v3(`traces/tr-${traceHex}`))).json.trace.trace_info;
    expect(info).toMatchObject({
      state: 'ERROR',
      request_time: '2027-01-15T08:00:00Z',
      execution_duration: '0.020s',
      request_preview: '{"q": "hi"}',
      tags: { 'mlflow.traceName': 'agent', 'mlflow.trace.spansLocation': 'TRACKING_STORE' },
    });
    // A retried request stores its part once.
    await ingest(experimentId, rootBody);
    const got = await call('GET', `${v3('traces/get')}?trace_id=tr-${traceHex}`);
    expect(got.json.trace.spans.map((span: { name: string }) => span.name)).toEqual(['agent', 'child']);
    expect((await storedKeys(`${experimentId}/traces/tr-${traceHex}/artifacts/spans/`)).length).toBe(2);
  });

  it('answers OTLP protocol mistakes as MLflow’s server does, gRPC with 501', async () => {
    const experimentId = await experiment();
    const body = otlpJson([
      otlpSpan(randomBytes(16).toString('hex'), randomBytes(8).toString('hex'), { start: 1n }),
    ]);
    const cases: Array<[Record<string, string>, string | Buffer, number, string]> = [
      [{ 'x-mlflow-experiment-id': '' }, body, 400, 'X-Mlflow-Experiment-Id'],
      [{ 'content-type': 'text/plain' }, body, 400, 'Invalid Content-Type'],
      [{ 'content-type': 'application/grpc' }, body, 501, 'gRPC'],
      [{}, '{"resourceSpans": 3}', 400, 'Invalid OTLP JSON'],
      [
        { 'content-type': 'application/x-protobuf' },
        Buffer.from([0x0a, 0x05, 0x01]),
        400,
        'Invalid OTLP protobuf',
      ],
      [{ 'content-encoding': 'gzip' }, Buffer.from('not gzip'), 400, 'not valid gzip'],
      [{ 'content-encoding': 'br' }, body, 400, 'Unsupported Content-Encoding'],
      [{ 'x-mlflow-experiment-id': '123456789' }, body, 404, '123456789'],
    ];
    for (const [headers, payload, status, message] of cases) {
      const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
      const answer = await call('POST', '/v1/traces', undefined, {
        headers: { 'content-type': 'application/json', 'x-mlflow-experiment-id': experimentId, ...headers },
        bytes,
      });
      expect({ headers, status: answer.status }).toEqual({ headers, status });
      expect(answer.json.message).toContain(message);
    }
  });
});

describe('traces: the search grammar', () => {
  const base = 1_750_000_000_000;
  let experimentId: string;
  let runId: string;
  const t: Record<string, string> = {};

  beforeAll(async () => {
    experimentId = await experiment();
    runId = (await call('POST', v2('runs/create'), { experiment_id: experimentId })).json.run.info.run_id;
    const specs: Record<string, TraceSpec> = {
      t1: {
        time: base + 1000,
        duration: 10,
        tags: { team: 'search', 'mlflow.traceName': 'predict' },
        metadata: { 'mlflow.sourceRun': runId },
        clientRequestId: 'req-1',
      },
      t2: {
        time: base + 2000,
        duration: 500,
        state: 'ERROR',
        tags: { team: 'Search', 'mlflow.traceName': 'chat' },
      },
      t3: {
        time: base + 3000,
        duration: 30,
        tags: { 'mlflow.traceName': 'predict', env: 'prod' },
        metadata: { 'mlflow.trace.user': 'ana' },
      },
      t4: { time: base + 3000, state: 'IN_PROGRESS' },
      t5: {
        time: base + 4000,
        duration: 5,
        tags: { team: 'ranking', 'mlflow.linkedPrompts': '[{"name": "qa", "version": "2"}]' },
      },
      t6: { time: base + 5000, duration: 70, tags: { 'mlflow.traceName': 'predict' } },
    };
    for (const [name, spec] of Object.entries(specs)) t[name] = await startTrace(experimentId, spec);
    await call('POST', v2('traces/link-to-run'), { trace_ids: [t.t5], run_id: runId });
    await call('POST', v3(`traces/${t.t6}/assessments`), {
      assessment: {
        assessment_name: 'correct',
        source: { source_type: 'HUMAN', source_id: 'ana' },
        feedback: { value: true },
      },
    });
  });

  it.each([
    ["status = 'ERROR'", ['t2']],
    ["trace.status != 'OK'", ['t2', 't4']],
    ["attributes.status IN ('ERROR', 'IN_PROGRESS')", ['t2', 't4']],
    ["status NOT IN ('OK')", ['t2', 't4']],
    ["tags.team = 'search'", ['t1']],
    ["tags.team ILIKE 'search'", ['t1', 't2']],
    ["tags.team LIKE 'S%'", ['t2']],
    ["tags.team RLIKE '^(search|rank)'", ['t1', 't5']],
    ['tags.team IS NULL', ['t3', 't4', 't6']],
    ['tags.team IS NOT NULL', ['t1', 't2', 't5']],
    ["tags.`team` = 'ranking'", ['t5']],
    ["name = 'predict'", ['t1', 't3', 't6']],
    ["name IN ('chat', 'predict')", ['t1', 't2', 't3', 't6']],
    [`timestamp_ms > ${base + 2000}`, ['t3', 't4', 't5', 't6']],
    [`timestamp >= ${base + 3000} AND timestamp_ms < ${base + 5000}`, ['t3', 't4', 't5']],
    [`timestamp_ms = ${base + 3000}`, ['t3', 't4']],
    ['execution_time_ms > 20', ['t2', 't3', 't6']],
    ["execution_time > 20 AND status = 'OK'", ['t3', 't6']],
    [`end_time_ms <= ${base + 1010}`, ['t1']],
    ['run_id = RUN', ['t1', 't5']],
    ["metadata.`mlflow.trace.user` = 'ana'", ['t3']],
    ['request_metadata.`mlflow.trace.user` IS NOT NULL', ['t3']],
    ["client_request_id = 'req-1'", ['t1']],
    ['request_id = T2', ['t2']],
    ["feedback.correct = 'true'", ['t6']],
    ['feedback.correct IS NULL', ['t1', 't2', 't3', 't4', 't5']],
    ["prompt = 'qa/2'", ['t5']],
    ["name = 'predict' AND tags.env = 'prod' AND status = 'OK'", ['t3']],
  ] as Array<[string, string[]]>)('%s', async (filter, expected) => {
    const concrete = filter.replace('RUN', `'${runId}'`).replace('T2', `'${t.t2}'`);
    const found = await search([experimentId], { filter: concrete });
    expect(found.status, JSON.stringify(found.json)).toBe(200);
    expect(new Set(idsOf(found))).toEqual(new Set(expected.map((name) => t[name])));
    // The same in any order MLflow allows: the full read and the index read agree.
    const sorted = await search([experimentId], { filter: concrete, order_by: ['execution_time_ms ASC'] });
    expect(new Set(idsOf(sorted))).toEqual(new Set(expected.map((name) => t[name])));
  });

  it.each([
    ["status = 'OK' OR status = 'ERROR'", 'OR is not supported'],
    ['status = OK', 'not quoted'],
    ["tags.team > 'a'", "Invalid comparator '>'"],
    ["timestamp_ms = 'soon'", 'Expected numeric value'],
    ["foo = 'x'", "Invalid attribute key 'foo'"],
    ["bogus.x = 'y'", "Invalid entity type 'bogus'"],
    ["span.name = 'x'", 'not supported'],
    ["text LIKE '%x%'", 'not supported'],
    ["tags.x RLIKE '(a+)+b'", 'nests quantifiers'],
    ["tags.x RLIKE '['", 'Invalid RLIKE pattern'],
    ["prompt LIKE 'qa%'", "Only '=' is supported"],
    ["prompt = 'qa'", 'name/version'],
    ['status IN ()', 'empty list'],
    ['execution_time_ms > ', 'incomplete'],
    ['status IS NULL', "Invalid comparator 'IS NULL'"],
  ])('refuses %s', async (filter, message) => {
    const answer = await search([experimentId], { filter });
    expect(answer.status).toBe(400);
    expect(answer.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(answer.json.message).toContain(message);
  });

  it('orders as MLflow’s SQL store: terms, missing values last, then time DESC and id ASC', async () => {
    const ids = (names: string[]) => names.map((name) => t[name]);
    const tie = [t.t3, t.t4].sort();
    const cases: Array<[string[] | undefined, Array<string | undefined>]> = [
      [undefined, [t.t6, t.t5, ...tie, t.t2, t.t1]],
      [['timestamp_ms DESC'], [t.t6, t.t5, ...tie, t.t2, t.t1]],
      [['timestamp_ms ASC'], [t.t1, t.t2, ...tie, t.t5, t.t6]],
      [['execution_time_ms DESC'], ids(['t2', 't6', 't3', 't1', 't5', 't4'])],
      [['execution_time ASC'], ids(['t5', 't1', 't3', 't6', 't2', 't4'])],
      [['name ASC'], ids(['t2', 't6', 't3', 't1', 't5', 't4'])],
      [['status DESC', 'timestamp_ms ASC'], ids(['t1', 't3', 't5', 't6', 't4', 't2'])],
      // Code-unit order ('Search' < 'ranking' < 'search'), then traces without the tag.
      [['tags.team'], [...ids(['t2', 't5', 't1', 't6']), ...tie]],
    ];
    for (const [orderBy, expected] of cases) {
      const found = await search([experimentId], orderBy ? { order_by: orderBy } : {});
      expect({ orderBy, ids: idsOf(found) }).toEqual({ orderBy, ids: expected });
    }
    for (const [orderBy, message] of [
      [['timestamp_ms', 'timestamp_ms DESC'], 'duplicate'],
      [['foo'], "Invalid attribute key 'foo'"],
      [['timestamp_ms sideways'], 'Invalid ordering key'],
      [['feedback.correct'], 'Invalid order_by entity'],
    ] as Array<[string[], string]>) {
      const answer = await search([experimentId], { order_by: orderBy });
      expect(answer.status).toBe(400);
      expect(answer.json.message).toContain(message);
    }
  });
});

describe('traces: paging', () => {
  it('pages newest first across experiments by opaque cursors, ties by id, without repeats or gaps', async () => {
    const [a, b] = [await experiment(), await experiment()];
    const all: Array<{ id: string; time: number }> = [];
    for (let i = 0; i < 14; i++) {
      const time = 1_760_000_000_000 + Math.floor(i / 3) * 1000;
      const id = await startTrace(i % 2 ? a : b, { time });
      all.push({ id, time });
    }
    const expected = all.sort((x, y) => y.time - x.time || (x.id < y.id ? -1 : 1)).map((entry) => entry.id);
    for (const maxResults of [1, 2, 4, 5, 14, 20]) {
      const seen: string[] = [];
      let token: string | undefined;
      for (let page = 0; page < 20; page++) {
        const answer = await search([a, b], {
          max_results: maxResults,
          ...(token ? { page_token: token } : {}),
        });
        expect(answer.status).toBe(200);
        seen.push(...idsOf(answer));
        token = answer.json.next_page_token;
        if (!token) break;
        expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      }
      expect({ maxResults, seen }).toEqual({ maxResults, seen: expected });
    }
    // Oldest first pages the same way; ties are still by id ascending, as in MLflow.
    const ascending = [...all]
      .sort((x, y) => x.time - y.time || (x.id < y.id ? -1 : 1))
      .map((entry) => entry.id);
    const first = await search([a, b], { max_results: 5, order_by: ['timestamp_ms ASC'] });
    const second = await search([a, b], {
      max_results: 20,
      order_by: ['timestamp_ms ASC'],
      page_token: first.json.next_page_token,
    });
    expect([...idsOf(first), ...idsOf(second)]).toEqual(ascending);
    // Other orders page by offset over the same result.
    const byDuration = await search([a, b], { max_results: 20, order_by: ['request_id ASC'] });
    const paged: string[] = [];
    let token: string | undefined;
    do {
      const answer = await search([a, b], {
        max_results: 3,
        order_by: ['request_id ASC'],
        ...(token ? { page_token: token } : {}),
      });
      paged.push(...idsOf(answer));
      token = answer.json.next_page_token;
    } while (token);
    expect(paged).toEqual(idsOf(byDuration));
    expect(paged).toEqual([...expected].sort());
  });

  it('refuses a token of another query, a token not its own, and max_results past 500', async () => {
    const experimentId = await experiment();
    for (let i = 0; i < 3; i++) await startTrace(experimentId, { time: 1000 + i });
    const first = await search([experimentId], { max_results: 1 });
    const token = first.json.next_page_token as string;
    const other = await search([experimentId], {
      max_results: 1,
      filter: "status = 'OK'",
      page_token: token,
    });
    expect(other.status).toBe(400);
    expect(other.json.message).toContain('different query');
    const offsetOrder = await search([experimentId], {
      max_results: 1,
      order_by: ['request_id'],
      page_token: token,
    });
    expect(offsetOrder.status).toBe(400);
    for (const bad of ['garbage!', Buffer.from('{"cursor": [1, 2]}').toString('base64url')]) {
      const answer = await search([experimentId], { page_token: bad });
      expect(answer.status).toBe(400);
      expect(answer.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await search([experimentId], { max_results: 500 })).status).toBe(200);
    const over = await search([experimentId], { max_results: 501 });
    expect(over.status).toBe(400);
    expect(over.json.message).toContain('between 1 and 500');
    expect((await search(['abc'])).status).toBe(400);
    // Experiments without traces, or that do not exist, simply hold none.
    expect((await search(['987654'])).json).toEqual({});
  });
});

describe('traces: changing', () => {
  it('sets and deletes tags through both paths MLflow serves, with MLflow’s limits', async () => {
    const experimentId = await experiment();
    const id = await startTrace(experimentId, { time: 1 });
    expect((await call('PATCH', v2(`traces/${id}/tags`), { key: 'team', value: 'search' })).status).toBe(200);
    expect(
      (await call('PATCH', v3(`traces/${id}/tags`), { key: 'long', value: 'v'.repeat(9000) })).status,
    ).toBe(200);
    let tags = (await call('GET', v3(`traces/${id}`))).json.trace.trace_info.tags;
    expect(tags.team).toBe('search');
    expect(tags.long).toHaveLength(8000);
    expect((await call('DELETE', v2(`traces/${id}/tags`), { key: 'team' })).status).toBe(200);
    tags = (await call('GET', v3(`traces/${id}`))).json.trace.trace_info.tags;
    expect(tags.team).toBeUndefined();
    const again = await call('DELETE', v3(`traces/${id}/tags`), { key: 'team' });
    expect(again.status).toBe(404);
    expect(again.json.message).toContain("No trace tag with key 'team'");
    const cases: Array<[unknown, number, string]> = [
      [{ key: 'k'.repeat(251), value: 'v' }, 400, 'exceeded length limit of 250'],
      [{ key: 'a/../b', value: 'v' }, 400, 'Invalid tag name'],
      [{ value: 'v' }, 400, "'key'"],
    ];
    for (const [body, status, message] of cases) {
      const answer = await call('PATCH', v3(`traces/${id}/tags`), body);
      expect({ status: answer.status, message: answer.json.message.includes(message) }).toEqual({
        status,
        message: true,
      });
    }
    const ghost = await call('PATCH', v3(`traces/${newTraceId()}/tags`), { key: 'a', value: 'b' });
    expect(ghost.status).toBe(404);
    // 100 tags per trace (two are Runway's own here: the artifact location and the trace name).
    const many = Object.fromEntries(Array.from({ length: 99 }, (_, i) => [`t${i}`, 'v']));
    const full = await startTrace(experimentId, { time: 1, tags: many });
    const over = await call('PATCH', v3(`traces/${full}/tags`), { key: 'one-more', value: 'v' });
    expect(over.status).toBe(400);
    expect(over.json.message).toContain('at most 100 tags');
    const tooMany = await call(
      'POST',
      v3('traces'),
      startBody(experimentId, { time: 1, tags: { ...many, a: '1', b: '2' } }),
    );
    expect(tooMany.status).toBe(400);
    const huge = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`h${i}`, 'x'.repeat(7000)]));
    const tooBig = await call('POST', v3('traces'), startBody(experimentId, { time: 1, tags: huge }));
    expect(tooBig.status).toBe(400);
    expect(tooBig.json.message).toContain('350000 bytes');
  });

  it('deletes traces by id and by time (oldest first, at most max_traces), spans included', async () => {
    const experimentId = await experiment();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await startTrace(experimentId, { time: 10_000 + i * 1000 }));
    const traceHex = (ids[4] as string).slice(3);
    await ingest(
      experimentId,
      otlpJson([otlpSpan(traceHex, randomBytes(8).toString('hex'), { start: 10_000_000_000_000n })]),
    );
    expect(await storedKeys(`${experimentId}/traces/${ids[4]}/`)).toHaveLength(1);
    const other = await experiment();
    const elsewhere = await startTrace(other, { time: 1 });
    const byId = await call('POST', v2('traces/delete-traces'), {
      experiment_id: experimentId,
      request_ids: [ids[4], elsewhere],
    });
    expect(byId.json).toEqual({ traces_deleted: 1 });
    expect(await storedKeys(`${experimentId}/traces/${ids[4]}/`)).toEqual([]);
    expect((await call('GET', v3(`traces/${elsewhere}`))).status).toBe(200);
    const byTime = await call('POST', v3('traces/delete-traces'), {
      experiment_id: experimentId,
      max_timestamp_millis: 12_000,
      max_traces: 2,
    });
    expect(byTime.json).toEqual({ traces_deleted: 2 });
    expect(idsOf(await search([experimentId]))).toEqual([ids[3], ids[2]]);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'Either `max_timestamp_millis` or `trace_ids`'],
      [{ max_timestamp_millis: 1, request_ids: ['a'] }, 'Only one of'],
      [{ request_ids: ['a'], max_traces: 1 }, "can't be specified"],
      [{ max_timestamp_millis: 1, max_traces: 0 }, 'positive integer'],
      [{ max_timestamp_millis: 1, max_traces: 1001 }, 'at most 1000'],
      [{ request_ids: Array.from({ length: 101 }, (_, i) => `tr-${i}`) }, 'At most 100'],
    ];
    for (const [body, message] of cases) {
      const answer = await call('POST', v2('traces/delete-traces'), { experiment_id: experimentId, ...body });
      expect(answer.status).toBe(400);
      expect(answer.json.message).toContain(message);
    }
  });

  it('links traces to a run (up to 100 at once), which run_id searches then find', async () => {
    const experimentId = await experiment();
    const runId = (await call('POST', v2('runs/create'), { experiment_id: experimentId })).json.run.info
      .run_id;
    const ids = [await startTrace(experimentId, { time: 1 }), await startTrace(experimentId, { time: 2 })];
    const linked = await call('POST', v2('traces/link-to-run'), {
      trace_ids: [...ids, newTraceId()],
      run_id: runId,
    });
    expect(linked.status).toBe(200);
    // Linking again is harmless.
    await call('POST', v2('traces/link-to-run'), { trace_ids: ids, run_id: runId });
    expect(new Set(idsOf(await search([experimentId], { filter: `attribute.run_id = '${runId}'` })))).toEqual(
      new Set(ids),
    );
    // A trace of another experiment linked to the run is found only where it lives; a deleted trace
    // leaves the run's traces with its link.
    const other = await experiment();
    const elsewhere = await startTrace(other, { time: 3, metadata: { 'mlflow.sourceRun': runId } });
    expect(idsOf(await search([other], { filter: `run_id = '${runId}'` }))).toEqual([elsewhere]);
    expect(new Set(idsOf(await search([experimentId, other], { filter: `run_id = '${runId}'` })))).toEqual(
      new Set([...ids, elsewhere]),
    );
    await call('POST', v2('traces/delete-traces'), { experiment_id: experimentId, request_ids: [ids[0]] });
    expect(idsOf(await search([experimentId], { filter: `run_id = '${runId}'` }))).toEqual([ids[1]]);
    const ghost = await call('POST', v2('traces/link-to-run'), { trace_ids: ids, run_id: 'nope' });
    expect(ghost.status).toBe(404);
    const tooMany = await call('POST', v2('traces/link-to-run'), {
      trace_ids: Array.from({ length: 101 }, () => newTraceId()),
      run_id: runId,
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.message).toContain('more than 100 traces');
    const batch = await call(
      'GET',
      `${v3('traces/batchGet')}?${Array.from({ length: 101 }, (_, i) => `trace_ids=tr-${i}`).join('&')}`,
    );
    expect(batch.status).toBe(400);
    expect(
      (
        await call('POST', v3('traces/batchGetInfos'), { trace_ids: [ids[1], newTraceId(), ids[0]] })
      ).json.trace_infos.map((i: { trace_id: string }) => i.trace_id),
    ).toEqual([ids[1]]);
  });
});

describe('traces: assessments', () => {
  it('creates, reads, updates (the client’s camelCase update mask) and deletes feedback and expectations', async () => {
    const experimentId = await experiment();
    const id = await startTrace(experimentId, { time: 1 });
    const created = await call('POST', v3(`traces/${id}/assessments`), {
      assessment: {
        assessment_name: 'correct',
        trace_id: id,
        source: { source_type: 'HUMAN', source_id: 'alice' },
        create_time: '2026-01-01T00:00:00.500Z',
        last_update_time: '2026-01-01T00:00:00.500Z',
        feedback: { value: true },
        rationale: 'looks right',
        valid: true,
      },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const assessment = created.json.assessment;
    expect(assessment).toMatchObject({
      assessment_id: expect.stringMatching(/^a-[0-9a-f]{32}$/),
      assessment_name: 'correct',
      trace_id: id,
      source: { source_type: 'HUMAN', source_id: 'alice' },
      create_time: '2026-01-01T00:00:00.500Z',
      feedback: { value: true },
      rationale: 'looks right',
      valid: true,
    });
    const aid = assessment.assessment_id as string;
    expect((await call('GET', v3(`traces/${id}/assessments/${aid}`))).json.assessment).toEqual(assessment);
    const updated = await call('PATCH', v3(`traces/${id}/assessments/${aid}`), {
      assessment: {
        assessment_id: aid,
        assessment_name: 'correct',
        trace_id: id,
        feedback: { value: false },
        rationale: 'wrong',
      },
      update_mask: 'assessmentName,feedback,rationale',
    });
    expect(updated.json.assessment).toMatchObject({
      feedback: { value: false },
      rationale: 'wrong',
      source: { source_id: 'alice' },
    });
    const wrongKind = await call('PATCH', v3(`traces/${id}/assessments/${aid}`), {
      assessment: { expectation: { value: 1 } },
      update_mask: 'expectation',
    });
    expect(wrongKind.status).toBe(400);
    const expectation = (
      await call('POST', v3(`traces/${id}/assessments`), {
        assessment: {
          assessment_name: 'expected',
          source: { source_type: 'CODE', source_id: 'x' },
          expectation: { value: 'CCC' },
        },
      })
    ).json.assessment;
    // An override makes the first invalid; deleting the override makes it valid again.
    const override = (
      await call('POST', v3(`traces/${id}/assessments`), {
        assessment: {
          assessment_name: 'correct',
          source: { source_type: 'HUMAN', source_id: 'bob' },
          feedback: { value: true },
          overrides: aid,
        },
      })
    ).json.assessment;
    let listed = (await call('GET', v3(`traces/${id}`))).json.trace.trace_info.assessments;
    expect(listed.map((a: { assessment_id: string; valid: boolean }) => [a.assessment_id, a.valid])).toEqual([
      [aid, false],
      [expectation.assessment_id, true],
      [override.assessment_id, true],
    ]);
    expect(idsOf(await search([experimentId], { filter: "feedback.correct = 'true'" }))).toEqual([id]);
    expect((await call('DELETE', v3(`traces/${id}/assessments/${override.assessment_id}`))).status).toBe(200);
    listed = (await call('GET', v3(`traces/${id}`))).json.trace.trace_info.assessments;
    expect(listed.map((a: { valid: boolean }) => a.valid)).toEqual([true, true]);
    // Deleting a missing assessment is fine; reading one is 404; an unknown trace is 404.
    expect((await call('DELETE', v3(`traces/${id}/assessments/a-none`))).status).toBe(200);
    expect((await call('GET', v3(`traces/${id}/assessments/a-none`))).status).toBe(404);
    expect(
      (await call('POST', v3(`traces/${newTraceId()}/assessments`), { assessment: { assessment_name: 'x' } }))
        .status,
    ).toBe(404);
    const cases: Array<[unknown, string]> = [
      [{ assessment: { feedback: { value: 1 } } }, 'assessment_name'],
      [{ assessment: { assessment_name: 'x', feedback: {}, expectation: {} } }, 'one of feedback'],
      [{ assessment: { assessment_name: 'x', rationale: 'r'.repeat(10_001) } }, 'length limit of 10000'],
      [
        { assessment: { assessment_name: 'x', feedback: { value: 'v'.repeat(70_000) } } },
        'may take at most 65536',
      ],
      [
        { assessment: { assessment_name: 'x', overrides: 'a-missing' } },
        "Assessment with ID 'a-missing' not found",
      ],
    ];
    for (const [body, message] of cases) {
      const answer = await call('POST', v3(`traces/${id}/assessments`), body);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.json.message).toContain(message);
    }
  });
});

describe('traces: access follows the experiment’s permissions', () => {
  it('lets READ read, EDIT write and MANAGE delete, and refuses the rest, OTLP included', async () => {
    const owner: Caller = { user: unique('owner') };
    const reader: Caller = { user: unique('reader') };
    const stranger: Caller = { user: unique('stranger') };
    const experimentId = await experiment(owner);
    const grant = (username: string, permission: string) =>
      call(
        'POST',
        v2('experiments/permissions/create'),
        { experiment_id: experimentId, username, permission },
        { caller: owner },
      );
    expect((await grant(reader.user, 'READ')).status).toBe(200);
    expect((await grant(stranger.user, 'NO_PERMISSIONS')).status).toBe(200);
    const id = await startTrace(experimentId, { time: 1 }, owner);
    const traceHex = randomBytes(16).toString('hex');
    const otlp = otlpJson([otlpSpan(traceHex, randomBytes(8).toString('hex'), { start: 1n })]);

    const reads: Array<[string, string, unknown?]> = [
      ['GET', v3(`traces/${id}`)],
      ['GET', `${v3('traces/get')}?trace_id=${id}&allow_partial=true`],
      ['POST', v3('traces/batchGetInfos'), { trace_ids: [id] }],
      ['POST', v3('traces/search'), { locations: [{ mlflow_experiment: { experiment_id: experimentId } }] }],
      ['GET', `${v2('traces')}?experiment_ids=${experimentId}`],
    ];
    const writes: Array<[string, string, unknown?]> = [
      ['PATCH', v2(`traces/${id}/tags`), { key: 'a', value: 'b' }],
      [
        'POST',
        v3(`traces/${id}/assessments`),
        { assessment: { assessment_name: 'x', feedback: { value: 1 } } },
      ],
      ['POST', v3('traces'), startBody(experimentId, { time: 2 })],
    ];
    for (const [method, target, body] of reads) {
      expect({ target, status: (await call(method, target, body, { caller: reader })).status }).toEqual({
        target,
        status: 200,
      });
      const refused = await call(method, target, body, { caller: stranger });
      expect({ target, status: refused.status, code: refused.json.error_code }).toEqual({
        target,
        status: 403,
        code: 'PERMISSION_DENIED',
      });
    }
    for (const [method, target, body] of writes) {
      const refused = await call(method, target, body, { caller: reader });
      expect({ target, status: refused.status }).toEqual({ target, status: 403 });
      expect((await call(method, target, body, { caller: owner })).status).toBe(200);
    }
    const ingestAs = (caller: Caller) =>
      call('POST', '/v1/traces', undefined, {
        caller,
        headers: { 'content-type': 'application/json', 'x-mlflow-experiment-id': experimentId },
        bytes: Buffer.from(otlp),
      });
    expect((await ingestAs(reader)).status).toBe(403);
    expect((await ingestAs(owner)).status).toBe(200);
    // Deleting needs MANAGE: the owner has it, an editor does not.
    const editor: Caller = { user: unique('editor') };
    await grant(editor.user, 'EDIT');
    const remove = { experiment_id: experimentId, request_ids: [id] };
    expect((await call('POST', v2('traces/delete-traces'), remove, { caller: editor })).status).toBe(403);
    expect((await call('POST', v2('traces/delete-traces'), remove, { caller: owner })).json).toEqual({
      traces_deleted: 1,
    });
    // A read-only token reads, never writes, whatever its user's grants.
    const token: Caller = { user: owner.user, ceiling: 'READ' };
    expect((await call('GET', v3(`traces/tr-${traceHex}`), undefined, { caller: token })).status).toBe(200);
    expect(
      (await call('PATCH', v3(`traces/tr-${traceHex}/tags`), { key: 'a', value: 'b' }, { caller: token }))
        .status,
    ).toBe(403);
  });
});
