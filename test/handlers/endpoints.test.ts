import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEndpointsApi, endpointsConfig } from '../../shared/deployments/endpoints/endpoints.module.ts';
import type { DeployRequest } from '../../shared/deployments/ports.ts';
import { createHttpHandler } from '../../shared/platform/http/http-handler.ts';
import { EventRecorder, TEST_BUS } from '../support/event-recorder.ts';
import { type ApiHandler, handlerCaller } from '../support/handler-call.ts';
import { tableName, useEmulators } from '../support/handler-env.ts';

/** The function as the local runtime configures it: no SageMaker. */
let handler: ApiHandler;
/** The same operations configured as on AWS, with SageMaker. */
let cloudHandler: ApiHandler;
/** The operations with a recording DeployStarter, until the deploy context provides the real one. */
let deployingHandler: ApiHandler;
let registry: ApiHandler;
let recorder: EventRecorder;
const started: DeployRequest[] = [];

const call = handlerCaller(() => handler, '/api/2.0/runway/');
const ajax = handlerCaller(() => handler, '/ajax-api/2.0/runway/');
const cloud = handlerCaller(() => cloudHandler, '/api/2.0/runway/');
const deploying = handlerCaller(() => deployingHandler, '/api/2.0/runway/');
const mlflow = handlerCaller(() => registry);

beforeAll(async () => {
  const events = await EventRecorder.start();
  recorder = events.recorder;
  useEmulators({
    DEPLOYMENTS_TABLE_NAME: tableName('DeploymentsTable'),
    REGISTRY_TABLE_NAME: tableName('RegistryTable'),
    TRACKING_TABLE_NAME: tableName('TrackingTable'),
    SAGEMAKER_TARGET_ENABLED: 'false',
    EVENT_BUS_NAME: TEST_BUS,
    AWS_ENDPOINT_URL_EVENTBRIDGE: events.endpoint,
  });
  ({ handler } = (await import('../../functions/deployments-api.ts')) as unknown as { handler: ApiHandler });
  ({ handler: registry } = (await import('../../functions/registry-api.ts')) as unknown as {
    handler: ApiHandler;
  });
  const cloudConfig = endpointsConfig({ ...process.env, SAGEMAKER_TARGET_ENABLED: undefined });
  cloudHandler = createHttpHandler({ operations: createEndpointsApi(cloudConfig).operations }) as ApiHandler;
  const starter = {
    start: async (request: DeployRequest) => {
      started.push(request);
      return { deploymentId: `dep-${started.length}`, executionArn: null, version: request.version ?? '?' };
    },
  };
  deployingHandler = createHttpHandler({
    operations: createEndpointsApi(endpointsConfig(), starter).operations,
  }) as ApiHandler;
});

afterAll(async () => {
  await recorder.close();
});

const uid = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

/** A registered model with `versions` versions, made through the registry API. */
async function registeredModel(versions = 0): Promise<string> {
  const name = `model-${uid()}`;
  expect((await mlflow('POST', 'registered-models/create', { name })).status).toBe(200);
  for (let i = 0; i < versions; i++) {
    const created = await mlflow('POST', 'model-versions/create', { name, source: `s3://bucket/m/${i}` });
    expect(created.status).toBe(200);
  }
  return name;
}

async function createEndpoint(body: Record<string, unknown> = {}) {
  const model = (body.model_name as string | undefined) ?? (await registeredModel());
  const name = (body.name as string | undefined) ?? `ep-${uid()}`;
  const response = await call('POST', 'endpoints', {
    name,
    model_name: model,
    follows: { alias: 'production' },
    ...body,
  });
  expect(response.status, JSON.stringify(response.json)).toBe(200);
  return { name, model, endpoint: response.json.endpoint };
}

