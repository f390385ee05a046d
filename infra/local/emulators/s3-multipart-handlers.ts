/**
 * Multipart upload operations of the local S3 emulator: CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload, AbortMultipartUpload, ListParts and ListMultipartUploads.
 */
import { createHash } from 'node:crypto';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, readSmallBody, receiveBody } from './s3-body.ts';
import { S3Errors } from './s3-errors.ts';
import { appendFileContents, type TempFile } from './s3-fs.ts';
import {
  checksumElements,
  evaluatePreconditions,
  header,
  isoTime,
  OWNER,
  readPreconditions,
  type S3Context,
  sendEmpty,
  sendXml,
  setChecksumHeaders,
} from './s3-http.ts';
import { compareKeys } from './s3-keys.ts';
import { objectHeadersFrom, parseCopySource, writeConditionsFrom } from './s3-object-handlers.ts';
import { MAX_PART_NUMBER, type RequestedPart } from './s3-uploads.ts';
import { childElements, childText, parseXml, type XmlChild } from './s3-xml.ts';

/** Bound on a CompleteMultipartUpload document: 10,000 parts with checksums fit in ~3 MB. */
const MAX_COMPLETE_DOCUMENT_BYTES = 8 * 1024 * 1024;
const DEFAULT_MAX_PARTS = 1000;

function checksumAlgorithmFrom(value: string | undefined): ChecksumAlgorithm | undefined {
  if (value === undefined) return undefined;
  const algorithm = value.toLowerCase();
  if (!(algorithm in CHECKSUM_ALGORITHMS)) {
    throw S3Errors.invalidRequest(
      'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
    );
  }
  return algorithm as ChecksumAlgorithm;
}

/** The inclusive byte range of `x-amz-copy-source-range` (`bytes=first-last`), or the whole object. */
function copySourceRange(
  value: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  const start = Number(m?.[1]);
  const end = Number(m?.[2]);
  if (!m || end < start) {
    throw S3Errors.invalidArgument(
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      'x-amz-copy-source-range',
      value,
    );
  }
  if (end >= size) {
    throw S3Errors.invalidArgument(
      `Range specified is not valid for source object of size: ${size}`,
      'x-amz-copy-source-range',
      value,
    );
  }
  return { start, end };
}

/** CreateMultipartUpload (`POST ?uploads`). */
export async function createMultipartUpload(ctx: S3Context, bucket: string, key: string): Promise<void> {
  const algorithm = checksumAlgorithmFrom(header(ctx.request, 'x-amz-checksum-algorithm'));
  const upload = await ctx.uploads.create(bucket, key, objectHeadersFrom(ctx.request), algorithm);
  if (algorithm) ctx.response.setHeader('x-amz-checksum-algorithm', algorithm.toUpperCase());
  sendXml(ctx.response, 200, 'InitiateMultipartUploadResult', [
    ['Bucket', bucket],
    ['Key', key],
    ['UploadId', upload.uploadId],
  ]);
}

function partNumberFrom(raw: string | null): number {
  const n = Number(raw);
  if (raw === null || !/^\d+$/.test(raw) || n < 1 || n > MAX_PART_NUMBER) {
    throw S3Errors.invalidArgument(
      'Part number must be an integer between 1 and 10000, inclusive',
      'partNumber',
      raw ?? '',
    );
  }
  return n;
}

/** UploadPart (`PUT ?partNumber&uploadId`): streams the part to disk like PutObject. */
export async function uploadPart(
  ctx: S3Context,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<void> {
  const { uploads, store, request, response } = ctx;
  const partNumber = partNumberFrom(ctx.target.query.get('partNumber'));
  uploads.require(bucket, key, uploadId); // Fail before receiving the body.
  const file = await store.temp.createFile();
  try {
    const body = await receiveBody(request, file.writable());
    const part = { size: body.size, etag: `"${body.md5Hex}"`, checksums: body.checksums };
    const record = await uploads.putPart(bucket, key, uploadId, partNumber, file, part);
    response.setHeader('ETag', record.etag);
    setChecksumHeaders(response, record.checksums);
    sendEmpty(response, 200);
  } catch (error) {
    await file.discard();
    throw error;
  }
}

/** UploadPartCopy (`PUT ?partNumber&uploadId` with `x-amz-copy-source`): a part copied from an object. */
export async function uploadPartCopy(
  ctx: S3Context,
  bucket: string,
  key: string,
  uploadId: string,
  copySource: string,
): Promise<void> {
  const { uploads, store, request } = ctx;
  const partNumber = partNumberFrom(ctx.target.query.get('partNumber'));
  uploads.require(bucket, key, uploadId);
  const source = parseCopySource(copySource);
  const { record: original, handle } = await store.openObject(source.bucket, source.key);
  let file: TempFile | undefined;
  try {
    if (
      evaluatePreconditions(original, readPreconditions(request, 'x-amz-copy-source-')) === 'not-modified'
    ) {
      throw S3Errors.preconditionFailed('x-amz-copy-source-If-None-Match');
    }
    const range = copySourceRange(header(request, 'x-amz-copy-source-range'), original.size) ?? {
      start: 0,
      end: original.size - 1,
    };
    file = await store.temp.createFile();
    const md5 = createHash('md5');
    const size = await appendFileContents(handle, file.handle, (chunk) => md5.update(chunk), range);
    const part = { size, etag: `"${md5.digest('hex')}"`, checksums: {} };
    const record = await uploads.putPart(bucket, key, uploadId, partNumber, file, part);
    sendXml(ctx.response, 200, 'CopyPartResult', [
      ['LastModified', isoTime(record.lastModified)],
      ['ETag', record.etag],
    ]);
  } catch (error) {
    await file?.discard();
    throw error;
  } finally {
    await handle.close();
  }
}

async function requestedParts(ctx: S3Context): Promise<RequestedPart[]> {
  const document = parseXml((await readSmallBody(ctx.request, MAX_COMPLETE_DOCUMENT_BYTES)).toString('utf8'));
  if (document.name !== 'CompleteMultipartUpload') throw S3Errors.malformedXML();
  return childElements(document, 'Part').map((part) => {
    const partNumber = Number(childText(part, 'PartNumber'));
    const etag = childText(part, 'ETag');
    if (!Number.isInteger(partNumber) || etag === undefined) throw S3Errors.malformedXML();
    return { partNumber, etag: etag.trim() };
  });
}

/** CompleteMultipartUpload (`POST ?uploadId`). */
export async function completeMultipartUpload(
  ctx: S3Context,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<void> {
  ctx.uploads.require(bucket, key, uploadId);
  const parts = await requestedParts(ctx);
  const record = await ctx.uploads.complete(bucket, key, uploadId, parts, writeConditionsFrom(ctx.request));
  const path = `/${encodeURIComponent(bucket)}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
  sendXml(ctx.response, 200, 'CompleteMultipartUploadResult', [
    ['Location', `http://${header(ctx.request, 'host') ?? 'localhost'}${path}`],
    ['Bucket', bucket],
    ['Key', key],
    ['ETag', record.etag],
    ...checksumElements(record.checksums),
  ]);
}

