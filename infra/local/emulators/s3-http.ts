/**
 * HTTP plumbing for the local S3 emulator: reading what a request addresses (path-style or
 * virtual-host-style), presigned-URL expiry, ranges and preconditions, and writing S3-shaped
 * responses and errors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Checksums } from './s3-body.ts';
import { type S3Error, S3Errors } from './s3-errors.ts';
import { etagMatches, MAX_KEY_BYTES, type ObjectRecord, type S3Store } from './s3-store.ts';
import type { MultipartUploads } from './s3-uploads.ts';
import { renderDocument, type XmlChild } from './s3-xml.ts';

/** Host suffix that selects virtual-host-style addressing: `Host: <bucket>.localhost:<port>`. */
export const VIRTUAL_HOST_SUFFIX = '.localhost';
/** Longest lifetime S3 accepts for a presigned URL: seven days. */
const MAX_PRESIGN_SECONDS = 604_800;
/** The fixed owner every bucket and object has: the emulator has a single, implicit account. */
export const OWNER: readonly XmlChild[] = [
  ['ID', '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a'],
  ['DisplayName', 'runway'],
];

/** Everything a request handler works with. */
export interface S3Context {
  readonly store: S3Store;
  readonly uploads: MultipartUploads;
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly target: S3Target;
}

/** What a request addresses. `bucket` is absent for service-level calls, `key` for bucket-level ones. */
export interface S3Target {
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly query: URLSearchParams;
}

function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw S3Errors.invalidURI();
  }
}

/**
 * Parses the request target. The raw path is split and percent-decoded by hand, never normalised
 * through `URL`, because keys may legitimately contain `//`, `./`, `../`, `+` or `%`.
 */
