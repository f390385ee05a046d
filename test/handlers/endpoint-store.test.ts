import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoEndpointStore } from '../../shared/deployments/adapters/dynamodb-endpoint-store.ts';
import {
  ConflictError,
  DeploymentFinishedError,
  StaleRevisionError,
} from '../../shared/deployments/errors.ts';
import { deploymentKeys } from '../../shared/deployments/keys.ts';
import { type Deployment, rolloutPolicy } from '../../shared/deployments/model.ts';
import type { NewEndpoint } from '../../shared/deployments/ports.ts';
import {
  InvalidParameterError,
  InvalidStateError,
  ResourceAlreadyExistsError,
  ResourceDoesNotExistError,
} from '../../shared/platform/errors.ts';
import { emulatorDocumentClient, tableName } from '../support/handler-env.ts';

let store: DynamoEndpointStore;
let table: string;
const client = emulatorDocumentClient();

beforeAll(() => {
  table = tableName('DeploymentsTable');
  store = new DynamoEndpointStore(table, client);
});

const uniqueName = (prefix = 'ep') =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

function newEndpoint(name: string, modelName = `model-${name}`): NewEndpoint {
  return {
    name,
    modelName,
    follows: { alias: 'production' },
    target: 'lambda',
    rolloutPolicy: rolloutPolicy.parse({}),
    description: 'fraud scoring',
  };
}

const served = (version: string, deploymentId = `d-${version}`) => ({
  version,
  storageLocation: `s3://bucket/models/${version}`,
  deploymentId,
});

function newDeployment(
  endpointName: string,
  startedAt: number,
  overrides: Partial<Deployment> = {},
): Deployment {
  return {
    deploymentId: `dep-${startedAt}-${Math.random().toString(36).slice(2, 6)}`,
    endpointName,
    modelName: `model-${endpointName}`,
    version: '2',
    previousVersion: '1',
    trigger: 'manual',
    executionArn: null,
    status: 'InProgress',
    reason: null,
    steps: [],
    startedAt,
    finishedAt: null,
    ...overrides,
  };
}

describe('create and get', () => {
  it('stores an endpoint with empty traffic at revision 0, status Creating, and reads it back', async () => {
    const name = uniqueName();
    const created = await store.create(newEndpoint(name));
    expect(created.traffic).toEqual({ primary: null, canary: null, canaryWeight: 0, revision: 0 });
    expect(created.status).toBe('Creating');
    expect(created.createdAt).toBe(created.updatedAt);
    expect(await store.get(name)).toEqual(created);
  });

  it('refuses a second endpoint with the same name: RESOURCE_ALREADY_EXISTS', async () => {
    const name = uniqueName();
    await store.create(newEndpoint(name));
    await expect(store.create({ ...newEndpoint(name), modelName: 'other' })).rejects.toThrow(
      ResourceAlreadyExistsError,
    );
    expect((await store.get(name))?.modelName).toBe(`model-${name}`);
  });

  it('lets exactly one of concurrent creates of a name win', async () => {
    const name = uniqueName();
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => store.create({ ...newEndpoint(name), description: `writer ${i}` })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const winner = results.find((r) => r.status === 'fulfilled');
    expect((await store.get(name))?.description).toBe(
      winner?.status === 'fulfilled' ? winner.value.description : 'none',
    );
  });

  it('answers undefined for an endpoint that does not exist', async () => {
    expect(await store.get(uniqueName('missing'))).toBeUndefined();
  });

  it('keeps the traffic revision apart and both listing keys on the endpoint item', async () => {
    const name = uniqueName();
    await store.create(newEndpoint(name, 'keys-model'));
    const { Item } = await client.send(
      new GetCommand({ TableName: table, Key: deploymentKeys.endpoint(name) }),
    );
    expect(Item).toMatchObject({
      gsi1pk: 'ENDPOINTS',
      gsi1sk: name,
      gsi2pk: 'MODEL#keys-model',
      gsi2sk: name,
      trafficRevision: 0,
    });
  });
});

