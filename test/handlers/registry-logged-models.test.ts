import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventRecorder, TEST_BUS } from '../support/event-recorder.ts';
import { type ApiHandler, handlerCaller, unique } from '../support/handler-call.ts';
import { tableName, useEmulators } from '../support/handler-env.ts';

/**
 * Model versions made from MLflow 3 logged models, through the real tracking and registry handlers on
 * the emulators: what MLflow 3.11's server checks and writes (`_create_model_version`,
 * `set_model_versions_tags`; real answers in test/fixtures/mlflow3-rest/), and where Runway answers
 * better (a `models:/` source that does not resolve is 400, not 500, and writes nothing).
 */

let tracking: ApiHandler;
let registry: ApiHandler;
let recorder: EventRecorder;
const track = handlerCaller(() => tracking);
const reg = handlerCaller(() => registry);
const q = encodeURIComponent;

beforeAll(async () => {
  const started = await EventRecorder.start();
  recorder = started.recorder;
  useEmulators({
    REGISTRY_TABLE_NAME: tableName('RegistryTable'),
    TRACKING_TABLE_NAME: tableName('TrackingTable'),
    EVENT_BUS_NAME: TEST_BUS,
    AWS_ENDPOINT_URL_EVENTBRIDGE: started.endpoint,
  });
  ({ handler: tracking } = (await import('../../functions/tracking-api.ts')) as unknown as {
    handler: ApiHandler;
  });
  ({ handler: registry } = (await import('../../functions/registry-api.ts')) as unknown as {
    handler: ApiHandler;
  });
});

afterAll(async () => {
  await recorder.close();
});

/** What `mlflow.<flavor>.log_model(model, name="model")` leaves behind: a run and its READY logged model. */
async function loggedModel() {
  const experimentId = (await track('POST', 'experiments/create', { name: unique('lm-reg') })).json
    .experiment_id as string;
  const runId = (await track('POST', 'runs/create', { experiment_id: experimentId })).json.run.info
    .run_id as string;
  const created = await track('POST', 'logged-models', {
    experiment_id: experimentId,
    name: 'model',
    source_run_id: runId,
  });
  expect(created.status).toBe(200);
  const modelId = created.json.model.info.model_id as string;
  await track('PATCH', `logged-models/${modelId}`, { model_id: modelId, status: 'LOGGED_MODEL_READY' });
  return { experimentId, runId, modelId, artifactUri: created.json.model.info.artifact_uri as string };
}

async function registeredModel() {
  const name = unique('churn');
  expect((await reg('POST', 'registered-models/create', { name })).status).toBe(200);
  return name;
}

const tagOf = async (modelId: string, key: string) =>
  (
    (await track('GET', `logged-models/${modelId}`)).json.model.info.tags as Array<{
      key: string;
      value: string;
    }>
  ).find((tag) => tag.key === key)?.value;