describe('create', () => {
  it('creates an endpoint with the default target and rollout policy, in snake_case', async () => {
    const model = await registeredModel();
    const name = `ep-${uid()}`;
    const response = await call('POST', 'endpoints', {
      name,
      model_name: model,
      follows: { alias: 'production' },
      description: 'fraud scoring',
    });
    expect(response.status).toBe(200);
    expect(response.json.endpoint).toEqual({
      name,
      model_name: model,
      follows: { alias: 'production' },
      target: 'lambda',
      rollout_policy: {
        traffic_steps: [10, 50, 100],
        bake_seconds: 60,
        max_error_rate: 0.01,
        max_latency_ms: 1000,
        min_invocations: 0,
      },
      description: 'fraud scoring',
      traffic: { primary: null, canary: null, canary_weight: 0, revision: 0 },
      status: 'Creating',
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: expect.any(Number),
    });
    expect((await call('GET', `endpoints/${name}`)).json).toEqual(response.json);
  });

  it('takes a partial rollout policy over the defaults, and a stage in any case', async () => {
    const { endpoint } = await createEndpoint({
      follows: { stage: 'production' },
      rollout_policy: { traffic_steps: [25, 100], bake_seconds: 0 },
    });
    expect(endpoint.follows).toEqual({ stage: 'Production' });
    expect(endpoint.rollout_policy).toMatchObject({
      traffic_steps: [25, 100],
      bake_seconds: 0,
      max_error_rate: 0.01,
    });
  });

  it('keeps a capture sample rate per endpoint: absent by default, set at creation, changed alone by PATCH', async () => {
    const plain = await createEndpoint();
    expect(plain.endpoint).not.toHaveProperty('capture_sample_rate');
    const { endpoint } = await createEndpoint({ capture_sample_rate: 1 });
    expect(endpoint.capture_sample_rate).toBe(1);
    const patched = await call('PATCH', `endpoints/${endpoint.name}`, { capture_sample_rate: 0.25 });
    expect(patched.status).toBe(200);
    expect(patched.json.endpoint).toMatchObject({
      capture_sample_rate: 0.25,
      rollout_policy: endpoint.rollout_policy,
      follows: endpoint.follows,
    });
  });

  it('answers 404 RESOURCE_DOES_NOT_EXIST for a registered model that does not exist, as MLflow', async () => {
    const response = await call('POST', 'endpoints', {
      name: `ep-${uid()}`,
      model_name: 'no-such-model',
      follows: { alias: 'production' },
    });
    expect(response.status).toBe(404);
    expect(response.json).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: 'Registered Model with name=no-such-model not found',
    });
  });

  it('answers 400 RESOURCE_ALREADY_EXISTS for a taken name', async () => {
    const { name, model } = await createEndpoint();
    const response = await call('POST', 'endpoints', { name, model_name: model, follows: { alias: 'x' } });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({
      error_code: 'RESOURCE_ALREADY_EXISTS',
      message: `Endpoint '${name}' already exists`,
    });
  });

  it.each([
    [{ name: 'Upper' }, "'name'", 'lower-case letters'],
    [{ name: 'a'.repeat(64) }, "'name'", '63'],
    [{ name: undefined }, "Missing value for required parameter 'name'", ''],
    [{ model_name: undefined }, "Missing value for required parameter 'model_name'", ''],
    [{ model_name: 'm'.repeat(257) }, "'model_name'", '256'],
    [{ follows: undefined }, "Missing value for required parameter 'follows'", ''],
    [{ follows: { stage: 'Archived' } }, "'follows", ''],
    [{ follows: { alias: 'a', stage: 'Production' } }, "'follows", ''],
    [{ target: 'ec2' }, "'target'", ''],
    [{ description: 'd'.repeat(5001) }, "'description'", '5000'],
    [{ capture_sample_rate: 1.5 }, "'capture_sample_rate'", ''],
    [{ capture_sample_rate: -0.1 }, "'capture_sample_rate'", ''],
    [
      { rollout_policy: { traffic_steps: [10, 50] } },
      "'rollout_policy.traffic_steps'",
      'the last traffic step must be 100',
    ],
    [{ rollout_policy: { traffic_steps: [50, 10, 100] } }, "'rollout_policy.traffic_steps'", 'must increase'],
    [{ rollout_policy: { traffic_steps: [] } }, "'rollout_policy.traffic_steps'", ''],
    [
      { rollout_policy: { traffic_steps: Array.from({ length: 11 }, (_, i) => i + 90) } },
      "'rollout_policy.traffic_steps'",
      '',
    ],
    [{ rollout_policy: { bake_seconds: 3601 } }, "'rollout_policy.bake_seconds'", '3600'],
    [{ rollout_policy: { max_error_rate: 1.5 } }, "'rollout_policy.max_error_rate'", ''],
    [{ rollout_policy: { max_latency_ms: 0 } }, "'rollout_policy.max_latency_ms'", ''],
    [{ rollout_policy: { bakeSeconds: 5 } }, "'rollout_policy'", 'bakeSeconds'],
    [{ colour: 'red' }, "'request'", 'colour'],
  ])('refuses %j with 400 INVALID_PARAMETER_VALUE naming the field', async (override, field, detail) => {
    const model = await registeredModel();
    const body: Record<string, unknown> = {
      name: `ep-${uid()}`,
      model_name: model,
      follows: { alias: 'p' },
      ...override,
    };
    for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
    const response = await call('POST', 'endpoints', body);
    expect(response.status).toBe(400);
    expect(response.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(response.json.message).toContain(field);
    expect(response.json.message).toContain(detail);
  });

  it('refuses target sagemaker locally with a message that says why and what to do', async () => {
    const model = await registeredModel();
    const response = await call('POST', 'endpoints', {
      name: `ep-${uid()}`,
      model_name: model,
      follows: { alias: 'production' },
      target: 'sagemaker',
      sagemaker: { instance_type: 'ml.m5.large', initial_instance_count: 1 },
    });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message:
        'target sagemaker needs AWS: the local runtime has no SageMaker; use target lambda locally or deploy to AWS',
    });
  });

  it('creates a sagemaker endpoint where SageMaker is enabled, and needs its instance settings', async () => {
    const model = await registeredModel();
    const name = `ep-${uid()}`;
    const missing = await cloud('POST', 'endpoints', {
      name,
      model_name: model,
      follows: { alias: 'production' },
      target: 'sagemaker',
    });
    expect(missing.status).toBe(400);
    expect(missing.json.message).toContain("'sagemaker'");
    const created = await cloud('POST', 'endpoints', {
      name,
      model_name: model,
      follows: { alias: 'production' },
      target: 'sagemaker',
      sagemaker: { instance_type: 'ml.m5.large', initial_instance_count: '2' },
    });
    expect(created.status).toBe(200);
    expect(created.json.endpoint).toMatchObject({
      target: 'sagemaker',
      sagemaker: { instance_type: 'ml.m5.large', initial_instance_count: 2 },
    });
    const lambdaWithSagemaker = await cloud('POST', 'endpoints', {
      name: `ep-${uid()}`,
      model_name: model,
      follows: { alias: 'production' },
      sagemaker: { instance_type: 'ml.m5.large', initial_instance_count: 1 },
    });
    expect(lambdaWithSagemaker.status).toBe(400);
    expect(lambdaWithSagemaker.json.message).toMatch(/target sagemaker only/);
  });

  it("refuses SageMaker settings outside the deployer's spend bounds with a 400 that names them, writing nothing", async () => {
    const model = await registeredModel();
    const registry = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const bounded = createHttpHandler({
      operations: createEndpointsApi(
        endpointsConfig({
          ...process.env,
          SAGEMAKER_TARGET_ENABLED: undefined,
          SAGEMAKER_INSTANCE_TYPES: 'ml.m5.large,ml.c6i.large',
          SAGEMAKER_MAX_INSTANCES: '4',
          SAGEMAKER_IMAGE_REPOSITORIES: `${registry}/mlflow-pyfunc`,
        }),
      ).operations,
    }) as ApiHandler;
    const post = handlerCaller(() => bounded, '/api/2.0/runway/');
    const create = (name: string, sagemaker: Record<string, unknown>) =>
      post('POST', 'endpoints', {
        name,
        model_name: model,
        follows: { alias: 'production' },
        target: 'sagemaker',
        sagemaker,
      });
    const big = `ep-${uid()}`;
    const refused = await create(big, { instance_type: 'ml.p4d.24xlarge', initial_instance_count: 1 });
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message:
        'Invalid value "ml.p4d.24xlarge" for parameter \'sagemaker.instance_type\' supplied: this Runway allows ml.m5.large, ml.c6i.large (the deployer sets them with -c sagemakerInstanceTypes=...)',
    });
    expect((await post('GET', `endpoints/${big}`)).status).toBe(404);
    const many = await create(`ep-${uid()}`, { instance_type: 'ml.c6i.large', initial_instance_count: 5 });
    expect(many.status).toBe(400);
    expect(many.json.message).toMatch(
      /'sagemaker.initial_instance_count' supplied: this Runway allows at most 4 instances/,
    );
    const foreign = await create(`ep-${uid()}`, {
      instance_type: 'ml.m5.large',
      initial_instance_count: 1,
      image: '999999999999.dkr.ecr.eu-west-1.amazonaws.com/mlflow-pyfunc:1',
    });
    expect(foreign.status).toBe(400);
    expect(foreign.json.message).toMatch(
      /'sagemaker.image' supplied: the serving image must come from 123456789012/,
    );
    const fine = `ep-${uid()}`;
    const ok = await create(fine, {
      instance_type: 'ml.c6i.large',
      initial_instance_count: 4,
      image: `${registry}/mlflow-pyfunc:2.22.4`,
    });
    expect(ok.status).toBe(200);
    // An update is held to the same bounds.
    const update = await post('PATCH', `endpoints/${fine}`, {
      sagemaker: { instance_type: 'ml.g5.48xlarge', initial_instance_count: 1 },
    });
    expect(update.status).toBe(400);
    expect(update.json.message).toMatch(/sagemaker.instance_type/);
  });

  it('answers a body that is not JSON with 400, never 500', async () => {
    const response = await handler(
      (await import('../support/api-event.ts')).apiEvent('POST', '/api/2.0/runway/endpoints', '[1,2]'),
      (await import('../support/api-event.ts')).lambdaContext,
    );
    expect(response.statusCode).toBe(400);
  });
});

