/**
 * File-system primitives for the local S3 emulator's store. Everything that becomes visible is first
 * written completely to a temporary file on the same file system, flushed, then renamed into place:
 * rename is atomic, so a crash (of the process or the machine) leaves either the old state or the
 * new one, never half a file. Leftovers of interrupted writes are swept on the next start.
 */
import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';

/** Size of the buffer used to copy file contents: large enough for full disk throughput. */
const COPY_BUFFER_BYTES = 1024 * 1024;
/** Bytes written between the flushes started while a body still arrives (see `TempFile.writable`). */
const SYNC_AHEAD_BYTES = 4 * 1024 * 1024;

/**
 * A random 32-hex-digit identifier, safe in file names and URLs. Built on `randomUUID`, which draws
 * from a cached entropy pool: `randomBytes` per request showed up in profiles of small-object bursts.
 */
export function randomId(): string {
  return randomUUID().replace(/-/g, '');
}

/** True for a "no such file or directory" error. */
export function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ENOENT';
}

/** Removes a file, ignoring that it may already be gone. */
export async function unlinkQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Reads and parses a JSON file; `undefined` if it does not exist or is not valid JSON. */
export async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (error) {
    if (isNotFound(error) || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** Lists a directory's entry names; empty if it does not exist. */
export async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight (to bound open files on startup). */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Marks the end of a data file that carries its record: `RWS1` little-endian. */
const TRAILER_MAGIC = 0x31535752;
/** Record length (u32 LE) then magic (u32 LE). */
const TRAILER_BYTES = 8;
/** How much of a file's end is read at once when loading its record; records are ~1 KiB. */
const TAIL_READ_BYTES = 16 * 1024;

/**
 * Encodes the record that ends a data file: `<JSON><u32 LE JSON length><magic>`. An object's bytes
 * and its metadata thus live in one file that one rename publishes, so they can never disagree.
 */
export function encodeRecordTrailer(record: object): Buffer {
  const json = Buffer.from(JSON.stringify(record), 'utf8');
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.writeUInt32LE(json.length, 0);
  trailer.writeUInt32LE(TRAILER_MAGIC, 4);
  return Buffer.concat([json, trailer]);
}

/**
 * Reads the record at the end of a data file and the length of the data before it; `undefined` if
 * the file is missing or does not end with a well-formed record.
 */
export async function readRecordTrailer(
  path: string,
): Promise<{ record: unknown; dataBytes: number } | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size < TRAILER_BYTES) return undefined;
    const tailBytes = Math.min(size, TAIL_READ_BYTES);
    let tail = Buffer.alloc(tailBytes);
    await handle.read(tail, 0, tailBytes, size - tailBytes);
    if (tail.readUInt32LE(tailBytes - 4) !== TRAILER_MAGIC) return undefined;
    const jsonBytes = tail.readUInt32LE(tailBytes - TRAILER_BYTES);
    const dataBytes = size - TRAILER_BYTES - jsonBytes;
    if (dataBytes < 0) return undefined;
    if (jsonBytes + TRAILER_BYTES > tailBytes) {
      tail = Buffer.alloc(jsonBytes + TRAILER_BYTES);
      await handle.read(tail, 0, tail.length, dataBytes);
    }
    const json = tail.subarray(tail.length - TRAILER_BYTES - jsonBytes, tail.length - TRAILER_BYTES);
    return { record: JSON.parse(json.toString('utf8')) as unknown, dataBytes };
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  } finally {
    await handle.close();
  }
}

/**
 * The scratch directory for in-flight writes. It lives inside the data directory so that renames out
 * of it stay on one file system (and so stay atomic); it is emptied on every start.
 */
export class TempDir {
  constructor(readonly dir: string) {}

  /** Empties (and creates) the directory: whatever is in it belongs to writes that never finished. */
  async reset(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
  }

  /** A fresh path inside the directory. */
  path(suffix = ''): string {
    return join(this.dir, `${randomId()}${suffix}`);
  }

  /** Opens a new temporary file for writing. */
  async createFile(): Promise<TempFile> {
    const path = this.path('.tmp');
    return new TempFile(path, await open(path, 'wx'));
  }

  /** Writes `contents` to `target` atomically. */
  async writeFileAtomic(target: string, contents: string): Promise<void> {
    const file = await this.createFile();
    try {
      await file.handle.writeFile(contents, 'utf8');
      await file.seal();
      await rename(file.path, target);
    } catch (error) {
      await file.discard();
      throw error;
    }
  }

  /** Removes a directory tree, first moving it aside so it vanishes at once rather than file by file. */
  async removeTree(path: string): Promise<void> {
    const aside = this.path('.rm');
    try {
      await rename(path, aside);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    await rm(aside, { recursive: true, force: true });
  }
}

/** A temporary file being written; {@link seal} it before renaming it into place. */
export class TempFile {
  private open = true;
  /** A flush started while the body was still arriving, which must end before the file closes. */
  private syncAhead: Promise<void> | undefined;
  private syncFailure: unknown;

