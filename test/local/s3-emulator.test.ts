/**
 * The embedded S3 emulator, driven by the real AWS SDK v3 (default checksum settings, path style),
 * presigned URLs called with fetch, and raw HTTP where the SDK cannot produce the request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3Emulator, startS3Emulator } from '../../infra/local/emulators/s3.ts';
import { AwsChunkedDecoder } from '../../infra/local/emulators/s3-chunked.ts';
import { compareKeys, listKeys } from '../../infra/local/emulators/s3-keys.ts';

const MiB = 1024 * 1024;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

let dataDir: string;
let emulator: S3Emulator;
let s3: S3Client;

function clientFor(endpoint: string): S3Client {
  return new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials });
}

async function startOn(dir: string): Promise<void> {
  emulator = await startS3Emulator({ dataDir: dir, port: 0 });
  s3?.destroy();
  s3 = clientFor(emulator.endpoint);
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'runway-s3-'));
  await startOn(dataDir);
});

afterAll(async () => {
  s3?.destroy();
  await emulator?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

let bucketCounter = 0;
async function newBucket(): Promise<string> {
  const bucket = `test-bucket-${++bucketCounter}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

async function put(bucket: string, key: string, body: string | Uint8Array = key): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function getText(bucket: string, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await out.Body?.transformToString()) ?? '';
}

/** The error an SDK call fails with (its name is S3's code), or a failure if it succeeds. */
async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail');
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A plain HTTP request to the emulator, for what the SDK does not send. */
function raw(
  method: string,
  path: string,
  options: { headers?: Record<string, string | number>; body?: Buffer | string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${emulator.endpoint}${path}`, { method, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function md5Hex(data: string | Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Lists every key (and common prefix) of a bucket through ListObjectsV2 continuation tokens. */
async function listAll(
  bucket: string,
  params: { Prefix?: string; Delimiter?: string; MaxKeys?: number } = {},
): Promise<{ keys: string[]; prefixes: string[]; pages: ListObjectsV2CommandOutput[] }> {
  const pages: ListObjectsV2CommandOutput[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ...params, ContinuationToken: token }),
    );
    pages.push(page);
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return {
    keys: pages.flatMap((p) => (p.Contents ?? []).map((c) => c.Key ?? '')),
    prefixes: pages.flatMap((p) => (p.CommonPrefixes ?? []).map((c) => c.Prefix ?? '')),
    pages,
  };
}

/** Retries `check` until it passes or 5 s have gone by (for effects that follow a socket closing). */
async function eventually(check: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Runs `fn` over `items`, `limit` at a time. */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

describe('network', () => {
  it('listens on 127.0.0.1 only', async () => {
    expect(emulator.endpoint).toBe(`http://127.0.0.1:${emulator.port}`);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    const addresses = [external?.address, '::1'].filter((a): a is string => a !== undefined);
    for (const address of addresses) {
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect({ host: address, port: emulator.port });
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(outcome, address).not.toBe('connected');
    }
  });
});

describe('buckets', () => {
  it('creates, heads, lists and deletes buckets with S3 errors', async () => {
    const bucket = await newBucket();
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    const listed = await s3.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((b) => b.Name)).toContain(bucket);
    expect(listed.Buckets?.find((b) => b.Name === bucket)?.CreationDate).toBeInstanceOf(Date);

    expect(await failure(s3.send(new CreateBucketCommand({ Bucket: bucket })))).toMatchObject({
      name: 'BucketAlreadyOwnedByYou',
      status: 409,
    });
    expect(await failure(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })))).toMatchObject({
      name: 'InvalidBucketName',
      status: 400,
    });
    await put(bucket, 'x');
    expect(await failure(s3.send(new DeleteBucketCommand({ Bucket: bucket })))).toMatchObject({
      name: 'BucketNotEmpty',
      status: 409,
    });
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'x' }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    expect(await failure(s3.send(new HeadBucketCommand({ Bucket: bucket })))).toMatchObject({ status: 404 });
    expect(await failure(s3.send(new DeleteBucketCommand({ Bucket: bucket })))).toMatchObject({
      name: 'NoSuchBucket',
      status: 404,
    });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'x' })))).toMatchObject({
      name: 'NoSuchBucket',
    });
    expect(await failure(put(bucket, 'x'))).toMatchObject({ name: 'NoSuchBucket', status: 404 });
  });

  it('answers S3 error XML with code, message, resource and request id', async () => {
    const bucket = await newBucket();
    const res = await raw('GET', `/${bucket}/missing%20key`);
    expect(res.status).toBe(404);
    expect(res.headers['x-amz-request-id']).toMatch(/^[0-9A-F]{16}$/);
    expect(res.body).toContain('<Code>NoSuchKey</Code>');
    expect(res.body).toContain('<Key>missing key</Key>');
    expect(res.body).toContain(`<Resource>/${bucket}/missing key</Resource>`);
    const notImplemented = await raw('GET', `/${bucket}?policy`);
    expect(notImplemented.status).toBe(501);
    expect(notImplemented.body).toContain('<Code>NotImplemented</Code>');
    const badMethod = await raw('PATCH', `/${bucket}/k`);
    expect(badMethod.status).toBe(405);
  });

  it('serves virtual-host-style requests (Host: <bucket>.localhost)', async () => {
    const bucket = await newBucket();
    const host = `${bucket}.localhost:${emulator.port}`;
    const written = await raw('PUT', '/dir/virtual.txt', { headers: { Host: host }, body: 'via host' });
    expect(written.status).toBe(200);
    expect(await getText(bucket, 'dir/virtual.txt')).toBe('via host');
    const read = await raw('GET', '/dir/virtual.txt', { headers: { Host: host } });
    expect(read.body).toBe('via host');
    const listed = await raw('GET', '/?list-type=2', { headers: { Host: host } });
    expect(listed.body).toContain('<Key>dir/virtual.txt</Key>');
  });
});

