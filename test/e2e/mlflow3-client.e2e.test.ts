import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createEndpointFollowing,
  type Replayed,
  readRecording,
  replay,
  replayedMlmodel,
} from '../support/client-replay.ts';
import { http, mlflow, unique } from '../support/http-client.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The MLflow 3.11.1 client's own requests (test/fixtures/mlflow3/client-3.11.1-requests.json,
 * captured from the real client against `npm start`), replayed over HTTP only, so this suite checks
 * any deployment at `E2E_BASE_URL` as the client would: a model logged the MLflow 3 way and
 * registered from `models:/<model_id>`, registered again, aliased and loaded by
 * `models:/<name>@<alias>` (the files the client downloads, byte for byte), served by an endpoint
 * that follows the alias (the fixture's expected outputs), found by `search_logged_models` with a
 * metric filter; and a `mlflow.sklearn.autolog()` run.
 */

const recording = readRecording('client-3.11.1-requests.json');
const MODEL_DIR = path.resolve(import.meta.dirname, '../fixtures/models/mlflow3-onnx-logreg');
const FILES = new Map(readdirSync(MODEL_DIR).map((file) => [file, readFileSync(path.join(MODEL_DIR, file))]));
const EXPECTED = JSON.parse(
  readFileSync(
    path.resolve(import.meta.dirname, '../fixtures/models/mlflow3-onnx-logreg.expected.json'),
    'utf8',
  ),
) as { x: number[][]; expected: number[][] };
/** The fixture's files as the client uploads them for this model: its MLmodel names this run and model. */
function modelFile(artifactPath: string, vars: Record<string, string>): Uint8Array | undefined {
  const file = FILES.get(path.posix.basename(artifactPath));
  if (!file || path.posix.basename(artifactPath) !== 'MLmodel') return file;
  return replayedMlmodel(file, vars);
}

const q = encodeURIComponent;
const vars: Record<string, string> = { name: unique('churn3'), experiment_name: unique('mlflow3-client') };
const ENDPOINT = `mlflow3-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
/** What the client uploaded in `log_model`, by file name. */
const uploaded = new Map<string, Uint8Array>();

const answerOf = (done: Replayed[], method: string, route: string) =>
  done.find((entry) => entry.method === method && entry.path.includes(route))?.response.json;

async function loggedModel() {
  return (await mlflow('GET', `logged-models/${vars.model_id}`)).json.model;
}

afterAll(async () => {
  await http('DELETE', `/api/2.0/runway/endpoints/${ENDPOINT}`);
});

describe('the MLflow 3.11.1 client’s requests, replayed', { timeout: 240_000 }, () => {
  it('log_model(name="model", registered_model_name=...): a logged model linked to its run, and version 1 from models:/<model_id>', async () => {
    const done = await replay(recording.flows.log_model_registered ?? [], vars, modelFile);
    for (const entry of done) {
      if (entry.method === 'PUT' && entry.bytes) uploaded.set(path.posix.basename(entry.path), entry.bytes);
    }
    expect([...uploaded.keys()].sort()).toEqual(
      [...FILES.keys()].filter((f) => f !== 'registered_model_meta').sort(),
    );
    const created = answerOf(done, 'POST', '/mlflow/model-versions/create').model_version;
    expect(created).toMatchObject({
      name: vars.name,
      version: '1',
      source: `models:/${vars.model_id}`,
      run_id: vars.run_id,
      status: 'READY',
    });
    const model = await loggedModel();
    expect(model.info).toMatchObject({
      experiment_id: vars.experiment_id,
      name: 'model',
      source_run_id: vars.run_id,
      status: 'LOGGED_MODEL_READY',
      artifact_uri: `mlflow-artifacts:/${vars.experiment_id}/models/${vars.model_id}/artifacts`,
    });
    // The server's entry (the version a number), then the client's (a string), as against MLflow 3.11.
    expect(model.info.tags).toContainEqual({
      key: 'mlflow.modelVersions',
      value: `[{"name": "${vars.name}", "version": 1}, {"name": "${vars.name}", "version": "1"}]`,
    });
    const { run } = (await mlflow('GET', `runs/get?run_id=${vars.run_id}`)).json;
    expect(run.outputs).toEqual({ model_outputs: [{ model_id: vars.model_id, step: 0 }] });
    expect(run.inputs).toEqual({ model_inputs: [{ model_id: vars.model_id }] });
    expect(run.data.params).toEqual([{ key: 'C', value: '1.0' }]);
  });

  it('register_model("models:/m-..."): version 2 from the same logged model, listed on it', async () => {
    const done = await replay(recording.flows.register_model ?? [], vars);
    const created = answerOf(done, 'POST', '/mlflow/model-versions/create').model_version;
    expect(created).toMatchObject({ version: '2', source: `models:/${vars.model_id}`, run_id: vars.run_id });
    const tags = (await loggedModel()).info.tags as Array<{ key: string; value: string }>;
    expect(JSON.parse(tags.find((tag) => tag.key === 'mlflow.modelVersions')?.value ?? '[]')).toEqual([
      { name: vars.name, version: 1 },
      { name: vars.name, version: '1' },
      { name: vars.name, version: 2 },
      { name: vars.name, version: '2' },
    ]);
  });

  it('an alias, then load_model("models:/<name>@champion"): the files the client downloads are the logged model’s, byte for byte', async () => {
    // The endpoint follows the alias before it is set, so setting it deploys (continuous deployment).
    await createEndpointFollowing(ENDPOINT, vars.name as string, 'champion');

    const done = await replay(recording.flows.alias_and_load ?? [], vars);
    const uri = answerOf(done, 'GET', '/mlflow/model-versions/get-download-uri');
    expect(uri).toEqual({
      artifact_uri: `mlflow-artifacts:/${vars.experiment_id}/models/${vars.model_id}/artifacts`,
    });
    const downloads = done.filter(
      (entry) => entry.method === 'GET' && entry.path.includes('/mlflow-artifacts/artifacts/'),
    );
    expect(downloads.length).toBeGreaterThanOrEqual(uploaded.size);
    for (const entry of downloads) {
      const name = path.posix.basename(entry.path);
      expect(Buffer.from(entry.bytes ?? []).equals(Buffer.from(uploaded.get(name) ?? [])), name).toBe(true);
    }
    const listing = answerOf(done, 'GET', '/mlflow-artifacts/artifacts?path=');
    expect(listing.files.map((file: { path: string }) => file.path).sort()).toEqual(
      [...uploaded.keys()].sort(),
    );
  });

  it('an endpoint following the alias serves version 2 with the fixture’s expected outputs', async () => {
    const state = () => http('GET', `/api/2.0/runway/endpoints/${ENDPOINT}`).then((r) => r.json.endpoint);
    const traffic = await waitFor(
      `${ENDPOINT} to serve version 2`,
      async () => {
        const { traffic } = await state();
        return traffic.primary?.version === '2' && traffic.canary === null ? traffic : undefined;
      },
      async () => JSON.stringify(await state()),
    );
    expect(traffic.primary.storage_location).toMatch(
      new RegExp(`/${vars.experiment_id}/models/${vars.model_id}/artifacts$`),
    );
    const answer = await waitFor(
      'an invocation answered by version 2',
      async () => {
        const response = await http('POST', `/endpoints/${ENDPOINT}/invocations`, { inputs: EXPECTED.x });
        return response.headers.get('x-runway-model-version') === '2' ? response : undefined;
      },
      async () => JSON.stringify(await state()),
    );
    expect(answer.status, answer.text).toBe(200);
    const rows = Object.values(answer.json.predictions as Record<string, number[][]>)[0] ?? [];
    expect(rows).toHaveLength(EXPECTED.expected.length);
    rows.forEach(([p], i) => {
      expect(Math.abs((p as number) - (EXPECTED.expected[i]?.[0] as number))).toBeLessThan(1e-6);
    });
  });

  it('search_logged_models(filter_string="metrics.accuracy > 0.9") finds the model by its linked metric', async () => {
    const done = await replay(recording.flows.search_logged_models ?? [], vars);
    const found = answerOf(done, 'POST', '/mlflow/logged-models/search');
    expect(found.models.map((model: { info: { model_id: string } }) => model.info.model_id)).toEqual([
      vars.model_id,
    ]);
    expect(found.models[0].data.metrics).toEqual([
      expect.objectContaining({ key: 'accuracy', value: 0.91, model_id: vars.model_id, run_id: vars.run_id }),
    ]);
    const none = await mlflow('POST', 'logged-models/search', {
      experiment_ids: [vars.experiment_id],
      filter: 'metrics.accuracy > 0.95',
    });
    expect(none.json).toEqual({});
  });

  it('mlflow.sklearn.autolog(): the run’s params, metrics and datasets, and its model logged the MLflow 3 way', async () => {
    const own: Record<string, string> = { experiment_name: unique('autolog') };
    await replay(recording.flows.sklearn_autolog ?? [], own);
    const { run } = (await mlflow('GET', `runs/get?run_id=${own.run_id}`)).json;
    expect(run.info.status).toBe('FINISHED');
    expect(run.data.params).toHaveLength(15);
    expect(run.data.params).toContainEqual({ key: 'C', value: '0.5' });
    expect(run.data.metrics.map((metric: { key: string }) => metric.key).sort()).toEqual([
      'training_accuracy_score',
      'training_f1_score',
      'training_log_loss',
      'training_precision_score',
      'training_recall_score',
      'training_roc_auc',
      'training_score',
    ]);
    expect(run.inputs.dataset_inputs[0].tags).toEqual([{ key: 'mlflow.data.context', value: 'train' }]);
    expect(run.outputs.model_outputs).toEqual([{ model_id: own.model_id, step: 0 }]);
    const model = (await mlflow('GET', `logged-models/${own.model_id}`)).json.model;
    expect(model.info).toMatchObject({
      source_run_id: own.run_id,
      status: 'LOGGED_MODEL_READY',
      name: 'model',
    });
    expect(model.data.params).toContainEqual({ key: 'C', value: '0.5' });
    expect(model.data.metrics).toHaveLength(7);
    const artifacts = await http(
      'GET',
      `/api/2.0/mlflow-artifacts/artifacts?path=${q(`${own.experiment_id}/${own.run_id}/artifacts`)}`,
    );
    expect(artifacts.json.files.map((file: { path: string }) => file.path).sort()).toEqual([
      'estimator.html',
      'training_confusion_matrix.png',
      'training_precision_recall_curve.png',
      'training_roc_curve.png',
    ]);
  });
});
