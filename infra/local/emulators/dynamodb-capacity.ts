import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

/** The parts of dynalite's `db` module and store used here. */
interface DynaliteDb {
  itemSize(item: Item): number;
  createKey(item: Item, table: TableDescription): string;
}
export interface DynaliteStore {
  getTable(
    name: string,
    checkStatus: boolean,
    callback: (error: Error | null, table?: TableDescription) => void,
  ): void;
  getItemDb(name: string): { get(key: string, callback: (error: Error | null, item?: Item) => void): void };
}
interface TableDescription {
  TableName: string;
  KeySchema: Array<{ AttributeName: string }>;
  GlobalSecondaryIndexes?: Array<{
    IndexName: string;
    KeySchema: Array<{ AttributeName: string }>;
    Projection: { ProjectionType: string; NonKeyAttributes?: string[] };
  }>;
}

/** dynalite's `db` module, loaded on first use (the emulator chooses dynalite's store before it loads). */
let dynaliteDb: DynaliteDb | undefined;
const db = (): DynaliteDb => {
  dynaliteDb ??= require(
    path.join(path.dirname(require.resolve('dynalite')), 'db', 'index.js'),
  ) as DynaliteDb;
  return dynaliteDb;
};

/** DynamoDB adds this to an item's size in a secondary index (its storage and its writes). */
const INDEX_ITEM_OVERHEAD = 100;
const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

/** Read and write request units, as on-demand DynamoDB bills them. */
export interface ConsumedCapacity {
  read: number;
  write: number;
}

/**
 * Counts the read and write request units each request would be billed on DynamoDB, from the
 * items it reads and writes (`CapacityUnitCalculations` in the DynamoDB guide):
 * - reads: 4 KB units, halved for eventually consistent reads; a read by key of a missing item and
 *   an empty Query still cost the minimum; a Query or Scan charges the items it reads (before its
 *   filter) together, a BatchGetItem each item on its own; an index read charges its entries;
 * - writes: 1 KB units of the larger of the item before and after; each global secondary index the
 *   write touches adds its entry's units (entry size: the projected attributes and 100 bytes), twice
 *   when the entry's key changes (a delete and a put), nothing when its projection is unchanged; a
 *   write whose condition fails still costs the item's units.
 * Read units come from dynalite's own accounting (asked for on every read, and removed from the
 * answer unless the client asked); write units from the items themselves, read around the write.
 */
export class CapacityMeter {
  readonly consumed: ConsumedCapacity = { read: 0, write: 0 };

  constructor(private readonly store: DynaliteStore) {}

  /** Runs one request's action, counting its units; `data` is the validated request. */
  async measure<T extends { statusCode: number; result: Record<string, unknown> | undefined }>(
    operation: string,
    data: Record<string, unknown>,
    run: () => Promise<T>,
  ): Promise<T> {
    if (READS.has(operation)) return this.measureRead(data, run);
    if (WRITES.has(operation)) return this.measureWrite(operation, data, run);
    return run();
  }

  private async measureRead<T extends { statusCode: number; result: Record<string, unknown> | undefined }>(
    data: Record<string, unknown>,
    run: () => Promise<T>,
  ): Promise<T> {
    const asked = data.ReturnConsumedCapacity;
    if (asked !== 'TOTAL' && asked !== 'INDEXES') data.ReturnConsumedCapacity = 'TOTAL';
    const answer = await run();
    const consumed = answer.result?.ConsumedCapacity as
      | { CapacityUnits?: number }
      | Array<{ CapacityUnits?: number }>
      | undefined;
    const units = Array.isArray(consumed)
      ? consumed.reduce((sum, table) => sum + (table.CapacityUnits ?? 0), 0)
      : (consumed?.CapacityUnits ?? 0);
    // A Query or Scan that reads nothing still costs the smallest read.
    this.consumed.read += Math.max(units, data.ConsistentRead ? 1 : 0.5);
    if (asked !== 'TOTAL' && asked !== 'INDEXES' && answer.result) delete answer.result.ConsumedCapacity;
    return answer;
  }

