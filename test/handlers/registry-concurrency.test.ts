import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRegistryRepository } from '../../shared/registry/adapters/registry.dynamodb-repository.ts';
import { nameSlot, registryKeys } from '../../shared/registry/keys.ts';
import { EventRecorder, TEST_BUS } from '../support/event-recorder.ts';
import { type ApiHandler, handlerCaller, unique } from '../support/handler-call.ts';
import { emulatorDocumentClient, tableName, useEmulators } from '../support/handler-env.ts';

/**
 * The registry's concurrency claims (DESIGN.md "Concurrency"), as real races on the DynamoDB
 * emulator, and what a function dying between two writes leaves behind, simulated by writing the
 * first of the two directly.
 */
let handler: ApiHandler;
let recorder: EventRecorder;
let table: string;
const call = handlerCaller(() => handler);
const raw = () => emulatorDocumentClient();
const q = encodeURIComponent;

beforeAll(async () => {
  const started = await EventRecorder.start();
  recorder = started.recorder;
  table = tableName('RegistryTable');
  useEmulators({
    REGISTRY_TABLE_NAME: table,
    TRACKING_TABLE_NAME: tableName('TrackingTable'),
    EVENT_BUS_NAME: TEST_BUS,
    AWS_ENDPOINT_URL_EVENTBRIDGE: started.endpoint,
  });
  ({ handler } = (await import('../../functions/registry-api.ts')) as unknown as { handler: ApiHandler });
});

afterAll(async () => {
  await recorder.close();
});

async function createModel(name = unique('model')) {
  expect((await call('POST', 'registered-models/create', { name })).status).toBe(200);
  return name;
}

async function createVersions(name: string, count: number) {
  for (let i = 0; i < count; i++) {
    expect((await call('POST', 'model-versions/create', { name, source: 's3://b/m' })).status).toBe(200);
  }
}

async function versionsOf(name: string): Promise<Array<{ version: string; current_stage: string }>> {
  const { json } = await call('GET', `model-versions/search?filter=${q(`name = '${name}'`)}`);
  return json.model_versions ?? [];
}

async function partition(slot: string) {
  const result = await raw().send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': registryKeys.partition(slot) },
      ConsistentRead: true,
    }),
  );
  return result.Items ?? [];
}

async function indexed(modelId: string) {
  const found = [];
  for (const gsi1pk of ['MODELS', 'VERSIONS', 'ALIASES']) {
    const result = await raw().send(
      new QueryCommand({
        TableName: table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :id)',
        ExpressionAttributeValues: { ':pk': gsi1pk, ':id': modelId },
      }),
    );
    found.push(...(result.Items ?? []));
  }
  return found;
}

const modelIdOf = (name: string) => recorder.forModel(name)[0]?.detail.modelId as string;

describe('registry concurrency: version numbers', () => {
  it('gives 50 concurrent create_model_version calls the versions 1..50, no gaps, no duplicates', async () => {
    const name = await createModel();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call('POST', 'model-versions/create', { name, source: `s3://bucket/model-${i}` }),
      ),
    );
    expect(results.map((result) => result.status)).toEqual(Array(50).fill(200));
    const numbers = results.map((result) => Number(result.json.model_version.version)).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // Each request got the version it stored (the source it sent), and the model agrees.
    const stored = await versionsOf(name);
    expect(stored).toHaveLength(50);
    for (const result of results) {
      const mine = await call(
        'GET',
        `model-versions/get?name=${q(name)}&version=${result.json.model_version.version}`,
      );
      expect(mine.json.model_version.source).toBe(result.json.model_version.source);
    }
    const created = recorder
      .forModel(name)
      .filter((event) => event.detailType === 'registry.model-version.created');
    expect(created.map((event) => Number(event.detail.modelVersion)).sort((a, b) => a - b)).toEqual(numbers);
  });

  it('fills the number a request left unused when it died between the counter and the version write', async () => {
    const name = await createModel();
    await createVersions(name, 2);
    // The dead request: the counter moved to 3, version 3 was never written.
    await raw().send(
      new UpdateCommand({
        TableName: table,
        Key: registryKeys.model(nameSlot(name)),
        UpdateExpression: 'SET latestVersion = latestVersion + :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    // Its retry (or any later create) takes 3, so the model has no gap.
    const retry = await call('POST', 'model-versions/create', { name, source: 's3://b/retry' });
    expect(retry.json.model_version.version).toBe('3');
    const next = await call('POST', 'model-versions/create', { name, source: 's3://b/next' });
    expect(next.json.model_version.version).toBe('4');
    expect((await versionsOf(name)).map((v) => v.version).sort()).toEqual(['1', '2', '3', '4']);
  });

  it('never reuses the number of a deleted version, also under concurrent creates', async () => {
    const name = await createModel();
    await createVersions(name, 3);
    await call('DELETE', 'model-versions/delete', { name, version: '2' });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => call('POST', 'model-versions/create', { name, source: 's3://b/m' })),
    );
    expect(results.map((r) => Number(r.json.model_version.version)).sort((a, b) => a - b)).toEqual([
      4, 5, 6, 7, 8,
    ]);
  });
});

