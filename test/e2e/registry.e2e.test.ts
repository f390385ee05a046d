import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type HttpResult, http, httpRaw, unique } from '../support/http-client.ts';

/**
 * The model registry over HTTP as the MLflow 2.22 client drives it: a run logs an MLflow model
 * directory through the artifact proxy, the model is registered from `runs:/<run_id>/model`, gets
 * tags, stages and aliases, is found by search, and is loaded by `models:/name@alias`,
 * `models:/name/<stage>` and `models:/name/<version>`, each resolved as the client resolves it
 * (mlflow/store/artifact/utils/models.py) and then downloaded through the artifact proxy, byte for
 * byte. Then every error MLflow's server answers, under both API prefixes.
 *
 * The client calls `registered-models/get` before most registry operations (its prompt check,
 * `MlflowClient._raise_if_prompt`); `client()` below sends that call too, so the suite sends the
 * client's request sequence.
 */

const PREFIXES = ['/api/2.0', '/ajax-api/2.0'] as const;
type Prefix = (typeof PREFIXES)[number];
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';
const q = encodeURIComponent;
/** Each segment percent-encoded, as the client's `requests` sends artifact paths. */
const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

/** The MLflow model directory `mlflow.onnx.log_model` writes (test/fixtures/models/README.md). */
const MODEL_DIR = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/models/mlflow-onnx-logreg',
);
const MODEL_FILES = readdirSync(MODEL_DIR)
  .sort()
  .map((file) => ({ file, bytes: new Uint8Array(readFileSync(path.join(MODEL_DIR, file))) }));

function registry(method: string, endpoint: string, body?: unknown, prefix: Prefix = '/api/2.0') {
  return http(method, `${prefix}/mlflow/${endpoint}`, body);
}

/** A registry call as `MlflowClient` makes it: `registered-models/get` first, then the call itself. */
async function client(
  name: string,
  method: string,
  endpoint: string,
  body?: unknown,
  prefix: Prefix = '/api/2.0',
): Promise<HttpResult> {
  const check = await registry('GET', `registered-models/get?name=${q(name)}`, undefined, prefix);
  expect(check.status, `prompt check of ${name}`).toBeOneOf([200, 404]);
  return registry(method, endpoint, body, prefix);
}

function expectError(result: HttpResult, status: number, code: string, what = '') {
  expect(result.status, `${what}: ${result.text.slice(0, 200)}`).toBe(status);
  expect(result.json, what).toEqual({ error_code: code, message: expect.any(String) });
}

/**
 * What `mlflow.register_model(model_uri, name)` sends: create the model (an existing one answers
 * RESOURCE_ALREADY_EXISTS, which the client ignores), create the version, then poll it until READY.
 */
async function registerModel(source: string, name: string, runId: string) {
  const created = await registry('POST', 'registered-models/create', { name });
  if (created.status !== 200) expectError(created, 400, 'RESOURCE_ALREADY_EXISTS', 'register again');
  const version = await client(name, 'POST', 'model-versions/create', {
    name,
    source,
    run_id: runId,
    tags: [],
  });
  expect(version.status, version.text).toBe(200);
  const number = version.json.model_version.version as string;
  const ready = await client(name, 'GET', `model-versions/get?name=${q(name)}&version=${number}`);
  expect(ready.json.model_version.status).toBe('READY');
  return version.json.model_version;
}

/**
 * Resolves a `models:/` URI to a version as MLflow's client does (`get_model_name_and_version`): an
 * alias by `registered-models/alias`, a stage (or `latest`) by `get-latest-versions` taking the
 * highest version, a number by `model-versions/get`.
 */