  private async measureWrite<T extends { statusCode: number; result: Record<string, unknown> | undefined }>(
    operation: string,
    data: Record<string, unknown>,
    run: () => Promise<T>,
  ): Promise<T> {
    const targets = writeTargets(operation, data);
    const tables = new Map<string, TableDescription>();
    for (const { table } of targets) {
      if (!tables.has(table)) {
        const description = await this.table(table);
        if (!description) return run();
        tables.set(table, description);
      }
    }
    const keyed = targets.map((target) => {
      const table = tables.get(target.table) as TableDescription;
      return { table, key: db().createKey(target.key, table) };
    });
    const before = await Promise.all(keyed.map(({ table, key }) => this.item(table.TableName, key)));
    const answer = await run();
    if (answer.statusCode !== 200) {
      // A failed condition is billed as the write would have been; other refusals cost nothing.
      const failed = JSON.stringify(answer.result ?? {}).includes('ConditionalCheckFailed');
      if (failed) this.consumed.write += Math.max(1, ...before.map((item) => units(item, 1024)));
      return answer;
    }
    const after = await Promise.all(keyed.map(({ table, key }) => this.item(table.TableName, key)));
    keyed.forEach(({ table }, i) => {
      this.consumed.write += writeUnits(table, before[i], after[i]);
    });
    return answer;
  }

  private table(name: string): Promise<TableDescription | undefined> {
    return new Promise((resolve) =>
      this.store.getTable(name, false, (error, table) => resolve(error ? undefined : table)),
    );
  }

  private item(table: string, key: string): Promise<Item | undefined> {
    return new Promise((resolve) =>
      this.store.getItemDb(table).get(key, (error, item) => resolve(error ? undefined : item)),
    );
  }
}

/** The items a write names: each with its table and key attributes. */
function writeTargets(operation: string, data: Record<string, unknown>): Array<{ table: string; key: Item }> {
  if (operation === 'BatchWriteItem') {
    const requests = (data.RequestItems ?? {}) as Record<
      string,
      Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>
    >;
    return Object.entries(requests).flatMap(([table, writes]) =>
      writes.map((write) => ({ table, key: (write.PutRequest?.Item ?? write.DeleteRequest?.Key) as Item })),
    );
  }
  const key = (operation === 'PutItem' ? data.Item : data.Key) as Item;
  return [{ table: String(data.TableName), key }];
}

/** The units of one item write: the table's, and each global secondary index's. */
function writeUnits(table: TableDescription, before: Item | undefined, after: Item | undefined): number {
  let total = Math.max(1, units(before, 1024), units(after, 1024));
  for (const index of table.GlobalSecondaryIndexes ?? []) {
    const old = before && entry(before, table, index);
    const next = after && entry(after, table, index);
    if (!old && !next) continue;
    const oldKey = old && keyOf(old, index);
    const nextKey = next && keyOf(next, index);
    if (old && next && oldKey === nextKey) {
      // An update of the entry in place, billed only when what it holds changed.
      if (JSON.stringify(old) !== JSON.stringify(next)) total += Math.max(entryUnits(old), entryUnits(next));
      continue;
    }
    if (old) total += entryUnits(old);
    if (next) total += entryUnits(next);
  }
  return total;
}

/** The item's entry in an index: its projected attributes, or nothing if it lacks the index keys. */
function entry(
  item: Item,
  table: TableDescription,
  index: NonNullable<TableDescription['GlobalSecondaryIndexes']>[number],
): Item | undefined {
  const indexKeys = index.KeySchema.map((key) => key.AttributeName);
  if (!indexKeys.every((name) => item[name] !== undefined)) return undefined;
  if (index.Projection.ProjectionType === 'ALL') return item;
  const names = [
    ...indexKeys,
    ...table.KeySchema.map((key) => key.AttributeName),
    ...(index.Projection.NonKeyAttributes ?? []),
  ];
  return Object.fromEntries(
    names.filter((name) => item[name] !== undefined).map((name) => [name, item[name] as AttributeValue]),
  );
}

function keyOf(entry: Item, index: NonNullable<TableDescription['GlobalSecondaryIndexes']>[number]): string {
  return JSON.stringify(index.KeySchema.map((key) => entry[key.AttributeName]));
}

function entryUnits(entry: Item): number {
  return Math.ceil((db().itemSize(entry) + INDEX_ITEM_OVERHEAD) / 1024);
}

function units(item: Item | undefined, unit: number): number {
  return item ? Math.ceil(db().itemSize(item) / unit) : 0;
}
