import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire, Module } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { installBatchedQuery } from './dynamodb-query.ts';
import { flushLoggedStores, LoggedMemoryLevel, STORE_MARKER } from './dynamodb-store.ts';

const require = createRequire(import.meta.url);
useLoggedMemoryStore();
installBatchedQuery();
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server & {
  close(callback?: (error?: Error) => void): void;
};

export interface DynamoEmulator {
  endpoint: string;
  port: number;
  /** Requests served so far, by DynamoDB operation (the benchmarks report them). */
  requests: Readonly<Record<string, number>>;
  stop(): Promise<void>;
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
}): Promise<DynamoEmulator> {
  const server = dynalite({ path: options.dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const requests: Record<string, number> = {};
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const operation =
      String(request.headers['x-amz-target'] ?? 'unknown')
        .split('.')
        .pop() ?? 'unknown';
    requests[operation] = (requests[operation] ?? 0) + 1;
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
  return {
    endpoint: `http://${host}:${port}`,
    port,
    requests,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections?.();
      }),
  };
}