async function resolveModelUri(uri: string): Promise<{ name: string; version: string }> {
  const byAlias = /^models:\/([^/]+)@([\w-]+)$/.exec(uri);
  if (byAlias) {
    const [, name = '', alias = ''] = byAlias;
    const found = await client(name, 'GET', `registered-models/alias?name=${q(name)}&alias=${q(alias)}`);
    expect(found.status, found.text).toBe(200);
    return { name, version: found.json.model_version.version };
  }
  const [, name = '', suffix = ''] = /^models:\/([^/]+)\/([^/]+)$/.exec(uri) ?? [];
  if (/^\d+$/.test(suffix)) {
    const found = await client(name, 'GET', `model-versions/get?name=${q(name)}&version=${suffix}`);
    expect(found.status, found.text).toBe(200);
    return { name, version: found.json.model_version.version };
  }
  const latest = await client(name, 'POST', 'registered-models/get-latest-versions', {
    name,
    ...(suffix.toLowerCase() === 'latest' ? {} : { stages: [suffix] }),
  });
  expect(latest.status, latest.text).toBe(200);
  const versions = (latest.json.model_versions ?? []).map((v: { version: string }) => Number(v.version));
  expect(versions.length, `no version of ${name} in ${suffix}`).toBeGreaterThan(0);
  return { name, version: String(Math.max(...versions)) };
}

/**
 * What `mlflow.pyfunc.load_model(models:/...)` does after resolving: asks for the version's download
 * URI, lists the model directory through the artifact proxy and downloads every file. Returns the
 * download URI; every file must arrive byte for byte.
 */
async function downloadModel(name: string, version: string): Promise<string> {
  const answer = await client(
    name,
    'GET',
    `model-versions/get-download-uri?name=${q(name)}&version=${version}`,
  );
  expect(answer.status, answer.text).toBe(200);
  const uri = answer.json.artifact_uri as string;
  // mlflow-artifacts:/<path> (or mlflow-artifacts://<host>/<path>) is <tracking uri>/api/2.0/mlflow-artifacts/artifacts/<path>.
  const directory = uri.replace(/^mlflow-artifacts:(\/\/[^/]*)?\/+/, '');
  const listed = await http('GET', `${ARTIFACTS}?path=${q(directory)}`);
  expect(listed.json).toEqual({
    files: MODEL_FILES.map(({ file, bytes }) => ({ path: file, is_dir: false, file_size: bytes.length })),
  });
  for (const { file, bytes } of MODEL_FILES) {
    const got = await httpRaw('GET', `${ARTIFACTS}/${encodePath(`${directory}/${file}`)}`);
    expect(got.status, file).toBe(200);
    expect(Buffer.from(got.body).equals(Buffer.from(bytes)), `${file} arrives intact`).toBe(true);
  }
  return uri;
}

const versionsOf = (result: HttpResult) =>
  (result.json.model_versions ?? []).map((v: { version: string; current_stage: string }) => [
    v.version,
    v.current_stage,
  ]);

let experimentId: string;
let runId: string;
let modelDirectory: string;

beforeAll(async () => {
  // A training run that logs its model: mlflow.start_run(); mlflow.onnx.log_model(..., "model").
  const experiment = await registry('POST', 'experiments/create', { name: unique('registry-e2e') });
  expect(experiment.status).toBe(200);
  experimentId = experiment.json.experiment_id;
  const run = await registry('POST', 'runs/create', { experiment_id: experimentId, start_time: Date.now() });
  expect(run.status).toBe(200);
  runId = run.json.run.info.run_id;
  expect(run.json.run.info.artifact_uri).toBe(`mlflow-artifacts:/${experimentId}/${runId}/artifacts`);
  modelDirectory = `${experimentId}/${runId}/artifacts/model`;
  for (const { file, bytes } of MODEL_FILES) {
    const put = await httpRaw('PUT', `${ARTIFACTS}/${encodePath(`${modelDirectory}/${file}`)}`, bytes, {
      'content-type': 'application/octet-stream',
    });
    expect(put.status, file).toBe(200);
  }
  const ended = await registry('POST', 'runs/update', {
    run_id: runId,
    status: 'FINISHED',
    end_time: Date.now(),
  });
  expect(ended.status).toBe(200);
});

