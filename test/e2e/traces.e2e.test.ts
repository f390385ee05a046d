import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { http, httpRaw, unique } from '../support/http-client.ts';

/**
 * MLflow 3 tracing over HTTP, as the official clients drive it: the request sequences MLflow 3.11.1
 * and 2.22.4 sent to Runway (test/fixtures/mlflow3/traces-client-requests.json, recorded from the real
 * clients), replayed in order against the deployment under test. Each answer must have the status
 * the client got, and what the client read from it (the traces a search found, in order, the spans
 * of a trace, where its spans are, counts) must be the same, ids mapped to this replay's.
 */

interface Recorded {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  status: number;
  answer?: Record<string, unknown>;
}

interface Scenario {
  name: string;
  client: string;
  script: string;
  requests: Recorded[];
}

const fixture = JSON.parse(
  readFileSync(
    path.join(
      path.dirname(fileURLToPath(import.meta.url)),
      '../fixtures/mlflow3/traces-client-requests.json',
    ),
    'utf8',
  ),
) as { scenarios: Scenario[] };

/** Recorded values and what they are in this replay. */
class Mapping {
  private readonly values = new Map<string, string>();
  private readonly experiments = new Map<string, string>();

  /** Trace ids are the client's own: each gets a fresh one, so replays never collide. */
  traceIds(text: string): void {
    for (const [id] of text.matchAll(/tr-[0-9a-f]{32}/g)) {
      if (!this.values.has(id)) this.values.set(id, `tr-${randomBytes(16).toString('hex')}`);
    }
  }

  learn(recorded: unknown, replayed: unknown): void {
    if (typeof recorded === 'string' && typeof replayed === 'string' && recorded !== replayed) {
      this.values.set(recorded, replayed);
    }
  }

  learnExperiment(recorded: string, replayed: string): void {
    this.experiments.set(recorded, replayed);
  }

  experiment(id: string): string {
    return this.experiments.get(id) ?? id;
  }

  /** Replaces every recorded id, token and name in a text. */
  text(value: string): string {
    let out = value;
    for (const [from, to] of this.values) out = out.split(from).join(to);
    return out
      .replace(/(experiment_ids?=)(\d+)/g, (_m, key: string, id: string) => `${key}${this.experiment(id)}`)
      .replace(
        /(mlflow-artifacts\/artifacts\/)(\d+)\//g,
        (_m, key: string, id: string) => `${key}${this.experiment(id)}/`,
      );
  }

  /** A JSON body: texts replaced, experiment ids mapped wherever MLflow's messages carry one. */
  json(value: unknown, key = ''): unknown {
    if (typeof value === 'string') return key === 'experiment_id' ? this.experiment(value) : this.text(value);
    if (Array.isArray(value))
      return value.map((item) => this.json(item, key === 'experiment_ids' ? 'experiment_id' : ''));
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.json(v, k)]));
  }

  /** An OTLP protobuf body: trace ids are raw 16 bytes there, and text in `mlflow.traceRequestId`. */
  bytes(body: Buffer): Buffer {
    const out = Buffer.from(body);
    for (const [from, to] of this.values) {
      if (!/^tr-[0-9a-f]{32}$/.test(from)) continue;
      replaceAll(out, Buffer.from(from.slice(3), 'hex'), Buffer.from(to.slice(3), 'hex'));
      replaceAll(out, Buffer.from(from), Buffer.from(to));
    }
    return out;
  }
}

/** Replaces equal-length byte sequences in place (protobuf lengths stay right). */
function replaceAll(buffer: Buffer, from: Buffer, to: Buffer): void {
  for (let index = buffer.indexOf(from); index >= 0; index = buffer.indexOf(from, index + to.length)) {
    to.copy(buffer, index);
  }
}

