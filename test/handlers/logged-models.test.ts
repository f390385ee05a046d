import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../shared/platform/http/http-handler.ts';
import { Logger } from '../../shared/platform/logger.ts';
import { DynamoExperimentRepository } from '../../shared/tracking/adapters/experiment.dynamodb-repository.ts';
import { experimentOperations } from '../../shared/tracking/api/experiments.routes.ts';
import { genAiOperations } from '../../shared/tracking/api/genai.routes.ts';
import { ExperimentService } from '../../shared/tracking/experiment.service.ts';
import { createLoggedModelsApi } from '../../shared/tracking/logged-models/logged-models.module.ts';
import { trackingConfig } from '../../shared/tracking/tracking.module.ts';
import { apiEvent, lambdaContext } from '../support/api-event.ts';
import { tableName, useEmulators } from '../support/handler-env.ts';

type Handler = ReturnType<typeof createHttpHandler>;
let handler: Handler;

/**
 * The tracking function's routes as `tracking.module.ts` will compose them (experiments, logged
 * models, the GenAI 501s), behind the one middy chain, against the DynamoDB emulator.
 */
beforeAll(() => {
  useEmulators({ TRACKING_TABLE_NAME: tableName('TrackingTable') });
  const config = trackingConfig();
  const experiments = new ExperimentService({
    experiments: new DynamoExperimentRepository(config.TRACKING_TABLE_NAME),
    defaultArtifactRoot: config.DEFAULT_ARTIFACT_ROOT,
  });
  handler = createHttpHandler({
    // The 501s below are logged as failed requests; the assertions say what matters.
    logger: new Logger({ level: 'error', sink: () => undefined }),
    operations: [
      ...experimentOperations(experiments),
      ...createLoggedModelsApi(config, experiments).operations,
      ...genAiOperations(),
    ],
  });
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
  json: any;
}

async function call(
  method: string,
  pathAndQuery: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<Answer> {
  const target = pathAndQuery.startsWith('/') ? pathAndQuery : `/api/2.0/mlflow/${pathAndQuery}`;
  const response = await handler(apiEvent(method, target, body, headers), lambdaContext);
  return { status: response.statusCode, headers: response.headers, json: JSON.parse(response.body) };
}

const unique = (prefix: string) => `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

async function newExperiment(): Promise<string> {
  const { json } = await call('POST', 'experiments/create', { name: unique('lm') });
  return json.experiment_id as string;
}

async function createModel(experimentId: string, extra: Record<string, unknown> = {}) {
  const answer = await call('POST', 'logged-models', { experiment_id: experimentId, ...extra });
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  // biome-ignore lint/suspicious/noExplicitAny: see Answer
  return answer.json.model as any;
}

function expectError(answer: Answer, status: number, code: string) {
  expect(answer.status, JSON.stringify(answer.json)).toBe(status);
  expect(answer.json.error_code).toBe(code);
  expect(typeof answer.json.message).toBe('string');
}

const UNKNOWN_MODEL = 'm-00000000000000000000000000000000';

describe('logged models: create and get', () => {
  it('creates a PENDING model under the experiment artifact location and gets it back', async () => {
    const experimentId = await newExperiment();
    const model = await createModel(experimentId, {
      name: 'model',
      model_type: 'classifier',
      source_run_id: '0f3c7a1d2b9e4c5fa8d7e6b5c4a39281',
      params: [{ key: 'C', value: '1.0' }],
      tags: [{ key: 'mlflow.user', value: 'alice' }],
    });
    expect(model.info.model_id).toMatch(/^m-[0-9a-f]{32}$/);
    const id = model.info.model_id as string;
    expect(model).toEqual({
      info: {
        model_id: id,
        experiment_id: experimentId,
        name: 'model',
        creation_timestamp_ms: expect.any(Number),
        last_updated_timestamp_ms: model.info.creation_timestamp_ms,
        artifact_uri: `mlflow-artifacts:/${experimentId}/models/${id}/artifacts`,
        status: 'LOGGED_MODEL_PENDING',
        model_type: 'classifier',
        source_run_id: '0f3c7a1d2b9e4c5fa8d7e6b5c4a39281',
        tags: [{ key: 'mlflow.user', value: 'alice' }],
      },
      data: { params: [{ key: 'C', value: '1.0' }] },
    });
    const got = await call('GET', `logged-models/${id}`);
    expect(got.status).toBe(200);
    expect(got.json).toEqual({ model });
    const ajax = await call('GET', `/ajax-api/2.0/mlflow/logged-models/${id}`);
    expect(ajax.json).toEqual({ model });
  });

  it('makes up a name, answers empty strings for absent type and run, leaves out empty lists', async () => {
    const model = await createModel(await newExperiment());
    expect(model.info.name).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
    expect(model.info.model_type).toBe('');
    expect(model.info.source_run_id).toBe('');
    expect(model.info).not.toHaveProperty('tags');
    expect(model.data).toEqual({});
    // An empty name means none (protobuf JSON cannot tell them apart).
    expect((await createModel(await newExperiment(), { name: '' })).info.name).not.toBe('');
  });

  it('creates in the default experiment 0 and accepts a numeric experiment id', async () => {
    const model = await createModel('0');
    expect(model.info.experiment_id).toBe('0');
    expect(model.info.artifact_uri).toBe(`mlflow-artifacts:/0/models/${model.info.model_id}/artifacts`);
    const experimentId = await newExperiment();
    expect((await call('POST', 'logged-models', { experiment_id: Number(experimentId) })).status).toBe(200);
  });

  it('answers 404 for unknown experiments and 400 for a non-numeric id, a deleted one or a missing id', async () => {
    expectError(
      await call('POST', 'logged-models', { experiment_id: '987654321' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    // MLflow 3.11 reads experiment ids as integers (2.22 answered 404).
    expectError(
      await call('POST', 'logged-models', { experiment_id: 'abc' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    const missing = await call('POST', 'logged-models', { name: 'x' });
    expectError(missing, 400, 'INVALID_PARAMETER_VALUE');
    expect(missing.json.message).toBe("Missing value for required parameter 'experiment_id'.");
    const deleted = await newExperiment();
    await call('POST', 'experiments/delete', { experiment_id: deleted });
    const onDeleted = await call('POST', 'logged-models', { experiment_id: deleted });
    expectError(onDeleted, 400, 'INVALID_PARAMETER_VALUE');
    expect(onDeleted.json.message).toContain("must be in the 'active' state");
  });

  it('refuses bad names, keys, values and bodies with 400, at MLflow limits', async () => {
    const experimentId = await newExperiment();
    const create = (extra: Record<string, unknown>) =>
      call('POST', 'logged-models', { experiment_id: experimentId, ...extra });
    for (const name of ['a/b', 'a.b', 'a:b', 'x'.repeat(501)]) {
      expectError(await create({ name }), 400, 'INVALID_PARAMETER_VALUE');
    }
    expect((await create({ name: 'x'.repeat(500) })).status).toBe(200);
    const param = (key: string, value = 'v') => ({ params: [{ key, value }] });
    const tag = (key: string, value = 'v') => ({ tags: [{ key, value }] });
    for (const bad of [
      param('a/../b'),
      param('bad*key'),
      param(''),
      param('k'.repeat(251)),
      param('k', 'v'.repeat(6001)),
      tag('k'.repeat(251)),
      tag('k', 'v'.repeat(8001)),
      tag('/abs'),
      {
        params: [
          { key: 'k', value: '1' },
          { key: 'k', value: '1' },
        ],
      },
      {
        tags: [
          { key: 'k', value: '1' },
          { key: 'k', value: '2' },
        ],
      },
      { params: [{ key: 'k' }] },
      { tags: [{ value: 'v' }] },
      { model_type: 't'.repeat(501) },
      { params: 'not-a-list' },
    ]) {
      expectError(await create(bad), 400, 'INVALID_PARAMETER_VALUE');
    }
    const atLimits = await create({
      ...param('k'.repeat(250), 'v'.repeat(6000)),
      ...tag('t'.repeat(250), 'v'.repeat(8000)),
    });
    expect(atLimits.status).toBe(200);
    expectError(await call('POST', 'logged-models', [experimentId]), 400, 'INVALID_PARAMETER_VALUE');
    expectError(
      await call('POST', 'logged-models', 'experiment_id=1', { 'content-type': 'text/plain' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
  });

  it('answers 404 RESOURCE_DOES_NOT_EXIST for unknown and malformed model ids', async () => {
    const unknown = await call('GET', `logged-models/${UNKNOWN_MODEL}`);
    expectError(unknown, 404, 'RESOURCE_DOES_NOT_EXIST');
    expect(unknown.json.message).toBe(`Logged model with ID '${UNKNOWN_MODEL}' not found.`);
    expectError(await call('GET', 'logged-models/not-a-model'), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await call('GET', `logged-models/m-${'x'.repeat(3000)}`), 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});

describe('logged models: finalize and delete', () => {
  it('finalizes READY or UPLOAD_FAILED by name or number, touching last_updated only', async () => {
    const model = await createModel(await newExperiment(), { name: 'fin' });
    const id = model.info.model_id as string;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const ready = await call('PATCH', `logged-models/${id}`, { model_id: id, status: 'LOGGED_MODEL_READY' });
    expect(ready.status).toBe(200);
    expect(ready.json.model.info.status).toBe('LOGGED_MODEL_READY');
    expect(ready.json.model.info.last_updated_timestamp_ms).toBeGreaterThan(model.info.creation_timestamp_ms);
    expect(ready.json.model.info.creation_timestamp_ms).toBe(model.info.creation_timestamp_ms);
    const failed = await call('PATCH', `logged-models/${id}`, { model_id: id, status: 3 });
    expect(failed.json.model.info.status).toBe('LOGGED_MODEL_UPLOAD_FAILED');
    expect((await call('GET', `logged-models/${id}`)).json.model.info.status).toBe(
      'LOGGED_MODEL_UPLOAD_FAILED',
    );
  });

  it('refuses statuses a model cannot be finalized with, and unknown models', async () => {
    const id = (await createModel(await newExperiment())).info.model_id as string;
    for (const status of ['LOGGED_MODEL_PENDING', 'LOGGED_MODEL_STATUS_UNSPECIFIED', 'READY', 0, 9]) {
      expectError(
        await call('PATCH', `logged-models/${id}`, { model_id: id, status }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
    }
    const missing = await call('PATCH', `logged-models/${id}`, { model_id: id });
    expect(missing.json.message).toBe("Missing value for required parameter 'status'.");
    expectError(
      await call('PATCH', `logged-models/${UNKNOWN_MODEL}`, { status: 'LOGGED_MODEL_READY' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  it('deletes (again is fine), hides the model from get unless allow_deleted, refuses writes', async () => {
    const experimentId = await newExperiment();
    const id = (await createModel(experimentId, { name: 'gone' })).info.model_id as string;
    const deleted = await call('DELETE', `logged-models/${id}`, { model_id: id });
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({});
    expect((await call('DELETE', `logged-models/${id}`)).status).toBe(200);
    expectError(await call('GET', `logged-models/${id}`), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await call('GET', `logged-models/${id}?allow_deleted=false`), 404, 'RESOURCE_DOES_NOT_EXIST');
    const allowed = await call('GET', `logged-models/${id}?allow_deleted=True`);
    expect(allowed.status).toBe(200);
    expect(allowed.json.model.info.name).toBe('gone');
    expectError(
      await call('PATCH', `logged-models/${id}`, { status: 'LOGGED_MODEL_READY' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await call('PATCH', `logged-models/${id}/tags`, { tags: [{ key: 'k', value: 'v' }] }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await call('POST', `logged-models/${id}/params`, { params: [{ key: 'k', value: 'v' }] }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    const search = await call('POST', 'logged-models/search', { experiment_ids: [experimentId] });
    expect(search.json).toEqual({});
    expectError(await call('DELETE', `logged-models/${UNKNOWN_MODEL}`), 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});

describe('logged models: tags and params', () => {
  it('sets, overwrites and deletes tags, with keys that contain slashes and spaces', async () => {
    const id = (await createModel(await newExperiment(), { tags: [{ key: 'a', value: '1' }] })).info.model_id;
    const set = await call('PATCH', `logged-models/${id}/tags`, {
      tags: [
        { key: 'a', value: '2' },
        { key: 'team/sub', value: 'ml' },
        { key: 'with space', value: 'x' },
      ],
    });
    expect(set.status).toBe(200);
    expect(set.json).toEqual({});
    let tags = (await call('GET', `logged-models/${id}`)).json.model.info.tags;
    expect(tags).toEqual(
      expect.arrayContaining([
        { key: 'a', value: '2' },
        { key: 'team/sub', value: 'ml' },
        { key: 'with space', value: 'x' },
      ]),
    );
    expect((await call('DELETE', `logged-models/${id}/tags/team/sub`)).status).toBe(200);
    expect((await call('DELETE', `logged-models/${id}/tags/with%20space`)).status).toBe(200);
    tags = (await call('GET', `logged-models/${id}`)).json.model.info.tags;
    expect(tags).toEqual([{ key: 'a', value: '2' }]);
    const missing = await call('DELETE', `logged-models/${id}/tags/nope`);
    expectError(missing, 404, 'RESOURCE_DOES_NOT_EXIST');
    expect(missing.json.message).toContain("No tag with key 'nope'");
    expectError(
      await call('DELETE', `logged-models/${UNKNOWN_MODEL}/tags/a`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await call('PATCH', `logged-models/${UNKNOWN_MODEL}/tags`, { tags: [] }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expect((await call('PATCH', `logged-models/${id}/tags`, {})).status).toBe(200);
  });

  it('writes many tags in one request and checks their limits', async () => {
    const id = (await createModel(await newExperiment())).info.model_id;
    const tags = Array.from({ length: 150 }, (_, i) => ({ key: `t${i}`, value: `v${i}` }));
    expect((await call('PATCH', `logged-models/${id}/tags`, { tags })).status).toBe(200);
    expect((await call('GET', `logged-models/${id}`)).json.model.info.tags).toHaveLength(150);
    for (const bad of [
      { key: 'k'.repeat(251), value: 'v' },
      { key: 'k', value: 'v'.repeat(8001) },
      { key: '..', value: 'v' },
    ]) {
      expectError(
        await call('PATCH', `logged-models/${id}/tags`, { tags: [bad] }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
    }
  });

  it('logs params write-once: the same value again is fine, another value is 400', async () => {
    const id = (await createModel(await newExperiment(), { params: [{ key: 'C', value: '1.0' }] })).info
      .model_id;
    const logged = await call('POST', `logged-models/${id}/params`, {
      model_id: id,
      params: [
        { key: 'C', value: '1.0' },
        { key: 'alpha', value: '0.5' },
      ],
    });
    expect(logged.status).toBe(200);
    expect(logged.json).toEqual({});
    expect(
      (await call('POST', `logged-models/${id}/params`, { params: [{ key: 'alpha', value: '0.5' }] })).status,
    ).toBe(200);
    const changed = await call('POST', `logged-models/${id}/params`, {
      params: [{ key: 'alpha', value: '0.7' }],
    });
    expectError(changed, 400, 'INVALID_PARAMETER_VALUE');
    expect(changed.json.message).toContain("Param with key='alpha' was already logged with value='0.5'");
    const params = (await call('GET', `logged-models/${id}`)).json.model.data.params;
    expect(params).toEqual(
      expect.arrayContaining([
        { key: 'C', value: '1.0' },
        { key: 'alpha', value: '0.5' },
      ]),
    );
    expect(params).toHaveLength(2);
  });

  it('logs more params than one write holds (the client sends 100 per request)', async () => {
    const id = (await createModel(await newExperiment())).info.model_id;
    const params = Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: String(i) }));
    expect((await call('POST', `logged-models/${id}/params`, { params })).status).toBe(200);
    expect((await call('GET', `logged-models/${id}`)).json.model.data.params).toHaveLength(100);
  });

  it('checks param limits and unknown models', async () => {
    const id = (await createModel(await newExperiment())).info.model_id;
    for (const bad of [
      [{ key: 'k'.repeat(251), value: 'v' }],
      [{ key: 'k', value: 'v'.repeat(6001) }],
      [{ key: 'a b*', value: 'v' }],
      [
        { key: 'k', value: '1' },
        { key: 'k', value: '1' },
      ],
    ]) {
      expectError(
        await call('POST', `logged-models/${id}/params`, { params: bad }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
    }
    expect(
      (await call('POST', `logged-models/${id}/params`, { params: [{ key: 'k', value: 'v'.repeat(6000) }] }))
        .status,
    ).toBe(200);
    expectError(
      await call('POST', `logged-models/${UNKNOWN_MODEL}/params`, { params: [] }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  it('refuses a model whose tags and params outgrow one item with 400, not 500', async () => {
    const id = (await createModel(await newExperiment())).info.model_id;
    const big = (prefix: string) =>
      Array.from({ length: 50 }, (_, i) => ({ key: `${prefix}${i}`, value: 'v'.repeat(8000) }));
    expect((await call('PATCH', `logged-models/${id}/tags`, { tags: big('a') })).status).toBe(200);
    const tooMuch = await call('PATCH', `logged-models/${id}/tags`, { tags: big('b') });
    expectError(tooMuch, 400, 'INVALID_PARAMETER_VALUE');
    expect(tooMuch.json.message).toContain('cannot hold more tags and params');
  });
});

describe('logged models: search', () => {
  async function seed() {
    const experimentId = await newExperiment();
    const other = await newExperiment();
    const make = async (experiment: string, name: string, extra: Record<string, unknown>) =>
      (await createModel(experiment, { name, ...extra })).info.model_id as string;
    const ids = {
      alpha: await make(experimentId, 'alpha', {
        model_type: 'agent',
        params: [{ key: 'lr', value: '0.1' }],
        tags: [{ key: 'team', value: 'ml' }],
      }),
      beta: await make(experimentId, 'beta', {
        params: [{ key: 'lr', value: '0.2' }],
        tags: [{ key: 'team', value: 'DS' }],
      }),
      gamma: await make(experimentId, 'Gamma', { params: [{ key: 'lr', value: '0.3' }] }),
      delta: await make(other, 'delta', { tags: [{ key: 'team', value: 'ml' }] }),
    };
    await call('PATCH', `logged-models/${ids.beta}`, { status: 'LOGGED_MODEL_READY' });
    return { experimentId, other, ids };
  }

  const names = (answer: Answer) =>
    (answer.json.models ?? []).map((m: { info: { name: string } }) => m.info.name);
  const search = (body: Record<string, unknown>, prefix = '/api/2.0') =>
    call('POST', `${prefix}/mlflow/logged-models/search`, body);

  it('filters on attributes, params and tags with =, !=, LIKE, ILIKE, IN and NOT IN', async () => {
    const { experimentId, other } = await seed();
    const run = (filter: string) =>
      search({ experiment_ids: [experimentId, other], filter, order_by: [{ field_name: 'name' }] });
    expect(names(await run("tags.team = 'ml'"))).toEqual(['alpha', 'delta']);
    expect(names(await run("tags.team != 'ml'"))).toEqual(['beta']);
    expect(names(await run("tags.team ILIKE 'ds'"))).toEqual(['beta']);
    expect(names(await run("name LIKE 'g%'"))).toEqual([]);
    expect(names(await run("name ILIKE 'g%'"))).toEqual(['Gamma']);
    expect(names(await run("params.lr IN ('0.1', '0.3')"))).toEqual(['Gamma', 'alpha']);
    expect(names(await run("params.lr NOT IN ('0.1')"))).toEqual(['Gamma', 'beta']);
    expect(names(await run("status = 'READY'"))).toEqual(['beta']);
    expect(names(await run("attributes.status = 'LOGGED_MODEL_PENDING' AND model_type = 'agent'"))).toEqual([
      'alpha',
    ]);
    expect(names(await run('creation_time > 0 AND last_updated_timestamp >= 0'))).toHaveLength(4);
    expect(names(await run('creation_timestamp < 0'))).toEqual([]);
  });

  it('orders by attributes both ways, by default newest first, and pages with tokens', async () => {
    const { experimentId } = await seed();
    const desc = await search({
      experiment_ids: [experimentId],
      order_by: [{ field_name: 'name', ascending: false }],
    });
    expect(names(desc)).toEqual(['beta', 'alpha', 'Gamma']);
    const byDefault = await search({ experiment_ids: [experimentId] });
    const infos = byDefault.json.models.map(
      (m: { info: { creation_timestamp_ms: number; model_id: string } }) => m.info,
    );
    const expected = [...infos].sort(
      (
        a: { creation_timestamp_ms: number; model_id: string },
        b: { creation_timestamp_ms: number; model_id: string },
      ) => b.creation_timestamp_ms - a.creation_timestamp_ms || (a.model_id < b.model_id ? -1 : 1),
    );
    expect(infos).toEqual(expected);

    const first = await search({
      experiment_ids: [experimentId],
      max_results: 2,
      order_by: [{ field_name: 'name' }],
    });
    expect(names(first)).toEqual(['Gamma', 'alpha']);
    expect(first.json.next_page_token).toEqual(expect.any(String));
    const second = await search({
      experiment_ids: [experimentId],
      max_results: 2,
      order_by: [{ field_name: 'name' }],
      page_token: first.json.next_page_token,
    });
    expect(names(second)).toEqual(['beta']);
    expect(second.json).not.toHaveProperty('next_page_token');
    const otherQuery = await search({
      experiment_ids: [experimentId],
      page_token: first.json.next_page_token,
    });
    expectError(otherQuery, 400, 'INVALID_PARAMETER_VALUE');
  });

  it('answers {} for no hits, no experiments, metric filters and datasets (no linked metrics yet)', async () => {
    const { experimentId } = await seed();
    expect((await search({ experiment_ids: [] })).json).toEqual({});
    expect((await search({ experiment_ids: ['987654321'] })).json).toEqual({});
    expect((await search({ experiment_ids: [experimentId], filter: "name = 'nope'" })).json).toEqual({});
    expect((await search({ experiment_ids: [experimentId], filter: 'metrics.accuracy > 0' })).json).toEqual(
      {},
    );
    expect(
      (await search({ experiment_ids: [experimentId], datasets: [{ dataset_name: 'test' }] })).json,
    ).toEqual({});
    const byMetric = await search({
      experiment_ids: [experimentId],
      order_by: [{ field_name: 'metrics.accuracy', dataset_name: 'test' }],
    });
    expect(names(byMetric)).toHaveLength(3);
    expect((await search({ experiment_ids: [experimentId] }, '/ajax-api/2.0')).json.models).toHaveLength(3);
  });

  it('refuses bad filters, orders, limits and a missing experiment_ids with 400', async () => {
    const { experimentId } = await seed();
    const bad = [
      { filter: "name = 'a' OR name = 'b'" },
      { filter: "foo = 'a'" },
      { filter: "metric.x = 'a'" },
      { filter: "run.name = 'a'" },
      { filter: 'name = unquoted' },
      { filter: "creation_time > 'yesterday'" },
      { filter: "name > 'a'" },
      { filter: 'tags.t IN ()' },
      { order_by: [{ field_name: 'params.lr' }] },
      { order_by: [{ field_name: 'unknown' }] },
      { order_by: [{ field_name: 'metrics.acc', dataset_digest: 'abc' }] },
      { order_by: [{ ascending: true }] },
      { max_results: -1 },
      { max_results: 50_001 },
      { page_token: 'not-a-token' },
      { datasets: [{ dataset_digest: 'abc' }] },
    ];
    for (const body of bad) {
      expectError(await search({ experiment_ids: [experimentId], ...body }), 400, 'INVALID_PARAMETER_VALUE');
    }
    const missing = await search({ filter: "name = 'a'" });
    expect(missing.json.message).toBe("Missing value for required parameter 'experiment_ids'.");
    expect((await search({ experiment_ids: [experimentId], max_results: 0 })).json.models).toHaveLength(3);
  });
});

describe('logged models: artifacts and routing', () => {
  it('answers 405 with Allow for a known path and another method', async () => {
    const answer = await call('PUT', `logged-models/${UNKNOWN_MODEL}`, {});
    expectError(answer, 405, 'METHOD_NOT_ALLOWED');
    expect(answer.headers.allow).toBe('GET, PATCH, DELETE');
  });
});

const fixtures = JSON.parse(
  readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/mlflow/logged-models.json'),
    'utf8',
  ),
) as {
  logModelSequence: Array<{ owner: string; method: string; path: string; body?: unknown }>;
};

describe('logged models: the requests of an MLflow 3 log_model', () => {
  it('replays the logged-model requests of log_model and ends with a READY model', async () => {
    const experimentId = await newExperiment();
    let modelId = '';
    const fill = (value: unknown): unknown =>
      JSON.parse(
        JSON.stringify(value ?? null)
          .replaceAll('{model_id}', modelId)
          .replaceAll('"experiment_id":"1"', `"experiment_id":"${experimentId}"`),
      ) ?? undefined;
    for (const request of fixtures.logModelSequence.filter((step) => step.owner === 'logged-models')) {
      const answer = await call(
        request.method,
        request.path.replaceAll('{model_id}', modelId),
        fill(request.body),
      );
      expect(answer.status, `${request.method} ${request.path}: ${JSON.stringify(answer.json)}`).toBe(200);
      if (!modelId) modelId = answer.json.model.info.model_id;
      expect(answer.json.model.info.model_id).toBe(modelId);
    }
    const final = (await call('GET', `logged-models/${modelId}`)).json.model;
    expect(final.info).toMatchObject({
      name: 'model',
      experiment_id: experimentId,
      status: 'LOGGED_MODEL_READY',
      source_run_id: '0f3c7a1d2b9e4c5fa8d7e6b5c4a39281',
      artifact_uri: `mlflow-artifacts:/${experimentId}/models/${modelId}/artifacts`,
    });
    expect(final.data.params).toHaveLength(2);
    expect(final.info.tags).toHaveLength(3);
  });
});

describe('GenAI endpoints answer 501 NOT_IMPLEMENTED', () => {
  const concrete = (pattern: string) =>
    pattern
      .replace('{request_id}', 'tr-123')
      .replace('{trace_id}', 'tr-123')
      .replace('{assessment_id}', 'a-1');
  const cases = genAiOperations().flatMap((operation) => {
    const paths = operation.path.startsWith('/')
      ? [operation.path]
      : [`/api/2.0/${operation.path}`, `/ajax-api/2.0/${operation.path}`];
    return paths.map((target) => [operation.method, concrete(target)] as const);
  });

  it("covers the GenAI routes Runway does not serve (traces are the traces function's)", () => {
    const routes = cases.map(([method, target]) => `${method} ${target}`);
    for (const expected of [
      'POST /api/2.0/mlflow/experiments/search-datasets',
      'POST /ajax-api/2.0/mlflow/experiments/search-datasets',
      'GET /api/2.0/mlflow/unified-traces',
      'POST /ajax-api/2.0/mlflow/gateway-proxy',
      'POST /ajax-api/2.0/mlflow/runs/create-promptlab-run',
    ]) {
      expect(routes).toContain(expected);
    }
    expect(routes.filter((route) => route.includes('mlflow/traces'))).toEqual([]);
  });

  it.each(cases)('%s %s', async (method, target) => {
    const answer = await call(method, target, method === 'GET' ? undefined : { anything: 1 });
    expectError(answer, 501, 'NOT_IMPLEMENTED');
    expect(answer.json.message).toContain(`${method} ${target}`);
    expect(answer.json.message).toContain('Runway does not serve');
  });

  it('answers 501 whatever the body, even one that is not JSON', async () => {
    const answer = await call('POST', '/api/2.0/mlflow/experiments/search-datasets', 'x', {
      'content-type': 'text/plain',
    });
    expectError(answer, 501, 'NOT_IMPLEMENTED');
    expect(answer.json.message).toBe(
      "POST /api/2.0/mlflow/experiments/search-datasets (MLflow's searchDatasets) is not implemented: Runway does not serve GenAI features.",
    );
  });
});
