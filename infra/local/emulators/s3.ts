/**
 * The local runtime's embedded S3 emulator: a small S3 REST server on `node:http` that keeps buckets
 * and objects as files under a data directory, so that MLflow artifacts survive restarts of
 * `npm start` with no Docker and nothing else installed.
 *
 * It speaks S3's REST API as the AWS SDK for JavaScript v3 and boto3 use it, with their default
 * settings: path-style and virtual-host-style (`<bucket>.localhost`) addressing; bucket CRUD;
 * PutObject/GetObject/HeadObject/DeleteObject/DeleteObjects/CopyObject with ranges, preconditions,
 * stored headers and user metadata; ListObjects V1 and V2; multipart uploads (including
 * UploadPartCopy); `aws-chunked` bodies with trailing checksums; flexible checksums (CRC32, SHA-1
 * and SHA-256 verified; CRC32C and CRC64NVME stored and echoed); presigned URLs (expiry enforced).
 *
 * Security model: it does NOT check signatures or credentials; any request is accepted. That is
 * safe only because it binds to the loopback interface (127.0.0.1 by default) and serves one
 * developer's machine. Do not bind it to a public address.
 *
 * Not supported (answered with 501 NotImplemented where S3 has a subresource for it): versioning,
 * ACLs and policies, tagging, lifecycle, CORS, object lock, encryption settings, website hosting,
 * SelectObjectContent, GetObjectAttributes, `partNumber` reads; ListMultipartUploads pages by key
 * only (no delimiter, no upload-id-marker); composite multipart checksums only for CRC32, SHA-1 and
 * SHA-256; non-ASCII metadata is returned byte for byte rather than RFC 2047-encoded as S3 does.
 * See the sibling `s3-*.ts` files for
 * each part: `s3-store.ts` (on-disk layout), `s3-uploads.ts`, `s3-body.ts`, `s3-chunked.ts`,
 * `s3-keys.ts` (listing), `s3-http.ts`, `s3-xml.ts`, `s3-errors.ts` and the `*-handlers.ts` files.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isClientAbort } from './s3-body.ts';
import {
  createBucket,
  deleteBucket,
  deleteObjects,
  getBucketLocation,
  getBucketVersioning,
  headBucket,
  listBuckets,
  listObjectsV1,
  listObjectsV2,
} from './s3-bucket-handlers.ts';
import { S3Error, S3Errors } from './s3-errors.ts';
import { randomId } from './s3-fs.ts';
import {
  checkPresignedExpiry,
  header,
  parseTarget,
  type S3Context,
  type S3Target,
  sendError,
} from './s3-http.ts';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from './s3-multipart-handlers.ts';
import { copyObject, deleteObject, getObject, headObject, putObject } from './s3-object-handlers.ts';
import { S3Store } from './s3-store.ts';
import { MultipartUploads } from './s3-uploads.ts';

/** Options of {@link startS3Emulator}. */
export interface S3EmulatorOptions {
  /** Directory holding all buckets, objects and uploads; created if missing, reused if present. */
  dataDir: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. Keep it a loopback address: requests are not authenticated. */
  host?: string;
}

/** A running emulator. */
export interface S3Emulator {
  /** Base URL for clients, e.g. `http://127.0.0.1:PORT` (use `forcePathStyle: true` with it). */
  endpoint: string;
  /** The port actually bound. */
  port: number;
  /** Requests served so far, by HTTP method (the benchmarks report them). */
  requests: Readonly<Record<string, number>>;
  /**
   * Serves one request in this process, as the port serves it (same routing, counting and shutdown
   * tracking): for callers that already hold the request, such as the local CloudFront's S3 origins,
   * whose bodies would otherwise cross a loopback socket and a second HTTP parse. `response` may be
   * anything that is written as a `ServerResponse` is (see `InProcessResponse`). Never rejects.
   */
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
  /** Stops accepting requests, cuts open connections, waits for in-flight work, closes every file. */
  stop(): Promise<void>;
}

type Handler = (ctx: S3Context) => Promise<void>;

/** Bucket subresources S3 has and the emulator does not implement. */
const UNSUPPORTED_BUCKET_SUBRESOURCES = [
  'accelerate',
  'acl',
  'analytics',
  'cors',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'lifecycle',
  'logging',
  'metadataTable',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'session',
  'tagging',
  'versions',
  'website',
];
/** Object subresources S3 has and the emulator does not implement. */
const UNSUPPORTED_OBJECT_SUBRESOURCES = [
  'acl',
  'attributes',
  'legal-hold',
  'renameObject',
  'restore',
  'retention',
  'select',
  'tagging',
  'torrent',
];

function unsupportedSubresource(query: URLSearchParams, names: readonly string[]): string | undefined {
  return names.find((name) => query.has(name));
}

function bucketRoute(method: string, target: S3Target, bucket: string): Handler {
  const q = target.query;
  const unsupported = unsupportedSubresource(q, UNSUPPORTED_BUCKET_SUBRESOURCES);
  if (unsupported !== undefined) throw S3Errors.notImplemented(`?${unsupported}`);
  switch (method) {
    case 'PUT':
      if (q.has('versioning')) throw S3Errors.notImplemented('?versioning');
      return (ctx) => createBucket(ctx, bucket);
    case 'HEAD':
      return (ctx) => headBucket(ctx, bucket);
    case 'DELETE':
      return (ctx) => deleteBucket(ctx, bucket);
    case 'POST':
      if (q.has('delete')) return (ctx) => deleteObjects(ctx, bucket);
      break;
    case 'GET':
      if (q.has('uploads')) return (ctx) => listMultipartUploads(ctx, bucket);
      if (q.has('location')) return (ctx) => getBucketLocation(ctx, bucket);
      if (q.has('versioning')) return (ctx) => getBucketVersioning(ctx, bucket);
      if (q.get('list-type') === '2') return (ctx) => listObjectsV2(ctx, bucket);
      return (ctx) => listObjectsV1(ctx, bucket);
  }
  throw S3Errors.methodNotAllowed(method, 'BUCKET');
}

