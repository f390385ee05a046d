import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryEventModule } from '../../shared/registry/events/index.ts';
import { EventRecorder, TEST_BUS } from '../support/event-recorder.ts';
import { type ApiHandler, handlerCaller, unique } from '../support/handler-call.ts';
import { emulatorDocumentClient, tableName, useEmulators } from '../support/handler-env.ts';

let handler: ApiHandler;
let recorder: EventRecorder;
const call = handlerCaller(() => handler);
const ajax = handlerCaller(() => handler, '/ajax-api/2.0/mlflow/');

beforeAll(async () => {
  const started = await EventRecorder.start();
  recorder = started.recorder;
  useEmulators({
    REGISTRY_TABLE_NAME: tableName('RegistryTable'),
    TRACKING_TABLE_NAME: tableName('TrackingTable'),
    EVENT_BUS_NAME: TEST_BUS,
    AWS_ENDPOINT_URL_EVENTBRIDGE: started.endpoint,
  });
  ({ handler } = (await import('../../functions/registry-api.ts')) as unknown as { handler: ApiHandler });
});

afterAll(async () => {
  await recorder.close();
});

async function createModel(name = unique('model'), body: Record<string, unknown> = {}) {
  const response = await call('POST', 'registered-models/create', { name, ...body });
  expect(response.status).toBe(200);
  return name;
}

async function createVersion(name: string, body: Record<string, unknown> = {}) {
  const response = await call('POST', 'model-versions/create', {
    name,
    source: 's3://bucket/model',
    ...body,
  });
  expect(response.status).toBe(200);
  return response.json.model_version as { version: string };
}

const q = encodeURIComponent;

