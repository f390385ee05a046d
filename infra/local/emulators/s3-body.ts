/**
 * Receiving request bodies for the local S3 emulator: undo `aws-chunked` framing, stream the bytes
 * to a sink while computing their MD5 (the ETag) and the requested flexible checksums, then check
 * every integrity claim the client made (`Content-MD5`, `x-amz-content-sha256`,
 * `x-amz-checksum-*` as headers or trailers, `x-amz-decoded-content-length`).
 *
 * CRC32, SHA-1 and SHA-256 are computed natively by Node and verified. CRC32C and CRC64NVME have no
 * native implementation in Node 20, so their values are stored and echoed back unverified; the
 * SDKs validate them again on download, so a corrupted upload is still caught end to end.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { AwsChunkedDecoder } from './s3-chunked.ts';
import { S3Error, S3Errors } from './s3-errors.ts';

/** S3's flexible checksum algorithms, in the lower-case form used in header names. */
export type ChecksumAlgorithm = 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256';

/** Checksums of an object or part, base64 as S3 transmits them. */
export type Checksums = Partial<Record<ChecksumAlgorithm, string>>;

/** Every algorithm, with its digest length in bytes and the spelling S3 uses in names and messages. */
export const CHECKSUM_ALGORITHMS: Readonly<Record<ChecksumAlgorithm, { bytes: number; name: string }>> = {
  crc32: { bytes: 4, name: 'CRC32' },
  crc32c: { bytes: 4, name: 'CRC32C' },
  crc64nvme: { bytes: 8, name: 'CRC64NVME' },
  sha1: { bytes: 20, name: 'SHA1' },
  sha256: { bytes: 32, name: 'SHA256' },
};

const ALGORITHMS = Object.keys(CHECKSUM_ALGORITHMS) as ChecksumAlgorithm[];

/** What was received: decoded size, MD5 (hex, the future ETag) and the checksums to store. */
export interface ReceivedBody {
  readonly size: number;
  readonly md5Hex: string;
  readonly checksums: Checksums;
}

/** True when the body uses `aws-chunked` framing (by content encoding or streaming payload hash). */
export function isAwsChunked(headers: IncomingHttpHeaders): boolean {
  const encoding = headers['content-encoding'] ?? '';
  const payload = String(headers['x-amz-content-sha256'] ?? '');
  return encoding.split(',').some((e) => e.trim() === 'aws-chunked') || payload.startsWith('STREAMING-');
}

/** The `Content-Encoding` to store: the client's, minus the transport-only `aws-chunked`. */
export function storedContentEncoding(headers: IncomingHttpHeaders): string | undefined {
  const kept = (headers['content-encoding'] ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '' && e !== 'aws-chunked');
  return kept.length > 0 ? kept.join(', ') : undefined;
}

/** Checksum values the client sent as headers (not query parameters: see {@link receiveBody}). */
function headerChecksums(headers: IncomingHttpHeaders): Checksums {
  const found: Checksums = {};
  for (const algorithm of ALGORITHMS) {
    const value = headers[`x-amz-checksum-${algorithm}`];
    if (typeof value === 'string') found[algorithm] = checkedChecksumValue(algorithm, value);
  }
  return found;
}

function checkedChecksumValue(algorithm: ChecksumAlgorithm, value: string): string {
  const spec = CHECKSUM_ALGORITHMS[algorithm];
  if (Buffer.from(value, 'base64').length !== spec.bytes) {
    throw S3Errors.invalidRequest(`Value for x-amz-checksum-${algorithm} header is invalid.`);
  }
  return value;
}

/** The algorithms the client asked for: named in headers, announced as trailers, or requested. */
function requestedAlgorithms(headers: IncomingHttpHeaders, fromHeaders: Checksums): Set<ChecksumAlgorithm> {
  const wanted = new Set<ChecksumAlgorithm>(Object.keys(fromHeaders) as ChecksumAlgorithm[]);
  const names = [
    ...String(headers['x-amz-trailer'] ?? '')
      .split(',')
      .map((t) => t.trim().replace(/^x-amz-checksum-/i, '')),
    String(headers['x-amz-sdk-checksum-algorithm'] ?? ''),
    String(headers['x-amz-checksum-algorithm'] ?? ''),
  ];
  for (const name of names) {
    const algorithm = name.toLowerCase();
    if (algorithm in CHECKSUM_ALGORITHMS) wanted.add(algorithm as ChecksumAlgorithm);
  }
  return wanted;
}

/** A pass-through that hashes what flows by: MD5 always, plus whatever verification needs. */
class DigestTap extends Transform {
  size = 0;
  readonly md5 = createHash('md5');
  readonly sha1: Hash | undefined;
  readonly sha256: Hash | undefined;
  crc32: number | undefined;

