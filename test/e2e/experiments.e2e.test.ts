import { describe, expect, it } from 'vitest';
import { http, mlflow, unique } from '../support/http-client.ts';

/**
 * Experiments over HTTP, as the MLflow 2.22 client drives them (the request sequences come from the
 * client's access log in ../shared/mlflow-rest-endpoints.txt), on both API prefixes.
 */
describe('experiments over HTTP', () => {
  it('answers the health check', async () => {
    const health = await http('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'OK' });
  });

  it('does what mlflow.set_experiment does: get-by-name (404), create, get', async () => {
    const name = unique('client');
    const missing = await mlflow(
      'GET',
      `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`,
    );
    expect(missing.status).toBe(404);
    expect(missing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    const created = await mlflow('POST', 'experiments/create', { name });
    expect(created.status).toBe(200);
    const got = await mlflow('GET', `experiments/get?experiment_id=${created.json.experiment_id}`);
    expect(got.json.experiment).toMatchObject({ name, lifecycle_stage: 'active' });
    expect(got.json.experiment.artifact_location).toBe(`mlflow-artifacts:/${created.json.experiment_id}`);
  });

  it('serves the same endpoints under /ajax-api/2.0/', async () => {
    const name = unique('ajax');
    const created = await http('POST', '/ajax-api/2.0/mlflow/experiments/create', { name });
    expect(created.status).toBe(200);
    const got = await http('GET', `/ajax-api/2.0/mlflow/experiments/get-by-name?experiment_name=${name}`);
    expect(got.json.experiment.experiment_id).toBe(created.json.experiment_id);
  });

  it('runs the whole lifecycle: tag, rename, search, delete, restore', async () => {
    const name = unique('life');
    const id = (await mlflow('POST', 'experiments/create', { name })).json.experiment_id as string;
    expect(
      (
        await mlflow('POST', 'experiments/set-experiment-tag', {
          experiment_id: id,
          key: 'owner',
          value: 'ana',
        })
      ).status,
    ).toBe(200);
    const renamed = `${name}-v2`;
    expect(
      (await mlflow('POST', 'experiments/update', { experiment_id: id, new_name: renamed })).status,
    ).toBe(200);
    const search = await mlflow('POST', 'experiments/search', {
      max_results: 10,
      filter: `name = '${renamed}' AND tags.owner = 'ana'`,
    });
    expect(search.json.experiments).toHaveLength(1);
    expect((await mlflow('POST', 'experiments/delete', { experiment_id: id })).status).toBe(200);
    const active = await mlflow(
      'GET',
      `experiments/search?max_results=10&filter=${encodeURIComponent(`name = '${renamed}'`)}`,
    );
    expect(active.json).toEqual({});
    const deleted = await mlflow('POST', 'experiments/search', {
      max_results: 10,
      filter: `name = '${renamed}'`,
      view_type: 'DELETED_ONLY',
    });
    expect(deleted.json.experiments[0].lifecycle_stage).toBe('deleted');
    expect((await mlflow('POST', 'experiments/restore', { experiment_id: id })).status).toBe(200);
    expect(
      (await mlflow('POST', 'experiments/delete-experiment-tag', { experiment_id: id, key: 'owner' })).status,
    ).toBe(200);
    expect((await mlflow('GET', `experiments/get?experiment_id=${id}`)).json.experiment).not.toHaveProperty(
      'tags',
    );
  });

  it('answers every client mistake with a JSON 4xx in MLflow format, never a 5xx', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/api/2.0/mlflow/experiments/create', {}, 400, 'INVALID_PARAMETER_VALUE'],
      ['POST', '/api/2.0/mlflow/experiments/create', '{"name": ', 400, 'INVALID_PARAMETER_VALUE'],
      ['POST', '/api/2.0/mlflow/experiments/create', '[1]', 400, 'INVALID_PARAMETER_VALUE'],
      ['POST', '/api/2.0/mlflow/experiments/search', {}, 400, 'INVALID_PARAMETER_VALUE'],
      ['GET', '/api/2.0/mlflow/experiments/search', undefined, 400, 'INVALID_PARAMETER_VALUE'],
      // A non-numeric id: 400 as MLflow 3.11 answers (2.22: 404).
      ['GET', '/api/2.0/mlflow/experiments/get?experiment_id=abc', undefined, 400, 'INVALID_PARAMETER_VALUE'],
      [
        'GET',
        '/api/2.0/mlflow/experiments/get?experiment_id=987654321',
        undefined,
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'POST',
        '/api/2.0/mlflow/experiments/delete',
        { experiment_id: '999999999' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      ['GET', '/api/2.0/mlflow/experiments/create', undefined, 405, 'METHOD_NOT_ALLOWED'],
      ['POST', '/api/2.0/mlflow/experiments/nope', {}, 404, 'ENDPOINT_NOT_FOUND'],
      ['GET', '/api/2.0/mlflow/unknown/endpoint', undefined, 404, 'ENDPOINT_NOT_FOUND'],
      ['GET', '/no/such/path', undefined, 404, 'ENDPOINT_NOT_FOUND'],
      ['DELETE', '/health', undefined, 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const result = await http(method, path, body);
      expect({
        method,
        path,
        status: result.status,
        code: result.json?.error_code,
        hasMessage: typeof result.json?.message,
      }).toEqual({ method, path, status, code, hasMessage: 'string' });
    }
  });

  it('pages through many experiments without losing or repeating one', async () => {
    const marker = unique('page');
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        mlflow('POST', 'experiments/create', { name: `${marker}-${String(i).padStart(2, '0')}` }),
      ),
    );
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await mlflow('POST', 'experiments/search', {
        max_results: 5,
        filter: `name LIKE '${marker}-%'`,
        order_by: ['name'],
        ...(token ? { page_token: token } : {}),
      });
      expect(page.status).toBe(200);
      names.push(...page.json.experiments.map((e: { name: string }) => e.name));
      token = page.json.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(names).toEqual(Array.from({ length: 12 }, (_, i) => `${marker}-${String(i).padStart(2, '0')}`));
  });

  it('keeps names unique (deleted ones included) and refuses stage changes that do not apply', async () => {
    const name = unique('dup');
    const id = (await mlflow('POST', 'experiments/create', { name })).json.experiment_id as string;
    const again = await mlflow('POST', 'experiments/create', { name });
    expect([again.status, again.json.error_code]).toEqual([400, 'RESOURCE_ALREADY_EXISTS']);
    const restoreActive = await mlflow('POST', 'experiments/restore', { experiment_id: id });
    expect([restoreActive.status, restoreActive.json.error_code]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
    expect((await mlflow('POST', 'experiments/delete', { experiment_id: id })).status).toBe(200);
    const ofDeleted = await mlflow('POST', 'experiments/create', { name });
    expect([ofDeleted.status, ofDeleted.json.error_code]).toEqual([400, 'RESOURCE_ALREADY_EXISTS']);
    const deleteAgain = await mlflow('POST', 'experiments/delete', { experiment_id: id });
    expect([deleteAgain.status, deleteAgain.json.error_code]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
    // MLflow answers 500 INVALID_STATE here; Runway a client error.
    const renameDeleted = await mlflow('POST', 'experiments/update', {
      experiment_id: id,
      new_name: unique('x'),
    });
    expect(renameDeleted.status).toBeGreaterThanOrEqual(400);
    expect(renameDeleted.status).toBeLessThan(500);
    expect(renameDeleted.json.error_code).toEqual(expect.any(String));
  });

  it('changes last_update_time on rename but not on a tag, as MLflow does', async () => {
    const id = (await mlflow('POST', 'experiments/create', { name: unique('times') })).json
      .experiment_id as string;
    const updatedAt = async () =>
      (await mlflow('GET', `experiments/get?experiment_id=${id}`)).json.experiment.last_update_time as number;
    const created = await updatedAt();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await mlflow('POST', 'experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'v' });
    expect(await updatedAt()).toBe(created);
    await mlflow('POST', 'experiments/update', { experiment_id: id, new_name: unique('times-renamed') });
    expect(await updatedAt()).toBeGreaterThan(created);
  });

  it('enforces each experiment limit: name, tag key and value, max_results; at the limit it is fine', async () => {
    const id = (await mlflow('POST', 'experiments/create', { name: unique('limits') })).json
      .experiment_id as string;
    const tag = (key: string, value: string) => ({ experiment_id: id, key, value });
    const cases: Array<[string, string, unknown, number]> = [
      ['POST', 'experiments/create', { name: 'x'.repeat(501) }, 400],
      ['POST', 'experiments/create', { name: `${unique('l')}${'x'.repeat(480)}`.slice(0, 500) }, 200],
      ['POST', 'experiments/create', { name: '   ' }, 400],
      ['POST', 'experiments/set-experiment-tag', tag('k'.repeat(251), 'v'), 400],
      ['POST', 'experiments/set-experiment-tag', tag('k'.repeat(250), 'v'), 200],
      ['POST', 'experiments/set-experiment-tag', tag('k', 'v'.repeat(5001)), 400],
      ['POST', 'experiments/set-experiment-tag', tag('k', 'v'.repeat(5000)), 200],
      ['POST', 'experiments/search', { max_results: 50001 }, 400],
      ['POST', 'experiments/search', { max_results: 50000 }, 200],
      ['POST', 'experiments/search', { max_results: 0 }, 400],
      ['POST', 'experiments/search', { max_results: 10, filter: 'name ~ x' }, 400],
      ['POST', 'experiments/search', { max_results: 10, page_token: 'bogus' }, 400],
      ['POST', 'experiments/search', { max_results: 10, order_by: ['nonsense'] }, 400],
      ['GET', 'experiments/get-by-name', undefined, 400],
      ['GET', 'experiments/get', undefined, 400],
      ['POST', 'experiments/delete-experiment-tag', { experiment_id: id, key: 'never-set' }, 404],
    ];
    for (const [method, path, body, status] of cases) {
      const result = await mlflow(method, path, body);
      expect({ path, body, status: result.status }).toEqual({ path, body, status });
      if (status >= 400)
        expect(result.json.error_code).toMatch(/^(INVALID_PARAMETER_VALUE|RESOURCE_DOES_NOT_EXIST)$/);
    }
    const text = await http('POST', '/api/2.0/mlflow/experiments/create', '{"name":"t"}', {
      'content-type': 'text/plain',
    });
    expect([text.status, text.json.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
  });
});