describe('registry handler: registered models', () => {
  it('creates and gets a model in MLflow JSON shapes', async () => {
    const name = unique('churn');
    const created = await call('POST', 'registered-models/create', {
      name,
      tags: [{ key: 'team', value: 'growth' }],
      description: 'predicts churn',
    });
    expect(created.status).toBe(200);
    expect(created.json.registered_model).toEqual({
      name,
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: created.json.registered_model.creation_timestamp,
      description: 'predicts churn',
      tags: [{ key: 'team', value: 'growth' }],
    });
    const got = await call('GET', `registered-models/get?name=${q(name)}`);
    expect(got.json).toEqual(created.json);
    expect(got.headers['x-request-id']).toMatch(/^test-/);
  });

  it('leaves out an empty description, tags, aliases and latest versions', async () => {
    const name = await createModel();
    const { json } = await call('GET', `registered-models/get?name=${q(name)}`);
    expect(Object.keys(json.registered_model).sort()).toEqual([
      'creation_timestamp',
      'last_updated_timestamp',
      'name',
    ]);
  });

  it('refuses a duplicate name with 400 RESOURCE_ALREADY_EXISTS, and an empty or missing name', async () => {
    const name = await createModel();
    const again = await call('POST', 'registered-models/create', { name });
    expect(again.status).toBe(400);
    expect(again.json.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    for (const body of [{}, { name: '' }, { name: 42 }]) {
      const bad = await call('POST', 'registered-models/create', body);
      expect(bad.status).toBe(400);
      expect(bad.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await call('POST', 'registered-models/create', { name: 'x'.repeat(257) })).status).toBe(400);
  });

  it('gives one model and RESOURCE_ALREADY_EXISTS to the others when creates of a name race', async () => {
    const name = unique('race');
    const results = await Promise.all(
      Array.from({ length: 8 }, () => call('POST', 'registered-models/create', { name })),
    );
    expect(results.filter((result) => result.status === 200)).toHaveLength(1);
    expect(results.filter((result) => result.json.error_code === 'RESOURCE_ALREADY_EXISTS')).toHaveLength(7);
  });

  it('answers 404 RESOURCE_DOES_NOT_EXIST for an unknown model on every model endpoint', async () => {
    const name = unique('missing');
    const calls = [
      call('GET', `registered-models/get?name=${q(name)}`),
      call('POST', 'registered-models/rename', { name, new_name: unique('x') }),
      call('PATCH', 'registered-models/update', { name, description: 'd' }),
      call('DELETE', 'registered-models/delete', { name }),
      call('POST', 'registered-models/get-latest-versions', { name }),
      call('POST', 'registered-models/set-tag', { name, key: 'k', value: 'v' }),
      call('DELETE', 'registered-models/delete-tag', { name, key: 'k' }),
      call('DELETE', 'registered-models/alias', { name, alias: 'prod' }),
      call('POST', 'registered-models/alias', { name, alias: 'prod', version: '1' }),
      call('POST', 'model-versions/create', { name, source: 's3://b/m' }),
      call('GET', `model-versions/get?name=${q(name)}&version=1`),
    ];
    for (const result of await Promise.all(calls)) {
      expect(result.status).toBe(404);
      expect(result.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    }
  });

  it('renames: the new name resolves, the old one is free, versions follow', async () => {
    const name = await createModel();
    await createVersion(name);
    const before = (await call('GET', `registered-models/get?name=${q(name)}`)).json.registered_model;
    const newName = unique('renamed');
    const renamed = await call('POST', 'registered-models/rename', { name, new_name: newName });
    expect(renamed.status).toBe(200);
    expect(renamed.json.registered_model.name).toBe(newName);
    expect(renamed.json.registered_model.last_updated_timestamp).toBeGreaterThanOrEqual(
      before.last_updated_timestamp,
    );
    expect((await call('GET', `registered-models/get?name=${q(name)}`)).status).toBe(404);
    const version = await call('GET', `model-versions/get?name=${q(newName)}&version=1`);
    expect(version.json.model_version.name).toBe(newName);
    // The old name can be used again, by a new model that knows nothing of the old one.
    await createModel(name);
    const reused = (await call('GET', `registered-models/get?name=${q(name)}`)).json.registered_model;
    expect(reused).not.toHaveProperty('latest_versions');
    // And the renamed model keeps its versions.
    expect((await call('GET', `model-versions/get?name=${q(newName)}&version=1`)).status).toBe(200);
  });

  it('refuses to rename onto a taken name, and a missing new_name', async () => {
    const a = await createModel();
    const b = await createModel();
    const clash = await call('POST', 'registered-models/rename', { name: a, new_name: b });
    expect(clash.status).toBe(400);
    expect(clash.json.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    expect((await call('POST', 'registered-models/rename', { name: a })).status).toBe(400);
    expect((await call('POST', 'registered-models/rename', { name: a, new_name: '' })).status).toBe(400);
    expect((await call('POST', 'registered-models/rename', { name: a, new_name: a })).status).toBe(200);
  });

  it('updates the description (PATCH); an update without one clears it, as MLflow', async () => {
    const name = await createModel();
    const updated = await call('PATCH', 'registered-models/update', { name, description: 'new words' });
    expect(updated.json.registered_model.description).toBe('new words');
    const cleared = await call('PATCH', 'registered-models/update', { name });
    expect(cleared.status).toBe(200);
    expect(cleared.json.registered_model).not.toHaveProperty('description');
    const tooLong = await call('PATCH', 'registered-models/update', { name, description: 'x'.repeat(5001) });
    expect(tooLong.status).toBe(400);
  });

  it('sets and deletes model tags with MLflow limits; deleting a missing tag is 200', async () => {
    const name = await createModel();
    const before = (await call('GET', `registered-models/get?name=${q(name)}`)).json.registered_model;
    expect((await call('POST', 'registered-models/set-tag', { name, key: 'a', value: '1' })).status).toBe(
      200,
    );
    expect((await call('POST', 'registered-models/set-tag', { name, key: 'a', value: '2' })).status).toBe(
      200,
    );
    expect((await call('POST', 'registered-models/set-tag', { name, key: 'b:c', value: '' })).status).toBe(
      200,
    );
    let got = (await call('GET', `registered-models/get?name=${q(name)}`)).json.registered_model;
    expect(got.tags).toEqual(
      expect.arrayContaining([
        { key: 'a', value: '2' },
        { key: 'b:c', value: '' },
      ]),
    );
    // Tags do not touch last_updated_timestamp (MLflow's store leaves it alone).
    expect(got.last_updated_timestamp).toBe(before.last_updated_timestamp);
    expect((await call('DELETE', 'registered-models/delete-tag', { name, key: 'a' })).status).toBe(200);
    expect((await call('DELETE', 'registered-models/delete-tag', { name, key: 'nope' })).status).toBe(200);
    got = (await call('GET', `registered-models/get?name=${q(name)}`)).json.registered_model;
    expect(got.tags).toEqual([{ key: 'b:c', value: '' }]);
    for (const body of [
      { name, key: 'k'.repeat(251), value: 'v' },
      // MLflow 3.11 takes registry tag values up to 100,000 characters (2.22: 5000).
      { name, key: 'k', value: 'v'.repeat(100_001) },
      { name, key: 'a/../b', value: 'v' },
      { name, key: 'bad*key', value: 'v' },
      { name, key: '', value: 'v' },
      { name, value: 'v' },
    ]) {
      const bad = await call('POST', 'registered-models/set-tag', body);
      expect(bad.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(bad.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect(
      (
        await call('POST', 'registered-models/set-tag', {
          name,
          key: 'k'.repeat(250),
          value: 'v'.repeat(100_000),
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call('POST', 'registered-models/create', {
          name: unique('t'),
          tags: [{ key: 'k', value: 'v'.repeat(100_001) }],
        })
      ).status,
    ).toBe(400);
    // Tags that pass every limit but not one DynamoDB item: 400 naming the limit, nothing created.
    const crowded = unique('crowded');
    const tooMany = await call('POST', 'registered-models/create', {
      name: crowded,
      tags: Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(100_000) })),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.message).toContain('350 KB');
    expect((await call('GET', `registered-models/get?name=${q(crowded)}`)).status).toBe(404);
  });

  it('deletes a model with its versions; a second delete is 404; the name is free again', async () => {
    const name = await createModel();
    await createVersion(name);
    expect((await call('DELETE', 'registered-models/delete', { name })).status).toBe(200);
    expect((await call('GET', `registered-models/get?name=${q(name)}`)).status).toBe(404);
    expect((await call('GET', `model-versions/get?name=${q(name)}&version=1`)).status).toBe(404);
    expect((await call('DELETE', 'registered-models/delete', { name })).status).toBe(404);
    await createModel(name);
    const version = await createVersion(name);
    expect(version.version).toBe('1');
  });

  it('reads DELETE parameters from the JSON body only', async () => {
    const name = await createModel();
    const fromQuery = await call('DELETE', `registered-models/delete?name=${q(name)}`);
    expect(fromQuery.status).toBe(400);
    expect(fromQuery.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await call('GET', `registered-models/get?name=${q(name)}`)).status).toBe(200);
  });

  it('serves every endpoint under /ajax-api/2.0/ too, and answers JSON 404/405 for unknown routes', async () => {
    const name = unique('ajax');
    expect((await ajax('POST', 'registered-models/create', { name })).status).toBe(200);
    expect((await ajax('GET', `registered-models/get?name=${q(name)}`)).json.registered_model.name).toBe(
      name,
    );
    const unknown = await call('GET', 'registered-models/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error_code).toBe('ENDPOINT_NOT_FOUND');
    const wrongMethod = await call('PUT', 'registered-models/create', { name });
    expect(wrongMethod.status).toBe(405);
  });
});

describe('registry handler: search', () => {
  it('searches models with name LIKE and tag filters, order_by and page tokens', async () => {
    const marker = unique('srch');
    for (let i = 0; i < 5; i++) {
      await createModel(`${marker}-${i}`, { tags: [{ key: 'parity', value: i % 2 === 0 ? 'even' : 'odd' }] });
    }
    const even = await call(
      'GET',
      `registered-models/search?filter=${q(`name LIKE '${marker}-%' AND tags.parity = 'even'`)}&order_by=${q('name DESC')}`,
    );
    expect(even.json.registered_models.map((m: { name: string }) => m.name)).toEqual([
      `${marker}-4`,
      `${marker}-2`,
      `${marker}-0`,
    ]);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await call(
        'GET',
        `registered-models/search?max_results=2&filter=${q(`name LIKE '${marker}%'`)}${token ? `&page_token=${token}` : ''}`,
      );
      seen.push(...page.json.registered_models.map((m: { name: string }) => m.name));
      token = page.json.next_page_token;
    } while (token);
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `${marker}-${i}`));
    const byTime = await call(
      'GET',
      `registered-models/search?filter=${q(`name LIKE '${marker}%'`)}&order_by=${q('timestamp DESC')}`,
    );
    expect(byTime.json.registered_models).toHaveLength(5);
    const none = await call('GET', `registered-models/search?filter=${q("name = 'no-such-model-anywhere'")}`);
    expect(none.status).toBe(200);
    expect(none.json).toEqual({});
  });

  it('shows latest versions and aliases in search results', async () => {
    const name = await createModel(unique('srch-latest'));
    await createVersion(name);
    await createVersion(name);
    await call('POST', 'model-versions/transition-stage', { name, version: '1', stage: 'Production' });
    await call('POST', 'registered-models/alias', { name, alias: 'champion', version: '2' });
    const found = await call('GET', `registered-models/search?filter=${q(`name = '${name}'`)}`);
    const [model] = found.json.registered_models;
    expect(model.aliases).toEqual([{ alias: 'champion', version: '2' }]);
    expect(
      model.latest_versions.map((v: { version: string; current_stage: string }) => [
        v.version,
        v.current_stage,
      ]),
    ).toEqual([
      ['1', 'Production'],
      ['2', 'None'],
    ]);
  });

  it('leaves prompts out unless the filter asks for them', async () => {
    const marker = unique('prompt');
    await createModel(`${marker}-model`);
    await createModel(`${marker}-prompt`, { tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
    const models = await call('GET', `registered-models/search?filter=${q(`name LIKE '${marker}%'`)}`);
    expect(models.json.registered_models.map((m: { name: string }) => m.name)).toEqual([`${marker}-model`]);
    const prompts = await call(
      'GET',
      `registered-models/search?filter=${q(`name LIKE '${marker}%' AND tags.\`mlflow.prompt.is_prompt\` = 'true'`)}`,
    );
    expect(prompts.json.registered_models.map((m: { name: string }) => m.name)).toEqual([`${marker}-prompt`]);
  });

  it('refuses bad model searches with INVALID_PARAMETER_VALUE', async () => {
    for (const query of [
      'max_results=0',
      'max_results=1001',
      'max_results=abc',
      `filter=${q('version_number = 1')}`,
      `filter=${q("name = 'a' OR name = 'b'")}`,
      `order_by=${q('run_id DESC')}`,
      'page_token=not-a-token',
    ]) {
      const result = await call('GET', `registered-models/search?${query}`);
      expect(result.status, query).toBe(400);
      expect(result.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await call('GET', 'registered-models/search?max_results=1000')).status).toBe(200);
  });

  it('searches versions by name, run_id, source_path, version_number and tags', async () => {
    const name = await createModel(unique('vsrch'));
    const other = await createModel(unique('vsrch-other'));
    const runId = unique('run').replace(/-/g, '');
    await createVersion(name, {
      source: 's3://bucket/a',
      run_id: runId,
      tags: [{ key: 'fold', value: '1' }],
    });
    await createVersion(name, { source: 's3://bucket/b', tags: [{ key: 'fold', value: '2' }] });
    await createVersion(name, { source: 's3://bucket/c', run_id: runId });
    await createVersion(other, { source: 's3://bucket/a', run_id: runId });

    const byName = await call('GET', `model-versions/search?filter=${q(`name = '${name}'`)}`);
    // Default order: last_updated_timestamp DESC, name ASC, version_number DESC.
    expect(byName.json.model_versions.map((v: { version: string }) => v.version)).toEqual(['3', '2', '1']);
    const byRun = await call(
      'GET',
      `model-versions/search?filter=${q(`run_id = '${runId}'`)}&order_by=${q('version_number ASC')}`,
    );
    expect(
      byRun.json.model_versions.map((v: { name: string; version: string }) => `${v.name}/${v.version}`),
    ).toEqual([`${name}/1`, `${other}/1`, `${name}/3`]);
    const byRunIn = await call(
      'GET',
      `model-versions/search?filter=${q(`name LIKE '${name}%' AND run_id IN ('${runId}', 'x')`)}`,
    );
    expect(byRunIn.json.model_versions.map((v: { version: string }) => v.version)).toEqual(['3', '1']);
    const bySource = await call(
      'GET',
      `model-versions/search?filter=${q(`name = '${name}' AND source_path = 's3://bucket/b'`)}`,
    );
    expect(bySource.json.model_versions.map((v: { version: string }) => v.version)).toEqual(['2']);
    const byNumber = await call(
      'GET',
      `model-versions/search?filter=${q(`name = '${name}' AND version_number > 1`)}&order_by=${q('version_number ASC')}`,
    );
    expect(byNumber.json.model_versions.map((v: { version: string }) => v.version)).toEqual(['2', '3']);
    const byTag = await call(
      'GET',
      `model-versions/search?filter=${q(`tags.fold = '2' AND name LIKE '${name}'`)}`,
    );
    expect(byTag.json.model_versions.map((v: { version: string }) => v.version)).toEqual(['2']);

    const pages: string[] = [];
    let token: string | undefined;
    do {
      const page = await call(
        'GET',
        `model-versions/search?max_results=2&filter=${q(`name = '${name}'`)}&order_by=${q('version_number ASC')}${token ? `&page_token=${token}` : ''}`,
      );
      pages.push(...page.json.model_versions.map((v: { version: string }) => v.version));
      token = page.json.next_page_token;
    } while (token);
    expect(pages).toEqual(['1', '2', '3']);
    const none = await call('GET', `model-versions/search?filter=${q("name = 'no-such-model-at-all'")}`);
    expect(none.json).toEqual({});
    for (const query of ['max_results=0', 'max_results=200001', `filter=${q("status = 'READY'")}`]) {
      expect((await call('GET', `model-versions/search?${query}`)).status, query).toBe(400);
    }
  });
});

describe('registry handler: model versions', () => {
  it('creates versions 1, 2, 3 in MLflow JSON shapes and gets them', async () => {
    const name = await createModel();
    const created = await call('POST', 'model-versions/create', {
      name,
      source: 's3://bucket/path/model',
      run_id: 'abc123',
      tags: [{ key: 'k', value: 'v' }],
      description: 'first',
    });
    expect(created.json.model_version).toEqual({
      name,
      version: '1',
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: expect.any(Number),
      description: 'first',
      current_stage: 'None',
      source: 's3://bucket/path/model',
      run_id: 'abc123',
      run_link: '',
      status: 'READY',
      tags: [{ key: 'k', value: 'v' }],
    });
    expect((await createVersion(name)).version).toBe('2');
    expect((await createVersion(name)).version).toBe('3');
    const got = await call('GET', `model-versions/get?name=${q(name)}&version=1`);
    expect(got.json).toEqual(created.json);
    const model = (await call('GET', `registered-models/get?name=${q(name)}`)).json.registered_model;
    expect(model.last_updated_timestamp).toBeGreaterThanOrEqual(
      created.json.model_version.creation_timestamp,
    );
    expect(model.latest_versions.map((v: { version: string }) => v.version)).toEqual(['3']);
  });

  it('answers version abc with 400, a missing version with 404', async () => {
    const name = await createModel();
    await createVersion(name);
    const abc = await call('GET', `model-versions/get?name=${q(name)}&version=abc`);
    expect(abc.status).toBe(400);
    expect(abc.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    const missing = await call('GET', `model-versions/get?name=${q(name)}&version=7`);
    expect(missing.status).toBe(404);
    expect(missing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await call('GET', `model-versions/get?name=${q(name)}`)).status).toBe(400);
    expect((await call('GET', `model-versions/get?name=${q(name)}&version=1`)).status).toBe(200);
  });

  it('refuses local, file:// and relative-path sources; accepts an unknown run_id', async () => {
    const name = await createModel();
    for (const source of [
      '/tmp/model',
      'model',
      'file:///tmp/model',
      'file://host/tmp/model',
      's3://bucket/a/../../etc',
      'mlflow-artifacts:/1/abc/artifacts/..%2f..%2fsecret',
      'runs:/abc/../other',
      'https://example.com/a/./b',
      '',
    ]) {
      const result = await call('POST', 'model-versions/create', { name, source });
      expect(result.status, source).toBe(400);
      expect(result.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await call('POST', 'model-versions/create', { name })).status).toBe(400);
    const unknownRun = await call('POST', 'model-versions/create', {
      name,
      source: 'runs:/0123456789abcdef/model',
      run_id: 'no-such-run',
    });
    expect(unknownRun.status).toBe(200);
    expect(unknownRun.json.model_version.run_id).toBe('no-such-run');
  });

  it('resolves runs:/ sources to the run artifact URI (get-download-uri), also when the run comes later', async () => {
    const name = await createModel();
    const raw = emulatorDocumentClient();
    const runId = unique('r').replace(/-/g, '');
    await raw.send(
      new PutCommand({
        TableName: tableName('TrackingTable'),
        Item: { pk: `RUN#${runId}`, sk: 'RUN', artifactUri: `mlflow-artifacts:/7/${runId}/artifacts` },
      }),
    );
    const version = await createVersion(name, { source: `runs:/${runId}/model`, run_id: runId });
    expect(version).toMatchObject({ source: `runs:/${runId}/model`, run_id: runId });
    const uri = await call(
      'GET',
      `model-versions/get-download-uri?name=${q(name)}&version=${version.version}`,
    );
    expect(uri.json).toEqual({ artifact_uri: `mlflow-artifacts:/7/${runId}/artifacts/model` });

    const lateRun = unique('late').replace(/-/g, '');
    const late = await createVersion(name, { source: `runs:/${lateRun}/m` });
    const before = await call(
      'GET',
      `model-versions/get-download-uri?name=${q(name)}&version=${late.version}`,
    );
    expect(before.json.artifact_uri).toBe(`runs:/${lateRun}/m`);
    await raw.send(
      new PutCommand({
        TableName: tableName('TrackingTable'),
        Item: { pk: `RUN#${lateRun}`, sk: 'RUN', artifactUri: `mlflow-artifacts:/7/${lateRun}/artifacts` },
      }),
    );
    const after = await call(
      'GET',
      `model-versions/get-download-uri?name=${q(name)}&version=${late.version}`,
    );
    expect(after.json.artifact_uri).toBe(`mlflow-artifacts:/7/${lateRun}/artifacts/m`);

    const plain = await createVersion(name, { source: 's3://bucket/x' });
    const plainUri = await call(
      'GET',
      `model-versions/get-download-uri?name=${q(name)}&version=${plain.version}`,
    );
    expect(plainUri.json.artifact_uri).toBe('s3://bucket/x');

    // models:/ sources point at another version's files.
    const copy = await createVersion(name, { source: `models:/${name}/${version.version}` });
    const copyUri = await call(
      'GET',
      `model-versions/get-download-uri?name=${q(name)}&version=${copy.version}`,
    );
    expect(copyUri.json.artifact_uri).toBe(`mlflow-artifacts:/7/${runId}/artifacts/model`);
    expect((await call('POST', 'model-versions/create', { name, source: `models:/${name}/99` })).status).toBe(
      400,
    );
    expect((await call('GET', `model-versions/get-download-uri?name=${q(name)}&version=99`)).status).toBe(
      404,
    );
  });

  it('updates a description (PATCH); an update without one clears it', async () => {
    const name = await createModel();
    await createVersion(name, { description: 'old' });
    const updated = await call('PATCH', 'model-versions/update', { name, version: '1', description: 'new' });
    expect(updated.status).toBe(200);
    expect(updated.json.model_version.description).toBe('new');
    const cleared = await call('PATCH', 'model-versions/update', { name, version: 1 });
    expect(cleared.json.model_version).not.toHaveProperty('description');
    expect(
      (await call('PATCH', 'model-versions/update', { name, version: '9', description: 'x' })).status,
    ).toBe(404);
  });

  it('deletes a version (its number is never reused) and the aliases pointing to it', async () => {
    const name = await createModel();
    await createVersion(name);
    await createVersion(name);
    await call('POST', 'registered-models/alias', { name, alias: 'prod', version: '2' });
    expect((await call('DELETE', 'model-versions/delete', { name, version: '2' })).status).toBe(200);
    expect((await call('GET', `model-versions/get?name=${q(name)}&version=2`)).status).toBe(404);
    expect((await call('DELETE', 'model-versions/delete', { name, version: '2' })).status).toBe(404);
    const alias = await call('GET', `registered-models/alias?name=${q(name)}&alias=prod`);
    expect(alias.status).toBe(400);
    expect((await createVersion(name)).version).toBe('3');
    const model = (await call('GET', `registered-models/get?name=${q(name)}`)).json.registered_model;
    expect(model).not.toHaveProperty('aliases');
  });

  it('sets and deletes version tags; deleting a missing tag is 200, on a missing version 404', async () => {
    const name = await createModel();
    await createVersion(name);
    expect(
      (await call('POST', 'model-versions/set-tag', { name, version: '1', key: 'a', value: 'x' })).status,
    ).toBe(200);
    expect(
      (await call('POST', 'model-versions/set-tag', { name, version: '1', key: 'b', value: 'y' })).status,
    ).toBe(200);
    expect((await call('DELETE', 'model-versions/delete-tag', { name, version: '1', key: 'a' })).status).toBe(
      200,
    );
    expect(
      (await call('DELETE', 'model-versions/delete-tag', { name, version: '1', key: 'zz' })).status,
    ).toBe(200);
    const got = await call('GET', `model-versions/get?name=${q(name)}&version=1`);
    expect(got.json.model_version.tags).toEqual([{ key: 'b', value: 'y' }]);
    expect(
      (await call('POST', 'model-versions/set-tag', { name, version: '5', key: 'a', value: 'x' })).status,
    ).toBe(404);
    expect((await call('DELETE', 'model-versions/delete-tag', { name, version: '5', key: 'a' })).status).toBe(
      404,
    );
    expect(
      (await call('POST', 'model-versions/set-tag', { name, version: 'x', key: 'a', value: 'x' })).status,
    ).toBe(400);
    // MLflow 3.11 takes version tag values up to 100,000 characters (2.22 refused more than 5000).
    const long = 'v'.repeat(100_000);
    expect(
      (await call('POST', 'model-versions/set-tag', { name, version: '1', key: 'long', value: long })).status,
    ).toBe(200);
    expect(
      (await call('GET', `model-versions/get?name=${q(name)}&version=1`)).json.model_version.tags,
    ).toContainEqual({ key: 'long', value: long });
    expect(
      (
        await call('POST', 'model-versions/set-tag', {
          name,
          version: '1',
          key: 'a',
          value: 'v'.repeat(100_001),
        })
      ).status,
    ).toBe(400);
    expect(
      (await call('POST', 'model-versions/set-tag', { name, version: '1', key: 'k'.repeat(251), value: 'v' }))
        .status,
    ).toBe(400);
  });
});

describe('registry handler: stages and latest versions', () => {
  it('transitions stages case-insensitively and archives existing versions when asked', async () => {
    const name = await createModel();
    for (let i = 0; i < 3; i++) await createVersion(name);
    const one = await call('POST', 'model-versions/transition-stage', {
      name,
      version: '1',
      stage: 'production',
      archive_existing_versions: false,
    });
    expect(one.status).toBe(200);
    expect(one.json.model_version).toMatchObject({ version: '1', current_stage: 'Production' });
    await call('POST', 'model-versions/transition-stage', { name, version: '2', stage: 'Production' });
    const three = await call('POST', 'model-versions/transition-stage', {
      name,
      version: '3',
      stage: 'Production',
      archive_existing_versions: true,
    });
    expect(three.json.model_version.current_stage).toBe('Production');
    const stages = await Promise.all(
      ['1', '2', '3'].map(
        async (v) => (await call('GET', `model-versions/get?name=${q(name)}&version=${v}`)).json,
      ),
    );
    expect(stages.map((s) => s.model_version.current_stage)).toEqual(['Archived', 'Archived', 'Production']);
    expect(stages[0].model_version.last_updated_timestamp).toBeGreaterThanOrEqual(
      one.json.model_version.last_updated_timestamp,
    );
  });

  it('refuses unknown stages and archiving into an inactive stage with 400', async () => {
    const name = await createModel();
    await createVersion(name);
    const unknown = await call('POST', 'model-versions/transition-stage', {
      name,
      version: '1',
      stage: 'Prod',
    });
    expect(unknown.status).toBe(400);
    const archive = await call('POST', 'model-versions/transition-stage', {
      name,
      version: '1',
      stage: 'Archived',
      archive_existing_versions: true,
    });
    expect(archive.status).toBe(400);
    expect(archive.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await call('POST', 'model-versions/transition-stage', { name, version: '1' })).status).toBe(400);
    expect(
      (await call('POST', 'model-versions/transition-stage', { name, version: '4', stage: 'Staging' }))
        .status,
    ).toBe(404);
  });

  it('answers get-latest-versions per stage, by POST and GET, with stage filters', async () => {
    const name = await createModel();
    for (let i = 0; i < 4; i++) await createVersion(name);
    await call('POST', 'model-versions/transition-stage', { name, version: '1', stage: 'Staging' });
    await call('POST', 'model-versions/transition-stage', { name, version: '2', stage: 'Production' });
    await call('POST', 'model-versions/transition-stage', { name, version: '3', stage: 'Staging' });
    const all = await call('POST', 'registered-models/get-latest-versions', { name });
    expect(
      all.json.model_versions.map((v: { version: string; current_stage: string }) => [
        v.version,
        v.current_stage,
      ]),
    ).toEqual([
      ['3', 'Staging'],
      ['2', 'Production'],
      ['4', 'None'],
    ]);
    const staging = await call('GET', `registered-models/get-latest-versions?name=${q(name)}&stages=staging`);
    expect(staging.json.model_versions.map((v: { version: string }) => v.version)).toEqual(['3']);
    const two = await call('POST', 'registered-models/get-latest-versions', {
      name,
      stages: ['Production', 'None'],
    });
    expect(two.json.model_versions.map((v: { version: string }) => v.version)).toEqual(['2', '4']);
    const archived = await call('POST', 'registered-models/get-latest-versions', {
      name,
      stages: ['Archived'],
    });
    expect(archived.json).toEqual({});
    expect(
      (await call('POST', 'registered-models/get-latest-versions', { name, stages: ['Nope'] })).status,
    ).toBe(400);
  });
});

