import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** memory-level's class, as far as this store uses it (it ships no types of its own here). */
interface MemoryLevelBase {
  _open(options: unknown): Promise<void>;
  _close(): Promise<void>;
  _put(key: string, value: StoredValue, options: unknown): Promise<void>;
  _del(key: string, options: unknown): Promise<void>;
  _batch(operations: BatchOperation[], options: unknown): Promise<void>;
  _clear(options: unknown): Promise<void>;
  // abstract-level's public API, which dynalite calls.
  open(): Promise<void>;
  close(): Promise<void>;
  get(key: string): Promise<StoredValue>;
  put(key: string, value: StoredValue): Promise<void>;
  del(key: string): Promise<void>;
  batch(operations: BatchOperation[]): Promise<void>;
}
/** A value as dynalite hands it over: a JSON-compatible object (an item, a table description). */
type StoredValue = unknown;
type BatchOperation = { type: 'put'; key: string; value: StoredValue } | { type: 'del'; key: string };
type MemoryLevelClass = new (options: Record<string, unknown>) => MemoryLevelBase;

const { MemoryLevel } = require('memory-level') as { MemoryLevel: MemoryLevelClass };

/** Set on {@link LoggedMemoryLevel}: a registry symbol, so it is the same in every module instance. */
export const STORE_MARKER = Symbol.for('runway.local-dynamodb.logged-memory-level');

/** The files of a store directory. */
export const STORE_FILES = { snapshot: 'data.jsonl', log: 'writes.jsonl' } as const;

/** Values pass through the store as they are (the format only satisfies abstract-level). */
const OBJECT_ENCODING = {
  name: 'runway-object',
  format: 'utf8',
  encode: (value: unknown) => value,
  decode: (value: unknown) => value,
};

/**
 * The log is folded into the snapshot when it passes this size or the snapshot's, whichever is
 * larger (and at every clean close): a fold rewrites the whole snapshot, so a store of a hundred
 * thousand runs (a gigabyte) would otherwise spend its time folding.
 */
const COMPACT_LOG_BYTES = 64 * 1024 * 1024;

/** How much of a store file is read at a time (a file may be larger than a string can be). */
const READ_CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * The storage engine under the local DynamoDB emulator (dynalite): an in-memory sorted store
 * (memory-level) whose every write is appended to a log file before it is acknowledged, and which
 * is rebuilt from a snapshot plus that log on open. It replaces LevelDB (classic-level), whose
 * per-operation cost on the main thread was most of the emulator's time: a `log-batch` of 1,000
 * metrics spent about 110 ms in LevelDB reads alone (CPU profile, `npm run bench -- tracking`).
 *
 * Durability is a process crash's, not a power cut's: each write reaches the operating system
 * (`write(2)`) before dynalite answers, as LevelDB without `sync` did. Writes are gathered and
 * written together just before any response leaves the emulator ({@link flushLoggedStores}, called
 * by `startDynamoEmulator`), and at the latest on the next turn of the event loop: one system call
 * for a 25-item BatchWriteItem instead of 25. A torn last line (a crash in the middle of a write)
 * is dropped on open. Data directories written by LevelDB are migrated on
 * first open, and their files moved to `leveldb-migrated/`.
 */
export class LoggedMemoryLevel extends MemoryLevel {
  /** Marks the class across evaluations of this module (see `useLoggedMemoryStore`). */
  static readonly [STORE_MARKER] = true;
  private readonly directory: string;
  private fd: number | undefined;
  private logBytes = 0;
  /** The snapshot's size after the last fold (see {@link COMPACT_LOG_BYTES}). */
  private snapshotBytes = 0;
  /** Log lines not yet written, and whether a write of them is scheduled. */
  private pending: string[] = [];
  private flushScheduled = false;

