import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire, Module } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CapacityMeter, type ConsumedCapacity, type DynaliteStore } from './dynamodb-capacity.ts';
import { installExpressionTemplates } from './dynamodb-expressions.ts';
import { installItemSize } from './dynamodb-item-size.ts';
import { installBatchedQuery } from './dynamodb-query.ts';
import { flushLoggedStores, LoggedMemoryLevel, STORE_MARKER } from './dynamodb-store.ts';

const require = createRequire(import.meta.url);
const dynaliteDir = path.dirname(require.resolve('dynalite'));
useLoggedMemoryStore();
installBatchedQuery();
installExpressionTemplates();
installItemSize();
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server & {
  close(callback?: (error?: Error) => void): void;
};
/** dynalite's request checks, as its HTTP handler applies them before an action runs. */
const validations = require(path.join(dynaliteDir, 'validations', 'index.js')) as {
  checkTypes(data: unknown, types: unknown): unknown;
  checkValidations(data: unknown, types: unknown, custom: unknown, store: unknown): void;
};

export interface DynamoEmulator {
  endpoint: string;
  port: number;
  /** Requests served so far, by DynamoDB operation (the benchmarks report them). */
  requests: Readonly<Record<string, number>>;
  /**
   * Serves one request of the DynamoDB JSON protocol (`x-amz-target` and body) without HTTP: the
   * local runtime's functions reach the emulator this way (`infra/local/lambda/emulator-transport.ts`),
   * through dynalite's own validation and actions, counted and logged like any other request.
   */
  dispatch: DynamoDispatch;
  /** How requests arrived: over HTTP (tools, tests, the CLI) or through `dispatch` (functions). */
  transport: Readonly<{ http: number; direct: number }>;
  /**
   * Read and write request units of the requests `dispatch` served, as DynamoDB would bill them
   * (`dynamodb-capacity.ts`); only with `meterCapacity` (it reads each written item around the write).
   */
  capacity: Readonly<ConsumedCapacity> | undefined;
  stop(): Promise<void>;
}

/** One DynamoDB request and its answer, as the wire carries them. */
export type DynamoDispatch = (target: string, body: string) => Promise<{ statusCode: number; body: string }>;

/** The operations dynalite serves (its `validOperations`). */
const OPERATIONS = new Set([
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'DescribeTimeToLive',
  'GetItem',
  'ListTables',
  'PutItem',
  'Query',
  'Scan',
  'TagResource',
  'UntagResource',
  'ListTagsOfResource',
  'UpdateItem',
  'UpdateTable',
]);

interface DynaliteAction {
  run(store: unknown, data: unknown, callback: (error: DynaliteError | null, result?: unknown) => void): void;
  types: unknown;
  custom: unknown;
}
interface DynaliteError extends Error {
  statusCode?: number;
  body?: unknown;
}

/**
 * dynalite opens its data directory with `new (require('level').Level)(path)`; this hands it
 * {@link LoggedMemoryLevel} instead (an in-memory store that logs every write to disk), by placing
 * that class in the module cache under the `level` that dynalite resolves, before dynalite loads.
 */
function useLoggedMemoryStore(): void {
  const dynaliteDb = path.join(path.dirname(require.resolve('dynalite')), 'db', 'index.js');
  const levelPath = require.resolve('level', { paths: [path.dirname(dynaliteDb)] });
  // A module runner (vitest's global setups) may evaluate this file again in the same process: the
  // class placed then is the same code, so it stays.
  if (require.cache[levelPath]?.exports?.Level?.[STORE_MARKER] === true) return;
  if (require.cache[dynaliteDb]) throw new Error('dynalite was loaded before its store was chosen');
  const level = new Module(levelPath);
  level.filename = levelPath;
  level.loaded = true;
  level.exports = { Level: LoggedMemoryLevel };
  require.cache[levelPath] = level;
}

