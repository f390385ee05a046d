/**
 * Service- and bucket-level operations of the local S3 emulator: ListBuckets, CreateBucket,
 * HeadBucket, DeleteBucket, GetBucketLocation, ListObjects (V1 and V2) and DeleteObjects.
 */
import { readSmallBody } from './s3-body.ts';
import { S3Error, S3Errors } from './s3-errors.ts';
import { isoTime, OWNER, type S3Context, sendEmpty, sendXml } from './s3-http.ts';
import type { ObjectRecord } from './s3-store.ts';
import { childElements, childText, parseXml, type XmlChild } from './s3-xml.ts';

/** The region the emulator claims to be in: S3's default, where location constraints are empty. */
export const REGION = 'us-east-1';
/** S3's ceiling on `max-keys`, and the size of a DeleteObjects batch. */
const MAX_KEYS = 1000;
/** Bound on a DeleteObjects document: 1,000 keys of 1,024 bytes, escaped, fit comfortably. */
const MAX_DELETE_DOCUMENT_BYTES = 8 * 1024 * 1024;

/** ListBuckets. */
export async function listBuckets(ctx: S3Context): Promise<void> {
  const buckets = ctx.store.listBuckets().map(
    (b): XmlChild => [
      'Bucket',
      [
        ['Name', b.name],
        ['CreationDate', isoTime(b.created)],
      ],
    ],
  );
  sendXml(ctx.response, 200, 'ListAllMyBucketsResult', [
    ['Owner', OWNER],
    ['Buckets', buckets],
  ]);
}

/** CreateBucket. Any CreateBucketConfiguration body is accepted and ignored: there is one region. */
export async function createBucket(ctx: S3Context, bucket: string): Promise<void> {
  await ctx.store.createBucket(bucket);
  ctx.response.setHeader('Location', `/${bucket}`);
  sendEmpty(ctx.response, 200);
}

/** HeadBucket. */
export async function headBucket(ctx: S3Context, bucket: string): Promise<void> {
  ctx.store.requireBucket(bucket);
  ctx.response.setHeader('x-amz-bucket-region', REGION);
  sendEmpty(ctx.response, 200);
}

/** DeleteBucket: only when empty; in-progress multipart uploads into it are discarded. */
export async function deleteBucket(ctx: S3Context, bucket: string): Promise<void> {
  await ctx.store.deleteBucket(bucket);
  await ctx.uploads.abortAll(bucket);
  sendEmpty(ctx.response, 204);
}

/** GetBucketLocation: empty, which means us-east-1. */
export async function getBucketLocation(ctx: S3Context, bucket: string): Promise<void> {
  ctx.store.requireBucket(bucket);
  sendXml(ctx.response, 200, 'LocationConstraint', []);
}

/** GetBucketVersioning: versioning is never enabled here, which S3 reports as an empty document. */
export async function getBucketVersioning(ctx: S3Context, bucket: string): Promise<void> {
  ctx.store.requireBucket(bucket);
  sendXml(ctx.response, 200, 'VersioningConfiguration', []);
}

function maxKeysFrom(query: URLSearchParams, name = 'max-keys'): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return MAX_KEYS;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) {
    throw S3Errors.invalidArgument('Provided max-keys not an integer or within integer range', name, raw);
  }
  return Math.min(n, MAX_KEYS);
}

/** With `encoding-type=url`, S3 percent-encodes keys and prefixes in listings (boto3 always asks). */
function listingEncoder(query: URLSearchParams): (text: string) => string {
  const type = query.get('encoding-type');
  if (type === null || type === '') return (text) => text;
  if (type !== 'url')
    throw S3Errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', type);
  return (text) => encodeURIComponent(text).replace(/%2F/g, '/');
}

function contentsElement(record: ObjectRecord, encode: (s: string) => string, owner: boolean): XmlChild {
  const algorithms = Object.keys(record.checksums).map(
    (a): XmlChild => ['ChecksumAlgorithm', a.toUpperCase()],
  );
  return [
    'Contents',
    [
      ['Key', encode(record.key)],
      ['LastModified', isoTime(record.lastModified)],
      ['ETag', record.etag],
      ...algorithms,
      ['Size', record.size],
      ['StorageClass', 'STANDARD'],
      owner && ['Owner', OWNER],
    ],
  ];
}