describe('model registry over HTTP, as the MLflow client drives it', () => {
  it('registers a logged model, promotes it by stage and alias, and serves its files by every models:/ form', async () => {
    const name = unique('churn');
    const source = `runs:/${runId}/model`;
    const storage = `mlflow-artifacts:/${modelDirectory}`;

    // client.create_registered_model(name, tags, description), then mlflow.register_model twice.
    const created = await registry('POST', 'registered-models/create', {
      name,
      tags: [{ key: 'team', value: 'growth' }],
      description: 'Predicts churn',
    });
    expect(created.json.registered_model).toEqual({
      name,
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: created.json.registered_model.creation_timestamp,
      description: 'Predicts churn',
      tags: [{ key: 'team', value: 'growth' }],
    });
    const v1 = await registerModel(source, name, runId);
    expect(v1).toEqual({
      name,
      version: '1',
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: v1.creation_timestamp,
      description: '',
      current_stage: 'None',
      source,
      run_id: runId,
      run_link: '',
      status: 'READY',
    });
    expect((await registerModel(source, name, runId)).version).toBe('2');
    // The client may resolve runs:/ itself first (runs/get, then the run's artifact URI as source).
    const run = await registry('GET', `runs/get?run_id=${runId}`);
    const underlying = `${run.json.run.info.artifact_uri}/model`;
    expect(underlying).toBe(storage);
    expect(await registerModel(underlying, name, runId)).toMatchObject({ version: '3', source: underlying });

    // Tags on the model and on a version.
    expect(
      (await client(name, 'POST', 'registered-models/set-tag', { name, key: 'owner', value: 'ana' })).status,
    ).toBe(200);
    expect(
      (
        await client(name, 'POST', 'model-versions/set-tag', {
          name,
          version: '2',
          key: 'validated',
          value: 'true',
        })
      ).status,
    ).toBe(200);
    const tagged = await client(name, 'GET', `model-versions/get?name=${q(name)}&version=2`);
    expect(tagged.json.model_version.tags).toEqual([{ key: 'validated', value: 'true' }]);

    // Stages: 1 to Staging, then Production; 2 to Production archiving the others.
    for (const stage of ['Staging', 'Production']) {
      const moved = await client(name, 'POST', 'model-versions/transition-stage', {
        name,
        version: '1',
        stage,
        archive_existing_versions: false,
      });
      expect(moved.json.model_version).toMatchObject({ version: '1', current_stage: stage });
    }
    const promoted = await client(name, 'POST', 'model-versions/transition-stage', {
      name,
      version: '2',
      stage: 'Production',
      archive_existing_versions: true,
    });
    expect(promoted.json.model_version).toMatchObject({ version: '2', current_stage: 'Production' });
    const one = await client(name, 'GET', `model-versions/get?name=${q(name)}&version=1`);
    expect(one.json.model_version.current_stage).toBe('Archived');

    // Aliases: set, get, move, delete.
    for (const [alias, version] of [
      ['champion', '1'],
      ['champion', '2'],
      ['challenger', '3'],
    ] as const) {
      expect((await client(name, 'POST', 'registered-models/alias', { name, alias, version })).status).toBe(
        200,
      );
    }
    const champion = await client(name, 'GET', `registered-models/alias?name=${q(name)}&alias=champion`);
    expect(champion.json.model_version).toMatchObject({ version: '2', aliases: ['champion'] });
    expect(
      (await client(name, 'POST', 'registered-models/alias', { name, alias: 'temp', version: '1' })).status,
    ).toBe(200);
    expect((await client(name, 'DELETE', 'registered-models/alias', { name, alias: 'temp' })).status).toBe(
      200,
    );
    expectError(
      await client(name, 'GET', `registered-models/alias?name=${q(name)}&alias=temp`),
      400,
      'INVALID_PARAMETER_VALUE',
      'deleted alias',
    );

    const model = (await registry('GET', `registered-models/get?name=${q(name)}`)).json.registered_model;
    expect(model).toMatchObject({
      name,
      description: 'Predicts churn',
      aliases: [
        { alias: 'challenger', version: '3' },
        { alias: 'champion', version: '2' },
      ],
    });
    expect(model.tags).toEqual(
      expect.arrayContaining([
        { key: 'team', value: 'growth' },
        { key: 'owner', value: 'ana' },
      ]),
    );
    expect(versionsOf({ json: { model_versions: model.latest_versions } } as HttpResult)).toEqual([
      ['1', 'Archived'],
      ['2', 'Production'],
      ['3', 'None'],
    ]);

    // get_latest_versions, by POST (what the client sends) and GET.
    const latest = await client(name, 'POST', 'registered-models/get-latest-versions', { name });
    expect(versionsOf(latest)).toEqual([
      ['1', 'Archived'],
      ['2', 'Production'],
      ['3', 'None'],
    ]);
    const production = await client(
      name,
      'GET',
      `registered-models/get-latest-versions?name=${q(name)}&stages=Production`,
    );
    expect(versionsOf(production)).toEqual([['2', 'Production']]);
    const staging = await client(name, 'POST', 'registered-models/get-latest-versions', {
      name,
      stages: ['Staging'],
    });
    expect(staging.json).toEqual({});

    // mlflow.pyfunc.load_model with every URI form: resolve, get-download-uri, list, download.
    for (const [uri, version] of [
      [`models:/${name}@champion`, '2'],
      [`models:/${name}@challenger`, '3'],
      [`models:/${name}/Production`, '2'],
      [`models:/${name}/production`, '2'],
      [`models:/${name}/Archived`, '1'],
      [`models:/${name}/latest`, '3'],
      [`models:/${name}/1`, '1'],
    ] as const) {
      const resolved = await resolveModelUri(uri);
      expect(resolved, uri).toEqual({ name, version });
      expect(await downloadModel(resolved.name, resolved.version)).toBe(storage);
    }
    // The MLmodel the server hands back is the one that was logged.
    const mlmodel = await httpRaw('GET', `${ARTIFACTS}/${encodePath(`${modelDirectory}/MLmodel`)}`);
    expect(Buffer.from(mlmodel.body).toString('utf8')).toContain('loader_module: mlflow.onnx');

    // Searches: the model by name and by tag, its versions by name and by run, paged.
    const byName = await registry('GET', `registered-models/search?filter=${q(`name = '${name}'`)}`);
    expect(byName.json.registered_models.map((m: { name: string }) => m.name)).toEqual([name]);
    expect(byName.json.registered_models[0].aliases).toHaveLength(2);
    const byTag = await registry(
      'GET',
      `registered-models/search?filter=${q(`name LIKE '${name}%' AND tags.owner = 'ana'`)}&max_results=10&order_by=${q('name ASC')}`,
    );
    expect(byTag.json.registered_models.map((m: { name: string }) => m.name)).toEqual([name]);
    const versions = await registry(
      'GET',
      `model-versions/search?filter=${q(`name='${name}'`)}&max_results=200000`,
    );
    expect(versions.json.model_versions.map((v: { version: string }) => v.version).sort()).toEqual([
      '1',
      '2',
      '3',
    ]);
    const pages: string[] = [];
    let token: string | undefined;
    do {
      const page = await registry(
        'GET',
        `model-versions/search?filter=${q(`run_id = '${runId}' AND name = '${name}'`)}&max_results=2&order_by=${q('version_number ASC')}${token ? `&page_token=${q(token)}` : ''}`,
      );
      expect(page.status, page.text).toBe(200);
      pages.push(...page.json.model_versions.map((v: { version: string }) => v.version));
      token = page.json.next_page_token;
    } while (token);
    expect(pages).toEqual(['1', '2', '3']);

    // Updates of descriptions.
    const updatedModel = await client(name, 'PATCH', 'registered-models/update', {
      name,
      description: 'Predicts churn, better',
    });
    expect(updatedModel.json.registered_model.description).toBe('Predicts churn, better');
    const updatedVersion = await client(name, 'PATCH', 'model-versions/update', {
      name,
      version: '2',
      description: 'the champion',
    });
    expect(updatedVersion.json.model_version).toMatchObject({ version: '2', description: 'the champion' });

    // Rename: the old name is gone, versions, stages and aliases follow, the files still resolve.
    const newName = `${name}-renamed`;
    const renamed = await client(name, 'POST', 'registered-models/rename', { name, new_name: newName });
    expect(renamed.json.registered_model.name).toBe(newName);
    expectError(
      await registry('GET', `registered-models/get?name=${q(name)}`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'old name',
    );
    const moved = await resolveModelUri(`models:/${newName}@champion`);
    expect(moved).toEqual({ name: newName, version: '2' });
    expect(await downloadModel(newName, '2')).toBe(storage);
    expect((await resolveModelUri(`models:/${newName}/Production`)).version).toBe('2');

    // Delete a version: its alias goes with it, its number is never reused.
    expect(
      (await client(newName, 'DELETE', 'model-versions/delete', { name: newName, version: '3' })).status,
    ).toBe(200);
    expectError(
      await client(newName, 'GET', `model-versions/get?name=${q(newName)}&version=3`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'deleted version',
    );
    expectError(
      await client(newName, 'GET', `registered-models/alias?name=${q(newName)}&alias=challenger`),
      400,
      'INVALID_PARAMETER_VALUE',
      'alias of a deleted version',
    );
    expect((await resolveModelUri(`models:/${newName}/latest`)).version).toBe('2');
    expect((await registerModel(source, newName, runId)).version).toBe('4');

    // Delete the model: everything goes.
    expect((await client(newName, 'DELETE', 'registered-models/delete', { name: newName })).status).toBe(200);
    expectError(
      await registry('GET', `registered-models/get?name=${q(newName)}`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'deleted model',
    );
    const gone = await registry('GET', `model-versions/search?filter=${q(`name='${newName}'`)}`);
    expect(gone.status).toBe(200);
    expect(gone.json).toEqual({});
    // The run's files stay: they belong to the run, not to the registry.
    expect((await http('GET', `${ARTIFACTS}?path=${q(modelDirectory)}`)).json.files).toHaveLength(
      MODEL_FILES.length,
    );
  });

  it('copies a version into another model by a models:/ source (client.copy_model_version)', async () => {
    const name = unique('source-model');
    const target = unique('target-model');
    await registerModel(`runs:/${runId}/model`, name, runId);
    await client(name, 'POST', 'registered-models/alias', { name, alias: 'champion', version: '1' });
    expect((await registry('POST', 'registered-models/create', { name: target })).status).toBe(200);
    for (const source of [`models:/${name}/1`, `models:/${name}@champion`]) {
      const copied = await client(target, 'POST', 'model-versions/create', { name: target, source });
      expect(copied.status, copied.text).toBe(200);
      expect(copied.json.model_version.source).toBe(source);
      expect(await downloadModel(target, copied.json.model_version.version)).toBe(
        `mlflow-artifacts:/${modelDirectory}`,
      );
    }
    for (const model of [name, target]) {
      expect((await registry('DELETE', 'registered-models/delete', { name: model })).status).toBe(200);
    }
  });

  it('lists registered models page by page with an opaque token', async () => {
    const prefix = unique('paged');
    const names = Array.from({ length: 5 }, (_, i) => `${prefix}-${i}`);
    for (const name of names)
      expect((await registry('POST', 'registered-models/create', { name })).status).toBe(200);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await registry(
        'GET',
        `registered-models/search?filter=${q(`name LIKE '${prefix}-%'`)}&max_results=2&order_by=${q('name DESC')}${token ? `&page_token=${q(token)}` : ''}`,
      );
      expect(page.status, page.text).toBe(200);
      seen.push(...page.json.registered_models.map((m: { name: string }) => m.name));
      token = page.json.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual([...names].reverse());
    for (const name of names) await registry('DELETE', 'registered-models/delete', { name });
  });
});

describe.each(PREFIXES)('model registry errors under %s, as MLflow answers them', (prefix) => {
  const call = (method: string, endpoint: string, body?: unknown) => registry(method, endpoint, body, prefix);
  let name: string;

  beforeAll(async () => {
    name = unique('errors');
    expect((await call('POST', 'registered-models/create', { name })).status).toBe(200);
    const version = await call('POST', 'model-versions/create', {
      name,
      source: `runs:/${runId}/model`,
      run_id: runId,
    });
    expect(version.status, version.text).toBe(200);
  });

  it('answers a taken name with 400 RESOURCE_ALREADY_EXISTS (create and rename)', async () => {
    expectError(
      await call('POST', 'registered-models/create', { name }),
      400,
      'RESOURCE_ALREADY_EXISTS',
      'create',
    );
    const other = unique('other');
    expect((await call('POST', 'registered-models/create', { name: other })).status).toBe(200);
    expectError(
      await call('POST', 'registered-models/rename', { name: other, new_name: name }),
      400,
      'RESOURCE_ALREADY_EXISTS',
      'rename',
    );
    expect((await call('DELETE', 'registered-models/delete', { name: other })).status).toBe(200);
  });

  it('answers an unknown model with 404 RESOURCE_DOES_NOT_EXIST on every endpoint that names one', async () => {
    const missing = unique('missing');
    for (const [method, endpoint, body] of [
      ['GET', `registered-models/get?name=${q(missing)}`],
      ['POST', 'registered-models/rename', { name: missing, new_name: unique('x') }],
      ['PATCH', 'registered-models/update', { name: missing, description: 'd' }],
      ['DELETE', 'registered-models/delete', { name: missing }],
      ['POST', 'registered-models/get-latest-versions', { name: missing }],
      ['GET', `registered-models/get-latest-versions?name=${q(missing)}`],
      ['POST', 'registered-models/set-tag', { name: missing, key: 'k', value: 'v' }],
      ['DELETE', 'registered-models/delete-tag', { name: missing, key: 'k' }],
      ['POST', 'registered-models/alias', { name: missing, alias: 'prod', version: '1' }],
      ['DELETE', 'registered-models/alias', { name: missing, alias: 'prod' }],
      ['POST', 'model-versions/create', { name: missing, source: 's3://bucket/model' }],
      ['GET', `model-versions/get?name=${q(missing)}&version=1`],
      ['PATCH', 'model-versions/update', { name: missing, version: '1', description: 'd' }],
      ['DELETE', 'model-versions/delete', { name: missing, version: '1' }],
      ['POST', 'model-versions/transition-stage', { name: missing, version: '1', stage: 'Staging' }],
      ['GET', `model-versions/get-download-uri?name=${q(missing)}&version=1`],
      ['POST', 'model-versions/set-tag', { name: missing, version: '1', key: 'k', value: 'v' }],
      ['DELETE', 'model-versions/delete-tag', { name: missing, version: '1', key: 'k' }],
    ] as const) {
      expectError(
        await call(method, endpoint, body),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `${method} ${endpoint}`,
      );
    }
    // A missing version of a known model is 404 too.
    expectError(
      await call('GET', `model-versions/get?name=${q(name)}&version=99`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'version 99',
    );
  });

  it('answers a version that is not a number with 400 INVALID_PARAMETER_VALUE', async () => {
    for (const [method, endpoint, body] of [
      ['GET', `model-versions/get?name=${q(name)}&version=abc`],
      ['GET', `model-versions/get-download-uri?name=${q(name)}&version=abc`],
      ['POST', 'model-versions/transition-stage', { name, version: 'abc', stage: 'Staging' }],
      ['POST', 'model-versions/set-tag', { name, version: '1.5', key: 'k', value: 'v' }],
      ['POST', 'registered-models/alias', { name, alias: 'prod', version: 'abc' }],
      ['GET', `model-versions/get?name=${q(name)}`],
    ] as const) {
      expectError(
        await call(method, endpoint, body),
        400,
        'INVALID_PARAMETER_VALUE',
        `${method} ${endpoint}`,
      );
    }
  });

  it('refuses reserved and malformed aliases, and answers an unknown alias with 400 (not 404)', async () => {
    for (const alias of ['latest', 'Latest', 'v1', 'V12', 'has space', 'dot.ted', 'a'.repeat(256)]) {
      expectError(
        await call('POST', 'registered-models/alias', { name, alias, version: '1' }),
        400,
        'INVALID_PARAMETER_VALUE',
        `set ${alias.slice(0, 20)}`,
      );
      expectError(
        await call('GET', `registered-models/alias?name=${q(name)}&alias=${q(alias)}`),
        400,
        'INVALID_PARAMETER_VALUE',
        `get ${alias.slice(0, 20)}`,
      );
    }
    expectError(
      await call('GET', `registered-models/alias?name=${q(name)}&alias=nobody`),
      400,
      'INVALID_PARAMETER_VALUE',
      'unknown alias',
    );
    expectError(
      await call('GET', `registered-models/alias?name=${q(unique('no-model'))}&alias=nobody`),
      400,
      'INVALID_PARAMETER_VALUE',
      'alias of an unknown model',
    );
    // An alias may not point at a version that does not exist.
    expectError(
      await call('POST', 'registered-models/alias', { name, alias: 'prod', version: '42' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'alias to a missing version',
    );
  });

  it('refuses local, file:// and relative-path sources and unresolvable models:/ sources; accepts an unknown run_id', async () => {
    for (const source of [
      'file:///tmp/mlruns/0/abc/artifacts/model',
      'file://host/tmp/model',
      '/tmp/model',
      'model',
      's3://bucket/models/../../secret',
      `runs:/${runId}/../other-run/model`,
      `mlflow-artifacts:/${experimentId}/${runId}/artifacts/%2E%2E/%2E%2E/secret`,
      `models:/${unique('nope')}/1`,
      `models:/${name}@nobody`,
      '',
    ]) {
      expectError(
        await call('POST', 'model-versions/create', { name, source }),
        400,
        'INVALID_PARAMETER_VALUE',
        source,
      );
    }
    const unknownRun = await call('POST', 'model-versions/create', {
      name,
      source: 's3://bucket/models/elsewhere',
      run_id: '0123456789abcdef0123456789abcdef',
    });
    expect(unknownRun.status, unknownRun.text).toBe(200);
    expect(unknownRun.json.model_version.run_id).toBe('0123456789abcdef0123456789abcdef');
  });

  it('refuses unknown stages, and archiving into a stage that is not active', async () => {
    expectError(
      await call('POST', 'model-versions/transition-stage', { name, version: '1', stage: 'Prod' }),
      400,
      'INVALID_PARAMETER_VALUE',
      'stage Prod',
    );
    expectError(
      await call('POST', 'model-versions/transition-stage', {
        name,
        version: '1',
        stage: 'Archived',
        archive_existing_versions: true,
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      'archive into Archived',
    );
    expectError(
      await call('POST', 'registered-models/get-latest-versions', { name, stages: ['Nope'] }),
      400,
      'INVALID_PARAMETER_VALUE',
      'latest of stage Nope',
    );
  });

  it('answers 200 for deleting a missing alias or tag; DELETE reads its parameters from the body only', async () => {
    expect((await call('DELETE', 'registered-models/alias', { name, alias: 'never-set' })).status).toBe(200);
    expect((await call('DELETE', 'registered-models/delete-tag', { name, key: 'never-set' })).status).toBe(
      200,
    );
    expect(
      (await call('DELETE', 'model-versions/delete-tag', { name, version: '1', key: 'never-set' })).status,
    ).toBe(200);
    expectError(
      await call('DELETE', `registered-models/delete?name=${q(name)}`),
      400,
      'INVALID_PARAMETER_VALUE',
      'delete by query',
    );
    expectError(
      await call('DELETE', `model-versions/delete?name=${q(name)}&version=1`),
      400,
      'INVALID_PARAMETER_VALUE',
      'delete version by query',
    );
    expect((await call('GET', `registered-models/get?name=${q(name)}`)).status).toBe(200);
    expect((await call('GET', `model-versions/get?name=${q(name)}&version=1`)).status).toBe(200);
  });

  it('answers bad bodies, searches and routes with JSON errors', async () => {
    const endpoint = `${prefix}/mlflow/registered-models/create`;
    expectError(
      await http('POST', endpoint, '{"name": "unterminated'),
      400,
      'INVALID_PARAMETER_VALUE',
      'malformed JSON',
    );
    expectError(
      await http('POST', endpoint, JSON.stringify({ name: unique('typed') }), {
        'content-type': 'text/plain',
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      'text/plain body',
    );
    expectError(await http('POST', endpoint, '[]'), 400, 'INVALID_PARAMETER_VALUE', 'array body');
    for (const query of ['max_results=0', 'max_results=1001', `filter=${q("name = 'a' OR name = 'b'")}`]) {
      expectError(
        await call('GET', `registered-models/search?${query}`),
        400,
        'INVALID_PARAMETER_VALUE',
        `search ${query}`,
      );
    }
    expectError(
      await call('GET', 'model-versions/search?page_token=garbage'),
      400,
      'INVALID_PARAMETER_VALUE',
      'version search with a bad token',
    );
    // Searches have defaults (unlike experiments/search) and answer {} when nothing matches.
    expect((await call('GET', 'registered-models/search')).status).toBe(200);
    expect((await call('GET', `model-versions/search?filter=${q(`name = '${name}'`)}`)).status).toBe(200);
    const none = await call('GET', `registered-models/search?filter=${q(`name = '${unique('none')}'`)}`);
    expect(none.status).toBe(200);
    expect(none.json).toEqual({});
    expectError(await call('GET', 'registered-models/nope'), 404, 'ENDPOINT_NOT_FOUND', 'unknown route');
    const wrongMethod = await call('PUT', 'registered-models/create', { name });
    expectError(wrongMethod, 405, 'METHOD_NOT_ALLOWED', 'wrong method');
  });
});