describe('objects', () => {
  it('puts and gets an object with its ETag, headers, metadata and checksum', async () => {
    const bucket = await newBucket();
    const body = 'hello, runway';
    const written = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'doc.txt',
        Body: body,
        ContentType: 'text/plain; charset=utf-8',
        ContentDisposition: 'attachment; filename="doc.txt"',
        CacheControl: 'no-cache',
        ContentLanguage: 'en',
        Metadata: { 'run-id': 'abc123', note: 'hello world' },
      }),
    );
    expect(written.ETag).toBe(`"${md5Hex(body)}"`);
    expect(written.ChecksumCRC32).toBeDefined();

    const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc.txt' }));
    expect(await read.Body?.transformToString()).toBe(body);
    expect(read.ETag).toBe(written.ETag);
    expect(read.ContentType).toBe('text/plain; charset=utf-8');
    expect(read.ContentDisposition).toBe('attachment; filename="doc.txt"');
    expect(read.CacheControl).toBe('no-cache');
    expect(read.ContentLanguage).toBe('en');
    expect(read.ContentLength).toBe(body.length);
    expect(read.Metadata).toEqual({ 'run-id': 'abc123', note: 'hello world' });
    // The SDK asks for checksums and validates the body against them: this read passed that check.
    expect(read.ChecksumCRC32).toBe(written.ChecksumCRC32);

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'doc.txt' }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.ETag).toBe(written.ETag);
    expect(head.LastModified).toBeInstanceOf(Date);
    expect(head.Metadata).toEqual({ 'run-id': 'abc123', note: 'hello world' });
  });

  it('stores binary and empty objects exactly', async () => {
    const bucket = await newBucket();
    const bytes = randomBytes(300_000);
    await put(bucket, 'bin', bytes);
    const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bin' }));
    expect(Buffer.from((await read.Body?.transformToByteArray()) ?? []).equals(bytes)).toBe(true);
    expect(read.ContentType).toBe('application/octet-stream');
    await put(bucket, 'empty', '');
    expect(await getText(bucket, 'empty')).toBe('');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'empty' }));
    expect(head.ContentLength).toBe(0);
    expect(head.ETag).toBe('"d41d8cd98f00b204e9800998ecf8427e"');
  });

  it('handles keys with any characters, including keys that prefix other keys', async () => {
    const bucket = await newBucket();
    const keys = [
      'a',
      'a/b',
      'a/b/c',
      'with space',
      'plus+sign',
      'percent%20literal',
      '100%',
      'unicode/ünïcödé/日本語/😀',
      'q?x=1&y=2#frag',
      'dots/../up/./here',
      '//leading/slashes',
      'trailing/',
      'tab\tand\nnewline',
      `${'deep/'.repeat(150)}leaf`,
      'x'.repeat(1024),
    ];
    await inParallel(keys, 8, (key) => put(bucket, key, `content of ${key}`));
    for (const key of keys) expect(await getText(bucket, key)).toBe(`content of ${key}`);
    const { keys: listed } = await listAll(bucket);
    expect(listed).toEqual([...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    expect(await failure(put(bucket, 'y'.repeat(1025)))).toMatchObject({
      name: 'KeyTooLongError',
      status: 400,
    });
  });

  it('answers NoSuchKey on GET, 404 on HEAD, and 204 on DELETE of a missing key', async () => {
    const bucket = await newBucket();
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'nope' })))).toMatchObject({
      name: 'NoSuchKey',
      status: 404,
    });
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'nope' })))).toMatchObject({
      name: 'NotFound',
      status: 404,
    });
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'nope' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    await put(bucket, 'there');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'there' }));
    expect(await failure(getText(bucket, 'there'))).toMatchObject({ name: 'NoSuchKey' });
  });

  it('serves ranges and rejects unsatisfiable ones with InvalidRange', async () => {
    const bucket = await newBucket();
    await put(bucket, 'digits', '0123456789');
    const range = async (Range: string) => {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'digits', Range }));
      return {
        body: await out.Body?.transformToString(),
        contentRange: out.ContentRange,
        length: out.ContentLength,
      };
    };
    expect(await range('bytes=2-4')).toEqual({ body: '234', contentRange: 'bytes 2-4/10', length: 3 });
    expect(await range('bytes=7-')).toEqual({ body: '789', contentRange: 'bytes 7-9/10', length: 3 });
    expect(await range('bytes=-2')).toEqual({ body: '89', contentRange: 'bytes 8-9/10', length: 2 });
    expect(await range('bytes=5-100')).toEqual({ body: '56789', contentRange: 'bytes 5-9/10', length: 5 });
    expect(await failure(range('bytes=10-'))).toMatchObject({ name: 'InvalidRange', status: 416 });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'digits', Range: 'bytes=0-0' }));
    expect(head.ContentLength).toBe(1);
    const rawRange = await raw('GET', `/${bucket}/digits`, { headers: { Range: 'bytes=3-3' } });
    expect(rawRange.status).toBe(206);
    expect(rawRange.body).toBe('3');
  });

  it('honours If-None-Match, If-Match and conditional writes', async () => {
    const bucket = await newBucket();
    await put(bucket, 'k', 'v1');
    const etag = `"${md5Hex('v1')}"`;
    const notModified = await raw('GET', `/${bucket}/k`, { headers: { 'If-None-Match': etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.etag).toBe(etag);
    expect(
      await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: '"nope"' }))),
    ).toMatchObject({
      name: 'PreconditionFailed',
      status: 412,
    });
    expect(await getText(bucket, 'k')).toBe('v1');
    const matched = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: etag }));
    expect(await matched.Body?.transformToString()).toBe('v1');
    const later = new Date(Date.now() + 60_000);
    const unmodified = await raw('GET', `/${bucket}/k`, {
      headers: { 'If-Modified-Since': later.toUTCString() },
    });
    expect(unmodified.status).toBe(304);

    expect(
      await failure(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v2', IfNoneMatch: '*' })),
      ),
    ).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'fresh', Body: 'v', IfNoneMatch: '*' }));
    expect(await getText(bucket, 'k')).toBe('v1');
  });

  it('verifies Content-MD5 and flexible checksums, rejecting mismatches with BadDigest', async () => {
    const bucket = await newBucket();
    const goodMd5 = createHash('md5').update('data').digest('base64');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5', Body: 'data', ContentMD5: goodMd5 }));
    const wrongMd5 = createHash('md5').update('other').digest('base64');
    expect(
      await failure(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad', Body: 'data', ContentMD5: wrongMd5 })),
      ),
    ).toMatchObject({ name: 'BadDigest', status: 400 });
    expect(
      await failure(
        s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: 'bad', Body: 'data', ChecksumCRC32: 'AAAAAA==' }),
        ),
      ),
    ).toMatchObject({ name: 'BadDigest', status: 400 });
    const sha = createHash('sha256').update('data').digest('base64');
    const withSha = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'sha',
        Body: 'data',
        ChecksumAlgorithm: 'SHA256',
        ChecksumSHA256: sha,
      }),
    );
    expect(withSha.ChecksumSHA256).toBe(sha);
    const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'sha', ChecksumMode: 'ENABLED' }));
    expect(read.ChecksumSHA256).toBe(sha);
    expect(await read.Body?.transformToString()).toBe('data');
    // CRC32C cannot be computed natively: it is stored and echoed.
    const crc32c = await raw('PUT', `/${bucket}/crc32c`, {
      headers: { 'x-amz-checksum-crc32c': 'yKEG5Q==', 'Content-Length': 4 },
      body: 'data',
    });
    expect(crc32c.headers['x-amz-checksum-crc32c']).toBe('yKEG5Q==');
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'bad' })))).toMatchObject({
      name: 'NoSuchKey',
    });
  });

  it('deletes a batch with DeleteObjects, reporting each key', async () => {
    const bucket = await newBucket();
    await Promise.all(['a', 'b', 'c & <d>'].map((k) => put(bucket, k)));
    const out = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: [{ Key: 'a' }, { Key: 'c & <d>' }, { Key: 'missing' }] },
      }),
    );
    expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(['a', 'c & <d>', 'missing']);
    expect(out.Errors ?? []).toEqual([]);
    const quiet = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'b' }], Quiet: true } }),
    );
    expect(quiet.Deleted ?? []).toEqual([]);
    expect((await listAll(bucket)).keys).toEqual([]);
    const malformed = await raw('POST', `/${bucket}?delete`, { body: '<Delete><Object></Delete>' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toContain('MalformedXML');
  });

  it('copies objects, keeping or replacing metadata', async () => {
    const bucket = await newBucket();
    const other = await newBucket();
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'src/ö k',
        Body: 'copy me',
        ContentType: 'text/x-a',
        Metadata: { a: '1' },
      }),
    );
    const copied = await s3.send(
      new CopyObjectCommand({
        Bucket: other,
        Key: 'dst',
        CopySource: `${bucket}/${encodeURIComponent('src/ö k')}`,
      }),
    );
    expect(copied.CopyObjectResult?.ETag).toBe(`"${md5Hex('copy me')}"`);
    const read = await s3.send(new GetObjectCommand({ Bucket: other, Key: 'dst' }));
    expect(await read.Body?.transformToString()).toBe('copy me');
    expect(read.ContentType).toBe('text/x-a');
    expect(read.Metadata).toEqual({ a: '1' });

    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'src/ö k',
        CopySource: `/${bucket}/${encodeURIComponent('src/ö k')}`,
        MetadataDirective: 'REPLACE',
        ContentType: 'text/x-b',
        Metadata: { b: '2' },
      }),
    );
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'src/ö k' }));
    expect(replaced.ContentType).toBe('text/x-b');
    expect(replaced.Metadata).toEqual({ b: '2' });

    expect(
      await failure(
        s3.send(
          new CopyObjectCommand({ Bucket: bucket, Key: 'src/ö k', CopySource: `${bucket}/src/%C3%B6%20k` }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidRequest', status: 400 });
    expect(
      await failure(
        s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/missing` })),
      ),
    ).toMatchObject({ name: 'NoSuchKey', status: 404 });
  });
});

describe('listing', () => {
  it('rolls up CommonPrefixes, including folders that hold only deeper keys', async () => {
    const bucket = await newBucket();
    const keys = ['top.txt', 'a/1.txt', 'a/b/2.txt', 'deep/only/x/y/z.txt', 'deep/only/w.txt', 'e/', 'e/f/g'];
    await Promise.all(keys.map((k) => put(bucket, k)));
    const root = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
    expect(root.Contents?.map((c) => c.Key)).toEqual(['top.txt']);
    expect(root.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'deep/', 'e/']);
    expect(root.KeyCount).toBe(4);
    expect(root.IsTruncated).toBe(false);
    const deep = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', Prefix: 'deep/' }));
    expect(deep.Contents ?? []).toEqual([]);
    expect(deep.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['deep/only/']);
    const only = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', Prefix: 'deep/only/' }),
    );
    expect(only.Contents?.map((c) => c.Key)).toEqual(['deep/only/w.txt']);
    expect(only.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['deep/only/x/']);
    const e = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', Prefix: 'e/' }));
    expect(e.Contents?.map((c) => c.Key)).toEqual(['e/']);
    expect(e.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['e/f/']);
    const paged = await listAll(bucket, { Delimiter: '/', MaxKeys: 1 });
    expect(paged.pages).toHaveLength(4);
    expect([...paged.prefixes, ...paged.keys]).toEqual(['a/', 'deep/', 'e/', 'top.txt']);
  });

  it('walks 2,500 keys with continuation tokens, max-keys and start-after', async () => {
    const bucket = await newBucket();
    const keys = Array.from({ length: 2500 }, (_, i) => `runs/${String(i).padStart(4, '0')}/artifact.bin`);
    await inParallel(keys, 32, (key) => put(bucket, key, 'x'));
    const all = await listAll(bucket);
    expect(all.pages.map((p) => p.KeyCount)).toEqual([1000, 1000, 500]);
    expect(all.pages.map((p) => p.IsTruncated)).toEqual([true, true, false]);
    expect(all.keys).toEqual(keys);
    const small = await listAll(bucket, { Prefix: 'runs/00', MaxKeys: 7 });
    expect(small.keys).toEqual(keys.slice(0, 100));
    expect(small.pages).toHaveLength(15);
    const folders = await listAll(bucket, { Prefix: 'runs/', Delimiter: '/', MaxKeys: 600 });
    expect(folders.prefixes).toHaveLength(2500);
    expect(folders.pages).toHaveLength(5);
    const after = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, StartAfter: keys[2490], MaxKeys: 5 }),
    );
    expect(after.Contents?.map((c) => c.Key)).toEqual(keys.slice(2491, 2496));
    expect(after.StartAfter).toBe(keys[2490]);
    const none = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 0 }));
    expect(none.KeyCount).toBe(0);
    const bad = await raw('GET', `/${bucket}?list-type=2&continuation-token=garbage`);
    expect(bad.status).toBe(400);
  });

  it('lists in UTF-8 byte order and URL-encodes keys on request', async () => {
    const bucket = await newBucket();
    // UTF-16 order would put U+FFFD after the emoji (a surrogate pair); UTF-8 order puts it before.
    const keys = ['Z', 'a', 'é', '\uFFFD', '😀', 'a b+c'];
    await Promise.all(keys.map((k) => put(bucket, k)));
    const { keys: listed } = await listAll(bucket);
    expect(listed).toEqual(['Z', 'a', 'a b+c', 'é', '\uFFFD', '😀']);
    const encoded = await raw('GET', `/${bucket}?list-type=2&encoding-type=url&prefix=a%20`);
    expect(encoded.body).toContain('<Key>a%20b%2Bc</Key>');
    expect(encoded.body).toContain('<EncodingType>url</EncodingType>');
  });

  it('supports ListObjects V1 with marker and NextMarker', async () => {
    const bucket = await newBucket();
    await Promise.all(['a/1', 'a/2', 'b', 'c', 'd/1'].map((k) => put(bucket, k)));
    const first = await s3.send(new ListObjectsCommand({ Bucket: bucket, MaxKeys: 2, Delimiter: '/' }));
    expect(first.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/']);
    expect(first.Contents?.map((c) => c.Key)).toEqual(['b']);
    expect(first.IsTruncated).toBe(true);
    expect(first.NextMarker).toBe('b');
    const second = await s3.send(new ListObjectsCommand({ Bucket: bucket, Marker: 'b', Delimiter: '/' }));
    expect(second.Contents?.map((c) => c.Key)).toEqual(['c']);
    expect(second.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['d/']);
    const resumedOnPrefix = await s3.send(
      new ListObjectsCommand({ Bucket: bucket, Marker: 'a/', Delimiter: '/' }),
    );
    expect(resumedOnPrefix.Contents?.map((c) => c.Key)).toEqual(['b', 'c']);
  });

  it('pages like one big listing (property)', () => {
    const keyArb = fc.string({ unit: fc.constantFrom('a', 'b', '/', 'é', '😀'), maxLength: 6 });
    fc.assert(
      fc.property(
        fc.uniqueArray(keyArb, { maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom('', '/', 'b'),
        (raw, maxKeys, delimiter) => {
          const keys = [...raw].sort(compareKeys);
          const whole = listKeys(keys, { prefix: '', delimiter, maxKeys: 100_000 });
          const seen: string[] = [];
          let after: string | undefined;
          for (;;) {
            const page = listKeys(keys, { prefix: '', delimiter, maxKeys, after });
            seen.push(...page.keys, ...page.commonPrefixes);
            if (!page.isTruncated) break;
            after = page.last;
          }
          expect(seen.sort(compareKeys)).toEqual([...whole.keys, ...whole.commonPrefixes].sort(compareKeys));
        },
      ),
    );
  });

  it('orders keys as UTF-8 bytes do (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
    );
  });
});

describe('multipart uploads', () => {
  it('creates, uploads, lists, completes with an md5-of-md5s ETag, and enforces part rules', async () => {
    const bucket = await newBucket();
    const key = 'models/model.bin';
    const part1 = randomBytes(5 * MiB);
    const part2 = randomBytes(1234);
    const created = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ContentType: 'application/x-model',
        Metadata: { m: 'v' },
      }),
    );
    const UploadId = created.UploadId ?? '';
    const up1 = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: part1 }),
    );
    const up2 = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: part2 }),
    );
    expect(up1.ETag).toBe(`"${md5Hex(part1)}"`);

    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, part1.length, up1.ETag],
      [2, part2.length, up2.ETag],
    ]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([[key, UploadId]]);

    const complete = (Parts: { PartNumber: number; ETag: string | undefined }[]) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts },
        }),
      );
    expect(await failure(complete([{ PartNumber: 1, ETag: '"00"' }]))).toMatchObject({ name: 'InvalidPart' });
    expect(
      await failure(
        complete([
          { PartNumber: 2, ETag: up2.ETag },
          { PartNumber: 1, ETag: up1.ETag },
        ]),
      ),
    ).toMatchObject({ name: 'InvalidPartOrder' });
    expect(
      await failure(
        complete([
          { PartNumber: 2, ETag: up2.ETag },
          { PartNumber: 3, ETag: up2.ETag },
        ]),
      ),
    ).toMatchObject({ name: 'InvalidPart' });

    const done = await complete([
      { PartNumber: 1, ETag: up1.ETag },
      { PartNumber: 2, ETag: up2.ETag },
    ]);
    const expectedEtag = `"${md5Hex(Buffer.concat([Buffer.from(md5Hex(part1), 'hex'), Buffer.from(md5Hex(part2), 'hex')]))}-2"`;
    expect(done.ETag).toBe(expectedEtag);
    const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from((await read.Body?.transformToByteArray()) ?? []);
    expect(bytes.equals(Buffer.concat([part1, part2]))).toBe(true);
    expect(read.ETag).toBe(expectedEtag);
    expect(read.ContentType).toBe('application/x-model');
    expect(read.Metadata).toEqual({ m: 'v' });
    expect(await failure(complete([{ PartNumber: 1, ETag: up1.ETag }]))).toMatchObject({
      name: 'NoSuchUpload',
      status: 404,
    });
  });

  it('rejects small non-final parts, aborts, and answers NoSuchUpload afterwards', async () => {
    const bucket = await newBucket();
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k' }));
    const a = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId, PartNumber: 1, Body: 'small' }),
    );
    const b = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId, PartNumber: 2, Body: 'tail' }),
    );
    expect(
      await failure(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: 'k',
            UploadId,
            MultipartUpload: {
              Parts: [
                { PartNumber: 1, ETag: a.ETag },
                { PartNumber: 2, ETag: b.ETag },
              ],
            },
          }),
        ),
      ),
    ).toMatchObject({ name: 'EntityTooSmall' });
    expect(
      await failure(
        s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId, PartNumber: 10001, Body: 'x' })),
      ),
    ).toMatchObject({ name: 'InvalidArgument' });
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId }));
    expect(
      await failure(s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'k', UploadId }))),
    ).toMatchObject({
      name: 'NoSuchUpload',
      status: 404,
    });
    expect(
      await failure(
        s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId, PartNumber: 1, Body: 'x' })),
      ),
    ).toMatchObject({ name: 'NoSuchUpload' });
    expect(
      await failure(s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: 'nope' }))),
    ).toMatchObject({
      name: 'NoSuchUpload',
    });
    expect((await listAll(bucket)).keys).toEqual([]);
  });

  it('uploads 3 × 5 MiB parts through presigned UploadPart URLs and reads back through a presigned GET', async () => {
    const bucket = await newBucket();
    const key = 'artifacts/big file.bin';
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(5 * MiB)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const etags = await Promise.all(
      parts.map(async (body, i) => {
        const url = await getSignedUrl(
          s3,
          new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1 }),
          {
            expiresIn: 300,
          },
        );
        const res = await fetch(url, { method: 'PUT', body });
        expect(res.status).toBe(200);
        return res.headers.get('etag') ?? '';
      }),
    );
    expect(etags).toEqual(parts.map((p) => `"${md5Hex(p)}"`));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), {
      expiresIn: 300,
    });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toMatch(/-3"$/);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(sha256Hex(body)).toBe(sha256Hex(Buffer.concat(parts)));
  });

  it('copies a range of an object into a part with UploadPartCopy', async () => {
    const bucket = await newBucket();
    const source = randomBytes(6 * MiB);
    await put(bucket, 'source', source);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'target' }));
    const first = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: 'target',
        UploadId,
        PartNumber: 1,
        CopySource: `${bucket}/source`,
        CopySourceRange: `bytes=0-${5 * MiB - 1}`,
      }),
    );
    const second = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: 'target',
        UploadId,
        PartNumber: 2,
        CopySource: `${bucket}/source`,
        CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}`,
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'target',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: first.CopyPartResult?.ETag },
            { PartNumber: 2, ETag: second.CopyPartResult?.ETag },
          ],
        },
      }),
    );
    const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'target' }));
    expect(Buffer.from((await read.Body?.transformToByteArray()) ?? []).equals(source)).toBe(true);
  });
});

