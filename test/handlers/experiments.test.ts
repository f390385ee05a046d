import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiEvent, lambdaContext } from '../support/api-event.ts';
import { tableName, useEmulators } from '../support/handler-env.ts';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: typeof lambdaContext,
) => Promise<{
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}>;
let handler: Handler;

beforeAll(async () => {
  useEmulators({ TRACKING_TABLE_NAME: tableName('TrackingTable') });
  ({ handler } = (await import('../../functions/tracking-api.ts')) as unknown as { handler: Handler });
});

async function call(method: string, path: string, body?: unknown, headers?: Record<string, string>) {
  const response = await handler(
    apiEvent(method, `/api/2.0/mlflow/experiments/${path}`, body, headers),
    lambdaContext,
  );
  return { status: response.statusCode, headers: response.headers, json: JSON.parse(response.body) };
}

const unique = (prefix: string) => `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

describe('tracking handler: experiments against DynamoDB', () => {
  it('has the default experiment 0 named Default, as every MLflow store', async () => {
    const { status, json } = await call('GET', 'get?experiment_id=0');
    expect(status).toBe(200);
    expect(json.experiment).toMatchObject({
      experiment_id: '0',
      name: 'Default',
      artifact_location: 'mlflow-artifacts:/0',
      lifecycle_stage: 'active',
    });
  });

  it('creates, gets and gets by name, with tags and MLflow JSON shapes', async () => {
    const name = unique('exp');
    const created = await call('POST', 'create', { name, tags: [{ key: 'team', value: 'ml' }] });
    expect(created.status).toBe(200);
    expect(created.json.experiment_id).toMatch(/^\d+$/);
    const id = created.json.experiment_id as string;

    const got = await call('GET', `get?experiment_id=${id}`);
    expect(got.json.experiment).toEqual({
      experiment_id: id,
      name,
      artifact_location: `mlflow-artifacts:/${id}`,
      lifecycle_stage: 'active',
      creation_time: expect.any(Number),
      last_update_time: expect.any(Number),
      tags: [{ key: 'team', value: 'ml' }],
    });
    const byName = await call('GET', `get-by-name?experiment_name=${encodeURIComponent(name)}`);
    expect(byName.json.experiment.experiment_id).toBe(id);
    expect(got.headers['x-request-id']).toMatch(/^test-/);
  });

  it('leaves out the tags key when an experiment has none', async () => {
    const { json } = await call('POST', 'create', { name: unique('plain') });
    const got = await call('GET', `get?experiment_id=${json.experiment_id}`);
    expect(got.json.experiment).not.toHaveProperty('tags');
  });

  it('refuses a duplicate name with 400 RESOURCE_ALREADY_EXISTS, also for a deleted experiment', async () => {
    const name = unique('dup');
    const { json } = await call('POST', 'create', { name });
    expect((await call('POST', 'create', { name })).json.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    await call('POST', 'delete', { experiment_id: json.experiment_id });
    const again = await call('POST', 'create', { name });
    expect(again.status).toBe(400);
    expect(again.json.error_code).toBe('RESOURCE_ALREADY_EXISTS');
  });

  it('gives one experiment and one RESOURCE_ALREADY_EXISTS to concurrent creates of a name', async () => {
    const name = unique('race');
    const results = await Promise.all(Array.from({ length: 8 }, () => call('POST', 'create', { name })));
    expect(results.filter((result) => result.status === 200)).toHaveLength(1);
    expect(results.filter((result) => result.json.error_code === 'RESOURCE_ALREADY_EXISTS')).toHaveLength(7);
  });

  it('answers 404 for unknown ids, 400 for non-numeric ones (MLflow 3.11), and names a missing parameter', async () => {
    const unknown = await call('GET', 'get?experiment_id=987654321');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    for (const [method, route, body] of [
      ['GET', 'get?experiment_id=abc', undefined],
      ['POST', 'update', { experiment_id: 'abc', new_name: unique('n') }],
      ['POST', 'delete', { experiment_id: 'abc' }],
      ['POST', 'restore', { experiment_id: '1x' }],
      ['POST', 'set-experiment-tag', { experiment_id: 'abc', key: 'k', value: 'v' }],
      ['POST', 'delete-experiment-tag', { experiment_id: 'abc', key: 'k' }],
    ] as const) {
      const { status, json } = await call(method, route, body);
      expect({ route, status, code: json.error_code }).toEqual({
        route,
        status: 400,
        code: 'INVALID_PARAMETER_VALUE',
      });
    }
    const missing = await call('GET', 'get');
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: "Missing value for required parameter 'experiment_id'.",
    });
    expect((await call('GET', 'get-by-name?experiment_name=nope-nothing')).status).toBe(404);
  });

  it('validates names and tags with MLflow limits', async () => {
    expect((await call('POST', 'create', { name: '' })).json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await call('POST', 'create', { name: 'x'.repeat(501) })).status).toBe(400);
    expect(
      (await call('POST', 'create', { name: unique('t'), tags: [{ key: 'a/../b', value: 'v' }] })).status,
    ).toBe(400);
    expect(
      (await call('POST', 'create', { name: unique('t'), tags: [{ key: 'k', value: 'v'.repeat(5001) }] }))
        .status,
    ).toBe(400);
    expect(
      (await call('POST', 'create', { name: unique('t'), tags: [{ key: 'k'.repeat(251), value: 'v' }] }))
        .status,
    ).toBe(400);
    expect((await call('POST', 'create', { name: unique('t'), artifact_location: 'runs:/abc' })).status).toBe(
      400,
    );
    expect((await call('POST', 'create', { name: 42 })).json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('renames, and refuses to rename onto a taken name or a deleted experiment', async () => {
    const first = (await call('POST', 'create', { name: unique('a') })).json.experiment_id as string;
    const takenName = unique('b');
    await call('POST', 'create', { name: takenName });
    const before = (await call('GET', `get?experiment_id=${first}`)).json.experiment;
    const newName = unique('renamed');
    expect((await call('POST', 'update', { experiment_id: first, new_name: newName })).status).toBe(200);
    const after = (await call('GET', `get?experiment_id=${first}`)).json.experiment;
    expect(after.name).toBe(newName);
    expect(after.last_update_time).toBeGreaterThanOrEqual(before.last_update_time);
    // The old name is free again; the new one resolves.
    expect((await call('GET', `get-by-name?experiment_name=${encodeURIComponent(before.name)}`)).status).toBe(
      404,
    );
    expect(
      (await call('GET', `get-by-name?experiment_name=${encodeURIComponent(newName)}`)).json.experiment
        .experiment_id,
    ).toBe(first);
    const clash = await call('POST', 'update', { experiment_id: first, new_name: takenName });
    expect(clash.json.error_code).toBe('RESOURCE_ALREADY_EXISTS');

    await call('POST', 'delete', { experiment_id: first });
    const deleted = await call('POST', 'update', { experiment_id: first, new_name: unique('c') });
    expect(deleted.status).toBe(400);
    expect(deleted.json.error_code).toBe('INVALID_STATE');
  });

  it('deletes and restores with MLflow answers for the wrong stage', async () => {
    const id = (await call('POST', 'create', { name: unique('life') })).json.experiment_id as string;
    expect((await call('POST', 'restore', { experiment_id: id })).status).toBe(404);
    expect((await call('POST', 'delete', { experiment_id: id })).status).toBe(200);
    expect((await call('GET', `get?experiment_id=${id}`)).json.experiment.lifecycle_stage).toBe('deleted');
    expect((await call('POST', 'delete', { experiment_id: id })).status).toBe(404);
    expect((await call('POST', 'restore', { experiment_id: id })).status).toBe(200);
    expect((await call('GET', `get?experiment_id=${id}`)).json.experiment.lifecycle_stage).toBe('active');
    expect((await call('POST', 'delete', { experiment_id: '0' })).status).toBe(400);
  });

  it('sets and deletes experiment tags without touching last_update_time', async () => {
    const id = (await call('POST', 'create', { name: unique('tags') })).json.experiment_id as string;
    const before = (await call('GET', `get?experiment_id=${id}`)).json.experiment;
    await call('POST', 'set-experiment-tag', { experiment_id: id, key: 'stage', value: 'one' });
    await call('POST', 'set-experiment-tag', { experiment_id: id, key: 'stage', value: 'two' });
    await call('POST', 'set-experiment-tag', { experiment_id: id, key: 'other', value: 'x' });
    let got = (await call('GET', `get?experiment_id=${id}`)).json.experiment;
    expect(got.tags).toEqual(
      expect.arrayContaining([
        { key: 'stage', value: 'two' },
        { key: 'other', value: 'x' },
      ]),
    );
    expect(got.last_update_time).toBe(before.last_update_time);
    expect((await call('POST', 'delete-experiment-tag', { experiment_id: id, key: 'stage' })).status).toBe(
      200,
    );
    // MLflow 3's stores answer 404 for a tag that is not there (the registry's tags answer 200).
    const missing = await call('POST', 'delete-experiment-tag', { experiment_id: id, key: 'missing' });
    expect([missing.status, missing.json.error_code]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
    const again = await call('POST', 'delete-experiment-tag', { experiment_id: id, key: 'stage' });
    expect(again.status).toBe(404);
    got = (await call('GET', `get?experiment_id=${id}`)).json.experiment;
    expect(got.tags).toEqual([{ key: 'other', value: 'x' }]);
    expect(
      (await call('POST', 'set-experiment-tag', { experiment_id: '424242', key: 'k', value: 'v' })).status,
    ).toBe(404);
    await call('POST', 'delete', { experiment_id: id });
    const onDeleted = await call('POST', 'set-experiment-tag', { experiment_id: id, key: 'k', value: 'v' });
    expect(onDeleted.status).toBe(400);
    expect(onDeleted.json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('searches with a filter, an order, view types and page tokens', async () => {
    const marker = unique('search');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { json } = await call('POST', 'create', {
        name: `${marker}-${i}`,
        tags: [{ key: 'group', value: i % 2 === 0 ? 'even' : 'odd' }],
      });
      ids.push(json.experiment_id);
    }
    await call('POST', 'delete', { experiment_id: ids[4] });

    const filter = `name LIKE '${marker}-%' AND tags.group = 'even'`;
    const even = await call('POST', 'search', { max_results: 10, filter, order_by: ['name DESC'] });
    expect(even.json.experiments.map((e: { name: string }) => e.name)).toEqual([
      `${marker}-2`,
      `${marker}-0`,
    ]);

    const all = await call('POST', 'search', { max_results: 10, filter, view_type: 'ALL' });
    expect(all.json.experiments).toHaveLength(3);
    const deleted = await call('POST', 'search', {
      max_results: 10,
      filter: `name LIKE '${marker}%'`,
      view_type: 'DELETED_ONLY',
    });
    expect(deleted.json.experiments.map((e: { experiment_id: string }) => e.experiment_id)).toEqual([ids[4]]);

    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await call('POST', 'search', {
        max_results: 2,
        filter: `name LIKE '${marker}-%'`,
        order_by: ['name ASC'],
        ...(token ? { page_token: token } : {}),
      });
      seen.push(...page.json.experiments.map((e: { name: string }) => e.name));
      token = page.json.next_page_token;
    } while (token);
    expect(seen).toEqual([0, 1, 2, 3].map((i) => `${marker}-${i}`));

    const get = await call(
      'GET',
      `search?max_results=1&filter=${encodeURIComponent(`name = '${marker}-1'`)}`,
    );
    expect(get.json.experiments[0].experiment_id).toBe(ids[1]);
    const none = await call('POST', 'search', {
      max_results: 5,
      filter: "name = 'no-such-experiment-anywhere'",
    });
    expect(none.json).toEqual({});
  });

  it('rejects bad searches with INVALID_PARAMETER_VALUE', async () => {
    for (const body of [
      {},
      { max_results: 0 },
      { max_results: 50001 },
      { max_results: 5, filter: 'name = ' },
      { max_results: 5, filter: "name = 'a' OR name = 'b'" },
      { max_results: 5, filter: 'metrics.acc > 1' },
      { max_results: 5, order_by: ['colour DESC'] },
      { max_results: 5, page_token: 'garbage' },
    ]) {
      const { status, json } = await call('POST', 'search', body);
      expect({ body, status, code: json.error_code }).toEqual({
        body,
        status: 400,
        code: 'INVALID_PARAMETER_VALUE',
      });
    }
    expect((await call('GET', 'search')).status).toBe(400);
  });

  it('answers MLflow-style JSON errors for unknown routes, wrong methods and bad bodies', async () => {
    const unknown = await call('POST', 'frobnicate', {});
    expect(unknown.status).toBe(404);
    expect(unknown.json.error_code).toBe('ENDPOINT_NOT_FOUND');
    const wrongMethod = await call('GET', 'create');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    const array = await call('POST', 'create', '[1,2,3]');
    expect(array.status).toBe(400);
    const form = await call('POST', 'create', 'name=x', { 'content-type': 'text/plain' });
    expect(form.json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });
});