describe('get and list', () => {
  it('answers 404 RESOURCE_DOES_NOT_EXIST for an unknown endpoint, under both prefixes', async () => {
    for (const caller of [call, ajax]) {
      const response = await caller('GET', 'endpoints/no-such-endpoint');
      expect(response.status).toBe(404);
      expect(response.json).toEqual({
        error_code: 'RESOURCE_DOES_NOT_EXIST',
        message: "Endpoint 'no-such-endpoint' does not exist",
      });
    }
  });

  it('lists endpoints by name, paged with max_results and page_token, and by model', async () => {
    const model = await registeredModel();
    const names = [`ep-${uid()}-b`, `ep-${uid()}-a`, `ep-${uid()}-c`];
    for (const name of names) await createEndpoint({ name, model_name: model });
    const first = await call('GET', `endpoints?model_name=${model}&max_results=2`);
    expect(first.status).toBe(200);
    expect(first.json.endpoints.map((e: { name: string }) => e.name)).toEqual([...names].sort().slice(0, 2));
    const second = await call(
      'GET',
      `endpoints?model_name=${model}&max_results=2&page_token=${encodeURIComponent(first.json.next_page_token)}`,
    );
    expect(second.json.endpoints.map((e: { name: string }) => e.name)).toEqual([...names].sort().slice(2));
    expect(second.json.next_page_token).toBeUndefined();
    const all = await call('GET', 'endpoints?max_results=1000');
    expect(all.json.endpoints.map((e: { name: string }) => e.name)).toEqual(expect.arrayContaining(names));
    expect(await call('GET', 'endpoints?model_name=nobody-follows-this')).toMatchObject({
      status: 200,
      json: {},
    });
  });

  it('refuses max_results outside 1..1000 and a page token it did not issue', async () => {
    for (const value of ['0', '1001', 'ten']) {
      const response = await call('GET', `endpoints?max_results=${value}`);
      expect(response.status).toBe(400);
      expect(response.json.message).toContain("'max_results'");
    }
    const token = await call('GET', 'endpoints?page_token=not-a-token');
    expect(token.status).toBe(400);
    expect(token.json.message).toMatch(/Invalid page token/);
  });
});

