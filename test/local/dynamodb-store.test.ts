import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startDynamoEmulator } from '../../infra/local/emulators/dynamodb.ts';
import {
  flushLoggedStores,
  LoggedMemoryLevel,
  readLines,
  STORE_FILES,
} from '../../infra/local/emulators/dynamodb-store.ts';

const directories: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'runway-dynamo-store-'));
  directories.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const client = (endpoint: string) =>
  new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

describe('readLines', () => {
  it('reads a file a chunk at a time: lines across chunks, multi-byte characters, no torn tail', () => {
    const file = path.join(tempDir(), 'lines.jsonl');
    const lines = ['["p","a",1]', '["p","é🚀ü",{"v":"ß"}]', '', 'x'.repeat(50), '["d","a"]'];
    writeFileSync(file, `${lines.join('\n')}\n["p","torn`);
    for (const chunkBytes of [1, 3, 7, 64, 1 << 20]) {
      expect([...readLines(file, chunkBytes)], `chunks of ${chunkBytes}`).toEqual(lines);
    }
    writeFileSync(file, '');
    expect([...readLines(file)]).toEqual([]);
  });
});

describe('the local DynamoDB store (memory, with every write logged to disk)', () => {
  it('keeps puts, updates and deletes across a restart, in key order, and a failed condition changes nothing', async () => {
    const dataDir = tempDir();
    let emulator = await startDynamoEmulator({ dataDir });
    let dynamo = client(emulator.endpoint);
    await dynamo.send(
      new CreateTableCommand({
        TableName: 'store-test',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
    for (const sk of ['c', 'a', 'b', 'd']) {
      await dynamo.send(
        new PutItemCommand({
          TableName: 'store-test',
          Item: { pk: { S: 'p' }, sk: { S: sk }, n: { N: '1' } },
        }),
      );
    }
    // An acknowledged write is already in the log: a crash now would not lose it.
    const logged = readFileSync(path.join(dataDir, STORE_FILES.log), 'utf8');
    for (const sk of ['a', 'b', 'c', 'd']) expect(logged).toContain(`"sk":{"S":"${sk}"}`);
    await dynamo.send(
      new UpdateItemCommand({
        TableName: 'store-test',
        Key: { pk: { S: 'p' }, sk: { S: 'a' } },
        UpdateExpression: 'SET n = :two, m = :map',
        ExpressionAttributeValues: { ':two': { N: '2' }, ':map': { M: { x: { S: 'y' } } } },
      }),
    );
    // A refused conditional update must leave the stored item exactly as it was.
    await expect(
      dynamo.send(
        new UpdateItemCommand({
          TableName: 'store-test',
          Key: { pk: { S: 'p' }, sk: { S: 'a' } },
          UpdateExpression: 'SET n = :three, m.x = :z',
          ConditionExpression: 'n = :one',
          ExpressionAttributeValues: { ':three': { N: '3' }, ':one': { N: '1' }, ':z': { S: 'z' } },
        }),
      ),
    ).rejects.toThrow(/conditional request failed/i);
    await dynamo.send(
      new DeleteItemCommand({ TableName: 'store-test', Key: { pk: { S: 'p' }, sk: { S: 'd' } } }),
    );
    const before = await dynamo.send(
      new GetItemCommand({ TableName: 'store-test', Key: { pk: { S: 'p' }, sk: { S: 'a' } } }),
    );
    expect(before.Item).toEqual({
      pk: { S: 'p' },
      sk: { S: 'a' },
      n: { N: '2' },
      m: { M: { x: { S: 'y' } } },
    });
    await emulator.stop();

    emulator = await startDynamoEmulator({ dataDir });
    dynamo = client(emulator.endpoint);
    try {
      const { Items } = await dynamo.send(
        new QueryCommand({
          TableName: 'store-test',
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': { S: 'p' } },
        }),
      );
      expect(Items?.map((item) => item.sk?.S)).toEqual(['a', 'b', 'c']);
      expect(Items?.[0]).toEqual(before.Item);
      expect(readdirSync(dataDir).sort()).toEqual([STORE_FILES.snapshot, STORE_FILES.log].sort());
    } finally {
      await emulator.stop();
    }
  });

  it('replays the log after a crash, up to a torn last write', async () => {
    const dir = tempDir();
    const store = new LoggedMemoryLevel(dir, { valueEncoding: 'json' });
    await store.open();
    await store.put('k1', { v: 1 });
    await store.batch([
      { type: 'put', key: 'k2', value: { v: 2 } },
      { type: 'put', key: 'k3', value: { v: 3 } },
      { type: 'del', key: 'k1' },
    ]);
    await store.put('k2', { v: 22 });
    flushLoggedStores(); // what the emulator does before it answers a request
    // The process dies here (no close): the log holds every acknowledged write, then a torn one.
    appendFileSync(path.join(dir, STORE_FILES.log), '["p","k4",{"v"');

    const reopened = new LoggedMemoryLevel(dir, { valueEncoding: 'json' });
    await reopened.open();
    try {
      expect(await reopened.get('k1')).toBeUndefined();
      expect(await reopened.get('k2')).toEqual({ v: 22 });
      expect(await reopened.get('k3')).toEqual({ v: 3 });
      expect(await reopened.get('k4')).toBeUndefined();
      // Opening folded the log into the snapshot.
      expect(readFileSync(path.join(dir, STORE_FILES.log), 'utf8')).toBe('');
    } finally {
      await reopened.close();
    }

    // After a clean stop a start folds nothing and appends to the log; a crash then loses nothing.
    const snapshotBefore = readFileSync(path.join(dir, STORE_FILES.snapshot), 'utf8');
    const afterCleanStop = new LoggedMemoryLevel(dir, { valueEncoding: 'json' });
    await afterCleanStop.open();
    expect(readFileSync(path.join(dir, STORE_FILES.snapshot), 'utf8')).toBe(snapshotBefore);
    await afterCleanStop.put('k5', { v: 5 });
    flushLoggedStores();
    const afterCrash = new LoggedMemoryLevel(dir, { valueEncoding: 'json' });
    await afterCrash.open();
    try {
      expect(await afterCrash.get('k5')).toEqual({ v: 5 });
      expect(await afterCrash.get('k2')).toEqual({ v: 22 });
    } finally {
      await afterCrash.close();
      await afterCleanStop.close();
    }
  });

  it('migrates a data directory that LevelDB wrote, once, and moves its files aside', async () => {
    const dir = tempDir();
    const require = createRequire(import.meta.url);
    const levelDir = path.dirname(
      require.resolve('level', { paths: [path.dirname(require.resolve('dynalite'))] }),
    );
    const { ClassicLevel } = require(require.resolve('classic-level', { paths: [levelDir] })) as {
      ClassicLevel: new (
        location: string,
        options: Record<string, unknown>,
      ) => { put(key: string, value: unknown): Promise<void>; close(): Promise<void> };
    };
    const old = new ClassicLevel(dir, { valueEncoding: 'json' });
    await old.put('table~t', { TableName: 't', TableStatus: 'ACTIVE' });
    await old.put('item-t~x', { pk: { S: 'x' } });
    await old.close();

    const store = new LoggedMemoryLevel(dir, { valueEncoding: 'json' });
    await store.open();
    try {
      expect(await store.get('table~t')).toEqual({ TableName: 't', TableStatus: 'ACTIVE' });
      expect(await store.get('item-t~x')).toEqual({ pk: { S: 'x' } });
      expect(existsSync(path.join(dir, 'leveldb-migrated', 'CURRENT'))).toBe(true);
      expect(existsSync(path.join(dir, 'CURRENT'))).toBe(false);
    } finally {
      await store.close();
    }
  });
});