describe('registry handler: aliases', () => {
  it('sets, moves, gets and deletes aliases; they show on the model and on versions', async () => {
    const name = await createModel();
    await createVersion(name);
    await createVersion(name);
    expect(
      (await call('POST', 'registered-models/alias', { name, alias: 'champion', version: '1' })).status,
    ).toBe(200);
    expect(
      (await call('POST', 'registered-models/alias', { name, alias: 'challenger', version: 2 })).status,
    ).toBe(200);
    let byAlias = await call('GET', `registered-models/alias?name=${q(name)}&alias=champion`);
    expect(byAlias.json.model_version).toMatchObject({ version: '1', aliases: ['champion'] });
    await call('POST', 'registered-models/alias', { name, alias: 'champion', version: '2' });
    byAlias = await call('GET', `registered-models/alias?name=${q(name)}&alias=champion`);
    expect(byAlias.json.model_version).toMatchObject({ version: '2', aliases: ['challenger', 'champion'] });
    const model = (await call('GET', `registered-models/get?name=${q(name)}`)).json.registered_model;
    expect(model.aliases).toEqual([
      { alias: 'challenger', version: '2' },
      { alias: 'champion', version: '2' },
    ]);
    const one = await call('GET', `model-versions/get?name=${q(name)}&version=1`);
    expect(one.json.model_version).not.toHaveProperty('aliases');
    expect((await call('DELETE', 'registered-models/alias', { name, alias: 'champion' })).status).toBe(200);
    expect((await call('DELETE', 'registered-models/alias', { name, alias: 'champion' })).status).toBe(200);
    const gone = await call('GET', `registered-models/alias?name=${q(name)}&alias=champion`);
    expect(gone.status).toBe(400);
    expect(gone.json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('refuses reserved and malformed aliases with 400, and aliases to missing versions with 404', async () => {
    const name = await createModel();
    await createVersion(name);
    for (const alias of ['latest', 'LATEST', 'v1', 'V12', 'has space', 'dot.ted', 'a'.repeat(256), '']) {
      for (const result of [
        await call('POST', 'registered-models/alias', { name, alias, version: '1' }),
        await call('GET', `registered-models/alias?name=${q(name)}&alias=${q(alias)}`),
        await call('DELETE', 'registered-models/alias', { name, alias }),
      ]) {
        expect(result.status, alias.slice(0, 20)).toBe(400);
        expect(result.json.error_code).toBe('INVALID_PARAMETER_VALUE');
      }
    }
    expect(
      (await call('POST', 'registered-models/alias', { name, alias: 'a'.repeat(255), version: '1' })).status,
    ).toBe(200);
    expect(
      (await call('POST', 'registered-models/alias', { name, alias: 'x-1_b', version: '1' })).status,
    ).toBe(200);
    expect(
      (await call('POST', 'registered-models/alias', { name, alias: 'prod', version: '3' })).status,
    ).toBe(404);
    expect(
      (await call('POST', 'registered-models/alias', { name, alias: 'prod', version: 'abc' })).status,
    ).toBe(400);
    // An unknown alias is 400 (not 404), also on an unknown model, as MLflow answers.
    expect((await call('GET', `registered-models/alias?name=${q(name)}&alias=none`)).status).toBe(400);
    expect(
      (await call('GET', `registered-models/alias?name=${q(unique('nomodel'))}&alias=none`)).status,
    ).toBe(400);
  });
});

describe('registry handler: domain events', () => {
  it('publishes a versioned event after every change, with the model, version, previous value and key', async () => {
    const name = unique('events');
    await createModel(name, { tags: [{ key: 't', value: '1' }] });
    await createVersion(name, { source: 's3://b/m', run_id: 'r1' });
    await createVersion(name);
    await call('PATCH', 'model-versions/update', { name, version: '1', description: 'hello' });
    await call('POST', 'model-versions/set-tag', { name, version: '1', key: 'k', value: 'v' });
    await call('DELETE', 'model-versions/delete-tag', { name, version: '1', key: 'k' });
    await call('POST', 'registered-models/set-tag', { name, key: 'team', value: 'a' });
    await call('POST', 'registered-models/set-tag', { name, key: 'team', value: 'b' });
    await call('DELETE', 'registered-models/delete-tag', { name, key: 'team' });
    await call('DELETE', 'registered-models/delete-tag', { name, key: 'team' });
    await call('POST', 'registered-models/alias', { name, alias: 'production', version: '1' });
    await call('POST', 'registered-models/alias', { name, alias: 'production', version: '2' });
    await call('POST', 'registered-models/alias', { name, alias: 'production', version: '2' });
    await call('POST', 'model-versions/transition-stage', { name, version: '1', stage: 'Production' });
    await call('POST', 'model-versions/transition-stage', {
      name,
      version: '2',
      stage: 'Production',
      archive_existing_versions: true,
    });
    await call('PATCH', 'registered-models/update', { name, description: 'd' });
    await call('DELETE', 'model-versions/delete', { name, version: '2' });
    const newName = `${name}-renamed`;
    await call('POST', 'registered-models/rename', { name, new_name: newName });
    await call('DELETE', 'registered-models/delete', { name: newName });

    const events = [...recorder.forModel(name), ...recorder.forModel(newName)];
    expect(events.map((event) => event.detailType)).toEqual([
      'registry.registered-model.created',
      'registry.model-version.created',
      'registry.model-version.created',
      'registry.model-version.updated',
      'registry.model-version.tag-set',
      'registry.model-version.tag-deleted',
      'registry.registered-model.tag-set',
      'registry.registered-model.tag-set',
      'registry.registered-model.tag-deleted',
      'registry.model-version.alias-set',
      'registry.model-version.alias-set',
      'registry.model-version.stage-transitioned',
      'registry.model-version.stage-transitioned',
      'registry.registered-model.updated',
      'registry.model-version.deleted',
      'registry.model-version.alias-deleted',
      'registry.registered-model.renamed',
      'registry.registered-model.deleted',
    ]);
    for (const event of events) {
      expect(event.source).toBe('runway.registry');
      expect(event.busName).toBe(TEST_BUS);
      expect(event.detail).toMatchObject({
        version: 1,
        modelId: events[0]?.detail.modelId,
        occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        idempotencyKey: expect.stringContaining(events[0]?.detail.modelId),
      });
    }
    expect(new Set(events.map((event) => event.detail.idempotencyKey)).size).toBe(events.length);
    for (const event of events) {
      expect(registryEventModule(event.detailType)?.schema.safeParse(event.detail).success).toBe(true);
    }
    const byType = (type: string) => events.filter((event) => event.detailType === `registry.${type}`);
    expect(byType('model-version.created')[0]?.detail).toMatchObject({
      modelName: name,
      modelVersion: '1',
      source: 's3://b/m',
      runId: 'r1',
      storageLocation: null,
    });
    expect(byType('registered-model.tag-set').map((event) => event.detail.previousValue)).toEqual([
      null,
      'a',
    ]);
    expect(
      byType('model-version.alias-set').map((event) => [
        event.detail.previousVersion,
        event.detail.modelVersion,
      ]),
    ).toEqual([
      [null, '1'],
      ['1', '2'],
    ]);
    expect(byType('model-version.stage-transitioned')[1]?.detail).toMatchObject({
      modelVersion: '2',
      stage: 'Production',
      previousStage: 'None',
      archiveExistingVersions: true,
      archivedVersions: ['1'],
    });
    expect(byType('model-version.alias-deleted')[0]?.detail).toMatchObject({
      alias: 'production',
      previousVersion: '2',
      reason: 'version-deleted',
    });
    expect(byType('registered-model.renamed')[0]?.detail).toMatchObject({
      modelName: newName,
      previousName: name,
    });
    expect(byType('registered-model.deleted')[0]?.detail).toMatchObject({
      modelName: newName,
      modelVersions: ['1'],
    });
  });

  it('keeps the change and answers 200 when publishing fails, after retrying', async () => {
    const name = await createModel();
    const requestsBefore = recorder.requests;
    recorder.failNext(1, 'entry');
    const retried = await call('POST', 'registered-models/set-tag', { name, key: 'k', value: 'retried' });
    expect(retried.status).toBe(200);
    expect(recorder.requests - requestsBefore).toBe(2);
    expect(recorder.forModel(name).at(-1)?.detail).toMatchObject({ key: 'k', value: 'retried' });

    recorder.failNext(3, 'entry');
    const lost = await call('POST', 'registered-models/set-tag', { name, key: 'k', value: 'lost' });
    expect(lost.status).toBe(200);
    recorder.failNext(3, 'request');
    const version = await call('POST', 'model-versions/create', { name, source: 's3://b/m' });
    expect(version.status).toBe(200);
    const got = (await call('GET', `registered-models/get?name=${q(name)}`)).json.registered_model;
    expect(got.tags).toEqual([{ key: 'k', value: 'lost' }]);
    expect(got.latest_versions).toHaveLength(1);
    expect(recorder.forModel(name).map((event) => event.detail.value ?? event.detailType)).not.toContain(
      'lost',
    );
  });

  it('publishes nothing for calls that change nothing or fail', async () => {
    const name = await createModel();
    const before = recorder.forModel(name).length;
    await call('DELETE', 'registered-models/alias', { name, alias: 'none' });
    await call('DELETE', 'registered-models/delete-tag', { name, key: 'none' });
    await call('POST', 'registered-models/create', { name });
    await call('GET', `registered-models/get?name=${q(name)}`);
    await call('POST', 'registered-models/alias', { name, alias: 'prod', version: '1' });
    expect(recorder.forModel(name)).toHaveLength(before);
  });
});
