import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { IRIS_PATH, irisSample, PETAL_LENGTH_SD } from '../support/iris.ts';
import { consistentLogreg } from '../support/onnx-models.ts';

/**
 * The data the console tests look at, made through Runway's public HTTP API only (as the MLflow
 * client and `runway` would): an experiment of runs with metric histories and artifacts, a
 * registered model with two versions, an endpoint serving version 1 (deployed by setting the alias),
 * training pipeline executions, one that succeeds and one that fails data validation, traces of
 * the experiment sent as MLflow 3.11's client sends them (spans over OTLP, then the trace's info),
 * and a monitor on an endpoint serving the pipeline's model (with its training statistics) with two
 * runs: one over in-distribution traffic (no drift) and one over traffic with petal_length shifted.
 */

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/models/mlflow-onnx-logreg');

export interface Seeded {
  experimentId: string;
  runIds: string[];
  /** Runs whose param `optimizer` is `adam`. */
  adamRuns: number;
  modelName: string;
  endpointName: string;
  succeededExecution: string;
  failedExecution: string;
  /** The monitor's first run (in-distribution traffic) and its last (petal_length shifted by two sd). */
  monitorRuns: { steady: string; drifted: string };
  /** A trace made in the first run (3 spans, tagged, with feedback) and one whose child span failed. */
  traceIds: { ok: string; failed: string };
}

export const SEED = {
  experiment: 'console-demo',
  runs: 12,
  steps: 300,
  model: 'console-model',
  endpoint: 'console-endpoint',
  pipelineModel: 'iris-classifier',
  monitoredEndpoint: 'iris-live',
  monitor: 'iris-watch',
  /** The feature the seed shifts by two standard deviations in the second window. */
  driftedFeature: 'petal_length',
} as const;

// biome-ignore lint/suspicious/noExplicitAny: the seed reads whatever JSON the API answered.
type Json = any;

