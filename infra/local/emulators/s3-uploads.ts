/**
 * Multipart uploads for the local S3 emulator, persisted like objects so that an upload of many
 * gigabytes survives a restart of the local runtime:
 *
 * ```
 * <dataDir>/uploads/<uploadId>/upload.json    { bucket, key, initiated, headers, ... }
 * <dataDir>/uploads/<uploadId>/<nnnnn>        part nnnnn's bytes, then its record (size, ETag, ...)
 * ```
 *
 * Parts are published like objects (one file, one atomic rename; see s3-store.ts). Completion
 * streams the parts, in order, into one new file through a fixed buffer (never holding an object in
 * memory) and hands it to the object store; the upload's directory is then removed.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, type Checksums } from './s3-body.ts';
import { S3Errors } from './s3-errors.ts';
import {
  appendFileContents,
  forEachLimited,
  listDir,
  randomId,
  readJson,
  readRecordTrailer,
  type TempDir,
  type TempFile,
} from './s3-fs.ts';
import { compareKeys } from './s3-keys.ts';
import { KeyedLock } from './s3-lock.ts';
import type { ObjectRecord, S3Store, WriteConditions } from './s3-store.ts';

/** S3's limits: parts are numbered 1..10,000 and all but the last hold at least 5 MiB. */
export const MAX_PART_NUMBER = 10_000;
export const MIN_PART_BYTES = 5 * 1024 * 1024;
const LOAD_CONCURRENCY = 16;

/** A multipart upload as created. */
export interface UploadRecord {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  /** ms since the epoch. */
  readonly initiated: number;
  /** Headers the final object will carry (`content-type`, `x-amz-meta-*`, ...). */
  readonly headers: Readonly<Record<string, string>>;
  /** The checksum algorithm asked for at creation, whose composite the completed object gets. */
  readonly checksumAlgorithm?: ChecksumAlgorithm | undefined;
}

/** One uploaded part. */
export interface PartRecord {
  readonly partNumber: number;
  readonly size: number;
  /** Quoted MD5 hex of the part. */
  readonly etag: string;
  readonly lastModified: number;
  readonly checksums: Checksums;
}

/** A part as named in CompleteMultipartUpload. */
export interface RequestedPart {
  readonly partNumber: number;
  readonly etag: string;
}

interface UploadState {
  readonly record: UploadRecord;
  readonly dir: string;
  readonly parts: Map<number, PartRecord>;
}