describe('presigned URLs', () => {
  it('accepts presigned PUT and GET, and rejects an expired URL with AccessDenied', async () => {
    const bucket = await newBucket();
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'p/ü.txt' }), {
      expiresIn: 60,
    });
    const written = await fetch(putUrl, {
      method: 'PUT',
      body: 'presigned body',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(written.status).toBe(200);
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'p/ü.txt' }), {
      expiresIn: 60,
    });
    const read = await fetch(getUrl);
    expect(await read.text()).toBe('presigned body');
    expect(read.headers.get('content-type')).toBe('text/plain');

    const expiredUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'p/ü.txt' }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 3_600_000),
    });
    const expired = await fetch(expiredUrl);
    expect(expired.status).toBe(403);
    const body = await expired.text();
    expect(body).toContain('<Code>AccessDenied</Code>');
    expect(body).toContain('<Message>Request has expired</Message>');
  });
});

describe('aws-chunked bodies', () => {
  const chunkedBody = (parts: Buffer[], trailer: string) =>
    Buffer.concat([
      ...parts.flatMap((p) => [
        Buffer.from(`${p.length.toString(16)};chunk-signature=${'0'.repeat(64)}\r\n`),
        p,
        Buffer.from('\r\n'),
      ]),
      Buffer.from(`0;chunk-signature=${'0'.repeat(64)}\r\n${trailer}\r\n`),
    ]);

  it('decodes chunk-signed bodies with trailing checksums, and rejects a wrong trailer', async () => {
    const bucket = await newBucket();
    const parts = [randomBytes(1000), randomBytes(77)];
    const crc = Buffer.alloc(4);
    const { crc32 } = await import('node:zlib');
    crc.writeUInt32BE(crc32(Buffer.concat(parts)) >>> 0);
    const headers = (trailer: boolean) => ({
      'Content-Encoding': 'aws-chunked,gzip',
      'x-amz-content-sha256': trailer
        ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
        : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'x-amz-decoded-content-length': 1077,
      ...(trailer ? { 'x-amz-trailer': 'x-amz-checksum-crc32' } : {}),
    });
    const signedTrailer = `x-amz-checksum-crc32:${crc.toString('base64')}\r\nx-amz-trailer-signature:${'1'.repeat(64)}\r\n`;
    const ok = await raw('PUT', `/${bucket}/chunked`, {
      headers: headers(true),
      body: chunkedBody(parts, signedTrailer),
    });
    expect(ok.status).toBe(200);
    expect(ok.headers['x-amz-checksum-crc32']).toBe(crc.toString('base64'));
    const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'chunked' }));
    expect(Buffer.from((await read.Body?.transformToByteArray()) ?? []).equals(Buffer.concat(parts))).toBe(
      true,
    );
    expect(read.ContentEncoding).toBe('gzip');

    const noTrailer = await raw('PUT', `/${bucket}/plain-chunked`, {
      headers: headers(false),
      body: chunkedBody(parts, ''),
    });
    expect(noTrailer.status).toBe(200);
    const bad = await raw('PUT', `/${bucket}/bad`, {
      headers: headers(true),
      body: chunkedBody(parts, 'x-amz-checksum-crc32:AAAAAA==\r\n'),
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('<Code>BadDigest</Code>');
    const short = await raw('PUT', `/${bucket}/short`, {
      headers: { ...headers(false), 'x-amz-decoded-content-length': 5000 },
      body: chunkedBody(parts, ''),
    });
    expect(short.body).toContain('IncompleteBody');
    expect((await listAll(bucket)).keys).toEqual(['chunked', 'plain-chunked']);
  });

  it('decodes framing split at every byte boundary', async () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog');
    const body = chunkedBody([data.subarray(0, 10), data.subarray(10)], 'x-amz-checksum-sha256:abc=\r\n');
    for (let split = 1; split < body.length; split += 1) {
      const decoder = new AwsChunkedDecoder();
      const out: Buffer[] = [];
      decoder.on('data', (c: Buffer) => out.push(c));
      const finished = new Promise((resolve, reject) => decoder.on('end', resolve).on('error', reject));
      decoder.write(body.subarray(0, split));
      decoder.end(body.subarray(split));
      await finished;
      expect(Buffer.concat(out).equals(data)).toBe(true);
      expect(decoder.trailers.get('x-amz-checksum-sha256')).toBe('abc=');
    }
  });
});