export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  async call(
    method: string,
    pathname: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Json> {
    const binary = body instanceof Uint8Array;
    const response = await fetch(`${this.baseUrl}${pathname}`, {
      method,
      headers: {
        ...(body === undefined || binary ? {} : { 'content-type': 'application/json' }),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : binary ? body : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${pathname}: ${response.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : {};
  }

  api(method: string, pathname: string, body?: unknown): Promise<Json> {
    return this.call(method, `/api/2.0/${pathname}`, body);
  }

  put(artifactPath: string, bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<Json> {
    const encoded = artifactPath.split('/').map(encodeURIComponent).join('/');
    return this.call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${encoded}`, bytes, {
      'content-type': contentType,
    });
  }

  async waitFor<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** The proxy path of a run's artifact root (`mlflow-artifacts:/<path>`). */
export const artifactRoot = (run: { info: { artifact_uri: string } }) =>
  run.info.artifact_uri.replace(/^mlflow-artifacts:(\/\/[^/]*)?\/+/, '');

export async function seed(api: Api): Promise<Seeded> {
  const { experiment_id: experimentId } = await api.api('POST', 'mlflow/experiments/create', {
    name: SEED.experiment,
  });
  const runIds: string[] = [];
  const optimizers = ['adam', 'sgd', 'adamw'];
  const t0 = Date.now() - 3_600_000;
  for (let r = 0; r < SEED.runs; r++) {
    const lr = [0.001, 0.003, 0.01, 0.03][r % 4] as number;
    const { run } = await api.api('POST', 'mlflow/runs/create', {
      experiment_id: experimentId,
      run_name: `run-${String(r).padStart(2, '0')}`,
      start_time: t0 + r * 60_000,
    });
    runIds.push(run.info.run_id);
    const decay = 0.004 + lr;
    const metrics = [];
    for (let step = 0; step < SEED.steps; step++) {
      const noise = Math.sin(step * 0.7 + r) * 0.02;
      const loss = 2 * Math.exp(-decay * step) + 0.1 + noise;
      metrics.push({ key: 'loss', value: loss, step, timestamp: t0 + r * 60_000 + step * 100 });
      metrics.push({ key: 'accuracy', value: 1 - loss / 2.2, step, timestamp: t0 + r * 60_000 + step * 100 });
    }
    await api.api('POST', 'mlflow/runs/log-batch', {
      run_id: run.info.run_id,
      metrics,
      params: [
        { key: 'lr', value: String(lr) },
        { key: 'optimizer', value: optimizers[r % 3] },
        { key: 'batch_size', value: String(32 * (1 + (r % 2))) },
      ],
      tags: [{ key: 'team', value: r % 2 ? 'growth' : 'risk' }],
    });
    await api.api('POST', 'mlflow/runs/update', {
      run_id: run.info.run_id,
      status: 'FINISHED',
      end_time: t0 + r * 60_000 + 45_000,
    });
  }
  const first = (await api.api('GET', `mlflow/runs/get?run_id=${runIds[0]}`)).run;
  const root = artifactRoot(first);
  await api.put(
    `${root}/notes.txt`,
    new TextEncoder().encode('Trained on the churn snapshot of March.\n'),
    'text/plain',
  );
  await api.put(
    `${root}/config/params.json`,
    new TextEncoder().encode('{"lr":0.001,"layers":[64,32]}'),
    'application/json',
  );
  await api.put(
    `${root}/eval/predictions.csv`,
    new TextEncoder().encode('id,label,score\n1,yes,0.91\n2,no,0.12\n3,yes,0.77\n'),
    'text/csv',
  );
  await api.put(`${root}/plots/confusion.png`, checkerPng(48), 'image/png');
  await api.api('POST', 'mlflow/runs/log-inputs', {
    run_id: runIds[0],
    datasets: [
      {
        dataset: {
          name: 'churn-march',
          digest: 'a1b2c3d4',
          source_type: 'local',
          source: '{"uri": "churn.csv"}',
        },
        tags: [{ key: 'mlflow.data.context', value: 'training' }],
      },
    ],
  });

  const traceIds = await seedTraces(api, experimentId, runIds[0] as string);

  // A model: two versions of the ONNX fixture logged under two runs, an endpoint following @production.
  const versions: string[] = [];
  await api.api('POST', 'mlflow/registered-models/create', { name: SEED.model });
  for (const runId of runIds.slice(0, 2)) {
    const run = (await api.api('GET', `mlflow/runs/get?run_id=${runId}`)).run;
    for (const file of readdirSync(FIXTURE)) {
      let bytes: Uint8Array = readFileSync(path.join(FIXTURE, file));
      if (file === 'model.onnx') bytes = consistentLogreg(bytes);
      await api.put(`${artifactRoot(run)}/model/${file}`, bytes);
    }
    const { model_version } = await api.api('POST', 'mlflow/model-versions/create', {
      name: SEED.model,
      source: `runs:/${runId}/model`,
      run_id: runId,
    });
    versions.push(model_version.version);
  }
  await api.api('POST', 'runway/endpoints', {
    name: SEED.endpoint,
    model_name: SEED.model,
    follows: { alias: 'production' },
    rollout_policy: { traffic_steps: [50, 100], bake_seconds: 0 },
  });
  await api.api('POST', 'mlflow/registered-models/alias', {
    name: SEED.model,
    alias: 'production',
    version: versions[0],
  });
  await api.waitFor('the endpoint to serve version 1', async () => {
    const { endpoint } = await api.api('GET', `runway/endpoints/${SEED.endpoint}`);
    return endpoint.traffic.primary?.version === versions[0] && !endpoint.traffic.canary ? true : undefined;
  });
  // A third version whose graph disagrees with its signature (the fixture as the MLflow client logged
  // it): its deploy fails before any traffic moves, with the reason on the timeline.
  const broken = (await api.api('GET', `mlflow/runs/get?run_id=${runIds[2]}`)).run;
  for (const file of readdirSync(FIXTURE)) {
    await api.put(`${artifactRoot(broken)}/model/${file}`, readFileSync(path.join(FIXTURE, file)));
  }
  const { model_version: brokenVersion } = await api.api('POST', 'mlflow/model-versions/create', {
    name: SEED.model,
    source: `runs:/${runIds[2]}/model`,
    run_id: runIds[2],
  });
  await api.api('POST', 'mlflow/registered-models/alias', {
    name: SEED.model,
    alias: 'production',
    version: brokenVersion.version,
  });
  await api.waitFor('the broken version to fail its deploy', async () => {
    const { deployments = [] } = await api.api('GET', `runway/endpoints/${SEED.endpoint}/deployments`);
    return deployments.find(
      (d: { version: string; status: string }) =>
        d.version === brokenVersion.version && d.status !== 'InProgress',
    );
  });
  const example = JSON.parse(readFileSync(path.join(FIXTURE, 'serving_input_example.json'), 'utf8'));
  // The model server writes its statistics at most once a second, on an invocation that finds a flush due.
  for (let i = 0; i < 20; i++) await api.call('POST', `/endpoints/${SEED.endpoint}/invocations`, example);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await api.call('POST', `/endpoints/${SEED.endpoint}/invocations`, example);

  // The training pipeline, through the pipelines API: one that succeeds, one whose target is missing.
  await api.put('datasets/iris.csv', readFileSync(IRIS_PATH), 'text/csv');
  const input = {
    datasetUri: 'mlflow-artifacts:/datasets/iris.csv',
    targetColumn: 'species',
    positiveClass: 'virginica',
    modelType: 'logistic_regression',
    modelName: SEED.pipelineModel,
    threshold: 0.8,
  };
  const succeeded = (await api.api('POST', 'runway/pipelines/executions', { input })).execution
    .name as string;
  const failed = (
    await api.api('POST', 'runway/pipelines/executions', { input: { ...input, targetColumn: 'colour' } })
  ).execution.name as string;
  for (const name of [succeeded, failed]) {
    await api.waitFor(`pipeline execution ${name}`, async () => {
      const { execution } = await api.api('GET', `runway/pipelines/executions/${name}`);
      return execution.status === 'RUNNING' ? undefined : execution.status;
    });
  }
  const monitorRuns = await seedMonitor(api);
  return {
    monitorRuns,
    experimentId,
    runIds,
    adamRuns: Array.from({ length: SEED.runs }, (_, r) => r % 3).filter((i) => i === 0).length,
    modelName: SEED.model,
    endpointName: SEED.endpoint,
    succeededExecution: succeeded,
    failedExecution: failed,
    traceIds,
  };
}

/**
 * Monitoring: an endpoint serving the pipeline's model (version 1, which carries its training
 * statistics) that captures every invocation, a monitor on it, and two runs over windows of its
 * traffic, each invocation's true species sent back as feedback: 300 rows like the training data,
 * then 300 with petal_length shifted by a half, one and two standard deviations. The local runtime writes capture at most a second old (`captureFlushSeconds: 1`, the
 * global setup), at the next invocation: one more call after each window writes it.
 */
async function seedMonitor(api: Api): Promise<Seeded['monitorRuns']> {
  await api.api('POST', 'runway/endpoints', {
    name: SEED.monitoredEndpoint,
    model_name: SEED.pipelineModel,
    follows: { alias: 'production' },
    rollout_policy: { traffic_steps: [50, 100], bake_seconds: 0 },
    capture_sample_rate: 1,
  });
  await api.api('POST', 'mlflow/registered-models/alias', {
    name: SEED.pipelineModel,
    alias: 'production',
    version: '1',
  });
  await api.waitFor('the monitored endpoint to serve version 1', async () => {
    const { endpoint } = await api.api('GET', `runway/endpoints/${SEED.monitoredEndpoint}`);
    return endpoint.traffic.primary?.version === '1' && !endpoint.traffic.canary ? true : undefined;
  });
  await api.api('POST', 'runway/monitors', {
    name: SEED.monitor,
    endpoint_name: SEED.monitoredEndpoint,
    description: 'Iris inputs against the training data',
    min_samples: 100,
    quality: { limits: { accuracy: 0.9 } },
    health: { max_p99_ms: 10_000 },
  });
  /** One invocation; answers its inference id (the header every invocation carries). */
  const invoke = async (rows: Array<{ x: number[] }>) => {
    const response = await fetch(`${api.baseUrl}/endpoints/${SEED.monitoredEndpoint}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: rows.map((r) => r.x) }),
    });
    if (!response.ok) throw new Error(`invocation: ${response.status} ${await response.text()}`);
    return response.headers.get('x-runway-inference-id') as string;
  };
  const run = async (rows: Array<{ x: number[]; species: string }>) => {
    const windowStart = Date.now();
    // Each invocation's true species comes back as feedback, so the run measures live accuracy.
    const feedback = [];
    for (let i = 0; i < rows.length; i += 10) {
      const part = rows.slice(i, i + 10);
      feedback.push({ inference_id: await invoke(part), ground_truth: part.map((r) => r.species) });
    }
    await api.call('POST', `/endpoints/${SEED.monitoredEndpoint}/feedback`, { feedback });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const windowEnd = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await invoke(irisSample(99, 1));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = await api.api('POST', `runway/monitors/${SEED.monitor}/run`, {
      window_start: windowStart,
      window_end: windowEnd,
    });
    await api.waitFor(`monitor run ${started.run_id}`, async () => {
      const { runs = [] } = await api.api('GET', `runway/monitors/${SEED.monitor}/reports`);
      const found = runs.find((r: { run_id: string }) => r.run_id === started.run_id);
      if (found?.status === 'Failed') throw new Error(`monitor run failed: ${found.error}`);
      return found?.status === 'Completed' ? true : undefined;
    });
    return started.run_id as string;
  };
  // petal_length creeps away: 0, a half, one, then two standard deviations (the drift chart's story).
  const steady = await run(irisSample(1, 300));
  await run(irisSample(2, 300, 0.5 * PETAL_LENGTH_SD));
  await run(irisSample(3, 300, PETAL_LENGTH_SD));
  const drifted = await run(irisSample(4, 300, 2 * PETAL_LENGTH_SD));
  return { steady, drifted };
}

const hex = (bytes: number) =>
  Array.from({ length: bytes }, () =>
    Math.floor(Math.random() * 256)
      .toString(16)
      .padStart(2, '0'),
  ).join('');

/** An OTLP/JSON `AnyValue` of a JSON value (dicts as kvlists), as MLflow 3.11's client encodes span attributes. */
function otlpValue(value: unknown): Json {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number')
    return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(otlpValue) } };
  if (value && typeof value === 'object') {
    return {
      kvlistValue: {
        values: Object.entries(value).map(([key, item]) => ({ key, value: otlpValue(item) })),
      },
    };
  }
  return {};
}