  constructor(
    readonly path: string,
    readonly handle: FileHandle,
  ) {}

  /**
   * A stream writing to the file. It leaves the handle open, so that {@link seal} can flush it; a
   * `FileHandle.createWriteStream` with `autoClose: false` would instead hold a reference that
   * makes `close()` wait forever.
   */
  writable(): Writable {
    const handle = this.handle;
    // Clients send bodies in small pieces (Python's http.client writes 8 KiB at a time, a socket
    // read brings at most 64 KiB): they are copied into a staging buffer and written one MiB at a
    // time, through two buffers reused for the whole body, so a piece is let go as soon as it is
    // copied. Every few MiB written, a flush to disk starts while the rest arrives (`syncEarly`):
    // a 20 MB body that waited for one flush of it all at the end took some 40 % longer here.
    let staging: Buffer = Buffer.allocUnsafeSlow(COPY_BUFFER_BYTES);
    let used = 0;
    let spare: Buffer | undefined;
    let unsynced = 0;
    const flush = (callback: (error?: Error | null) => void): void => {
      const full = staging.subarray(0, used);
      const written = staging;
      staging = spare ?? Buffer.allocUnsafeSlow(COPY_BUFFER_BYTES);
      spare = undefined;
      used = 0;
      writeAll(handle, full).then(() => {
        spare = written;
        unsynced += full.length;
        if (unsynced >= SYNC_AHEAD_BYTES && this.syncEarly()) unsynced = 0;
        callback();
      }, callback);
    };
    return new Writable({
      highWaterMark: COPY_BUFFER_BYTES,
      write(chunk: Buffer, _encoding, callback) {
        let offset = 0;
        const step = (error?: Error | null): void => {
          if (error) {
            callback(error);
            return;
          }
          while (offset < chunk.length) {
            const n = chunk.copy(staging, used, offset);
            used += n;
            offset += n;
            if (used === staging.length) {
              flush(step);
              return;
            }
          }
          callback();
        };
        step();
      },
      final(callback) {
        if (used === 0) callback();
        else flush(callback);
      },
    });
  }

  /**
   * Starts flushing what is written so far while the rest of the body arrives, unless a flush is
   * already under way: the flush in {@link seal} then waits for the last few MiB only, not for the
   * whole file. True when one was started.
   */
  private syncEarly(): boolean {
    if (!this.open || this.syncAhead) return false;
    this.syncAhead = this.handle.datasync().then(
      () => {
        this.syncAhead = undefined;
      },
      (error: unknown) => {
        this.syncAhead = undefined;
        this.syncFailure ??= error;
      },
    );
    return true;
  }

  /**
   * Appends `record` (see {@link readRecordTrailer}), flushes the contents to stable storage and
   * closes the file, ready to be renamed into place.
   */
  async seal(record?: object): Promise<void> {
    await this.syncAhead;
    if (this.syncFailure) throw this.syncFailure;
    if (record !== undefined) await writeAll(this.handle, encodeRecordTrailer(record));
    await this.handle.datasync();
    await this.close();
  }

  /** Closes and deletes the file after a failed write. Never throws. */
  async discard(): Promise<void> {
    await this.syncAhead;
    await this.close().catch(() => undefined);
    await unlinkQuietly(this.path).catch(() => undefined);
  }

  private async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.handle.close();
  }
}

/**
 * Appends `source` (all of it, or the inclusive byte `range`) to `target` through one reusable
 * buffer (bounded memory whatever the size), calling `onChunk` on every block, e.g. to hash it.
 * Returns the number of bytes copied.
 */
export async function appendFileContents(
  source: FileHandle,
  target: FileHandle,
  onChunk?: (chunk: Buffer) => void,
  range: { start: number; end: number } = { start: 0, end: Number.MAX_SAFE_INTEGER },
): Promise<number> {
  const buffer = Buffer.allocUnsafe(COPY_BUFFER_BYTES);
  let position = range.start;
  while (position <= range.end) {
    const wanted = Math.min(buffer.length, range.end - position + 1);
    const { bytesRead } = await source.read(buffer, 0, wanted, position);
    if (bytesRead === 0) break;
    const chunk = buffer.subarray(0, bytesRead);
    onChunk?.(chunk);
    await writeAll(target, chunk);
    position += bytesRead;
  }
  return position - range.start;
}

/** Writes all of `chunk` (a single write may be partial). */
async function writeAll(target: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await target.write(chunk, offset, chunk.length - offset, null);
    offset += bytesWritten;
  }
}