function objectRoute(
  method: string,
  target: S3Target,
  request: IncomingMessage,
  bucket: string,
  key: string,
): Handler {
  const q = target.query;
  const unsupported = unsupportedSubresource(q, UNSUPPORTED_OBJECT_SUBRESOURCES);
  if (unsupported !== undefined) throw S3Errors.notImplemented(`?${unsupported}`);
  const uploadId = q.get('uploadId');
  const copySource = header(request, 'x-amz-copy-source');
  switch (method) {
    case 'PUT':
      if (uploadId !== null && copySource !== undefined) {
        return (ctx) => uploadPartCopy(ctx, bucket, key, uploadId, copySource);
      }
      if (uploadId !== null) return (ctx) => uploadPart(ctx, bucket, key, uploadId);
      if (copySource !== undefined) return (ctx) => copyObject(ctx, bucket, key, copySource);
      return (ctx) => putObject(ctx, bucket, key);
    case 'GET':
      if (uploadId !== null) return (ctx) => listParts(ctx, bucket, key, uploadId);
      return (ctx) => getObject(ctx, bucket, key);
    case 'HEAD':
      return (ctx) => headObject(ctx, bucket, key);
    case 'DELETE':
      if (uploadId !== null) return (ctx) => abortMultipartUpload(ctx, bucket, key, uploadId);
      return (ctx) => deleteObject(ctx, bucket, key);
    case 'POST':
      if (q.has('uploads')) return (ctx) => createMultipartUpload(ctx, bucket, key);
      if (uploadId !== null) return (ctx) => completeMultipartUpload(ctx, bucket, key, uploadId);
      break;
  }
  throw S3Errors.methodNotAllowed(method, 'OBJECT');
}

/** Picks the operation for a request, as S3 does: by method, addressed resource and subresource. */
function route(request: IncomingMessage, target: S3Target): Handler {
  const method = request.method ?? 'GET';
  if (target.bucket === undefined) {
    if (method === 'GET') return listBuckets;
    throw S3Errors.methodNotAllowed(method, 'SERVICE');
  }
  if (target.key === undefined) return bucketRoute(method, target, target.bucket);
  return objectRoute(method, target, request, target.bucket, target.key);
}

function resourceOf(target: S3Target | undefined): string {
  if (target?.bucket === undefined) return '/';
  return target.key === undefined ? `/${target.bucket}` : `/${target.bucket}/${target.key}`;
}

/** Serves one request; never rejects. */
async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  store: S3Store,
  uploads: MultipartUploads,
): Promise<void> {
  const id = randomId();
  const requestId = id.slice(0, 16).toUpperCase();
  response.setHeader('x-amz-request-id', requestId);
  response.setHeader('x-amz-id-2', Buffer.from(id, 'hex').toString('base64'));
  response.setHeader('Server', 'RunwayS3');
  let target: S3Target | undefined;
  try {
    target = parseTarget(request);
    checkPresignedExpiry(target.query);
    await route(request, target)({ store, uploads, request, response, target });
  } catch (error) {
    if (isClientAbort(error) || response.destroyed) {
      response.destroy();
      return;
    }
    if (!(error instanceof S3Error)) console.error('[s3-emulator] internal error:', error);
    sendError(
      response,
      error instanceof S3Error ? error : S3Errors.internal(),
      resourceOf(target),
      requestId,
    );
  }
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

/**
 * Starts the S3 emulator on `host:port`, serving (and persisting to) `options.dataDir`. Data written
 * by an earlier emulator on the same directory is there; writes interrupted by a crash are not.
 *
 * @example
 * const s3 = await startS3Emulator({ dataDir: '.runway/s3' });
 * const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1',
 *   credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
 * // ...
 * await s3.stop();
 */
export async function startS3Emulator(options: S3EmulatorOptions): Promise<S3Emulator> {
  const host = options.host ?? '127.0.0.1';
  const store = await S3Store.open(options.dataDir);
  const uploads = await MultipartUploads.open(options.dataDir, store);
  const inFlight = new Set<Promise<void>>();
  // No request timeout: a multi-gigabyte upload may legitimately take longer than Node's default 5 minutes.
  const requests: Record<string, number> = {};
  const handle = (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    requests[method] = (requests[method] ?? 0) + 1;
    const work = serve(request, response, store, uploads).finally(() => inFlight.delete(work));
    inFlight.add(work);
    return work;
  };
  const server = createServer({ requestTimeout: 0 }, (request, response) => void handle(request, response));
  const address = await listen(server, options.port ?? 0, host);
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    // Handlers whose sockets were cut fail, discard their temporary files and close their handles.
    await Promise.allSettled([...inFlight]);
    await closed;
  };
  return {
    endpoint: `http://${formatHost(host)}:${address.port}`,
    port: address.port,
    requests,
    handle,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}