describe('large objects', () => {
  it('streams a ~100 MB PutObject from a generated stream and reads it back intact', async () => {
    const bucket = await newBucket();
    const size = 100 * MiB;
    const block = randomBytes(MiB);
    const expected = createHash('sha256');
    for (let i = 0; i < size / MiB; i++) expected.update(block);
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < size / MiB; i++) yield block;
      })(),
    );
    let started = performance.now();
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'big.bin', Body: source, ContentLength: size }),
    );
    const putSeconds = (performance.now() - started) / 1000;

    started = performance.now();
    const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    const actual = createHash('sha256');
    let received = 0;
    for await (const chunk of read.Body as Readable) {
      actual.update(chunk as Buffer);
      received += (chunk as Buffer).length;
    }
    const getSeconds = (performance.now() - started) / 1000;
    expect(received).toBe(size);
    expect(actual.digest('hex')).toBe(expected.digest('hex'));
    console.info(
      `S3 emulator, 100 MiB on loopback: PUT ${(100 / putSeconds).toFixed(0)} MiB/s, GET ${(100 / getSeconds).toFixed(0)} MiB/s`,
    );
  });

  it('leaves nothing behind when a client aborts an upload midway', async () => {
    const bucket = await newBucket();
    const body = new PassThrough();
    const req = httpRequest(`${emulator.endpoint}/${bucket}/aborted`, {
      method: 'PUT',
      headers: { 'Content-Length': 10 * MiB },
    });
    req.on('error', () => undefined);
    body.pipe(req);
    body.write(randomBytes(MiB));
    const tmp = join(dataDir, 'tmp');
    await eventually(async () => expect((await readdir(tmp)).length).toBeGreaterThan(0)); // Upload under way.
    req.destroy();
    await eventually(async () => expect(await readdir(tmp)).toEqual([]));
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'aborted' })))).toMatchObject({
      status: 404,
    });
  });
});

