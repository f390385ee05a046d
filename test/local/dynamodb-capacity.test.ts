import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoEmulator, startDynamoEmulator } from '../../infra/local/emulators/dynamodb.ts';

let dataDir: string;
let emulator: DynamoEmulator;

/** One request through the path functions use, and the request units it cost. */
async function call(operation: string, body: Record<string, unknown>) {
  const before = { ...(emulator.capacity as { read: number; write: number }) };
  const answer = await emulator.dispatch(`DynamoDB_20120810.${operation}`, JSON.stringify(body));
  const after = emulator.capacity as { read: number; write: number };
  return {
    status: answer.statusCode,
    json: JSON.parse(answer.body) as Record<string, unknown>,
    read: after.read - before.read,
    write: after.write - before.write,
  };
}

const text = (bytes: number) => ({ S: 'x'.repeat(bytes) });
const key = (pk: string, sk = 'A') => ({ pk: { S: pk }, sk: { S: sk } });

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-capacity-'));
  emulator = await startDynamoEmulator({ dataDir, meterCapacity: true });
  const created = await call('CreateTable', {
    TableName: 'capacity',
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: ['pk', 'sk', 'k1', 'k2'].map((name) => ({
      AttributeName: name,
      AttributeType: 'S',
    })),
    GlobalSecondaryIndexes: [
      {
        IndexName: 'keys',
        KeySchema: [{ AttributeName: 'k1', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      {
        IndexName: 'all',
        KeySchema: [{ AttributeName: 'k2', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  });
  expect(created.status).toBe(200);
});

afterAll(async () => {
  await emulator.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('request units of the local DynamoDB, as on-demand DynamoDB bills them', () => {
  it('bills writes by 1 KB of the larger item, and every index entry the write puts, moves or deletes', async () => {
    expect(
      (await call('PutItem', { TableName: 'capacity', Item: { ...key('a'), v: text(300) } })).write,
    ).toBe(1);
    expect(
      (await call('PutItem', { TableName: 'capacity', Item: { ...key('a'), v: text(1500) } })).write,
    ).toBe(2);
    // Into the keys-only index: the item (1 KB) and its entry (keys and 100 bytes: 1 KB).
    const indexed = await call('PutItem', {
      TableName: 'capacity',
      Item: { ...key('b'), k1: { S: 'one' }, v: text(100) },
    });
    expect(indexed.write).toBe(2);
    // A change the keys-only entry does not hold costs only the item.
    const update = { TableName: 'capacity', Key: key('b'), UpdateExpression: 'SET v = :v' };
    expect(
      (await call('UpdateItem', { ...update, ExpressionAttributeValues: { ':v': text(200) } })).write,
    ).toBe(1);
    // Moving the entry to another key is a delete and a put in the index.
    const moved = await call('UpdateItem', {
      TableName: 'capacity',
      Key: key('b'),
      UpdateExpression: 'SET k1 = :k',
      ExpressionAttributeValues: { ':k': { S: 'two' } },
    });
    expect(moved.write).toBe(3);
    // An index of all attributes is written whenever the item changes, at the entry's size.
    await call('PutItem', { TableName: 'capacity', Item: { ...key('c'), k2: { S: 'x' }, v: text(1500) } });
    const all = await call('UpdateItem', {
      TableName: 'capacity',
      Key: key('c'),
      UpdateExpression: 'SET w = :w',
      ExpressionAttributeValues: { ':w': { N: '1' } },
    });
    expect(all.write).toBe(2 + 2);
    expect((await call('DeleteItem', { TableName: 'capacity', Key: key('c') })).write).toBe(2 + 2);
  });

  it('bills a write whose condition fails, and a batch item by item', async () => {
    const failed = await call('PutItem', {
      TableName: 'capacity',
      Item: { ...key('a'), v: text(10) },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(failed.status).toBe(400);
    expect(failed.write).toBe(2);
    const batch = await call('BatchWriteItem', {
      RequestItems: {
        capacity: [
          { PutRequest: { Item: { ...key('d', '1'), v: text(100) } } },
          { PutRequest: { Item: { ...key('d', '2'), v: text(2100) } } },
          { PutRequest: { Item: { ...key('d', '3'), k1: { S: 'three' } } } },
        ],
      },
    });
    expect(batch.write).toBe(1 + 3 + 2);
  });

  it('bills reads by 4 KB, halved when eventually consistent, items read by key each on their own', async () => {
    await call('PutItem', { TableName: 'capacity', Item: { ...key('e'), v: text(5000) } });
    expect((await call('GetItem', { TableName: 'capacity', Key: key('e') })).read).toBe(1);
    expect((await call('GetItem', { TableName: 'capacity', Key: key('e'), ConsistentRead: true })).read).toBe(
      2,
    );
    expect((await call('GetItem', { TableName: 'capacity', Key: key('missing') })).read).toBe(0.5);
    const batch = await call('BatchGetItem', {
      RequestItems: { capacity: { Keys: [key('d', '1'), key('d', '2'), key('d', '3')] } },
    });
    expect(batch.read).toBe(0.5 + 0.5 + 0.5);
  });

  it('bills a Query by the items it reads together, and keeps the units out of answers that did not ask', async () => {
    for (let i = 0; i < 10; i++) {
      await call('PutItem', { TableName: 'capacity', Item: { ...key('q', String(i)), v: text(1000) } });
    }
    const query = {
      TableName: 'capacity',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'q' } },
    };
    const plain = await call('Query', query);
    expect(plain.read).toBe(1.5);
    expect(plain.json.ConsumedCapacity).toBeUndefined();
    const asked = await call('Query', { ...query, ReturnConsumedCapacity: 'TOTAL' });
    expect(asked.json.ConsumedCapacity).toMatchObject({ CapacityUnits: 1.5 });
    // An empty Query still costs the smallest read.
    expect(
      (await call('Query', { ...query, ExpressionAttributeValues: { ':pk': { S: 'none' } } })).read,
    ).toBe(0.5);
  });
});