async function replay(scenario: Scenario): Promise<string[]> {
  const mapping = new Mapping();
  const suffix = unique('replay');
  const log: string[] = [];
  for (const request of scenario.requests) {
    const raw = request.body as { base64?: string } | string | undefined;
    const protobuf =
      typeof raw === 'object' && raw !== null && typeof raw.base64 === 'string'
        ? Buffer.from(raw.base64, 'base64')
        : undefined;
    mapping.traceIds(request.path);
    mapping.traceIds(typeof raw === 'string' ? raw : JSON.stringify(raw ?? ''));
    if (protobuf) mapping.traceIds(protobuf.toString('latin1'));
    // Names are unique per deployment: each replay makes its own experiments.
    const target = mapping.text(request.path).replace(/(experiment_name=[^&]+)/, `$1-${suffix}`);
    let body: unknown = raw;
    if (request.path.endsWith('/experiments/create')) {
      body = { ...(raw as Record<string, unknown>), name: `${(raw as { name: string }).name}-${suffix}` };
    } else if (protobuf === undefined && raw !== undefined) {
      body = typeof raw === 'string' ? mapping.text(raw) : mapping.json(raw);
    }
    const headers = Object.fromEntries(
      Object.entries(request.headers ?? {}).map(([name, value]) => [
        name,
        name === 'x-mlflow-experiment-id' ? mapping.experiment(value) : value,
      ]),
    );
    const status = protobuf
      ? (await httpRaw(request.method, target, mapping.bytes(protobuf), headers)).status
      : typeof body === 'string'
        ? (await httpRaw(request.method, target, body, headers)).status
        : undefined;
    const answer = status === undefined ? await http(request.method, target, body, headers) : undefined;
    const label = `${request.method} ${target.slice(0, 120)}`;
    expect({ label, status: status ?? answer?.status }, JSON.stringify(answer?.json)?.slice(0, 300)).toEqual({
      label,
      status: request.status,
    });
    log.push(label);
    const expected = request.answer;
    if (!expected || !answer) continue;
    const json = answer.json;
    if ('experiment_id' in expected)
      mapping.learnExperiment(String(expected.experiment_id), String(json.experiment_id));
    if ('run_id' in expected) mapping.learn(expected.run_id, json.run.info.run_id);
    if ('assessment_id' in expected) mapping.learn(expected.assessment_id, json.assessment.assessment_id);
    if ('request_id' in expected) mapping.learn(expected.request_id, json.trace_info.request_id);
    if ('traceIds' in expected) {
      const ids = (json.traces ?? []).map(
        (trace: { trace_id?: string; request_id?: string }) => trace.trace_id ?? trace.request_id,
      );
      expect({ label, ids }).toEqual({
        label,
        ids: (expected.traceIds as string[]).map((id) => mapping.text(id)),
      });
      expect(Boolean(json.next_page_token)).toBe(Boolean(expected.nextPageToken));
      if (expected.nextPageToken) mapping.learn(expected.nextPageToken, json.next_page_token);
    }
    if ('spans' in expected)
      expect((json.trace.spans ?? []).map((span: { name: string }) => span.name)).toEqual(expected.spans);
    if ('traces' in expected) {
      const traces = (json.traces ?? []).map(
        (trace: { trace_info: { trace_id: string }; spans?: Array<{ name: string }> }) => [
          trace.trace_info.trace_id,
          (trace.spans ?? []).map((span) => span.name),
        ],
      );
      expect(traces).toEqual(
        (expected.traces as Array<[string, string[]]>).map(([id, spans]) => [mapping.text(id), spans]),
      );
    }
    if ('spansLocation' in expected) {
      expect(json.trace.trace_info.tags['mlflow.trace.spansLocation']).toBe(
        expected.spansLocation ?? undefined,
      );
    }
    if ('traces_deleted' in expected) expect(json.traces_deleted).toBe(expected.traces_deleted);
    if ('tags' in expected) expect(Object.keys(json.trace.trace_info.tags).sort()).toEqual(expected.tags);
    if ('assessments' in expected) {
      const assessments = (json.trace.trace_info.assessments ?? []).map(
        (a: { assessment_name: string; valid?: boolean }) => [a.assessment_name, a.valid ?? true],
      );
      expect(assessments).toEqual(expected.assessments);
    }
  }
  return log;
}

describe('MLflow 3 tracing over HTTP, as the official clients drive it', () => {
  const scenario = (name: string) => fixture.scenarios.find((s) => s.name === name) as Scenario;

  it('stores @mlflow.trace and mlflow.start_span traces (OTLP spans, then StartTraceV3), reads them back with get_trace and search_traces (3.11.1)', async () => {
    const log = await replay(scenario('basic'));
    expect(log.filter((line) => line.startsWith('POST /v1/traces'))).toHaveLength(4);
    expect(log).toContain('GET /version');
  });

  it('filters, orders and pages search_traces, sets and deletes tags, links to a run, assesses and deletes traces (3.11.1)', async () => {
    const log = await replay(scenario('full'));
    expect(log.some((line) => line.startsWith('POST /api/2.0/mlflow/traces/link-to-run'))).toBe(true);
  });

  it('serves MLflow 2.22’s trace API: StartTrace, traces.json through the artifact proxy, EndTrace, tags, search, delete', async () => {
    await replay(scenario('v2'));
  });

  it('answers the /version MLflow’s client reads to choose OTLP, with Runway’s own version beside it', async () => {
    const text = await httpRaw('GET', '/version');
    expect(Buffer.from(text.body).toString('utf8')).toBe('3.11.1');
    expect(text.headers.get('x-runway-version')).toBeTruthy();
    const json = await http('GET', '/version', undefined, { accept: 'application/json' });
    expect(json.json).toMatchObject({ product: 'runway', mlflow_version: '3.11.1' });
  });
});