describe('persistence', () => {
  it('keeps buckets, objects, metadata and in-progress uploads across a restart', async () => {
    const bucket = await newBucket();
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'a',
        Body: 'A',
        ContentType: 'text/a',
        Metadata: { k: 'v' },
      }),
    );
    await put(bucket, 'a/b', 'AB');
    await put(bucket, 'ü/😀 %+', 'U');
    await put(bucket, 'gone', 'G');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
    const part1 = randomBytes(5 * MiB);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    const up1 = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, Body: part1 }),
    );

    await emulator.stop();
    // A crash mid-write leaves a temporary file; the next start sweeps it.
    await writeFile(join(dataDir, 'tmp', 'leftover.tmp'), 'half an object');
    await startOn(dataDir);

    expect((await listAll(bucket)).keys).toEqual(['a', 'a/b', 'ü/😀 %+']);
    const a = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a' }));
    expect(await a.Body?.transformToString()).toBe('A');
    expect(a.ContentType).toBe('text/a');
    expect(a.Metadata).toEqual({ k: 'v' });
    expect(a.ETag).toBe(`"${md5Hex('A')}"`);
    expect(await getText(bucket, 'ü/😀 %+')).toBe('U');
    expect(await readdir(join(dataDir, 'tmp'))).toEqual([]);

    const up2 = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 2, Body: 'end' }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: up1.ETag },
            { PartNumber: 2, ETag: up2.ETag },
          ],
        },
      }),
    );
    const mp = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp' }));
    expect(
      Buffer.from((await mp.Body?.transformToByteArray()) ?? []).equals(
        Buffer.concat([part1, Buffer.from('end')]),
      ),
    ).toBe(true);
  });

  it('stop() closes the server', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runway-s3-stop-'));
    const other = await startS3Emulator({ dataDir: dir });
    const res = await fetch(`${other.endpoint}/`);
    expect(res.status).toBe(200);
    await other.stop();
    await expect(fetch(`${other.endpoint}/`)).rejects.toThrow();
    await rm(dir, { recursive: true, force: true });
  });
});