export function parseTarget(request: IncomingMessage): S3Target {
  let raw = request.url ?? '/';
  const absolute = /^https?:\/\/[^/]*/i.exec(raw); // absolute-form, as sent to proxies
  if (absolute) raw = raw.slice(absolute[0].length) || '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const virtualBucket = virtualHostBucket(request.headers.host);
  let bucket: string | undefined;
  let rawKey: string;
  if (virtualBucket !== undefined) {
    bucket = virtualBucket;
    rawKey = path.slice(1);
  } else {
    const rest = path.slice(1);
    const slash = rest.indexOf('/');
    const rawBucket = slash < 0 ? rest : rest.slice(0, slash);
    bucket = rawBucket === '' ? undefined : decodeComponent(rawBucket);
    rawKey = slash < 0 ? '' : rest.slice(slash + 1);
  }
  const key = rawKey === '' ? undefined : decodeComponent(rawKey);
  if (key !== undefined && Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw S3Errors.keyTooLong();
  return { bucket, key, query };
}

function virtualHostBucket(host: string | undefined): string | undefined {
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (!hostname.endsWith(VIRTUAL_HOST_SUFFIX) || hostname.length === VIRTUAL_HOST_SUFFIX.length)
    return undefined;
  return hostname.slice(0, -VIRTUAL_HOST_SUFFIX.length);
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses SigV4's `yyyyMMddTHHmmssZ` into ms since the epoch. */
function parseAmzDate(text: string | null): number | undefined {
  const m = AMZ_DATE.exec(text ?? '');
  return m ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

/** When a presigned URL stops being valid (ms since the epoch), or `undefined` if it is not presigned. */
function presignedExpiry(query: URLSearchParams): number | undefined {
  if (query.has('X-Amz-Algorithm') || query.has('X-Amz-Expires')) {
    const signedAt = parseAmzDate(query.get('X-Amz-Date'));
    if (signedAt === undefined) {
      throw S3Errors.authorizationQueryParametersError(
        "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
      );
    }
    const seconds = Number(query.get('X-Amz-Expires') ?? MAX_PRESIGN_SECONDS);
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_PRESIGN_SECONDS) {
      throw S3Errors.authorizationQueryParametersError(
        'X-Amz-Expires must be less than a week (in seconds) that is 604800',
      );
    }
    return signedAt + seconds * 1000;
  }
  if (query.has('AWSAccessKeyId') && query.has('Expires')) return Number(query.get('Expires')) * 1000; // SigV2
  return undefined;
}

/**
 * Rejects an expired presigned URL (SigV4 `X-Amz-Date` + `X-Amz-Expires`, or SigV2 `Expires`) with
 * S3's 403 `AccessDenied` "Request has expired". Signatures themselves are not checked.
 */
export function checkPresignedExpiry(query: URLSearchParams, now = new Date()): void {
  const expiresAt = presignedExpiry(query);
  if (expiresAt !== undefined && !(now.getTime() <= expiresAt)) {
    throw S3Errors.requestExpired(new Date(Number.isFinite(expiresAt) ? expiresAt : 0), now);
  }
}

/** An inclusive byte range. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Parses a `Range` header against an object of `size` bytes. Like S3: one `bytes=` range only,
 * anything unparsable is ignored (the whole object is sent), and a range starting at or past the end
 * is `InvalidRange` (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec((header ?? '').trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const first = m[1] ?? '';
  const last = m[2] ?? '';
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) throw S3Errors.invalidRange(size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) throw S3Errors.invalidRange(size);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return end < start ? undefined : { start, end };
}

/** Header values, one string each. */
export function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** HTTP dates have second resolution, so compare an object's time truncated to seconds. */
function modifiedAfter(record: ObjectRecord, httpDate: string | undefined): boolean | undefined {
  const since = Date.parse(httpDate ?? '');
  if (Number.isNaN(since)) return undefined;
  return Math.floor(record.lastModified / 1000) * 1000 > since;
}

/** The four conditional headers, by role; CopyObject reads them from `x-amz-copy-source-if-*`. */
export interface Preconditions {
  readonly ifMatch?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
  readonly ifModifiedSince?: string | undefined;
  readonly ifUnmodifiedSince?: string | undefined;
}

/** The preconditions of a GET or HEAD. */
export function readPreconditions(request: IncomingMessage, prefix = ''): Preconditions {
  return {
    ifMatch: header(request, `${prefix}if-match`),
    ifNoneMatch: header(request, `${prefix}if-none-match`),
    ifModifiedSince: header(request, `${prefix}if-modified-since`),
    ifUnmodifiedSince: header(request, `${prefix}if-unmodified-since`),
  };
}

/**
 * Evaluates preconditions in S3's (RFC 7232's) order: a failed If-Match or If-Unmodified-Since is
 * 412; a matching If-None-Match or an unmet If-Modified-Since is "not modified" (304 on reads).
 */
export function evaluatePreconditions(record: ObjectRecord, p: Preconditions): 'ok' | 'not-modified' {
  if (p.ifMatch !== undefined) {
    if (!etagMatches(p.ifMatch, record.etag)) throw S3Errors.preconditionFailed('If-Match');
  } else if (modifiedAfter(record, p.ifUnmodifiedSince) === true) {
    throw S3Errors.preconditionFailed('If-Unmodified-Since');
  }
  if (p.ifNoneMatch !== undefined) {
    if (etagMatches(p.ifNoneMatch, record.etag)) return 'not-modified';
  } else if (modifiedAfter(record, p.ifModifiedSince) === false) {
    return 'not-modified';
  }
  return 'ok';
}

/** ISO 8601 with milliseconds, as S3 writes times in XML. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Sets `x-amz-checksum-<algorithm>` headers, with the checksum type S3 reports beside them. */
export function setChecksumHeaders(response: ServerResponse, checksums: Checksums): void {
  for (const [algorithm, value] of Object.entries(checksums)) {
    response.setHeader(`x-amz-checksum-${algorithm}`, value);
    response.setHeader('x-amz-checksum-type', value.includes('-') ? 'COMPOSITE' : 'FULL_OBJECT');
  }
}

/** The checksums as XML children (`ChecksumCRC32`, ...), for list and copy results. */
export function checksumElements(checksums: Checksums): XmlChild[] {
  return Object.entries(checksums).map(([algorithm, value]) => [`Checksum${algorithm.toUpperCase()}`, value]);
}

/** Sends an XML document (S3's error documents, alone, carry no namespace). */
export function sendXml(
  response: ServerResponse,
  status: number,
  root: string,
  children: readonly XmlChild[],
): void {
  const body = renderDocument(root, children, root !== 'Error');
  response.writeHead(status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

/** Sends a response without a body. */
export function sendEmpty(response: ServerResponse, status: number): void {
  response.writeHead(status, { 'Content-Length': 0 });
  response.end();
}

/**
 * Sends S3's `<Error>` document (or, for HEAD, only the status, as S3 does), unless the response
 * has already started, in which case the connection is cut so the client sees a failed transfer
 * instead of a silently truncated one.
 */
export function sendError(
  response: ServerResponse,
  error: S3Error,
  resource: string,
  requestId: string,
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  for (const [name, value] of Object.entries(error.headers)) response.setHeader(name, value);
  if (response.req.method === 'HEAD') {
    response.setHeader('x-amz-error-code', error.code);
    sendEmpty(response, error.status);
    return;
  }
  sendXml(response, error.status, 'Error', [
    ['Code', error.code],
    ['Message', error.message],
    ...Object.entries(error.details),
    ['Resource', resource],
    ['RequestId', requestId],
  ]);
}