interface SeedSpan {
  name: string;
  type: string;
  parent?: string;
  startMs: number;
  endMs: number;
  inputs: unknown;
  outputs?: unknown;
  error?: string;
}

/**
 * Spans over OTLP/JSON (`POST /v1/traces`, one request a span, as they end), then for a trace made
 * by MLflow's client its info (`StartTraceV3`) with the run it was made in and a tag; then feedback.
 */
async function sendTrace(api: Api, experimentId: string, t0: number, spans: SeedSpan[]): Promise<string> {
  const otelTraceId = hex(16);
  const ids = new Map(spans.map((span) => [span.name, hex(8)]));
  const nanos = (ms: number) => `${BigInt(t0 + ms) * 1_000_000n}`;
  for (const span of [...spans].reverse()) {
    const body = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: otelTraceId,
                  spanId: ids.get(span.name),
                  ...(span.parent ? { parentSpanId: ids.get(span.parent) } : {}),
                  name: span.name,
                  startTimeUnixNano: nanos(span.startMs),
                  endTimeUnixNano: nanos(span.endMs),
                  attributes: [
                    { key: 'mlflow.traceRequestId', value: { stringValue: `tr-${otelTraceId}` } },
                    { key: 'mlflow.spanType', value: { stringValue: span.type } },
                    { key: 'mlflow.spanInputs', value: otlpValue(span.inputs) },
                    ...(span.outputs === undefined
                      ? []
                      : [{ key: 'mlflow.spanOutputs', value: otlpValue(span.outputs) }]),
                  ],
                  ...(span.error
                    ? {
                        events: [
                          {
                            name: 'exception',
                            timeUnixNano: nanos(span.endMs),
                            attributes: [
                              { key: 'exception.type', value: { stringValue: 'TimeoutError' } },
                              { key: 'exception.message', value: { stringValue: span.error } },
                            ],
                          },
                        ],
                      }
                    : {}),
                  status: span.error ? { code: 2, message: `TimeoutError: ${span.error}` } : { code: 1 },
                },
              ],
            },
          ],
        },
      ],
    };
    await api.call('POST', '/v1/traces', new TextEncoder().encode(JSON.stringify(body)), {
      'content-type': 'application/json',
      'x-mlflow-experiment-id': experimentId,
    });
  }
  return `tr-${otelTraceId}`;
}