describe('list and listByModel', () => {
  it('pages every endpoint by name with opaque tokens, without an empty last page', async () => {
    const prefix = uniqueName('aaa-list');
    // Other tests' endpoints share the index: read every page and check ours appear once, in order.
    const names = [`${prefix}-c`, `${prefix}-a`, `${prefix}-b`];
    for (const name of names) await store.create(newEndpoint(name));
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ maxResults: 2, pageToken });
      expect(page.items.length).toBeGreaterThan(0);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((e) => e.name));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken && pages < 1000);
    expect(seen.filter((n) => n.startsWith(prefix))).toEqual([...names].sort());
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('lists the endpoints of one model only, paged', async () => {
    const model = uniqueName('model');
    const names = [uniqueName('m1'), uniqueName('m2'), uniqueName('m3')].sort();
    for (const name of names) await store.create(newEndpoint(name, model));
    await store.create(newEndpoint(uniqueName('other'), `${model}-other`));
    const first = await store.listByModel(model, { maxResults: 2 });
    expect(first.items.map((e) => e.name)).toEqual(names.slice(0, 2));
    expect(first.nextPageToken).toBeDefined();
    const second = await store.listByModel(model, { maxResults: 2, pageToken: first.nextPageToken });
    expect(second.items.map((e) => e.name)).toEqual(names.slice(2));
    expect(second.nextPageToken).toBeUndefined();
    expect(await store.listByModel(`${model}-none`, { maxResults: 10 })).toEqual({ items: [] });
  });

  it('refuses a page token it did not issue, or one of another listing', async () => {
    await expect(store.list({ maxResults: 1, pageToken: 'garbage' })).rejects.toThrow(InvalidParameterError);
    const model = uniqueName('model');
    await store.create(newEndpoint(uniqueName('t1'), model));
    await store.create(newEndpoint(uniqueName('t2'), model));
    const { nextPageToken } = await store.listByModel(model, { maxResults: 1 });
    expect(nextPageToken).toBeDefined();
    await expect(store.list({ maxResults: 1, pageToken: nextPageToken })).rejects.toThrow(
      InvalidParameterError,
    );
    await expect(store.listDeployments('x', { maxResults: 1, pageToken: nextPageToken })).rejects.toThrow(
      InvalidParameterError,
    );
  });
});

describe('updateConfig', () => {
  it('sets only the given fields and moves updatedAt; the target and traffic stay', async () => {
    const name = uniqueName();
    const created = await store.create(newEndpoint(name));
    await new Promise((resolve) => setTimeout(resolve, 2));
    const updated = await store.updateConfig(name, {
      follows: { stage: 'Production' },
      description: undefined,
    });
    expect(updated.follows).toEqual({ stage: 'Production' });
    expect(updated.description).toBe('fraud scoring');
    expect(updated.target).toBe('lambda');
    expect(updated.traffic).toEqual(created.traffic);
    expect(updated.updatedAt).toBeGreaterThan(created.updatedAt);
    expect(await store.get(name)).toEqual(updated);
  });

  it('is a compare-and-set on updatedAt when asked: a stale one is a ConflictError', async () => {
    const name = uniqueName();
    const created = await store.create(newEndpoint(name));
    await new Promise((resolve) => setTimeout(resolve, 2));
    await store.updateConfig(name, { description: 'first' }, created.updatedAt);
    await expect(store.updateConfig(name, { description: 'second' }, created.updatedAt)).rejects.toThrow(
      ConflictError,
    );
    expect((await store.get(name))?.description).toBe('first');
  });

  it('answers RESOURCE_DOES_NOT_EXIST for a missing endpoint', async () => {
    await expect(store.updateConfig(uniqueName('missing'), { description: 'x' })).rejects.toThrow(
      ResourceDoesNotExistError,
    );
  });
});