describe('registry concurrency: aliases', () => {
  it('ends racing alias moves with one winner per step and no lost update', async () => {
    const name = await createModel();
    await createVersions(name, 3);
    await call('POST', 'registered-models/alias', { name, alias: 'production', version: '1' });
    const moves = Array.from({ length: 20 }, (_, i) => String((i % 2) + 2));
    const results = await Promise.all(
      moves.map((version) => call('POST', 'registered-models/alias', { name, alias: 'production', version })),
    );
    expect(results.map((result) => result.status)).toEqual(Array(20).fill(200));

    // Every event knows its true predecessor: the moves form one chain from version 1, in order of
    // the alias's revision, and the alias ends where the chain ends.
    const events = recorder
      .forModel(name)
      .filter((event) => event.detailType === 'registry.model-version.alias-set')
      .map((event) => ({
        revision: Number(/:r(\d+)@/.exec(event.detail.idempotencyKey)?.[1]),
        previous: event.detail.previousVersion,
        version: event.detail.modelVersion,
      }))
      .sort((a, b) => a.revision - b.revision);
    expect(events.map((event) => event.revision)).toEqual(events.map((_, i) => i + 1));
    for (let i = 1; i < events.length; i++) {
      expect(events[i]?.previous).toBe(events[i - 1]?.version);
      expect(events[i]?.version).not.toBe(events[i - 1]?.version);
    }
    const final = await call('GET', `registered-models/alias?name=${q(name)}&alias=production`);
    expect(final.json.model_version.version).toBe(events.at(-1)?.version);
  });

  it('keeps racing moves of different aliases independent', async () => {
    const name = await createModel();
    await createVersions(name, 2);
    const aliases = Array.from({ length: 10 }, (_, i) => `a${i}`);
    await Promise.all(
      aliases.map((alias, i) =>
        call('POST', 'registered-models/alias', { name, alias, version: String((i % 2) + 1) }),
      ),
    );
    const model = (await call('GET', `registered-models/get?name=${q(name)}`)).json.registered_model;
    expect(model.aliases).toHaveLength(10);
  });
});

describe('registry concurrency: stage transitions', () => {
  it('leaves exactly one version in Production when transitions with archive_existing_versions race', async () => {
    const name = await createModel();
    await createVersions(name, 8);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call('POST', 'model-versions/transition-stage', {
          name,
          version: String(i + 1),
          stage: 'Production',
          archive_existing_versions: true,
        }),
      ),
    );
    expect(results.map((result) => result.status)).toEqual(Array(8).fill(200));
    const versions = await versionsOf(name);
    const production = versions.filter((v) => v.current_stage === 'Production');
    expect(production).toHaveLength(1);
    expect(versions.filter((v) => v.current_stage === 'Archived')).toHaveLength(7);
    // The survivor is the last transition applied (the highest revision among the events).
    const transitions = recorder
      .forModel(name)
      .filter((event) => event.detailType === 'registry.model-version.stage-transitioned')
      .sort(
        (a, b) =>
          Number(/:r(\d+)$/.exec(a.detail.idempotencyKey)?.[1]) -
          Number(/:r(\d+)$/.exec(b.detail.idempotencyKey)?.[1]),
      );
    expect(transitions).toHaveLength(8);
    expect(transitions.at(-1)?.detail.modelVersion).toBe(production[0]?.version);
    const latest = await call('POST', 'registered-models/get-latest-versions', {
      name,
      stages: ['Production'],
    });
    expect(latest.json.model_versions.map((v: { version: string }) => v.version)).toEqual([
      production[0]?.version,
    ]);
  });

  it('lets racing transitions without archiving all apply', async () => {
    const name = await createModel();
    await createVersions(name, 5);
    await Promise.all(
      ['1', '2', '3', '4', '5'].map((version) =>
        call('POST', 'model-versions/transition-stage', { name, version, stage: 'Staging' }),
      ),
    );
    expect((await versionsOf(name)).every((v) => v.current_stage === 'Staging')).toBe(true);
  });
});

