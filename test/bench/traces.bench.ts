import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_REGION, LocalRuntime } from '../../infra/local/runtime.ts';
import { mapLimited } from '../../shared/platform/concurrency.ts';
import { traceItems } from '../../shared/tracking/traces/adapters/trace.dynamodb-repository.ts';
import type { StoredTrace } from '../../shared/tracking/traces/model.ts';
import { decodeOtlpProtobuf } from '../../shared/tracking/traces/spans/otlp.decoder.ts';
import { printTable, requestsPerCall, summarize } from './stats.ts';

/**
 * The tracing workload of the tracing issue, over HTTP against the local runtime (in this process,
 * so the emulators' request counters can be read):
 *
 * - ingesting 1,000 traces of 10 spans each as the MLflow 3.11.1 client sends them: each span as it
 *   ends (`POST /v1/traces`, the client's own protobuf bytes with fresh ids), then `StartTraceV3`;
 *   and the same traces the way clients without OTLP send them (2.x, or 3.x against a server it
 *   does not send spans to): `StartTraceV3`, then `traces.json` through the artifact proxy;
 * - searching an experiment of 100,000 traces: MLflow's default (newest first, a page of 100), a
 *   filter on a tag, a time window, a status, a run, page 2, and an order the index does not hold.
 *
 * Times are wall-clock per call (and per trace for ingestion, one trace at a time); requests are the
 * DynamoDB and S3 calls the emulators served, per trace or per search.
 */

const INGEST_TRACES = Number(process.env.TRACES_BENCH_INGEST ?? 1000);
const SPANS_PER_TRACE = 10;
const SEARCH_TRACES = Number(process.env.TRACES_BENCH_SEARCH ?? 100_000);
/** One trace at a time, as one traced application exports them (the client exports synchronously). */
const IN_FLIGHT = Number(process.env.TRACES_BENCH_IN_FLIGHT ?? 1);

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const otlp = JSON.parse(readFileSync(path.join(FIXTURES, 'mlflow3/otlp-3.11.1.json'), 'utf8')) as {
  requests: Array<{ protobufBase64: string; mlflowSpans: string[] }>;
};
const recorded = JSON.parse(
  readFileSync(path.join(FIXTURES, 'mlflow3/traces-client-requests.json'), 'utf8'),
) as {
  scenarios: Array<{ name: string; requests: Array<{ method: string; path: string; body?: unknown }> }>;
};

/** One of the client's OTLP bodies (a single span), with its ids, to stamp new ids into. */
interface Template {
  body: Buffer;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
}

function template(index: number): Template {
  const body = Buffer.from(otlp.requests[index]?.protobufBase64 ?? '', 'base64');
  const [span] = decodeOtlpProtobuf(body);
  if (!span) throw new Error(`fixture request ${index} holds no span`);
  return { body, traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId };
}

/** Equal-length byte replacement: protobuf lengths stay right. */
function stamp(source: Buffer, replacements: Array<[string, string, 'hex' | 'utf8']>): Buffer {
  const out = Buffer.from(source);
  for (const [from, to, encoding] of replacements) {
    const needle = Buffer.from(from, encoding);
    const value = Buffer.from(to, encoding);
    for (let i = out.indexOf(needle); i >= 0; i = out.indexOf(needle, i + value.length)) value.copy(out, i);
  }
  return out;
}

function httpClient(baseUrl: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const send = (method: string, target: string, body?: Buffer, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${baseUrl}${target}`,
        { method, agent, headers: { ...headers, ...(body ? { 'content-length': body.length } : {}) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          response.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const json = async (method: string, target: string, body?: unknown) => {
    const answer = await send(
      method,
      target,
      body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
      body === undefined ? {} : { 'content-type': 'application/json' },
    );
    if (answer.status !== 200)
      throw new Error(`${method} ${target} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    // biome-ignore lint/suspicious/noExplicitAny: the benchmark reads whatever JSON the API answered.
    return JSON.parse(answer.text || '{}') as Record<string, any>;
  };
  return { send, json, close: () => agent.destroy() };
}

