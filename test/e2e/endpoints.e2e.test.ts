import { describe, expect, inject, it } from 'vitest';
import { http, mlflow } from '../support/http-client.ts';

/**
 * The endpoints resource over HTTP, as the README documents it and `runway endpoints` drives it:
 * create an endpoint for a registered model, read it, list it (paged, by model), change its policy,
 * read its history, delete it; every error in MLflow's shape, under both API prefixes.
 */

const PREFIXES = ['/api/2.0', '/ajax-api/2.0'] as const;
const uid = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
const endpoints = (method: string, path: string, body?: unknown, prefix: string = PREFIXES[0]) =>
  http(method, `${prefix}/runway/endpoints${path}`, body);

async function registeredModel(): Promise<string> {
  const name = `e2e-model-${uid()}`;
  expect((await mlflow('POST', 'registered-models/create', { name })).status).toBe(200);
  expect((await mlflow('POST', 'model-versions/create', { name, source: 's3://bucket/model' })).status).toBe(
    200,
  );
  return name;
}

describe('endpoints over HTTP', () => {
  it('walks an endpoint through its life under both prefixes', async () => {
    for (const prefix of PREFIXES) {
      const model = await registeredModel();
      const name = `e2e-${uid()}`;
      const created = await endpoints(
        'POST',
        '',
        {
          name,
          model_name: model,
          follows: { alias: 'production' },
          rollout_policy: { traffic_steps: [20, 100], bake_seconds: 30 },
          description: 'e2e',
        },
        prefix,
      );
      expect(created.status, created.text).toBe(200);
      expect(created.json.endpoint).toMatchObject({
        name,
        model_name: model,
        target: 'lambda',
        status: 'Creating',
        rollout_policy: { traffic_steps: [20, 100], bake_seconds: 30, max_error_rate: 0.01 },
        traffic: { primary: null, canary: null, canary_weight: 0, revision: 0 },
      });
      expect((await endpoints('GET', `/${name}`, undefined, prefix)).json).toEqual(created.json);

      const listed = await endpoints('GET', `?model_name=${model}`, undefined, prefix);
      expect(listed.json.endpoints.map((e: { name: string }) => e.name)).toEqual([name]);

      const patched = await endpoints(
        'PATCH',
        `/${name}`,
        { rollout_policy: { max_latency_ms: 250 } },
        prefix,
      );
      expect(patched.status).toBe(200);
      expect(patched.json.endpoint.rollout_policy).toMatchObject({
        max_latency_ms: 250,
        traffic_steps: [20, 100],
      });

      expect(await endpoints('GET', `/${name}/deployments`, undefined, prefix)).toMatchObject({
        status: 200,
        json: {},
      });

      expect((await endpoints('DELETE', `/${name}`, undefined, prefix)).status).toBe(200);
      const gone = await endpoints('GET', `/${name}`, undefined, prefix);
      expect(gone.status).toBe(404);
      expect(gone.json).toEqual({
        error_code: 'RESOURCE_DOES_NOT_EXIST',
        message: `Endpoint '${name}' does not exist`,
      });
    }
  });

  it('pages the list of every endpoint', async () => {
    const model = await registeredModel();
    const names = [1, 2, 3].map((i) => `e2e-page-${uid()}-${i}`);
    for (const name of names) {
      expect(
        (await endpoints('POST', '', { name, model_name: model, follows: { stage: 'Production' } })).status,
      ).toBe(200);
    }
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await endpoints(
        'GET',
        `?max_results=2${token ? `&page_token=${encodeURIComponent(token)}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect((page.json.endpoints ?? []).length).toBeLessThanOrEqual(2);
      seen.push(...(page.json.endpoints ?? []).map((e: { name: string }) => e.name));
      token = page.json.next_page_token;
    } while (token);
    expect(seen).toEqual(expect.arrayContaining(names));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('answers client mistakes with MLflow-style 4xx errors', async () => {
    const model = await registeredModel();
    const unknownModel = await endpoints('POST', '', {
      name: `e2e-${uid()}`,
      model_name: 'e2e-none',
      follows: { alias: 'p' },
    });
    expect(unknownModel.status).toBe(404);
    expect(unknownModel.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    const badName = await endpoints('POST', '', {
      name: 'Bad_Name',
      model_name: model,
      follows: { alias: 'p' },
    });
    expect(badName.status).toBe(400);
    expect(badName.json.message).toContain("'name'");
    const badPolicy = await endpoints('POST', '', {
      name: `e2e-${uid()}`,
      model_name: model,
      follows: { alias: 'p' },
      rollout_policy: { traffic_steps: [10, 90] },
    });
    expect(badPolicy.status).toBe(400);
    expect(badPolicy.json.message).toContain('the last traffic step must be 100');
    expect((await endpoints('PUT', '/x', {})).status).toBe(405);
  });

  it.skipIf(inject('external'))('refuses target sagemaker on the local runtime, saying why', async () => {
    const model = await registeredModel();
    const response = await endpoints('POST', '', {
      name: `e2e-${uid()}`,
      model_name: model,
      follows: { alias: 'production' },
      target: 'sagemaker',
      sagemaker: { instance_type: 'ml.m5.large', initial_instance_count: 1 },
    });
    expect(response.status).toBe(400);
    expect(response.json.message).toBe(
      'target sagemaker needs AWS: the local runtime has no SageMaker; use target lambda locally or deploy to AWS',
    );
  });
});
