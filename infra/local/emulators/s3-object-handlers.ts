/**
 * Object operations of the local S3 emulator: PutObject, GetObject, HeadObject, DeleteObject,
 * CopyObject. Bodies stream between the socket and disk; nothing holds an object in memory.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { receiveBody, storedContentEncoding } from './s3-body.ts';
import { S3Errors } from './s3-errors.ts';
import { appendFileContents } from './s3-fs.ts';
import {
  type ByteRange,
  checksumElements,
  evaluatePreconditions,
  header,
  isoTime,
  parseRange,
  readPreconditions,
  type S3Context,
  sendEmpty,
  sendXml,
  setChecksumHeaders,
} from './s3-http.ts';
import type { ObjectRecord, WriteConditions } from './s3-store.ts';

/** Representation headers S3 stores with an object and returns on GET and HEAD. */
const STORED_HEADERS = [
  'content-type',
  'content-disposition',
  'content-language',
  'cache-control',
  'expires',
];
/** S3's limit on the total size of user metadata (`x-amz-meta-*` names and values). */
const MAX_USER_METADATA_BYTES = 2048;
/** S3's content type for objects stored without one. */
const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';
/** Read-ahead for downloads: large reads keep loopback transfers near memory speed. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** `response-*` query parameters of GetObject, overriding the stored header of the same name. */
const RESPONSE_OVERRIDES: Readonly<Record<string, string>> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

/** The headers to store with a new object, from the request that creates it. */
export function objectHeadersFrom(request: IncomingMessage): Record<string, string> {
  const stored: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const value = header(request, name);
    if (value !== undefined) stored[name] = value;
  }
  const encoding = storedContentEncoding(request.headers);
  if (encoding !== undefined) stored['content-encoding'] = encoding;
  let metadataBytes = 0;
  for (const [name, value] of Object.entries(request.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    metadataBytes += Buffer.byteLength(name.slice('x-amz-meta-'.length)) + Buffer.byteLength(text);
    stored[name] = text;
  }
  if (metadataBytes > MAX_USER_METADATA_BYTES) throw S3Errors.metadataTooLarge();
  return stored;
}

/** `If-None-Match` / `If-Match` on a write: S3's conditional writes, checked atomically. */
export function writeConditionsFrom(request: IncomingMessage): WriteConditions {
  return { ifNoneMatch: header(request, 'if-none-match'), ifMatch: header(request, 'if-match') };
}

/** PutObject: streams the body to a temporary file, checks it, then publishes it atomically. */
export async function putObject(ctx: S3Context, bucket: string, key: string): Promise<void> {
  const { store, request, response } = ctx;
  store.requireBucket(bucket); // Fail before receiving what may be gigabytes.
  const headers = objectHeadersFrom(request);
  const file = await store.temp.createFile();
  try {
    const body = await receiveBody(request, file.writable());
    const object = { size: body.size, etag: `"${body.md5Hex}"`, headers, checksums: body.checksums };
    const record = await store.putObject(bucket, key, file, object, writeConditionsFrom(request));
    response.setHeader('ETag', record.etag);
    setChecksumHeaders(response, record.checksums);
    sendEmpty(response, 200);
  } catch (error) {
    await file.discard();
    throw error;
  }
}