/** Opaque V2 continuation tokens: the last key or common prefix of the page, base64url-encoded. */
function encodeToken(last: string): string {
  return Buffer.from(`v1:${last}`, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith('v1:')) {
    throw S3Errors.invalidArgument(
      'The continuation token provided is incorrect',
      'continuation-token',
      token,
    );
  }
  return text.slice(3);
}

/** ListObjectsV2. */
export async function listObjectsV2(ctx: S3Context, bucket: string): Promise<void> {
  const q = ctx.target.query;
  const encode = listingEncoder(q);
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxKeys = maxKeysFrom(q);
  const token = q.get('continuation-token') || undefined;
  const startAfter = q.get('start-after') || undefined;
  const after = token !== undefined ? decodeToken(token) : startAfter;
  const page = ctx.store.list(bucket, { prefix, delimiter, maxKeys, after });
  const owner = q.get('fetch-owner') === 'true';
  sendXml(ctx.response, 200, 'ListBucketResult', [
    ['Name', bucket],
    ['Prefix', encode(prefix)],
    delimiter !== '' && ['Delimiter', encode(delimiter)],
    ['MaxKeys', maxKeys],
    q.get('encoding-type') === 'url' && ['EncodingType', 'url'],
    ['KeyCount', page.keys.length + page.commonPrefixes.length],
    token !== undefined && ['ContinuationToken', token],
    page.isTruncated && page.last !== undefined && ['NextContinuationToken', encodeToken(page.last)],
    startAfter !== undefined && ['StartAfter', encode(startAfter)],
    ['IsTruncated', page.isTruncated],
    ...page.records.map((r) => contentsElement(r, encode, owner)),
    ...page.commonPrefixes.map((p): XmlChild => ['CommonPrefixes', [['Prefix', encode(p)]]]),
  ]);
}

/** ListObjects (V1): `marker` paging; `NextMarker` only with a delimiter, as on S3. */
export async function listObjectsV1(ctx: S3Context, bucket: string): Promise<void> {
  const q = ctx.target.query;
  const encode = listingEncoder(q);
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxKeys = maxKeysFrom(q);
  const marker = q.get('marker') ?? '';
  const page = ctx.store.list(bucket, { prefix, delimiter, maxKeys, after: marker || undefined });
  sendXml(ctx.response, 200, 'ListBucketResult', [
    ['Name', bucket],
    ['Prefix', encode(prefix)],
    ['Marker', encode(marker)],
    page.isTruncated && delimiter !== '' && page.last !== undefined && ['NextMarker', encode(page.last)],
    ['MaxKeys', maxKeys],
    delimiter !== '' && ['Delimiter', encode(delimiter)],
    q.get('encoding-type') === 'url' && ['EncodingType', 'url'],
    ['IsTruncated', page.isTruncated],
    ...page.records.map((r) => contentsElement(r, encode, true)),
    ...page.commonPrefixes.map((p): XmlChild => ['CommonPrefixes', [['Prefix', encode(p)]]]),
  ]);
}

/** DeleteObjects: the `POST ?delete` batch; each key succeeds or fails on its own. */
export async function deleteObjects(ctx: S3Context, bucket: string): Promise<void> {
  ctx.store.requireBucket(bucket);
  const document = parseXml((await readSmallBody(ctx.request, MAX_DELETE_DOCUMENT_BYTES)).toString('utf8'));
  if (document.name !== 'Delete') throw S3Errors.malformedXML();
  const objects = childElements(document, 'Object');
  if (objects.length === 0 || objects.length > MAX_KEYS) throw S3Errors.malformedXML();
  const keys = objects.map((o) => childText(o, 'Key'));
  if (keys.some((k) => k === undefined || k === '')) throw S3Errors.malformedXML();
  const quiet = childText(document, 'Quiet')?.trim() === 'true';
  const results: XmlChild[] = [];
  for (const key of keys as string[]) {
    try {
      await ctx.store.deleteObject(bucket, key);
      if (!quiet) results.push(['Deleted', [['Key', key]]]);
    } catch (error) {
      if (!(error instanceof S3Error)) throw error;
      results.push([
        'Error',
        [
          ['Key', key],
          ['Code', error.code],
          ['Message', error.message],
        ],
      ]);
    }
  }
  sendXml(ctx.response, 200, 'DeleteResult', results);
}
