import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

type Item = Record<string, Record<string, unknown>>;
type Callback = (error: Error | null, result?: unknown) => void;

/** The parts of dynalite's `db` module (`dynalite/db/index.js`) that Query and Scan go through. */
interface DynaliteDb {
  queryTable: QueryTable;
  itemSize(item: Item, compress?: boolean, addMetaSize?: boolean, rangeKey?: string): number;
  matchesExprFilter(item: Item, expression: unknown): boolean;
  matchesFilter(item: Item, filter: unknown, conditionalOperator: unknown): boolean;
  mapPaths(paths: unknown, item: Item): Item;
}

type QueryTable = (
  store: DynaliteStore,
  table: TableDescription,
  data: QueryData,
  opts: RangeOptions,
  isLocal: boolean,
  fetchFromItemDb: boolean,
  startKeyNames: string[],
  cb: Callback,
) => void;

interface DynaliteStore {
  /** The store under every table (a `LoggedMemoryLevel`). */
  db: {
    values(options: Record<string, unknown>): {
      nextv(size: number): Promise<Item[]>;
      close(): Promise<void>;
    };
  };
}

interface TableDescription {
  TableName: string;
  KeySchema: Array<{ AttributeName: string }>;
}

interface QueryData {
  TableName: string;
  IndexName?: string;
  Limit?: number;
  Select?: string;
  ConsistentRead?: boolean;
  ReturnConsumedCapacity?: string;
  QueryFilter?: unknown;
  ScanFilter?: unknown;
  ConditionalOperator?: unknown;
  AttributesToGet?: unknown;
  _filter?: { expression: unknown };
  _projection?: { paths: unknown };
}

interface RangeOptions {
  reverse?: boolean;
  limit?: number;
  gt?: string;
  gte?: string;
  lt?: string;
  lte?: string;
}

const MAX_RESULT_BYTES = 1024 * 1024;

/**
 * Replaces dynalite's `queryTable` (under Query and Scan) with the same logic read straight from the
 * store in batches: dynalite's version pulls each item through a promise, a Node stream and a lazy
 * stream, and recomputes each item's size on every read, which made a 500-item Query of run
 * projections cost more than everything else in a top-10 search. Items in the store are never
 * changed in place (dynalite's UpdateItem writes a clone), so an item's size is cached per object.
 * The case of a GSI whose projection is not ALL, where dynalite fetches each item again from the
 * table, stays with dynalite's own code.
 */
export function installBatchedQuery(): void {
  const dbPath = path.join(path.dirname(require.resolve('dynalite')), 'db', 'index.js');
  const db = require(dbPath) as DynaliteDb & { [INSTALLED]?: true };
  if (db[INSTALLED]) return;
  const original = db.queryTable;
  const sizes = new WeakMap<Item, number>();
  const listedSize = (item: Item, rangeKey: string | undefined) => {
    let size = sizes.get(item);
    if (size === undefined) {
      size = db.itemSize(item, true, true, rangeKey);
      sizes.set(item, size);
    }
    return size;
  };

  db.queryTable = (store, table, data, opts, isLocal, fetchFromItemDb, startKeyNames, cb) => {
    if (fetchFromItemDb) {
      original(store, table, data, opts, isLocal, fetchFromItemDb, startKeyNames, cb);
      return;
    }
    read(store, table, data, opts, isLocal, startKeyNames).then(
      (result) => cb(null, result),
      (error: Error) => cb(error),
    );
  };

  async function read(
    store: DynaliteStore,
    table: TableDescription,
    data: QueryData,
    opts: RangeOptions,
    isLocal: boolean,
    startKeyNames: string[],
  ) {
    // The key prefixes and range rules of dynalite's sub-databases (`createPrefixedDbWrapper`).
    const prefix = data.IndexName
      ? `index-${isLocal ? 'local' : 'global'}~${data.TableName}~${data.IndexName}~`
      : `item-${data.TableName}~`;
    const range: Record<string, unknown> = { ...opts };
    if (opts.gte) range.gte = prefix + opts.gte;
    else if (opts.gt) range.gt = prefix + opts.gt;
    else range.gte = prefix;
    if (opts.lte) range.lte = prefix + opts.lte;
    else if (opts.lt) range.lt = prefix + opts.lt;
    else range.lt = `${prefix}\xFF`;

    const calculateCapacity =
      data.ReturnConsumedCapacity === 'TOTAL' || data.ReturnConsumedCapacity === 'INDEXES';
    const rangeKey = table.KeySchema[1]?.AttributeName;
    const limit = data.Limit ?? Number.POSITIVE_INFINITY;
    let tableCapacity = 0;
    let indexCapacity = 0;
    let size = 0;
    let count = 0;
    let items: Item[] = [];
    const iterator = store.db.values(range);
    try {
      reading: for (;;) {
        const batch = await iterator.nextv(1000);
        if (batch.length === 0) break;
        for (const item of batch) {
          if (count >= limit || size >= MAX_RESULT_BYTES) break reading;
          if (calculateCapacity) {
            if (data.IndexName) indexCapacity += db.itemSize(item);
            else tableCapacity += db.itemSize(item);
          }
          count++;
          size += listedSize(item, rangeKey);
          items.push(item);
        }
      }
    } finally {
      await iterator.close();
    }
    const lastItem = items[items.length - 1];

    const queryFilter = data.QueryFilter ?? data.ScanFilter;
    const filter = data._filter;
    if (filter) items = items.filter((item) => db.matchesExprFilter(item, filter.expression));
    else if (queryFilter) {
      items = items.filter((item) => db.matchesFilter(item, queryFilter, data.ConditionalOperator));
    }

    const result: Record<string, unknown> = { ScannedCount: count };
    if (count >= limit || size >= MAX_RESULT_BYTES) {
      if (data.Limit) items.splice(data.Limit);
      if (lastItem) {
        result.LastEvaluatedKey = Object.fromEntries(startKeyNames.map((name) => [name, lastItem[name]]));
      }
    }
    const paths = data._projection ? data._projection.paths : data.AttributesToGet;
    if (paths) items = items.map((item) => db.mapPaths(paths, item));

    result.Count = items.length;
    if (data.Select !== 'COUNT') result.Items = items;
    if (calculateCapacity) {
      const unit = data.ConsistentRead ? 1 : 0.5;
      const tableUnits = Math.ceil(tableCapacity / 1024 / 4) * unit;
      const indexUnits = Math.ceil(indexCapacity / 1024 / 4) * unit;
      const consumed: Record<string, unknown> = {
        CapacityUnits: tableUnits + indexUnits,
        TableName: data.TableName,
      };
      if (data.ReturnConsumedCapacity === 'INDEXES') {
        consumed.Table = { CapacityUnits: tableUnits };
        if (data.IndexName) {
          consumed[isLocal ? 'LocalSecondaryIndexes' : 'GlobalSecondaryIndexes'] = {
            [data.IndexName]: { CapacityUnits: indexUnits },
          };
        }
      }
      result.ConsumedCapacity = consumed;
    }
    return result;
  }

  db[INSTALLED] = true;
}

/** Marks dynalite's module once patched (a registry symbol: the same in every instance of this file). */
const INSTALLED = Symbol.for('runway.local-dynamodb.batched-query');