/**
 * Starts dynalite in this process, its data kept in memory and logged to `dataDir`
 * ({@link LoggedMemoryLevel}; with LevelDB it took 2-3 ms a PutItem here). Tables become ACTIVE at once so start-up does not wait. It lacks transactions, TTL
 * and Streams; Runway's design needs none of them.
 */
export async function startDynamoEmulator(options: {
  dataDir: string;
  port?: number;
  host?: string;
  /** Count the request units of what functions send (the benchmarks' cost figures). @default false */
  meterCapacity?: boolean;
}): Promise<DynamoEmulator> {
  // dynalite keeps the store it creates to itself: take it as it is made, for `dispatch`.
  const db = require(path.join(dynaliteDir, 'db', 'index.js')) as { create(options: unknown): unknown };
  const create = db.create;
  let store: unknown;
  db.create = (storeOptions: unknown) => {
    store = create(storeOptions);
    return store;
  };
  let server: ReturnType<typeof dynalite>;
  try {
    server = dynalite({ path: options.dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  } finally {
    db.create = create;
  }
  const requests: Record<string, number> = {};
  const transport = { http: 0, direct: 0 };
  const count = (operation: string) => {
    requests[operation] = (requests[operation] ?? 0) + 1;
  };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    transport.http++;
    count(
      String(request.headers['x-amz-target'] ?? 'unknown')
        .split('.')
        .pop() ?? 'unknown',
    );
    // What this request wrote reaches the store's log before its answer leaves.
    const end = response.end;
    response.end = function (this: ServerResponse, ...args: Parameters<ServerResponse['end']>) {
      flushLoggedStores();
      return end.apply(this, args);
    } as ServerResponse['end'];
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const actions = new Map<string, DynaliteAction>();
  const meter = options.meterCapacity ? new CapacityMeter(store as DynaliteStore) : undefined;
  const dispatch: DynamoDispatch = (target, body) => {
    const operation = target.split('.').pop() ?? '';
    const answer = (statusCode: number, data: unknown) => {
      // What this request wrote reaches the store's log before its answer leaves.
      flushLoggedStores();
      return { statusCode, body: JSON.stringify(data) };
    };
    count(operation || 'unknown');
    transport.direct++;
    if (!OPERATIONS.has(operation)) {
      return Promise.resolve(answer(400, { __type: 'com.amazon.coral.service#UnknownOperationException' }));
    }
    const name = operation.charAt(0).toLowerCase() + operation.slice(1);
    let action = actions.get(name);
    if (!action) {
      const { types, custom } = require(
        path.join(dynaliteDir, 'validations', `${name}.js`),
      ) as DynaliteAction;
      action = { run: require(path.join(dynaliteDir, 'actions', `${name}.js`)), types, custom };
      actions.set(name, action);
    }
    let data: unknown;
    try {
      data = JSON.parse(body);
    } catch {
      return Promise.resolve(answer(400, { __type: 'com.amazon.coral.service#SerializationException' }));
    }
    try {
      data = validations.checkTypes(data, action.types);
      validations.checkValidations(data, action.types, action.custom, store);
    } catch (error) {
      const failure = error as DynaliteError;
      if (failure.statusCode) return Promise.resolve(answer(failure.statusCode, failure.body));
      return Promise.reject(failure);
    }
    const { run } = action;
    const validated = data as Record<string, unknown>;
    const act = () =>
      new Promise<{ statusCode: number; result: Record<string, unknown> | undefined }>((resolve, reject) => {
        run(store, validated, (error, result) => {
          if (error?.statusCode)
            resolve({ statusCode: error.statusCode, result: error.body as Record<string, unknown> });
          else if (error) reject(error);
          else resolve({ statusCode: 200, result: result as Record<string, unknown> });
        });
      });
    return (meter ? meter.measure(operation, validated, act) : act()).then(({ statusCode, result }) =>
      answer(statusCode, result),
    );
  };
  return {
    endpoint: `http://${host}:${port}`,
    port,
    requests,
    dispatch,
    transport,
    capacity: meter?.consumed,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections?.();
      }),
  };
}