  constructor(location: string, options: Record<string, unknown> = {}) {
    // dynalite asks for JSON values. They are kept as the objects themselves (no JSON round trip on
    // every read: that was a fifth of a 500-run Query), and only the log holds their JSON text.
    // dynalite never changes an item it read (UpdateItem works on a deep clone), so sharing is safe;
    // a table description it changes (a status) it writes back at once.
    super({ ...options, valueEncoding: OBJECT_ENCODING, storeEncoding: 'utf8' });
    this.directory = location;
  }

  override async _open(options: unknown): Promise<void> {
    await super._open(options);
    mkdirSync(this.directory, { recursive: true });
    const migrated = await this.migrateLevelDb();
    const entries = migrated ?? this.readFiles();
    await super._batch(
      [...entries].map(([key, value]) => ({ type: 'put', key, value })),
      {},
    );
    // A start after a clean stop has nothing to fold: it only opens the (empty) log.
    const log = path.join(this.directory, STORE_FILES.log);
    const clean =
      !migrated && existsSync(path.join(this.directory, STORE_FILES.snapshot)) && fileSize(log) === 0;
    if (clean) {
      this.fd = openSync(log, 'a');
      this.snapshotBytes = fileSize(path.join(this.directory, STORE_FILES.snapshot));
    } else this.compact(entries);
    openStores.add(this);
  }

  override async _put(key: string, value: StoredValue, options: unknown): Promise<void> {
    this.append(['p', key, value]);
    await super._put(key, value, options);
  }

  override async _del(key: string, options: unknown): Promise<void> {
    this.append(['d', key]);
    await super._del(key, options);
  }

  override async _batch(operations: BatchOperation[], options: unknown): Promise<void> {
    this.append(['b', operations.map((op) => (op.type === 'put' ? [op.key, op.value] : [op.key]))]);
    await super._batch(operations, options);
  }

  override async _clear(): Promise<void> {
    // dynalite deletes by key (a batch of dels); a range clear would need its range in the log.
    throw new Error('clear() is not supported by the local DynamoDB store');
  }

  override async _close(): Promise<void> {
    openStores.delete(this);
    if (this.fd !== undefined) {
      this.writePending();
      if (this.logBytes > 0) this.compact();
      closeSync(this.fd);
    }
    this.fd = undefined;
    await super._close();
  }