describe('update', () => {
  it('changes follows, description and single policy fields, keeping the rest', async () => {
    const { name } = await createEndpoint({ rollout_policy: { bake_seconds: 30 } });
    const response = await call('PATCH', `endpoints/${name}`, {
      follows: { stage: 'Staging' },
      description: 'new',
      rollout_policy: { max_error_rate: 0.05 },
    });
    expect(response.status).toBe(200);
    expect(response.json.endpoint).toMatchObject({
      follows: { stage: 'Staging' },
      description: 'new',
      rollout_policy: { bake_seconds: 30, max_error_rate: 0.05, traffic_steps: [10, 50, 100] },
    });
    expect((await call('GET', `endpoints/${name}`)).json.endpoint.rollout_policy.max_error_rate).toBe(0.05);
  });

  it('refuses a change of target, and checks the merged policy', async () => {
    const { name } = await createEndpoint();
    const target = await call('PATCH', `endpoints/${name}`, { target: 'sagemaker' });
    expect(target.status).toBe(400);
    expect(target.json.message).toMatch(/target of endpoint .* is lambda and cannot change/);
    expect(
      (await call('PATCH', `endpoints/${name}`, { target: 'lambda', description: 'same target' })).status,
    ).toBe(200);
    const model = await call('PATCH', `endpoints/${name}`, { model_name: 'another-model' });
    expect(model.status).toBe(400);
    expect(model.json.message).toMatch(/serves registered model .* cannot change to another/);
    const policy = await call('PATCH', `endpoints/${name}`, { rollout_policy: { traffic_steps: [5, 60] } });
    expect(policy.status).toBe(400);
    expect(policy.json.message).toContain("'rollout_policy.traffic_steps'");
  });

  it('answers 404 for an unknown endpoint', async () => {
    expect((await call('PATCH', 'endpoints/no-such-endpoint', { description: 'x' })).status).toBe(404);
  });
});

