/**
 * The persistent store behind the local S3 emulator: buckets and objects as files under the data
 * directory, plus an in-memory sorted index for listing, rebuilt from the files on start.
 *
 * Layout (keys never become paths: any key, `a` beside `a/b`, `%`, unicode or 1,024 bytes deep, maps
 * to the SHA-256 of its UTF-8 bytes, fanned out over 256 directories):
 *
 * ```
 * <dataDir>/format.json                           layout version
 * <dataDir>/tmp/                                  in-flight writes; emptied on start
 * <dataDir>/buckets/<bucket>/bucket.json          { name, created }
 * <dataDir>/buckets/<bucket>/objects/<h0h1>/<h>   the object's bytes, then its record (key, size,
 *                                                 ETag, headers, ...) as a trailer (s3-fs.ts)
 * ```
 *
 * One file per object, written in `tmp/`, flushed, then renamed over the previous version: bytes and
 * metadata are published together by one atomic rename, so a crash can never expose half an object
 * or metadata that disagrees with its bytes, and leaves no orphans outside `tmp/`. It also keeps a
 * small PUT to six file-system calls, which matters on slow virtualised disks.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, rename } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type { Checksums } from './s3-body.ts';
import { S3Errors } from './s3-errors.ts';
import {
  forEachLimited,
  listDir,
  readJson,
  readRecordTrailer,
  TempDir,
  type TempFile,
  unlinkQuietly,
} from './s3-fs.ts';
import { type ListPage, type ListQuery, listKeys, SortedKeys } from './s3-keys.ts';
import { KeyedLock } from './s3-lock.ts';

const FORMAT = { format: 'runway-s3-emulator', version: 1 } as const;
/** Files opened at once while loading the index on start. */
const LOAD_CONCURRENCY = 32;

/** A bucket as listed. */
export interface BucketInfo {
  readonly name: string;
  /** Creation time, ms since the epoch. */
  readonly created: number;
}

/** Everything known about a stored object. */
export interface ObjectRecord {
  readonly key: string;
  readonly size: number;
  /** S3's ETag, quoted: `"<md5 hex>"`, or `"<md5 of part md5s>-<n>"` after a multipart upload. */
  readonly etag: string;
  /** ms since the epoch. */
  readonly lastModified: number;
  /** Stored representation headers (`content-type`, ...) and `x-amz-meta-*`, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly checksums: Checksums;
  /** Number of parts, for objects made by a multipart upload. */
  readonly partsCount?: number | undefined;
}

/** What a writer supplies for a new object; the store adds the key and the time. */
export type NewObject = Omit<ObjectRecord, 'key' | 'lastModified'>;

/** Conditions checked atomically with the write (S3's conditional writes). */
export interface WriteConditions {
  /** `If-None-Match: *`: fail if the key exists. */
  readonly ifNoneMatch?: string | undefined;
  /** `If-Match: <etag>`: fail unless the key exists with this ETag. */
  readonly ifMatch?: string | undefined;
}

interface BucketState {
  readonly info: BucketInfo;
  readonly dir: string;
  readonly objects: Map<string, ObjectRecord>;
  readonly keys: SortedKeys;
  /** Writes past their bucket check and not yet finished; DeleteBucket refuses while any run. */
  pendingWrites: number;
}

/** S3's bucket naming rules (the current ones, without the legacy us-east-1 leniency). */
export function isValidBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !name.startsWith('xn--')
  );
}