describe('updateTraffic', () => {
  it('moves traffic, increments the revision and sets the status in the same write', async () => {
    const name = uniqueName();
    await store.create(newEndpoint(name));
    const first = await store.updateTraffic(
      name,
      0,
      { primary: served('1'), canary: null, canaryWeight: 0 },
      'InService',
    );
    expect(first.traffic).toEqual({ primary: served('1'), canary: null, canaryWeight: 0, revision: 1 });
    expect(first.status).toBe('InService');
    const second = await store.updateTraffic(name, 1, {
      primary: served('1'),
      canary: served('2'),
      canaryWeight: 10,
    });
    expect(second.traffic.revision).toBe(2);
    expect(second.status).toBe('InService');
    expect((await store.get(name))?.traffic).toEqual(second.traffic);
  });

  it('refuses a stale revision with StaleRevisionError naming both revisions', async () => {
    const name = uniqueName();
    await store.create(newEndpoint(name));
    await store.updateTraffic(name, 0, { primary: served('1'), canary: null, canaryWeight: 0 });
    const error = await store
      .updateTraffic(name, 0, { primary: served('9'), canary: null, canaryWeight: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StaleRevisionError);
    expect(error).toMatchObject({
      expectedRevision: 0,
      actualRevision: 1,
      httpStatus: 409,
      errorCode: 'ABORTED',
    });
    expect((await store.get(name))?.traffic.primary?.version).toBe('1');
  });

  it('lets exactly one of two racing moves with the same expected revision win', async () => {
    for (let round = 0; round < 5; round++) {
      const name = uniqueName('race');
      await store.create(newEndpoint(name));
      const results = await Promise.allSettled([
        store.updateTraffic(name, 0, { primary: served('1'), canary: served('2'), canaryWeight: 10 }),
        store.updateTraffic(name, 0, { primary: served('1'), canary: served('3'), canaryWeight: 50 }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]?.status === 'rejected' && lost[0].reason).toBeInstanceOf(StaleRevisionError);
      const stored = await store.get(name);
      expect(stored?.traffic).toEqual(won[0]?.status === 'fulfilled' ? won[0].value.traffic : undefined);
      expect(stored?.traffic.revision).toBe(1);
    }
  });

  it('refuses a canary weight without a canary, and a missing endpoint', async () => {
    const name = uniqueName();
    await store.create(newEndpoint(name));
    await expect(
      store.updateTraffic(name, 0, { primary: served('1'), canary: null, canaryWeight: 5 }),
    ).rejects.toThrow(/without a canary/);
    await expect(
      store.updateTraffic(uniqueName('missing'), 0, { primary: served('1'), canary: null, canaryWeight: 0 }),
    ).rejects.toThrow(ResourceDoesNotExistError);
  });
});

describe('updateStatus', () => {
  it('sets the status, conditionally on the current one when asked', async () => {
    const name = uniqueName();
    await store.create(newEndpoint(name));
    expect((await store.updateStatus(name, 'InService', ['Creating'])).status).toBe('InService');
    await expect(store.updateStatus(name, 'Updating', ['Creating'])).rejects.toThrow(ConflictError);
    expect((await store.get(name))?.status).toBe('InService');
    expect((await store.updateStatus(name, 'Failed')).status).toBe('Failed');
  });
});

describe('deployments', () => {
  it('records deployments idempotently and lists them newest first, paged', async () => {
    const name = uniqueName();
    await store.create(newEndpoint(name));
    const base = Date.now();
    const deployments = [0, 1, 2].map((i) => newDeployment(name, base + i * 1000));
    for (const d of deployments) await store.putDeployment(d);
    // A retried put of the same deployment returns what is stored and adds nothing.
    const again = await store.putDeployment({ ...(deployments[0] as Deployment), reason: 'retried' });
    expect(again).toEqual(deployments[0]);
    const first = await store.listDeployments(name, { maxResults: 2 });
    expect(first.items.map((d) => d.deploymentId)).toEqual([
      deployments[2]?.deploymentId,
      deployments[1]?.deploymentId,
    ]);
    const second = await store.listDeployments(name, { maxResults: 2, pageToken: first.nextPageToken });
    expect(second.items.map((d) => d.deploymentId)).toEqual([deployments[0]?.deploymentId]);
    expect(second.nextPageToken).toBeUndefined();
    expect(await store.getDeployment(name, deployments[1]?.deploymentId as string)).toEqual(deployments[1]);
    expect(await store.getDeployment(name, 'nope')).toBeUndefined();
  });

  it('updates a deployment while InProgress; once finished it never changes again', async () => {
    const name = uniqueName();
    await store.create(newEndpoint(name));
    const d = await store.putDeployment(newDeployment(name, Date.now()));
    const step = { weight: 10, at: Date.now(), invocations: 40, errorRate: 0, p99LatencyMs: 12 };
    const progressed = await store.updateDeployment(d, { steps: [step], executionArn: 'arn:aws:states:x' });
    expect(progressed).toMatchObject({
      status: 'InProgress',
      steps: [step],
      executionArn: 'arn:aws:states:x',
    });
    const finished = await store.updateDeployment(d, {
      status: 'RolledBack',
      reason: 'error rate 0.2 above 0.01',
      finishedAt: Date.now(),
    });
    expect(finished).toMatchObject({ status: 'RolledBack', reason: 'error rate 0.2 above 0.01' });
    const error = await store.updateDeployment(d, { status: 'Succeeded' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeploymentFinishedError);
    expect((error as Error).message).toMatch(/already finished \(RolledBack\)/);
    expect((await store.getDeployment(name, d.deploymentId))?.status).toBe('RolledBack');
  });

  it('lets exactly one of two racing finishes win', async () => {
    const name = uniqueName();
    await store.create(newEndpoint(name));
    const d = await store.putDeployment(newDeployment(name, Date.now()));
    const results = await Promise.allSettled([
      store.updateDeployment(d, { status: 'Succeeded', finishedAt: 1 }),
      store.updateDeployment(d, { status: 'Failed', reason: 'timeout', finishedAt: 2 }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('answers RESOURCE_DOES_NOT_EXIST for a deployment that is not there', async () => {
    await expect(
      store.updateDeployment(
        { endpointName: uniqueName(), deploymentId: 'x', startedAt: 1 },
        { status: 'Failed' },
      ),
    ).rejects.toThrow(ResourceDoesNotExistError);
  });
});

describe('delete', () => {
  it('removes the endpoint, its history and statistics, and leaves both listings', async () => {
    const name = uniqueName();
    const model = uniqueName('model');
    await store.create(newEndpoint(name, model));
    await store.putDeployment(
      newDeployment(name, Date.now(), { status: 'Succeeded', finishedAt: Date.now() }),
    );
    await client.send(
      new PutCommand({ TableName: table, Item: { ...deploymentKeys.stats(name, '1', 0), invocations: 3 } }),
    );
    const deleted = await store.delete(name);
    expect(deleted?.name).toBe(name);
    expect(await store.get(name)).toBeUndefined();
    const { Items } = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': deploymentKeys.partition(name) },
      }),
    );
    expect(Items).toEqual([]);
    expect((await store.listByModel(model, { maxResults: 10 })).items).toEqual([]);
    expect(await store.delete(name)).toBeUndefined();
    // The name is free again.
    expect((await store.create(newEndpoint(name, model))).name).toBe(name);
  });

  it('refuses while a deployment is InProgress, naming it, and changes nothing', async () => {
    const name = uniqueName();
    await store.create(newEndpoint(name));
    const d = await store.putDeployment(newDeployment(name, Date.now()));
    const error = await store.delete(name).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidStateError);
    expect((error as Error).message).toContain(d.deploymentId);
    expect((await store.get(name))?.status).toBe('Creating');
    await store.updateDeployment(d, { status: 'Succeeded', finishedAt: Date.now() });
    expect((await store.delete(name))?.name).toBe(name);
  });

  it('resumes a delete that died after its commit point; a deleting endpoint refuses changes', async () => {
    const name = uniqueName();
    await store.create(newEndpoint(name));
    await store.putDeployment(newDeployment(name, Date.now(), { status: 'Failed', finishedAt: Date.now() }));
    // What a delete leaves when it dies right after marking the endpoint.
    const { Item } = await client.send(
      new GetCommand({ TableName: table, Key: deploymentKeys.endpoint(name) }),
    );
    const { gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, ...rest } = Item ?? {};
    await client.send(new PutCommand({ TableName: table, Item: { ...rest, status: 'Deleting' } }));
    expect((await store.get(name))?.status).toBe('Deleting');
    await expect(
      store.updateTraffic(name, 0, { primary: served('1'), canary: null, canaryWeight: 0 }),
    ).rejects.toThrow(InvalidStateError);
    await expect(store.updateConfig(name, { description: 'x' })).rejects.toThrow(/being deleted/);
    await expect(store.create(newEndpoint(name))).rejects.toThrow(/still being deleted/);
    expect((await store.delete(name))?.status).toBe('Deleting');
    expect(await store.get(name)).toBeUndefined();
    expect((await store.listDeployments(name, { maxResults: 10 })).items).toEqual([]);
  });
});