describe('registry concurrency: deletes and crashes', () => {
  it('leaves nothing behind when a model with versions, aliases, tags and stages is deleted', async () => {
    const name = await createModel();
    await createVersions(name, 3);
    await call('POST', 'registered-models/set-tag', { name, key: 'k', value: 'v' });
    await call('POST', 'model-versions/set-tag', { name, version: '1', key: 'k', value: 'v' });
    await call('POST', 'registered-models/alias', { name, alias: 'prod', version: '1' });
    await call('POST', 'model-versions/transition-stage', { name, version: '2', stage: 'Staging' });
    await call('DELETE', 'model-versions/delete', { name, version: '3' });
    const modelId = modelIdOf(name);
    expect((await partition(nameSlot(name))).length).toBeGreaterThan(5);
    expect((await call('DELETE', 'registered-models/delete', { name })).status).toBe(200);
    expect(await partition(nameSlot(name))).toEqual([]);
    expect(await indexed(modelId)).toEqual([]);
  });

  it('leaves nothing visible when version creates race a delete, and a new model under the name starts clean', async () => {
    const name = await createModel();
    await createVersions(name, 2);
    await call('POST', 'registered-models/alias', { name, alias: 'prod', version: '1' });
    const racing = Array.from({ length: 10 }, () =>
      call('POST', 'model-versions/create', { name, source: 's3://b/m' }),
    );
    const deleted = call('DELETE', 'registered-models/delete', { name });
    await Promise.all([...racing, deleted]);
    expect((await deleted).status).toBe(200);
    expect((await call('GET', `registered-models/get?name=${q(name)}`)).status).toBe(404);
    await createModel(name);
    const fresh = (await call('GET', `registered-models/get?name=${q(name)}`)).json.registered_model;
    expect(fresh).not.toHaveProperty('latest_versions');
    expect(fresh).not.toHaveProperty('aliases');
    expect(await versionsOf(name)).toEqual([]);
    const first = await call('POST', 'model-versions/create', { name, source: 's3://b/new' });
    expect(first.json.model_version.version).toBe('1');
  });

  it('resumes a delete that died after its commit point, and frees the name at once', async () => {
    const name = await createModel();
    await createVersions(name, 2);
    const modelId = modelIdOf(name);
    // The dead delete marked the model and stopped.
    await raw().send(
      new UpdateCommand({
        TableName: table,
        Key: registryKeys.model(nameSlot(name)),
        UpdateExpression: 'SET deleting = :now REMOVE gsi1pk, gsi1sk',
        ExpressionAttributeValues: { ':now': Date.now() },
      }),
    );
    expect((await call('GET', `registered-models/get?name=${q(name)}`)).status).toBe(404);
    expect(await versionsOf(name)).toEqual([]);
    // The client's retry finishes it.
    expect((await call('DELETE', 'registered-models/delete', { name })).status).toBe(200);
    expect(await partition(nameSlot(name))).toEqual([]);
    expect(await indexed(modelId)).toEqual([]);
    await createModel(name);
  });

  it('lets a new model take a name whose delete died half-way, without inheriting anything', async () => {
    const name = await createModel();
    await createVersions(name, 2);
    await raw().send(
      new UpdateCommand({
        TableName: table,
        Key: registryKeys.model(nameSlot(name)),
        UpdateExpression: 'SET deleting = :now REMOVE gsi1pk, gsi1sk',
        ExpressionAttributeValues: { ':now': Date.now() },
      }),
    );
    await createModel(name);
    const fresh = (await call('GET', `registered-models/get?name=${q(name)}`)).json.registered_model;
    expect(fresh).not.toHaveProperty('latest_versions');
    expect(
      (await call('POST', 'model-versions/create', { name, source: 's3://b/m' })).json.model_version.version,
    ).toBe('1');
  });

  it('shows no half-renamed model when a rename dies after claiming the new name', async () => {
    const name = await createModel();
    const newName = unique('half');
    const modelId = modelIdOf(name);
    // The dead rename claimed the new name and stopped before renaming the model.
    const claim = {
      ...registryKeys.nameClaim(newName),
      entity: 'registered-model-name',
      name: newName,
      slot: nameSlot(name),
      modelId,
      claimedAt: Date.now(),
    };
    await raw().send(new PutCommand({ TableName: table, Item: claim }));
    expect((await call('GET', `registered-models/get?name=${q(name)}`)).status).toBe(200);
    expect((await call('GET', `registered-models/get?name=${q(newName)}`)).status).toBe(404);
    // A fresh orphan may still be a slow rename in progress: the name stays taken for now...
    const early = await call('POST', 'registered-models/create', { name: newName });
    expect(early.json.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    // ...and once it is older than any request can run, a create or rename takes it over.
    await raw().send(
      new PutCommand({ TableName: table, Item: { ...claim, claimedAt: Date.now() - 6 * 60_000 } }),
    );
    expect((await call('POST', 'registered-models/rename', { name, new_name: newName })).status).toBe(200);
    expect((await call('GET', `registered-models/get?name=${q(newName)}`)).json.registered_model.name).toBe(
      newName,
    );
  });

  it('shows the new name only when a rename dies before releasing the old name', async () => {
    const name = await createModel();
    const newName = unique('moved');
    const modelId = modelIdOf(name);
    await raw().send(
      new PutCommand({
        TableName: table,
        Item: {
          ...registryKeys.nameClaim(newName),
          entity: 'registered-model-name',
          name: newName,
          slot: nameSlot(name),
          modelId,
          claimedAt: Date.now(),
        },
      }),
    );
    await raw().send(
      new UpdateCommand({
        TableName: table,
        Key: registryKeys.model(nameSlot(name)),
        UpdateExpression: 'SET #name = :new',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: { ':new': newName },
      }),
    );
    expect((await call('GET', `registered-models/get?name=${q(name)}`)).status).toBe(404);
    expect((await call('GET', `registered-models/get?name=${q(newName)}`)).status).toBe(200);
    const search = await call('GET', `registered-models/search?filter=${q(`name = '${name}'`)}`);
    expect(search.json).toEqual({});
  });

  it('shows nothing for a create that died between claiming the name and writing the model', async () => {
    const name = unique('dead-create');
    const claim = {
      ...registryKeys.nameClaim(name),
      entity: 'registered-model-name',
      name,
      slot: nameSlot(name),
      modelId: 'dead-model-id',
      claimedAt: Date.now() - 6 * 60_000,
    };
    await raw().send(new PutCommand({ TableName: table, Item: claim }));
    expect((await call('GET', `registered-models/get?name=${q(name)}`)).status).toBe(404);
    expect((await call('POST', 'registered-models/create', { name })).status).toBe(200);
    expect((await call('GET', `registered-models/get?name=${q(name)}`)).status).toBe(200);
  });
});

describe('registry access patterns', () => {
  /** A repository whose DynamoDB requests are counted. */
  function countingRepository() {
    const client = raw();
    const send = client.send.bind(client);
    const counter = { requests: 0 };
    client.send = ((command: Parameters<typeof send>[0]) => {
      counter.requests += 1;
      return send(command);
    }) as typeof client.send;
    return { repository: new DynamoRegistryRepository(table, client), counter };
  }

  it('reads a model with its versions, aliases and tags in one request (two after a rename)', async () => {
    const name = await createModel();
    await createVersions(name, 3);
    await call('POST', 'registered-models/alias', { name, alias: 'prod', version: '2' });
    await call('POST', 'registered-models/set-tag', { name, key: 'k', value: 'v' });
    const { repository, counter } = countingRepository();
    const state = await repository.get(name);
    expect(counter.requests).toBe(1);
    expect(state?.versions).toHaveLength(3);
    expect(state?.aliases.map((alias) => alias.alias)).toEqual(['prod']);
    expect(state?.model.tags).toEqual({ k: 'v' });

    const newName = unique('renamed');
    await call('POST', 'registered-models/rename', { name, new_name: newName });
    counter.requests = 0;
    expect((await repository.get(newName))?.versions).toHaveLength(3);
    expect(counter.requests).toBe(2);
  });
});