describe('model versions from logged models (MLflow 3.11)', () => {
  it('creates a version from models:/<model_id>: its run, download URI and the model’s mlflow.modelVersions tag', async () => {
    const { runId, modelId, artifactUri } = await loggedModel();
    const name = await registeredModel();
    // What the 3.11 client sends for log_model(..., registered_model_name=name) and register_model().
    const created = await reg('POST', 'model-versions/create', {
      name,
      source: `models:/${modelId}`,
      model_id: modelId,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    expect(created.json.model_version).toEqual({
      name,
      version: '1',
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: created.json.model_version.creation_timestamp,
      current_stage: 'None',
      description: '',
      source: `models:/${modelId}`,
      run_id: runId,
      status: 'READY',
      run_link: '',
    });
    const uri = await reg('GET', `model-versions/get-download-uri?name=${q(name)}&version=1`);
    expect(uri.json).toEqual({ artifact_uri: artifactUri });
    // The server's entry, with the version as a number, exactly as Python's json.dumps writes it.
    expect(await tagOf(modelId, 'mlflow.modelVersions')).toBe(`[{"name": "${name}", "version": 1}]`);
  });

  it('keeps the entries the client appends (the version as a string) and adds each new version once', async () => {
    const { modelId } = await loggedModel();
    const name = await registeredModel();
    const version = { name, source: `models:/${modelId}`, model_id: modelId };
    expect((await reg('POST', 'model-versions/create', version)).status).toBe(200);
    // The 3.11 client then reads the tag and appends its own entry (register_model's second step).
    const afterClient = `[{"name": "${name}", "version": 1}, {"name": "${name}", "version": "1"}]`;
    await track('PATCH', `logged-models/${modelId}/tags`, {
      tags: [{ key: 'mlflow.modelVersions', value: afterClient }],
    });
    expect((await reg('POST', 'model-versions/create', version)).status).toBe(200);
    expect(await tagOf(modelId, 'mlflow.modelVersions')).toBe(
      `[{"name": "${name}", "version": 1}, {"name": "${name}", "version": "1"}, {"name": "${name}", "version": 2}]`,
    );
  });

  it('lists every version when many are created from one model at once (no entry lost to a race)', async () => {
    const { modelId } = await loggedModel();
    const name = await registeredModel();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        reg('POST', 'model-versions/create', { name, source: `models:/${modelId}`, model_id: modelId }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(200));
    const listed = JSON.parse((await tagOf(modelId, 'mlflow.modelVersions')) ?? '[]') as Array<{
      version: number;
    }>;
    expect(listed.map((entry) => entry.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('takes the run from the logged model named by model_id, whatever the source', async () => {
    const { runId, modelId, artifactUri } = await loggedModel();
    const name = await registeredModel();
    const created = await reg('POST', 'model-versions/create', {
      name,
      source: artifactUri,
      model_id: modelId,
    });
    expect(created.json.model_version).toMatchObject({ source: artifactUri, run_id: runId });
    expect(await tagOf(modelId, 'mlflow.modelVersions')).toBe(`[{"name": "${name}", "version": 1}]`);
    // A run id the client gives wins, as in MLflow.
    const other = await reg('POST', 'model-versions/create', {
      name,
      source: `models:/${modelId}`,
      model_id: modelId,
      run_id: 'f'.repeat(32),
    });
    expect(other.json.model_version.run_id).toBe('f'.repeat(32));
  });

  it('resolves models:/<name>/<version> and models:/<name>@<alias> of such a version to the logged model’s files', async () => {
    const { modelId, artifactUri } = await loggedModel();
    const name = await registeredModel();
    await reg('POST', 'model-versions/create', { name, source: `models:/${modelId}`, model_id: modelId });
    await reg('POST', 'registered-models/alias', { name, alias: 'champion', version: '1' });
    const copy = await registeredModel();
    for (const source of [`models:/${name}/1`, `models:/${name}@champion`]) {
      const version = (await reg('POST', 'model-versions/create', { name: copy, source })).json.model_version;
      const uri = await reg(
        'GET',
        `model-versions/get-download-uri?name=${q(copy)}&version=${version.version}`,
      );
      expect(uri.json.artifact_uri, source).toBe(artifactUri);
    }
  });

  it('refuses an unknown or deleted logged model and writes nothing: 400 for a models:/ source, 404 for model_id', async () => {
    const { modelId } = await loggedModel();
    const name = await registeredModel();
    const unknown = `m-${'0'.repeat(32)}`;
    const bySource = await reg('POST', 'model-versions/create', { name, source: `models:/${unknown}` });
    expect(bySource.status).toBe(400);
    expect(bySource.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(bySource.json.message).toContain(
      `Unable to fetch model from model URI source artifact location 'models:/${unknown}'`,
    );
    const byId = await reg('POST', 'model-versions/create', { name, source: 's3://b/m', model_id: unknown });
    expect(byId.status).toBe(404);
    expect(byId.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    await track('DELETE', `logged-models/${modelId}`);
    const deleted = await reg('POST', 'model-versions/create', {
      name,
      source: `models:/${modelId}`,
      model_id: modelId,
    });
    expect(deleted.status).toBe(400);
    expect(
      (await reg('GET', `registered-models/get?name=${q(name)}`)).json.registered_model,
    ).not.toHaveProperty('latest_versions');
    // The next version created is still 1: nothing was allocated by the refusals.
    expect(
      (await reg('POST', 'model-versions/create', { name, source: 's3://b/m' })).json.model_version.version,
    ).toBe('1');
  });

  it('keeps runs:/ and mlflow-artifacts:/ sources working as before', async () => {
    const { experimentId, runId } = await loggedModel();
    const name = await registeredModel();
    const fromRun = await reg('POST', 'model-versions/create', {
      name,
      source: `runs:/${runId}/model`,
      run_id: runId,
    });
    expect(fromRun.json.model_version.source).toBe(`runs:/${runId}/model`);
    const uri = await reg('GET', `model-versions/get-download-uri?name=${q(name)}&version=1`);
    expect(uri.json.artifact_uri).toBe(`mlflow-artifacts:/${experimentId}/${runId}/artifacts/model`);
    const proxied = `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model`;
    const fromProxy = await reg('POST', 'model-versions/create', { name, source: proxied });
    expect(fromProxy.json.model_version.source).toBe(proxied);
  });
});