/** S3 keys are at most 1,024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

function keyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Compares ETags the way HTTP preconditions do: quotes optional, `*` matches anything. */
export function etagMatches(condition: string, etag: string): boolean {
  const bare = etag.replace(/"/g, '');
  return condition.split(',').some((candidate) => {
    const c = candidate.trim().replace(/^W\//, '').replace(/"/g, '');
    return c === '*' || c === bare;
  });
}

/** The persistent bucket and object store. Create with {@link S3Store.open}. */
export class S3Store {
  private readonly buckets = new Map<string, BucketState>();
  private readonly locks = new KeyedLock();
  /** Fan-out directories known to exist, to spare a `mkdir` per write. */
  private readonly knownDirs = new Set<string>();

  private constructor(
    readonly root: string,
    readonly temp: TempDir,
  ) {}

  /** Opens (creating if needed) the store in `dataDir`, sweeping leftovers and loading the index. */
  static async open(dataDir: string): Promise<S3Store> {
    await mkdir(dataDir, { recursive: true });
    const store = new S3Store(dataDir, new TempDir(join(dataDir, 'tmp')));
    await store.temp.reset();
    await store.checkFormat();
    await mkdir(store.bucketsDir, { recursive: true });
    for (const name of (await listDir(store.bucketsDir)).sort()) await store.loadBucket(name);
    return store;
  }

  private get bucketsDir(): string {
    return join(this.root, 'buckets');
  }

  private async checkFormat(): Promise<void> {
    const path = join(this.root, 'format.json');
    const found = (await readJson(path)) as { format?: unknown; version?: unknown } | undefined;
    if (found === undefined) {
      await this.temp.writeFileAtomic(path, JSON.stringify(FORMAT));
    } else if (found.format !== FORMAT.format || found.version !== FORMAT.version) {
      throw new Error(
        `${this.root} holds data of another format (${JSON.stringify(found)}); refusing to use it`,
      );
    }
  }

  private async loadBucket(name: string): Promise<void> {
    const dir = join(this.bucketsDir, name);
    const info = (await readJson(join(dir, 'bucket.json'))) as BucketInfo | undefined;
    if (info?.name !== name || typeof info.created !== 'number') {
      // A bucket directory without its record was never fully created (or was half deleted).
      await this.temp.removeTree(dir);
      return;
    }
    const state: BucketState = { info, dir, objects: new Map(), keys: new SortedKeys(), pendingWrites: 0 };
    const fans = await listDir(join(dir, 'objects'));
    await forEachLimited(fans, LOAD_CONCURRENCY, (fan) => this.loadFan(state, join(dir, 'objects', fan)));
    state.keys.reset(state.objects.keys());
    this.buckets.set(name, state);
  }

  /** Loads the objects of one fan-out directory into the bucket's index. */
  private async loadFan(bucket: BucketState, fanDir: string): Promise<void> {
    for (const name of (await listDir(fanDir)).filter((n) => /^[0-9a-f]{64}$/.test(n))) {
      const found = await readRecordTrailer(join(fanDir, name));
      const record = parseObjectRecord(found?.record);
      // Only a file whose record names this very key and length is an object; anything else is ignored.
      if (record && keyHash(record.key) === name && record.size === found?.dataBytes) {
        bucket.objects.set(record.key, record);
      }
    }
  }

  /** All buckets, by name. */
  listBuckets(): BucketInfo[] {
    return [...this.buckets.values()].map((b) => b.info).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Throws `NoSuchBucket` unless the bucket exists. */
  requireBucket(name: string): BucketInfo {
    return this.bucketState(name).info;
  }

  private bucketState(name: string): BucketState {
    const bucket = this.buckets.get(name);
    if (!bucket) throw S3Errors.noSuchBucket(name);
    return bucket;
  }

  /** Creates a bucket; `BucketAlreadyOwnedByYou` if it exists, `InvalidBucketName` if misnamed. */
  async createBucket(name: string): Promise<void> {
    if (!isValidBucketName(name)) throw S3Errors.invalidBucketName(name);
    await this.locks.run(`b\0${name}`, async () => {
      if (this.buckets.has(name)) throw S3Errors.bucketAlreadyOwnedByYou(name);
      const info: BucketInfo = { name, created: Date.now() };
      const staging = this.temp.path('.bucket');
      await mkdir(join(staging, 'objects'), { recursive: true });
      await this.temp.writeFileAtomic(join(staging, 'bucket.json'), JSON.stringify(info));
      const dir = join(this.bucketsDir, name);
      await rename(staging, dir);
      this.buckets.set(name, { info, dir, objects: new Map(), keys: new SortedKeys(), pendingWrites: 0 });
    });
  }

  /** Deletes an empty bucket; `BucketNotEmpty` while it holds objects or writes are landing. */
  async deleteBucket(name: string): Promise<void> {
    await this.locks.run(`b\0${name}`, async () => {
      const bucket = this.bucketState(name);
      if (bucket.objects.size > 0 || bucket.pendingWrites > 0) throw S3Errors.bucketNotEmpty(name);
      this.buckets.delete(name);
      for (const dir of this.knownDirs) if (dir.startsWith(`${bucket.dir}${sep}`)) this.knownDirs.delete(dir);
      await this.temp.removeTree(bucket.dir);
    });
  }

  /** The record of an object; throws `NoSuchBucket` or `NoSuchKey`. */
  getObject(bucketName: string, key: string): ObjectRecord {
    const record = this.bucketState(bucketName).objects.get(key);
    if (!record) throw S3Errors.noSuchKey(key);
    return record;
  }

  /**
   * Opens an object for reading, with the record that describes exactly the bytes opened: the lookup
   * and the open happen under the key's lock, which writers hold while they swap the file. The handle
   * stays valid if the object is replaced or deleted later (the old file is only unlinked), so a
   * download always sees one version. Read only `record.size` bytes: the record trails them. The
   * caller must close the handle.
   */
  async openObject(bucketName: string, key: string): Promise<{ record: ObjectRecord; handle: FileHandle }> {
    const bucket = this.bucketState(bucketName);
    return this.locks.run(`o\0${bucketName}\0${key}`, async () => {
      const record = this.getObject(bucketName, key);
      return { record, handle: await open(this.objectPath(bucket, key), 'r') };
    });
  }

  private objectPath(bucket: BucketState, key: string): string {
    const hash = keyHash(key);
    return join(bucket.dir, 'objects', hash.slice(0, 2), hash);
  }

  /** One page of keys, with their records, as ListObjects(V2) needs. */
  list(bucketName: string, query: ListQuery): ListPage & { records: ObjectRecord[] } {
    const bucket = this.bucketState(bucketName);
    const page = listKeys(bucket.keys.view(), query);
    return { ...page, records: page.keys.map((key) => bucket.objects.get(key) as ObjectRecord) };
  }

  /**
   * Makes the temporary `file` (holding the object's bytes, not yet sealed) the contents of `key`:
   * appends the record, flushes, then, under the key's lock and once `conditions` hold against the
   * current version, renames it over that version. On failure the caller discards `file`.
   */
  async putObject(
    bucketName: string,
    key: string,
    file: TempFile,
    object: NewObject,
    conditions: WriteConditions = {},
  ): Promise<ObjectRecord> {
    const bucket = this.bucketState(bucketName);
    bucket.pendingWrites += 1;
    try {
      const record: ObjectRecord = { ...object, key, lastModified: Date.now() };
      await file.seal(record); // Outside the lock: flushing a large file takes a while.
      return await this.locks.run(`o\0${bucketName}\0${key}`, async () => {
        if (this.buckets.get(bucketName) !== bucket) throw S3Errors.noSuchBucket(bucketName);
        checkWriteConditions(key, bucket.objects.get(key), conditions);
        const path = this.objectPath(bucket, key);
        await this.ensureDir(dirname(path));
        await rename(file.path, path);
        bucket.objects.set(key, record);
        bucket.keys.add(key);
        return record;
      });
    } finally {
      bucket.pendingWrites -= 1;
    }
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.knownDirs.add(dir);
  }

  /** Deletes an object; a missing key is not an error (S3 answers 204 either way). */
  async deleteObject(bucketName: string, key: string): Promise<void> {
    const bucket = this.bucketState(bucketName);
    await this.locks.run(`o\0${bucketName}\0${key}`, async () => {
      if (!bucket.objects.has(key)) return;
      await unlinkQuietly(this.objectPath(bucket, key));
      bucket.objects.delete(key);
      bucket.keys.delete(key);
    });
  }
}

function checkWriteConditions(
  key: string,
  current: ObjectRecord | undefined,
  conditions: WriteConditions,
): void {
  if (conditions.ifNoneMatch !== undefined && current && etagMatches(conditions.ifNoneMatch, current.etag)) {
    throw S3Errors.preconditionFailed('If-None-Match');
  }
  if (conditions.ifMatch !== undefined && !(current && etagMatches(conditions.ifMatch, current.etag))) {
    throw current ? S3Errors.preconditionFailed('If-Match') : S3Errors.noSuchKey(key);
  }
}

/** Validates a record read from disk; `undefined` if it is not one. */
function parseObjectRecord(value: unknown): ObjectRecord | undefined {
  const r = value as Partial<ObjectRecord> | undefined;
  const valid =
    typeof r === 'object' &&
    r !== null &&
    typeof r.key === 'string' &&
    typeof r.size === 'number' &&
    typeof r.etag === 'string' &&
    typeof r.lastModified === 'number' &&
    typeof r.headers === 'object' &&
    typeof r.checksums === 'object';
  return valid ? (r as ObjectRecord) : undefined;
}