  /** Queues one operation for the log (see {@link flush}). */
  private append(entry: unknown): void {
    if (this.fd === undefined) throw new Error('the local DynamoDB store is not open');
    this.pending.push(`${JSON.stringify(entry)}\n`);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes the queued operations to the log: they are in the operating system's hands on return. */
  flush(): void {
    this.flushScheduled = false;
    this.writePending();
    if (this.logBytes > Math.max(COMPACT_LOG_BYTES, this.snapshotBytes)) this.compact();
  }

  private writePending(): void {
    if (this.pending.length === 0 || this.fd === undefined) return;
    const data = Buffer.from(this.pending.join(''));
    this.pending = [];
    let written = 0;
    while (written < data.length) written += writeSync(this.fd, data, written);
    this.logBytes += data.length;
  }

  /** The snapshot, then the log replayed over it (a torn last line is dropped). */
  private readFiles(): Map<string, StoredValue> {
    const entries = new Map<string, StoredValue>();
    for (const line of readLines(path.join(this.directory, STORE_FILES.snapshot))) {
      const [key, value] = JSON.parse(line) as [string, StoredValue];
      entries.set(key, value);
    }
    for (const line of readLines(path.join(this.directory, STORE_FILES.log))) {
      let entry: ['p', string, StoredValue] | ['d', string] | ['b', ([string, StoredValue] | [string])[]];
      try {
        entry = JSON.parse(line);
      } catch {
        break; // a write torn by a crash: everything before it was acknowledged, it was not
      }
      if (entry[0] === 'p') entries.set(entry[1], entry[2]);
      else if (entry[0] === 'd') entries.delete(entry[1]);
      else
        for (const op of entry[1]) {
          if (op.length === 2) entries.set(op[0], op[1]);
          else entries.delete(op[0]);
        }
    }
    return entries;
  }

  /**
   * Folds the log into a new snapshot (written to a temporary file, synced, then renamed over the
   * old one) and starts an empty log, so a crash at any point leaves a readable pair of files. It
   * works from the files, synchronously, so no write can slip in between.
   */
  private compact(entries?: Map<string, StoredValue>): void {
    this.writePending();
    entries ??= this.readFiles();
    const snapshot = path.join(this.directory, STORE_FILES.snapshot);
    const temporary = `${snapshot}.tmp`;
    const fd = openSync(temporary, 'w');
    try {
      let chunk: string[] = [];
      for (const [key, value] of entries) {
        chunk.push(`${JSON.stringify([key, value])}\n`);
        if (chunk.length >= 1000) {
          writeSync(fd, chunk.join(''));
          chunk = [];
        }
      }
      writeSync(fd, chunk.join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, snapshot);
    this.snapshotBytes = fileSize(snapshot);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = openSync(path.join(this.directory, STORE_FILES.log), 'w');
    this.logBytes = 0;
  }

  /** Reads a data directory LevelDB wrote (Runway before this store), once. */
  private async migrateLevelDb(): Promise<Map<string, StoredValue> | undefined> {
    if (!existsSync(path.join(this.directory, 'CURRENT'))) return undefined;
    if (existsSync(path.join(this.directory, STORE_FILES.snapshot))) return undefined;
    const entries = await readLevelDb(this.directory);
    const moved = path.join(this.directory, 'leveldb-migrated');
    mkdirSync(moved, { recursive: true });
    for (const name of readdirSync(this.directory)) {
      if (name === 'leveldb-migrated' || name.endsWith('.jsonl')) continue;
      renameSync(path.join(this.directory, name), path.join(moved, name));
    }
    return entries;
  }
}

/** The stores open in this process. */
const openStores = new Set<LoggedMemoryLevel>();

/** Writes every open store's queued operations to its log (before the emulator answers anything). */
export function flushLoggedStores(): void {
  for (const store of openStores) store.flush();
}

function fileSize(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

/**
 * The complete lines of a file, read a chunk at a time (a snapshot of 100,000 runs passes the
 * longest string V8 can make, 512 MB); what follows the last newline (nothing, or a torn write) is
 * not a line. A newline byte never occurs inside a multi-byte UTF-8 character, so splitting bytes
 * at it splits no character.
 */
export function* readLines(file: string, chunkBytes = READ_CHUNK_BYTES): Generator<string> {
  if (fileSize(file) === 0) return;
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(chunkBytes);
    let rest = Buffer.alloc(0);
    for (;;) {
      const read = readSync(fd, buffer, 0, chunkBytes, null);
      if (read === 0) return;
      const chunk =
        rest.length === 0 ? buffer.subarray(0, read) : Buffer.concat([rest, buffer.subarray(0, read)]);
      let start = 0;
      for (let end = chunk.indexOf(10, start); end !== -1; end = chunk.indexOf(10, start)) {
        yield chunk.toString('utf8', start, end);
        start = end + 1;
      }
      rest = Buffer.from(chunk.subarray(start)); // a copy: the buffer is read into again
    }
  } finally {
    closeSync(fd);
  }
}

/** Every entry of a LevelDB directory (classic-level, which dynalite's `level` still installs). */
async function readLevelDb(directory: string): Promise<Map<string, StoredValue>> {
  const levelDir = path.dirname(
    require.resolve('level', { paths: [path.dirname(require.resolve('dynalite'))] }),
  );
  const { ClassicLevel } = require(require.resolve('classic-level', { paths: [levelDir] })) as {
    ClassicLevel: new (
      location: string,
      options: Record<string, unknown>,
    ) => { iterator(): AsyncIterable<[string, string]>; close(): Promise<void> };
  };
  const db = new ClassicLevel(directory, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  const entries = new Map<string, StoredValue>();
  try {
    for await (const [key, value] of db.iterator()) entries.set(key, JSON.parse(value));
  } finally {
    await db.close();
  }
  return entries;
}