describe('delete and deployments', () => {
  it('deletes an endpoint; then it is gone', async () => {
    const { name } = await createEndpoint();
    const deleted = await call('DELETE', `endpoints/${name}`);
    expect(deleted).toMatchObject({ status: 200, json: {} });
    expect((await call('GET', `endpoints/${name}`)).status).toBe(404);
    expect((await call('DELETE', `endpoints/${name}`)).status).toBe(404);
  });

  it('lists an empty history for a new endpoint, and 404 for an unknown one', async () => {
    const { name } = await createEndpoint();
    expect(await call('GET', `endpoints/${name}/deployments`)).toMatchObject({ status: 200, json: {} });
    expect((await call('GET', 'endpoints/no-such-endpoint/deployments')).status).toBe(404);
  });

  it('answers an unknown sub-resource with 404 ENDPOINT_NOT_FOUND and a wrong method with 405', async () => {
    const { name } = await createEndpoint();
    expect((await call('GET', `endpoints/${name}/nothing`)).json.error_code).toBe('ENDPOINT_NOT_FOUND');
    const wrong = await call('PUT', `endpoints/${name}`, {});
    expect(wrong.status).toBe(405);
  });
});

describe('manual deploy', () => {
  it('answers 501 NOT_IMPLEMENTED naming the missing deploy state machine, after checking the endpoint', async () => {
    const model = await registeredModel(1);
    const { name } = await createEndpoint({ model_name: model });
    const response = await call('POST', `endpoints/${name}/deploy`, { version: '1' });
    expect(response.status).toBe(501);
    expect(response.json.error_code).toBe('NOT_IMPLEMENTED');
    expect(response.json.message).toMatch(/deploy state machine/);
    expect((await call('POST', 'endpoints/no-such-endpoint/deploy', {})).status).toBe(404);
  });

  it('starts a deploy of the given version, or of the version the alias or stage points to', async () => {
    const model = await registeredModel(3);
    const { name } = await createEndpoint({ model_name: model });
    const explicit = await deploying('POST', `endpoints/${name}/deploy`, { version: 2 });
    expect(explicit.status).toBe(202);
    expect(explicit.json).toMatchObject({ version: '2', deployment_id: expect.any(String) });
    expect(started.at(-1)).toMatchObject({ version: '2', trigger: 'manual', endpoint: { name } });

    const noAlias = await deploying('POST', `endpoints/${name}/deploy`, {});
    expect(noAlias.status).toBe(400);
    expect(noAlias.json).toMatchObject({ error_code: 'INVALID_STATE' });
    expect(noAlias.json.message).toContain("no alias 'production'");
    await mlflow('POST', 'registered-models/alias', { name: model, alias: 'production', version: '3' });
    const followed = await deploying('POST', `endpoints/${name}/deploy`, {});
    expect(followed.status).toBe(202);
    expect(followed.json.version).toBe('3');

    const staged = await createEndpoint({ model_name: model, follows: { stage: 'Staging' } });
    await mlflow('POST', 'model-versions/transition-stage', {
      name: model,
      version: '1',
      stage: 'Staging',
      archive_existing_versions: false,
    });
    await mlflow('POST', 'model-versions/transition-stage', {
      name: model,
      version: '2',
      stage: 'Staging',
      archive_existing_versions: false,
    });
    const byStage = await deploying('POST', `endpoints/${staged.name}/deploy`, {});
    expect(byStage.json.version).toBe('2');

    const missing = await deploying('POST', `endpoints/${name}/deploy`, { version: '9' });
    expect(missing.status).toBe(404);
    expect(missing.json.message).toBe(`Model Version (name=${model}, version=9) not found`);
    const bad = await deploying('POST', `endpoints/${name}/deploy`, { version: 'latest' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain("'version'");
  });
});

describe('statistics over time (GET runway/endpoints/{name}/statistics)', () => {
  it("answers per version the model server's buckets, grouped by the resolution, from the versions it served", async () => {
    const { DynamoEndpointStore } = await import(
      '../../shared/deployments/adapters/dynamodb-endpoint-store.ts'
    );
    const { VariantStatsRecorder } = await import('../../shared/serving/variant-stats.ts');
    const { name, model } = await createEndpoint();
    const store = new DynamoEndpointStore(tableName('DeploymentsTable'));
    const now = Date.now();
    const t0 = now - (now % 60_000) - 120_000;
    for (const [version, previous] of [
      ['1', null],
      ['2', '1'],
    ] as const) {
      await store.putDeployment({
        deploymentId: `d${version}-${uid()}`,
        endpointName: name,
        modelName: model,
        version,
        previousVersion: previous,
        trigger: 'event',
        executionArn: null,
        status: 'Succeeded',
        reason: null,
        steps: [],
        startedAt: t0,
        finishedAt: t0 + 1,
      });
    }
    let clock = t0;
    const recorder = new VariantStatsRecorder({
      tableName: tableName('DeploymentsTable'),
      emf: () => undefined,
      now: () => clock,
    });
    // Version 1: 3 calls in the first minute (one a model error), 1 in the second; version 2: 2 calls in the second.
    recorder.record(name, '1', 'ok', 5);
    recorder.record(name, '1', 'modelError', 7);
    clock = t0 + 30_000;
    recorder.record(name, '1', 'ok', 900);
    clock = t0 + 60_000;
    recorder.record(name, '1', 'ok', 5);
    recorder.record(name, '2', 'ok', 3);
    recorder.record(name, '2', 'clientError', 3);
    await recorder.flush();

    const answer = await call('GET', `endpoints/${name}/statistics?since=${t0}&resolution_ms=60000`);
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json).toMatchObject({ resolution_ms: 60_000, since: t0 });
    const [v1, v2] = answer.json.versions;
    expect(v1.version).toBe('1');
    expect(v1.points).toHaveLength(2);
    expect(v1.points[0]).toMatchObject({ time: t0, invocations: 3, model_errors: 1, client_errors: 0 });
    expect(v1.points[0].error_rate).toBeCloseTo(1 / 3);
    expect(v1.points[0].p99_latency_ms).toBeGreaterThanOrEqual(900);
    expect(v1.points[1]).toMatchObject({ time: t0 + 60_000, invocations: 1 });
    expect(v2).toMatchObject({
      version: '2',
      points: [{ time: t0 + 60_000, invocations: 2, client_errors: 1 }],
    });

    // The default resolution keeps a series at 360 points or fewer: a day is 240 s buckets.
    const day = await call('GET', `endpoints/${name}/statistics?since=0`);
    expect(day.json.resolution_ms).toBe(240_000);
    expect(day.json.since).toBeGreaterThan(now - 25 * 3600 * 1000);
  });

  it('refuses a resolution that is not a multiple of 10 s, and unknown endpoints', async () => {
    const { name } = await createEndpoint();
    const odd = await call('GET', `endpoints/${name}/statistics?resolution_ms=15000`);
    expect(odd.status).toBe(400);
    expect(odd.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: 'resolution_ms must be a multiple of 10000; got 15000',
    });
    expect((await call('GET', `endpoints/${name}/statistics?resolution_ms=5`)).status).toBe(400);
    const missing = await call('GET', `endpoints/nope-${uid()}/statistics`);
    expect(missing.status).toBe(404);
    expect(missing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});