async function seedTraces(api: Api, experimentId: string, runId: string): Promise<Seeded['traceIds']> {
  const t0 = Date.now() - 600_000;
  const question = { question: 'How do I reset my password?' };
  const answer = 'Open Settings, then Security, then Reset password.';
  const ok = await sendTrace(api, experimentId, t0, [
    { name: 'answer', type: 'CHAIN', startMs: 0, endMs: 840, inputs: question, outputs: answer },
    {
      name: 'retrieve',
      type: 'RETRIEVER',
      parent: 'answer',
      startMs: 12,
      endMs: 150,
      inputs: { query: question.question, k: 2 },
      outputs: [
        { id: 'faq-12', score: 0.91 },
        { id: 'faq-3', score: 0.44 },
      ],
    },
    {
      name: 'generate',
      type: 'LLM',
      parent: 'answer',
      startMs: 160,
      endMs: 830,
      inputs: { messages: [{ role: 'user', content: question.question }] },
      outputs: { content: answer, tokens: 14 },
    },
  ]);
  // What the 3.11 client sends when the trace ends: its info, with the run and the span count.
  await api.call('POST', '/api/3.0/mlflow/traces', {
    trace: {
      trace_info: {
        trace_id: ok,
        trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
        request_preview: JSON.stringify(question),
        response_preview: JSON.stringify(answer),
        request_time: new Date(t0).toISOString(),
        execution_duration: '0.840s',
        state: 'OK',
        trace_metadata: {
          'mlflow.sourceRun': runId,
          'mlflow.trace.sizeStats': JSON.stringify({ total_size_bytes: 2048, num_spans: 3 }),
        },
        tags: {
          'mlflow.traceName': 'answer',
          'mlflow.trace.spansLocation': 'TRACKING_STORE',
          team: 'support',
        },
      },
    },
  });
  await api.call('POST', `/api/3.0/mlflow/traces/${ok}/assessments`, {
    assessment: {
      assessment_name: 'correct',
      trace_id: ok,
      source: { source_type: 'HUMAN', source_id: 'ana' },
      feedback: { value: true },
      rationale: 'Matches the help page',
    },
  });
  // Any OpenTelemetry SDK: spans only; the trace is built from them, its child span failed.
  const failed = await sendTrace(api, experimentId, t0 + 60_000, [
    { name: 'answer', type: 'CHAIN', startMs: 0, endMs: 5030, inputs: question, error: 'search timed out' },
    {
      name: 'retrieve',
      type: 'RETRIEVER',
      parent: 'answer',
      startMs: 10,
      endMs: 5010,
      inputs: { query: question.question, k: 2 },
      error: 'search timed out',
    },
  ]);
  return { ok, failed };
}

/** A small PNG (a two-colour checkerboard), written with zlib: an image artifact to preview. */
function checkerPng(size: number): Uint8Array {
  const raw = Buffer.alloc(size * (size * 3 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 3 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const on = (Math.floor(x / 8) + Math.floor(y / 8)) % 2 === 0;
      const at = y * (size * 3 + 1) + 1 + x * 3;
      raw[at] = on ? 37 : 245;
      raw[at + 1] = on ? 99 : 158;
      raw[at + 2] = on ? 235 : 11;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8;
  header[9] = 2;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