function setObjectHeaders(ctx: S3Context, record: ObjectRecord, ranged: boolean): void {
  const { response, request, target } = ctx;
  response.setHeader('Content-Type', DEFAULT_CONTENT_TYPE);
  for (const [name, value] of Object.entries(record.headers)) response.setHeader(name, value);
  response.setHeader('ETag', record.etag);
  response.setHeader('Last-Modified', new Date(record.lastModified).toUTCString());
  response.setHeader('Accept-Ranges', 'bytes');
  // A checksum describes the whole object; S3 omits it from ranged reads, where it cannot be checked.
  if (!ranged && header(request, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
    setChecksumHeaders(response, record.checksums);
  }
  for (const [parameter, name] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = target.query.get(parameter);
    if (value !== null) response.setHeader(name, value);
  }
}

function sendNotModified(response: ServerResponse, record: ObjectRecord): void {
  response.setHeader('ETag', record.etag);
  response.setHeader('Last-Modified', new Date(record.lastModified).toUTCString());
  response.writeHead(304);
  response.end();
}

/** HeadObject: the object's headers, honouring preconditions and Range like GetObject. */
export async function headObject(ctx: S3Context, bucket: string, key: string): Promise<void> {
  const record = ctx.store.getObject(bucket, key);
  if (evaluatePreconditions(record, readPreconditions(ctx.request)) === 'not-modified') {
    sendNotModified(ctx.response, record);
    return;
  }
  const range = parseRange(header(ctx.request, 'range'), record.size);
  setObjectHeaders(ctx, record, range !== undefined);
  writeLengthHeaders(ctx.response, record.size, range);
  ctx.response.end();
}

function writeLengthHeaders(response: ServerResponse, size: number, range: ByteRange | undefined): void {
  if (range) {
    response.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    response.setHeader('Content-Length', range.end - range.start + 1);
    response.writeHead(206);
  } else {
    response.setHeader('Content-Length', size);
    response.writeHead(200);
  }
}

/** GetObject: streams the object (or one range of it) from disk. */
export async function getObject(ctx: S3Context, bucket: string, key: string): Promise<void> {
  const { record, handle } = await ctx.store.openObject(bucket, key);
  let handedOver = false;
  try {
    if (evaluatePreconditions(record, readPreconditions(ctx.request)) === 'not-modified') {
      sendNotModified(ctx.response, record);
      return;
    }
    const range = parseRange(header(ctx.request, 'range'), record.size);
    setObjectHeaders(ctx, record, range !== undefined);
    writeLengthHeaders(ctx.response, record.size, range);
    if (record.size === 0) {
      ctx.response.end();
      return;
    }
    // From here the stream owns the handle: it closes it when done or destroyed.
    const stream = handle.createReadStream({
      start: range?.start ?? 0,
      end: range?.end ?? record.size - 1,
      highWaterMark: READ_CHUNK_BYTES,
    });
    handedOver = true;
    await pipeline(stream, ctx.response);
  } finally {
    if (!handedOver) await handle.close();
  }
}

/** DeleteObject: 204 whether or not the key existed, as on S3. */
export async function deleteObject(ctx: S3Context, bucket: string, key: string): Promise<void> {
  await ctx.store.deleteObject(bucket, key);
  sendEmpty(ctx.response, 204);
}

/** Splits `x-amz-copy-source` (`[/]bucket/key[?versionId=...]`, percent-encoded). */
export function parseCopySource(value: string): { bucket: string; key: string } {
  const withoutVersion = value.split('?versionId=', 1)[0] ?? '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(withoutVersion).replace(/^\//, '');
  } catch {
    throw S3Errors.invalidArgument('Invalid copy source encoding', 'x-amz-copy-source', value);
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw S3Errors.invalidArgument(
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      'x-amz-copy-source',
      value,
    );
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}

function metadataDirective(request: IncomingMessage): 'COPY' | 'REPLACE' {
  const directive = (header(request, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw S3Errors.invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
  }
  return directive;
}

/**
 * CopyObject: copies the bytes into a new blob (computing the MD5 afresh, so a copy of a multipart
 * object gets a plain ETag, as on S3) and keeps or replaces the metadata per the directive.
 */
export async function copyObject(
  ctx: S3Context,
  bucket: string,
  key: string,
  copySource: string,
): Promise<void> {
  const { store, request } = ctx;
  const source = parseCopySource(copySource);
  store.requireBucket(bucket);
  const directive = metadataDirective(request);
  if (source.bucket === bucket && source.key === key && directive === 'COPY') {
    throw S3Errors.invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const { record: original, handle } = await store.openObject(source.bucket, source.key);
  const file = await store.temp.createFile().catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  try {
    if (
      evaluatePreconditions(original, readPreconditions(request, 'x-amz-copy-source-')) === 'not-modified'
    ) {
      throw S3Errors.preconditionFailed('x-amz-copy-source-If-None-Match');
    }
    const md5 = createHash('md5');
    const whole = { start: 0, end: original.size - 1 };
    const size = await appendFileContents(handle, file.handle, (chunk) => md5.update(chunk), whole);
    // Identical bytes keep their full-object checksums; a composite one describes parts that no longer exist.
    const checksums = Object.fromEntries(
      Object.entries(original.checksums).filter(([, v]) => !v.includes('-')),
    );
    const headers = directive === 'COPY' ? original.headers : objectHeadersFrom(request);
    const object = { size, etag: `"${md5.digest('hex')}"`, headers, checksums };
    const record = await store.putObject(bucket, key, file, object, writeConditionsFrom(request));
    sendXml(ctx.response, 200, 'CopyObjectResult', [
      ['LastModified', isoTime(record.lastModified)],
      ['ETag', record.etag],
      ...checksumElements(record.checksums),
    ]);
  } catch (error) {
    await file.discard();
    throw error;
  } finally {
    await handle.close();
  }
}