  constructor(options: { sha1: boolean; sha256: boolean; crc32: boolean }) {
    super();
    this.sha1 = options.sha1 ? createHash('sha1') : undefined;
    this.sha256 = options.sha256 ? createHash('sha256') : undefined;
    this.crc32 = options.crc32 ? 0 : undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    this.md5.update(chunk);
    this.sha1?.update(chunk);
    this.sha256?.update(chunk);
    if (this.crc32 !== undefined) this.crc32 = crc32(chunk, this.crc32);
    callback(null, chunk);
  }

  /** The natively computed checksums, base64. */
  computed(): Checksums {
    const out: Checksums = {};
    if (this.crc32 !== undefined) {
      const bytes = Buffer.alloc(4);
      bytes.writeUInt32BE(this.crc32 >>> 0);
      out.crc32 = bytes.toString('base64');
    }
    if (this.sha1) out.sha1 = this.sha1.digest('base64');
    return out;
  }
}

/**
 * Streams the request body, decoded, into `sink`, then checks it against every integrity claim in
 * the request. Throws an {@link S3Error} (`BadDigest`, `IncompleteBody`, ...) when a check fails;
 * the caller then discards whatever `sink` wrote.
 *
 * Checksums in the query string are deliberately ignored: S3 ignores them on presigned URLs, and the
 * JS SDK's presigner signs the CRC32 of an empty body into every presigned PUT URL.
 */
export async function receiveBody(request: IncomingMessage, sink: Writable): Promise<ReceivedBody> {
  const headers = request.headers;
  const claimed = headerChecksums(headers);
  const wanted = requestedAlgorithms(headers, claimed);
  const contentSha256 = String(headers['x-amz-content-sha256'] ?? '').toLowerCase();
  const verifyContentSha256 = /^[0-9a-f]{64}$/.test(contentSha256);
  const tap = new DigestTap({
    crc32: wanted.has('crc32'),
    sha1: wanted.has('sha1'),
    sha256: wanted.has('sha256') || verifyContentSha256,
  });
  const decoder = isAwsChunked(headers) ? new AwsChunkedDecoder() : undefined;
  await (decoder ? pipeline(request, decoder, tap, sink) : pipeline(request, tap, sink));

  if (decoder) {
    checkDecodedLength(headers, decoder.decodedLength);
    for (const [name, value] of decoder.trailers) {
      const algorithm = name.replace(/^x-amz-checksum-/, '') as ChecksumAlgorithm;
      if (name.startsWith('x-amz-checksum-') && algorithm in CHECKSUM_ALGORITHMS) {
        claimed[algorithm] = checkedChecksumValue(algorithm, value);
      }
    }
  }
  const md5 = tap.md5.digest();
  checkContentMd5(headers, md5);
  const sha256 = tap.sha256?.digest();
  if (verifyContentSha256 && sha256?.toString('hex') !== contentSha256)
    throw S3Errors.contentSha256Mismatch();
  const computed = tap.computed();
  if (sha256) computed.sha256 = sha256.toString('base64');
  return { size: tap.size, md5Hex: md5.toString('hex'), checksums: reconcile(claimed, computed, wanted) };
}

function checkDecodedLength(headers: IncomingHttpHeaders, decodedLength: number): void {
  const declared = headers['x-amz-decoded-content-length'];
  if (declared !== undefined && Number(declared) !== decodedLength) throw S3Errors.incompleteBody();
}

function checkContentMd5(headers: IncomingHttpHeaders, md5: Buffer): void {
  const header = headers['content-md5'];
  if (typeof header !== 'string') return;
  const claimed = Buffer.from(header, 'base64');
  if (claimed.length !== 16) throw S3Errors.invalidDigest();
  if (!claimed.equals(md5)) throw S3Errors.badDigest('Content-MD5');
}

/**
 * Verifies each claimed checksum that was computed and returns what to store: one value per
 * requested algorithm, the client's where only it could compute one, ours where it sent none.
 */
function reconcile(claimed: Checksums, computed: Checksums, wanted: Set<ChecksumAlgorithm>): Checksums {
  const stored: Checksums = {};
  for (const algorithm of wanted) {
    const ours = computed[algorithm];
    const theirs = claimed[algorithm];
    if (ours !== undefined && theirs !== undefined && ours !== theirs) {
      throw S3Errors.badDigest(CHECKSUM_ALGORITHMS[algorithm].name);
    }
    const value = theirs ?? ours;
    if (value !== undefined) stored[algorithm] = value;
  }
  return stored;
}

/** A sink that keeps a small body in memory, failing once it grows past `limit` bytes. */
class BoundedCollector extends Writable {
  private readonly chunks: Buffer[] = [];
  private length = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.length += chunk.length;
    if (this.length > this.limit) {
      callback(S3Errors.maxMessageLengthExceeded());
      return;
    }
    this.chunks.push(chunk);
    callback();
  }

  contents(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

/** Reads a small request body (an XML document) with the same decoding and checks as objects. */
export async function readSmallBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const collector = new BoundedCollector(limit);
  await receiveBody(request, collector);
  return collector.contents();
}

/** True for errors that mean the client went away mid-body: nobody is left to answer. */
export function isClientAbort(error: unknown): boolean {
  if (error instanceof S3Error) return false;
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE';
}