export async function tracesBench(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-bench-traces-'));
  const runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    functionLogs: 'silent',
    log: () => undefined,
  });
  await runtime.warmedUp;
  const client = httpClient(runtime.url);
  const ingestRows: Array<Array<string | number>> = [];
  const searchRows: Array<Array<string | number>> = [];
  const counters = () => ({
    dynamo: { ...runtime.emulatorRequests.dynamodb },
    s3: { ...runtime.emulatorRequests.s3 },
  });
  try {
    // ---------------------------------------------------------------------------------------
    // Ingestion
    // ---------------------------------------------------------------------------------------
    const child = template(0);
    const root = template(2);
    if (child.parentSpanId === undefined || root.parentSpanId !== undefined) {
      throw new Error('fixture: expected a child span in request 0 and a root span in request 2');
    }
    const startTemplate = recorded.scenarios
      .find((scenario) => scenario.name === 'basic')
      ?.requests.find((r) => r.method === 'POST' && r.path === '/api/3.0/mlflow/traces')?.body as {
      trace: { trace_info: Record<string, unknown> };
    };
    const startBody = (
      experimentId: string,
      traceId: string,
      time: number,
      metadata: Record<string, string>,
    ) => ({
      trace: {
        trace_info: {
          ...startTemplate.trace.trace_info,
          trace_id: traceId,
          trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
          request_time: new Date(time).toISOString(),
          execution_duration: '0.250s',
          trace_metadata: {
            ...(startTemplate.trace.trace_info.trace_metadata as Record<string, string>),
            ...metadata,
          },
        },
      },
    });
    const spanRecord = otlp.requests.at(-1)?.mlflowSpans[0] as string;

    const ingest = async (label: string, mode: 'otlp' | 'artifacts') => {
      const experimentId = (
        await client.json('POST', '/api/2.0/mlflow/experiments/create', {
          name: `bench-${mode}-${Date.now()}`,
        })
      ).experiment_id as string;
      const one = async (i: number) => {
        const otelTraceId = randomBytes(16).toString('hex');
        const traceId = `tr-${otelTraceId}`;
        const rootId = randomBytes(8).toString('hex');
        if (mode === 'otlp') {
          for (let s = 0; s < SPANS_PER_TRACE; s++) {
            const isRoot = s === SPANS_PER_TRACE - 1;
            const from = isRoot ? root : child;
            const body = stamp(from.body, [
              [from.traceId, otelTraceId, 'hex'],
              [`tr-${from.traceId}`, traceId, 'utf8'],
              [from.spanId, isRoot ? rootId : randomBytes(8).toString('hex'), 'hex'],
              ...(from.parentSpanId
                ? ([[from.parentSpanId, rootId, 'hex']] as Array<[string, string, 'hex']>)
                : []),
            ]);
            const answer = await client.send('POST', '/v1/traces', body, {
              'content-type': 'application/x-protobuf',
              'x-mlflow-experiment-id': experimentId,
            });
            if (answer.status !== 200)
              throw new Error(`/v1/traces answered ${answer.status}: ${answer.text}`);
          }
          const info = await client.json(
            'POST',
            '/api/3.0/mlflow/traces',
            startBody(experimentId, traceId, 1_800_000_000_000 + i, {
              'mlflow.trace.sizeStats': `{"total_size_bytes": 6000, "num_spans": ${SPANS_PER_TRACE}}`,
            }),
          );
          if (info.trace.trace_info.tags['mlflow.trace.spansLocation'] !== 'TRACKING_STORE') {
            throw new Error('the trace did not keep its OTLP spans');
          }
        } else {
          const info = await client.json(
            'POST',
            '/api/3.0/mlflow/traces',
            startBody(experimentId, traceId, 1_800_000_000_000 + i, {}),
          );
          const location = String(info.trace.trace_info.tags['mlflow.artifactLocation']).replace(
            'mlflow-artifacts:/',
            '',
          );
          const spans = Array.from({ length: SPANS_PER_TRACE }, () => spanRecord).join(', ');
          const answer = await client.send(
            'PUT',
            `/api/2.0/mlflow-artifacts/artifacts/${location}/traces.json`,
            Buffer.from(`{"spans": [${spans}]}`),
            { 'content-type': 'text/plain' },
          );
          if (answer.status !== 200) throw new Error(`traces.json upload answered ${answer.status}`);
        }
      };
      await one(-1);
      const before = counters();
      const latencies: number[] = [];
      const started = performance.now();
      process.stdout.write(`(ingesting ${INGEST_TRACES} traces: ${label})\n`);
      await mapLimited(
        Array.from({ length: INGEST_TRACES }, (_, i) => i),
        IN_FLIGHT,
        async (i) => {
          const t = performance.now();
          await one(i);
          latencies.push(performance.now() - t);
        },
      );
      const seconds = (performance.now() - started) / 1000;
      const stats = summarize(latencies);
      const after = counters();
      ingestRows.push([
        label,
        String(INGEST_TRACES),
        seconds,
        INGEST_TRACES / seconds,
        stats.p50,
        stats.p99,
        requestsPerCall(after.dynamo, before.dynamo, INGEST_TRACES).text,
        requestsPerCall(after.s3, before.s3, INGEST_TRACES).text,
      ]);
      // Reading them back: a search page of 100 and their spans, as mlflow.search_traces() does.
      const page = await client.json('POST', '/api/3.0/mlflow/traces/search', {
        locations: [{ mlflow_experiment: { experiment_id: experimentId } }],
        max_results: 100,
      });
      const wanted = Math.min(100, INGEST_TRACES + 1);
      if (page.traces.length !== wanted) throw new Error(`search answered ${page.traces.length} traces`);
    };
    await ingest(`OTLP (${SPANS_PER_TRACE} span requests) + StartTraceV3`, 'otlp');
    await ingest('StartTraceV3 + traces.json upload', 'artifacts');

    // ---------------------------------------------------------------------------------------
    // Search over 100,000 traces
    // ---------------------------------------------------------------------------------------
    const experimentId = (
      await client.json('POST', '/api/2.0/mlflow/experiments/create', { name: `bench-search-${Date.now()}` })
    ).experiment_id as string;
    const runId = (await client.json('POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId }))
      .run.info.run_id as string;
    const dynamo = new DynamoDBClient({
      endpoint: runtime.environment.AWS_ENDPOINT_URL_DYNAMODB,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const table = ((await dynamo.send(new ListTablesCommand({}))).TableNames ?? []).find((name) =>
      name.includes('TrackingTable'),
    );
    if (!table) throw new Error('no tracking table');
    const documents = DynamoDBDocumentClient.from(dynamo, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const base = 1_800_000_000_000;
    const seeded = performance.now();
    // The items the service writes (`traceItem`), in batches of 25 rather than one StartTraceV3
    // each: the search is what is measured, and 100,000 HTTP round trips would take most of an hour.
    await mapLimited(
      Array.from({ length: Math.ceil(SEARCH_TRACES / 25) }, (_, batch) => batch),
      8,
      async (batch) => {
        let requests = Array.from({ length: Math.min(25, SEARCH_TRACES - batch * 25) }, (_, j) =>
          traceItems(seedTrace(experimentId, batch * 25 + j, base, runId)),
        )
          .flat()
          .map((item) => ({ PutRequest: { Item: item } }));
        while (requests.length > 0) {
          const output = await documents.send(
            new BatchWriteCommand({ RequestItems: { [table]: requests.slice(0, 25) } }),
          );
          requests = [
            ...((output.UnprocessedItems?.[table] ?? []) as typeof requests),
            ...requests.slice(25),
          ];
        }
      },
    );
    dynamo.destroy();
    process.stdout.write(
      `(seeded ${SEARCH_TRACES} traces in ${((performance.now() - seeded) / 1000).toFixed(1)} s)\n`,
    );

    const search = (body: Record<string, unknown>) =>
      client.json('POST', '/api/3.0/mlflow/traces/search', {
        locations: [{ mlflow_experiment: { experiment_id: experimentId } }],
        max_results: 100,
        ...body,
      });
    const measure = async (label: string, n: number, body: Record<string, unknown>, expected: number) => {
      let first: Record<string, unknown> = {};
      try {
        first = await search(body);
        const found = ((first.traces as unknown[]) ?? []).length;
        if (found !== expected) throw new Error(`found ${found} traces, expected ${expected}`);
        const before = counters();
        const samples: number[] = [];
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          await search(body);
          samples.push(performance.now() - t);
        }
        const stats = summarize(samples);
        const after = counters();
        searchRows.push([
          label,
          String(n),
          stats.p50,
          stats.p99,
          requestsPerCall(after.dynamo, before.dynamo, n).text,
          requestsPerCall(after.s3, before.s3, n).text,
        ]);
      } catch (error) {
        searchRows.push([label, '0', '-', '-', `failed: ${(error as Error).message.slice(0, 120)}`, '-']);
      }
      const row = searchRows.at(-1) ?? [];
      process.stdout.write(`(${label}: p50 ${typeof row[2] === 'number' ? row[2].toFixed(1) : row[2]} ms)\n`);
      return first;
    };
    const page1 = await measure('default order (newest first), 100', 20, {}, 100);
    await measure('page 2 (page_token)', 20, { page_token: page1.next_page_token }, 100);
    const upTo100 = (count: number) => Math.min(100, Math.ceil(count));
    await measure(
      "tags.team = 'a' (1 in 100 traces), 100",
      10,
      { filter: "tags.team = 'a'" },
      upTo100(SEARCH_TRACES / 100),
    );
    await measure(
      "status = 'ERROR' (1 in 20), 100",
      10,
      { filter: "status = 'ERROR'" },
      upTo100(SEARCH_TRACES / 20),
    );
    await measure(
      'a 1-minute window of timestamp_ms (600 traces), 100',
      20,
      {
        filter: `timestamp_ms >= ${base + (SEARCH_TRACES / 2) * 100} AND timestamp_ms < ${base + (SEARCH_TRACES / 2 + 600) * 100}`,
      },
      100,
    );
    await measure(
      "run_id = '<run>' (1 in 1000 traces, spread out), 100",
      3,
      { filter: `run_id = '${runId}'` },
      upTo100(SEARCH_TRACES / 1000),
    );
    await measure('order_by execution_time_ms DESC, 100', 3, { order_by: ['execution_time_ms DESC'] }, 100);
  } finally {
    client.close();
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  printTable(
    `ingesting ${INGEST_TRACES} traces of ${SPANS_PER_TRACE} spans over HTTP against the local runtime (${IN_FLIGHT} traces in flight; ms per trace; requests per trace)`,
    ['path', 'traces', 'seconds', 'traces/s', 'p50', 'p99', 'DynamoDB requests', 'S3 requests'],
    ingestRows,
  );
  printTable(
    `search_traces over ${SEARCH_TRACES} traces of one experiment (ms per search; requests per search)`,
    ['search', 'calls', 'p50', 'p99', 'DynamoDB requests', 'S3 requests'],
    searchRows,
  );
}

/**
 * A trace as the MLflow 3.11 client leaves it (tags and metadata of the recorded client), one every
 * 100 ms: 1 in 100 tagged `team=a`, 1 in 20 `ERROR`, 1 in 1000 made in the run.
 */
function seedTrace(experimentId: string, i: number, base: number, runId: string): StoredTrace {
  const traceId = `tr-${randomBytes(16).toString('hex')}`;
  return {
    traceId,
    experimentId,
    requestTime: base + i * 100,
    executionDuration: (i * 7919) % 5000,
    state: i % 20 === 0 ? 'ERROR' : 'OK',
    requestPreview: '{"question": "How do I reset my password?"}',
    responsePreview: '{"answer": "Open Settings, then Security, then Reset password."}',
    tags: new Map([
      ['mlflow.traceName', 'predict'],
      ['mlflow.artifactLocation', `mlflow-artifacts:/${experimentId}/traces/${traceId}/artifacts`],
      ['mlflow.trace.spansLocation', 'TRACKING_STORE'],
      ...(i % 100 === 0 ? ([['team', 'a']] as Array<[string, string]>) : []),
    ]),
    metadata: new Map([
      ['mlflow.user', 'bench'],
      ['mlflow.source.name', 'agent.py'],
      ['mlflow.source.type', 'LOCAL'],
      ['mlflow.trace_schema.version', '3'],
      ['mlflow.trace.sizeStats', '{"total_size_bytes": 6000, "num_spans": 10, "max": 700}'],
      ...(i % 1000 === 0 ? ([['mlflow.sourceRun', runId]] as Array<[string, string]>) : []),
    ]),
    assessments: [],
    spanParts: [],
    spanIds: [],
    spanBytes: 0,
    compactedParts: 0,
    clientFinished: true,
    linkedRuns: i % 1000 === 0 ? [runId] : [],
    revision: 0,
  };
}