/** AbortMultipartUpload (`DELETE ?uploadId`). */
export async function abortMultipartUpload(
  ctx: S3Context,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<void> {
  await ctx.uploads.abort(bucket, key, uploadId);
  sendEmpty(ctx.response, 204);
}

/** ListParts (`GET ?uploadId`), paged by `part-number-marker` and `max-parts`. */
export async function listParts(
  ctx: S3Context,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<void> {
  const q = ctx.target.query;
  const marker = Number(q.get('part-number-marker') ?? 0) || 0;
  const maxParts = Math.min(
    Number(q.get('max-parts') ?? DEFAULT_MAX_PARTS) || DEFAULT_MAX_PARTS,
    DEFAULT_MAX_PARTS,
  );
  const upload = ctx.uploads.require(bucket, key, uploadId);
  const remaining = ctx.uploads.listParts(bucket, key, uploadId).filter((p) => p.partNumber > marker);
  const page = remaining.slice(0, maxParts);
  const truncated = remaining.length > page.length;
  sendXml(ctx.response, 200, 'ListPartsResult', [
    ['Bucket', bucket],
    ['Key', key],
    ['UploadId', uploadId],
    ['Initiator', OWNER],
    ['Owner', OWNER],
    ['StorageClass', 'STANDARD'],
    upload.checksumAlgorithm !== undefined && ['ChecksumAlgorithm', upload.checksumAlgorithm.toUpperCase()],
    ['PartNumberMarker', marker],
    ['NextPartNumberMarker', page.at(-1)?.partNumber ?? marker],
    ['MaxParts', maxParts],
    ['IsTruncated', truncated],
    ...page.map(
      (p): XmlChild => [
        'Part',
        [
          ['PartNumber', p.partNumber],
          ['LastModified', isoTime(p.lastModified)],
          ['ETag', p.etag],
          ['Size', p.size],
          ...checksumElements(p.checksums),
        ],
      ],
    ),
  ]);
}

/** ListMultipartUploads (`GET ?uploads`): `prefix`, `key-marker` and `max-uploads`; no delimiter. */
export async function listMultipartUploads(ctx: S3Context, bucket: string): Promise<void> {
  const q = ctx.target.query;
  const prefix = q.get('prefix') ?? '';
  const keyMarker = q.get('key-marker') ?? '';
  const maxUploads = Math.min(
    Number(q.get('max-uploads') ?? DEFAULT_MAX_PARTS) || DEFAULT_MAX_PARTS,
    DEFAULT_MAX_PARTS,
  );
  const matching = ctx.uploads
    .listUploads(bucket)
    .filter((u) => u.key.startsWith(prefix) && (keyMarker === '' || compareKeys(u.key, keyMarker) > 0));
  const page = matching.slice(0, maxUploads);
  const truncated = matching.length > page.length;
  const last = page.at(-1);
  sendXml(ctx.response, 200, 'ListMultipartUploadsResult', [
    ['Bucket', bucket],
    ['KeyMarker', keyMarker],
    ['UploadIdMarker', ''],
    truncated && last !== undefined && ['NextKeyMarker', last.key],
    truncated && last !== undefined && ['NextUploadIdMarker', last.uploadId],
    ['Prefix', prefix],
    ['MaxUploads', maxUploads],
    ['IsTruncated', truncated],
    ...page.map(
      (u): XmlChild => [
        'Upload',
        [
          ['Key', u.key],
          ['UploadId', u.uploadId],
          ['Initiator', OWNER],
          ['Owner', OWNER],
          ['StorageClass', 'STANDARD'],
          ['Initiated', isoTime(u.initiated)],
        ],
      ],
    ),
  ]);
}