/** The ETag S3 gives a multipart object: MD5 of the concatenated binary part MD5s, then `-<count>`. */
export function multipartEtag(parts: readonly PartRecord[]): string {
  const md5 = createHash('md5');
  for (const part of parts) md5.update(Buffer.from(part.etag.replace(/"/g, ''), 'hex'));
  return `"${md5.digest('hex')}-${parts.length}"`;
}

/** The persistent set of in-progress multipart uploads. Create with {@link MultipartUploads.open}. */
export class MultipartUploads {
  private readonly uploads = new Map<string, UploadState>();
  private readonly locks = new KeyedLock();

  private constructor(
    private readonly dir: string,
    private readonly temp: TempDir,
    private readonly store: S3Store,
  ) {}

  /** Loads the uploads left by a previous run, dropping those whose bucket no longer exists. */
  static async open(dataDir: string, store: S3Store): Promise<MultipartUploads> {
    const uploads = new MultipartUploads(join(dataDir, 'uploads'), store.temp, store);
    await mkdir(uploads.dir, { recursive: true });
    const ids = await listDir(uploads.dir);
    await forEachLimited(ids, LOAD_CONCURRENCY, (id) => uploads.load(id));
    return uploads;
  }

  private async load(uploadId: string): Promise<void> {
    const dir = join(this.dir, uploadId);
    const record = (await readJson(join(dir, 'upload.json'))) as UploadRecord | undefined;
    if (record?.uploadId !== uploadId || !this.bucketExists(record.bucket)) {
      await this.temp.removeTree(dir);
      return;
    }
    const state: UploadState = { record, dir, parts: new Map() };
    for (const name of (await listDir(dir)).filter((n) => /^\d{5}$/.test(n))) {
      const found = await readRecordTrailer(join(dir, name));
      const part = found?.record as PartRecord | undefined;
      if (part?.partNumber === Number(name) && part.size === found?.dataBytes) {
        state.parts.set(part.partNumber, part);
      }
    }
    this.uploads.set(uploadId, state);
  }

  private bucketExists(bucket: string): boolean {
    try {
      this.store.requireBucket(bucket);
      return true;
    } catch {
      return false;
    }
  }

  /** Starts an upload (CreateMultipartUpload). */
  async create(
    bucket: string,
    key: string,
    headers: Record<string, string>,
    checksumAlgorithm?: ChecksumAlgorithm,
  ): Promise<UploadRecord> {
    this.store.requireBucket(bucket);
    const record: UploadRecord = {
      uploadId: randomId(),
      bucket,
      key,
      initiated: Date.now(),
      headers,
      checksumAlgorithm,
    };
    const staging = this.temp.path('.upload');
    await mkdir(staging);
    await this.temp.writeFileAtomic(join(staging, 'upload.json'), JSON.stringify(record));
    const dir = join(this.dir, record.uploadId);
    await rename(staging, dir);
    this.uploads.set(record.uploadId, { record, dir, parts: new Map() });
    return record;
  }

  /** The upload, if it exists and belongs to this bucket and key; else `NoSuchUpload`. */
  require(bucket: string, key: string, uploadId: string): UploadRecord {
    return this.state(bucket, key, uploadId).record;
  }

  private state(bucket: string, key: string, uploadId: string): UploadState {
    this.store.requireBucket(bucket);
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.record.bucket !== bucket || upload.record.key !== key) {
      throw S3Errors.noSuchUpload(uploadId);
    }
    return upload;
  }

  /**
   * Stores the temporary `file` (holding the part's bytes, not yet sealed) as part `partNumber`
   * (UploadPart), replacing an earlier upload of that part. On failure the caller discards `file`.
   */
  async putPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    file: TempFile,
    part: Pick<PartRecord, 'size' | 'etag' | 'checksums'>,
  ): Promise<PartRecord> {
    const record: PartRecord = { ...part, partNumber, lastModified: Date.now() };
    await file.seal(record);
    return this.locks.run(uploadId, async () => {
      const upload = this.state(bucket, key, uploadId);
      await rename(file.path, this.partPath(upload, partNumber));
      upload.parts.set(partNumber, record);
      return record;
    });
  }

  private partPath(upload: UploadState, partNumber: number): string {
    return join(upload.dir, String(partNumber).padStart(5, '0'));
  }

  /** The upload's parts, by part number (ListParts). */
  listParts(bucket: string, key: string, uploadId: string): PartRecord[] {
    const parts = [...this.state(bucket, key, uploadId).parts.values()];
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** The bucket's uploads, by key then initiation time (ListMultipartUploads). */
  listUploads(bucket: string): UploadRecord[] {
    this.store.requireBucket(bucket);
    return [...this.uploads.values()]
      .map((u) => u.record)
      .filter((u) => u.bucket === bucket)
      .sort((a, b) => compareKeys(a.key, b.key) || a.initiated - b.initiated);
  }

  /**
   * Assembles the named parts into the object (CompleteMultipartUpload). The parts must be listed in
   * ascending order, exist with the given ETags, and all but the last be at least 5 MiB, as on S3.
   */
  async complete(
    bucket: string,
    key: string,
    uploadId: string,
    requested: readonly RequestedPart[],
    conditions: WriteConditions,
  ): Promise<ObjectRecord> {
    return this.locks.run(uploadId, async () => {
      const upload = this.state(bucket, key, uploadId);
      const parts = resolveParts(upload, requested);
      const object = await this.assemble(upload, parts, conditions);
      this.uploads.delete(uploadId);
      await this.temp.removeTree(upload.dir);
      return object;
    });
  }

  private async assemble(
    upload: UploadState,
    parts: readonly PartRecord[],
    conditions: WriteConditions,
  ): Promise<ObjectRecord> {
    const file = await this.temp.createFile();
    try {
      let size = 0;
      for (const part of parts) {
        const source = await open(this.partPath(upload, part.partNumber), 'r');
        try {
          // Only the part's bytes: its record trails them.
          size += await appendFileContents(source, file.handle, undefined, { start: 0, end: part.size - 1 });
        } finally {
          await source.close();
        }
      }
      const { bucket, key, headers, checksumAlgorithm } = upload.record;
      const checksums = compositeChecksum(checksumAlgorithm, parts);
      const object = { size, etag: multipartEtag(parts), headers, checksums, partsCount: parts.length };
      return await this.store.putObject(bucket, key, file, object, conditions);
    } catch (error) {
      await file.discard();
      throw error;
    }
  }

  /** Discards an upload and its parts (AbortMultipartUpload). */
  async abort(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.locks.run(uploadId, async () => {
      const upload = this.state(bucket, key, uploadId);
      this.uploads.delete(uploadId);
      await this.temp.removeTree(upload.dir);
    });
  }

  /** Discards every upload into `bucket`, once the bucket is deleted. */
  async abortAll(bucket: string): Promise<void> {
    const doomed = [...this.uploads.values()].filter((u) => u.record.bucket === bucket);
    for (const upload of doomed) {
      await this.locks.run(upload.record.uploadId, async () => {
        this.uploads.delete(upload.record.uploadId);
        await this.temp.removeTree(upload.dir);
      });
    }
  }
}

function resolveParts(upload: UploadState, requested: readonly RequestedPart[]): PartRecord[] {
  if (requested.length === 0) throw S3Errors.malformedXML();
  const parts: PartRecord[] = [];
  let previousNumber = 0;
  for (const wanted of requested) {
    if (wanted.partNumber <= previousNumber) throw S3Errors.invalidPartOrder();
    previousNumber = wanted.partNumber;
    const part = upload.parts.get(wanted.partNumber);
    if (!part || part.etag.replace(/"/g, '') !== wanted.etag.replace(/"/g, '')) throw S3Errors.invalidPart();
    parts.push(part);
  }
  if (parts.slice(0, -1).some((p) => p.size < MIN_PART_BYTES)) throw S3Errors.entityTooSmall();
  return parts;
}

/**
 * S3's composite checksum of a multipart object: the algorithm applied to the concatenated binary
 * checksums of the parts, suffixed `-<count>`. Only for algorithms Node computes natively, and only
 * when every part carries one.
 */
function compositeChecksum(
  algorithm: ChecksumAlgorithm | undefined,
  parts: readonly PartRecord[],
): Checksums {
  if (algorithm === undefined) return {};
  const values = parts.map((p) => p.checksums[algorithm]);
  if (values.some((v) => v === undefined)) return {};
  const joined = Buffer.concat(values.map((v) => Buffer.from(v as string, 'base64')));
  let digest: Buffer;
  if (algorithm === 'crc32') {
    digest = Buffer.alloc(CHECKSUM_ALGORITHMS.crc32.bytes);
    digest.writeUInt32BE(crc32(joined) >>> 0);
  } else if (algorithm === 'sha1' || algorithm === 'sha256') {
    digest = createHash(algorithm).update(joined).digest();
  } else {
    return {};
  }
  return { [algorithm]: `${digest.toString('base64')}-${parts.length}` };
}
