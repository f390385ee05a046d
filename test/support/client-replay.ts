import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { type HttpResult, http, httpRaw } from './http-client.ts';

/** One request an MLflow client sent, as captured (test/fixtures/mlflow3/client-*-requests.json). */
export interface RecordedRequest {
  method: string;
  /** With placeholders: `{experiment_id}`, `{run_id}`, `{model_id}`, `{name}`, `{experiment_name}`. */
  path: string;
  /** What the client got: the replay expects the same. */
  status: number;
  body?: unknown;
  /** An uploaded file: its size and content type as the client sent it. */
  file?: { bytes: number; contentType: string };
}

export interface Recording {
  source: string;
  client: string;
  flows: Record<string, RecordedRequest[]>;
}

export function readRecording(name: string): Recording {
  return JSON.parse(
    readFileSync(path.resolve(import.meta.dirname, '../fixtures/mlflow3', name), 'utf8'),
  ) as Recording;
}

/** What a replayed request answered, by request. */
export interface Replayed {
  request: RecordedRequest;
  method: string;
  path: string;
  response: HttpResult;
  /** The bytes the request uploaded, for file uploads; the bytes answered, for file downloads. */
  bytes?: Uint8Array;
}

/**
 * Replays a client's recorded requests in order against the deployment under test, as the client
 * would send them: placeholders filled from `vars`, and learnt as the answers name them (the
 * experiment a create answers, the run and the logged model created). Each answer must have the
 * recorded status. Uploaded files come from `fileFor` (by artifact path), else deterministic bytes of
 * the recorded size. Returns every request with its answer, for the flow's own assertions.
 */
export async function replay(
  flow: readonly RecordedRequest[],
  vars: Record<string, string>,
  fileFor: (artifactPath: string, vars: Record<string, string>) => Uint8Array | undefined = () => undefined,
): Promise<Replayed[]> {
  const done: Replayed[] = [];
  for (const request of flow) {
    const fill = (text: string) => text.replace(/\{(\w+)\}/g, (match, key: string) => vars[key] ?? match);
    const target = fill(request.path);
    let response: HttpResult;
    let bytes: Uint8Array | undefined;
    if (request.file) {
      const artifactPath = decodeURIComponent(
        target.replace(/^\/api\/2\.0\/mlflow-artifacts\/artifacts\//, ''),
      );
      bytes = fileFor(artifactPath, vars) ?? patternBytes(request.file.bytes);
      const raw = await httpRaw(request.method, target, bytes, { 'content-type': request.file.contentType });
      const text = Buffer.from(raw.body).toString('utf8');
      response = { status: raw.status, headers: raw.headers, text, json: tryJson(text) };
    } else if (request.method === 'GET' && target.includes('/mlflow-artifacts/artifacts/')) {
      const raw = await httpRaw('GET', target);
      bytes = raw.body;
      const text = Buffer.from(raw.body).toString('utf8');
      response = { status: raw.status, headers: raw.headers, text, json: tryJson(text) };
    } else {
      const body = request.body === undefined ? undefined : JSON.parse(fill(JSON.stringify(request.body)));
      response = await http(request.method, target, body);
    }
    expect(
      { request: `${request.method} ${target}`, status: response.status },
      response.text.slice(0, 300),
    ).toEqual({ request: `${request.method} ${target}`, status: request.status });
    learn(request, target, response, vars);
    done.push({ request, method: request.method, path: target, response, ...(bytes ? { bytes } : {}) });
  }
  return done;
}

/** Ids the client would take from answers, so the following requests name them. */
function learn(request: RecordedRequest, target: string, response: HttpResult, vars: Record<string, string>) {
  if (response.status !== 200) return;
  if (target.endsWith('/mlflow/experiments/create')) vars.experiment_id = response.json.experiment_id;
  if (target.endsWith('/mlflow/runs/create')) vars.run_id = response.json.run.info.run_id;
  if (request.method === 'POST' && target.endsWith('/mlflow/logged-models')) {
    vars.model_id = response.json.model.info.model_id;
  }
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `size` bytes that differ from file to file of another size: a stand-in for what the client uploaded. */
export function patternBytes(size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 31 + size) % 251);
}

/** The ids the `mlflow3-onnx-logreg` fixture's MLmodel carries (the run and model it was logged with). */
const FIXTURE_MODEL_ID = 'm-0e1284e7189041b69d4a0ce5ef21b7fb';
const FIXTURE_RUN_ID = '892c4fb2fab4403e9455015139a67c56';

/**
 * The `mlflow3-onnx-logreg` fixture's MLmodel as the client uploads it for the model being replayed:
 * naming this run, this model and this experiment.
 */
export function replayedMlmodel(fixture: Buffer, vars: Record<string, string>): Uint8Array {
  return new TextEncoder().encode(
    fixture
      .toString('utf8')
      .replaceAll(FIXTURE_MODEL_ID, vars.model_id as string)
      .replaceAll(FIXTURE_RUN_ID, vars.run_id as string)
      .replace('mlflow-artifacts:/1/', `mlflow-artifacts:/${vars.experiment_id}/`),
  );
}

/** Creates an endpoint that follows `alias` of `model`, deploying in one step with no bake. */
export async function createEndpointFollowing(name: string, model: string, alias: string): Promise<void> {
  const created = await http('POST', '/api/2.0/runway/endpoints', {
    name,
    model_name: model,
    follows: { alias },
    rollout_policy: { traffic_steps: [100], bake_seconds: 0 },
  });
  expect(created.status, created.text).toBe(200);
}
