import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type S3Emulator, startS3Emulator } from '../../infra/local/emulators/s3.ts';
import { apiEvent, lambdaContext } from '../support/api-event.ts';
import { tableName, useEmulators } from '../support/handler-env.ts';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: typeof lambdaContext,
) => Promise<{
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
}>;

const BUCKET = 'runway-artifacts-handler-test';
const MiB = 1024 * 1024;
const LOCAL = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

let handler: Handler;
let s3: S3Emulator;
let dataDir: string;
let raw: S3Client;
let runs: DynamoDBDocumentClient;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-artifacts-handlers-'));
  s3 = await startS3Emulator({ dataDir, port: 0 });
  raw = new S3Client({ ...LOCAL, endpoint: s3.endpoint, forcePathStyle: true });
  await raw.send(new CreateBucketCommand({ Bucket: BUCKET }));
  runs = DynamoDBDocumentClient.from(new DynamoDBClient({ ...LOCAL, endpoint: inject('dynamoEndpoint') }));
  useEmulators({
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    ARTIFACT_BUCKET_NAME: BUCKET,
    TRACKING_TABLE_NAME: tableName('TrackingTable'),
  });
  ({ handler } = (await import('../../functions/artifacts-api.ts')) as unknown as { handler: Handler });
});

afterAll(async () => {
  raw?.destroy();
  runs?.destroy();
  await s3?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface CallOptions {
  /** Bytes travel base64-encoded, as API Gateway sends binary bodies; a string is sent as text. */
  body?: Buffer | string;
  json?: unknown;
  headers?: Record<string, string>;
  prefix?: string;
}

/** Sends one request through the real handler, as API Gateway would, and reads the answer. */
async function call(method: string, pathAndQuery: string, options: CallOptions = {}) {
  const event = apiEvent(
    method,
    `${options.prefix ?? '/api/2.0/'}${pathAndQuery}`,
    options.json,
    options.headers,
  );
  if (options.body !== undefined) {
    const binary = Buffer.isBuffer(options.body);
    event.body = binary ? options.body.toString('base64') : (options.body as string);
    event.isBase64Encoded = binary;
    event.headers = {
      'content-type': binary ? 'application/octet-stream' : 'text/plain',
      ...event.headers,
      ...options.headers,
    };
  }
  const response = await handler(event, lambdaContext);
  const bytes = Buffer.from(response.body ?? '', response.isBase64Encoded ? 'base64' : 'utf8');
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the handler answered.
  return { status: response.statusCode, headers: response.headers, bytes, json: json as any };
}

/** Encodes each segment as the MLflow client (requests) and browsers do. */
const urlPath = (artifactPath: string) => artifactPath.split('/').map(encodeURIComponent).join('/');
const artifacts = (artifactPath: string) => `mlflow-artifacts/artifacts/${urlPath(artifactPath)}`;
let runCounter = 0;
/** A fresh run directory, as MLflow lays them out: `<experiment>/<run>/artifacts`. */
const runDir = () => `7/run${Date.now().toString(36)}${++runCounter}/artifacts`;
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

async function storedObject(key: string): Promise<Buffer> {
  const object = await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

describe('artifacts handler: upload and download', () => {
  it('round-trips every byte value through PUT and GET, with MLflow download headers', async () => {
    const dir = runDir();
    const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(4096)]);
    const put = await call('PUT', artifacts(`${dir}/weights.bin`), { body: data });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({});
    expect(await storedObject(`${dir}/weights.bin`)).toEqual(data);

    const got = await call('GET', artifacts(`${dir}/weights.bin`));
    expect(got.status).toBe(200);
    expect(got.bytes).toEqual(data);
    expect(got.headers['content-type']).toBe('application/octet-stream');
    expect(got.headers['content-disposition']).toBe('attachment; filename=weights.bin');
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.headers['x-request-id']).toMatch(/^test-/);
  });

  it('serves text files as text/plain (MLmodel, .json, .txt) and stores their type', async () => {
    const dir = runDir();
    const mlmodel = 'artifact_path: model\nflavors:\n  python_function: {}\n';
    expect((await call('PUT', artifacts(`${dir}/model/MLmodel`), { body: mlmodel })).status).toBe(200);
    const got = await call('GET', artifacts(`${dir}/model/MLmodel`));
    expect(got.bytes.toString('utf8')).toBe(mlmodel);
    expect(got.headers['content-type']).toBe('text/plain');
    const head = await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${dir}/model/MLmodel` }));
    expect(head.ContentType).toBe('text/plain');
    // A JSON file is a file, not request parameters: its body is stored as sent.
    const metrics = '[1, 2, 3]';
    const json = await call('PUT', artifacts(`${dir}/metrics.json`), {
      body: metrics,
      headers: { 'content-type': 'application/json' },
    });
    expect(json.status).toBe(200);
    expect((await call('GET', artifacts(`${dir}/metrics.json`))).bytes.toString()).toBe(metrics);
  });

  it('stores an empty body as an empty file', async () => {
    const dir = runDir();
    expect((await call('PUT', artifacts(`${dir}/empty.txt`))).status).toBe(200);
    const got = await call('GET', artifacts(`${dir}/empty.txt`));
    expect(got.status).toBe(200);
    expect(got.bytes.length).toBe(0);
  });

  it.each([
    'with space.txt',
    'ünïcødé 日本語.csv',
    '100%.txt',
    'a%20b.txt',
    'a+b.txt',
    'emoji 🚀/nested (1).png',
  ])('keeps the odd name %j exactly: key, listing and download', async (name) => {
    const dir = runDir();
    const data = Buffer.from(`contents of ${name}`);
    expect((await call('PUT', artifacts(`${dir}/${name}`), { body: data })).status).toBe(200);
    expect(await storedObject(`${dir}/${name}`)).toEqual(data);
    const got = await call('GET', artifacts(`${dir}/${name}`));
    expect(got.status).toBe(200);
    expect(got.bytes).toEqual(data);
    expect(got.headers['content-disposition']).toMatch(/^attachment; filename/);
    const listed = await call('GET', `mlflow-artifacts/artifacts?path=${encodeURIComponent(dir)}`);
    expect(listed.json.files.map((f: { path: string }) => f.path)).toEqual([name.split('/')[0]]);
  });

  it('answers under /ajax-api/2.0/ too', async () => {
    const dir = runDir();
    const put = await call('PUT', artifacts(`${dir}/a.txt`), { body: 'x', prefix: '/ajax-api/2.0/' });
    expect(put.status).toBe(200);
    const got = await call('GET', artifacts(`${dir}/a.txt`), { prefix: '/ajax-api/2.0/' });
    expect(got.bytes.toString()).toBe('x');
  });

  it('accepts 4 MiB through the API and refuses more with 413, pointing to multipart upload', async () => {
    const dir = runDir();
    const limit = Buffer.alloc(4 * MiB, 1);
    expect((await call('PUT', artifacts(`${dir}/limit.bin`), { body: limit })).status).toBe(200);
    const over = await call('PUT', artifacts(`${dir}/over.bin`), { body: Buffer.alloc(4 * MiB + 1, 1) });
    expect(over.status).toBe(413);
    expect(over.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(over.json.message).toBe(
      `The request body is ${4 * MiB + 1} bytes; PUT mlflow-artifacts/artifacts/{artifact_path+} accepts at most ${4 * MiB} bytes. ` +
        "At Runway's URL (the RunwayUrl output, CloudFront) one PUT takes up to 5 GiB. Here, " +
        'log larger files by multipart upload (mlflow-artifacts/mpu/create): set ' +
        `MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true and MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE=${4 * MiB} in the client's environment.`,
    );
    const missing = await raw
      .send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${dir}/over.bin` }))
      .catch((error: Error) => error.name);
    expect(missing).toBe('NotFound');
  });

  it('redirects a file above 4 MiB to a short-lived presigned GET that serves the same headers', async () => {
    const dir = runDir();
    const data = randomBytes(4 * MiB + 1);
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${dir}/big model.onnx`, Body: data }));
    const got = await call('GET', artifacts(`${dir}/big model.onnx`));
    expect(got.status).toBe(302);
    expect(got.bytes.length).toBe(0);
    expect(got.headers['cache-control']).toBe('no-store');
    const location = new URL(got.headers.location ?? '');
    expect(location.origin).toBe(s3.endpoint);
    expect(location.searchParams.get('X-Amz-Expires')).toBe('300');
    const fetched = await fetch(location);
    expect(fetched.status).toBe(200);
    expect(sha256(new Uint8Array(await fetched.arrayBuffer()))).toBe(sha256(data));
    expect(fetched.headers.get('content-type')).toBe('application/octet-stream');
    expect(fetched.headers.get('content-disposition')).toBe(
      `attachment; filename="big model.onnx"; filename*=UTF-8''big%20model.onnx`,
    );
  });

  it('answers a missing file (or a directory) with 404 RESOURCE_DOES_NOT_EXIST, where MLflow answers 500', async () => {
    const dir = runDir();
    await call('PUT', artifacts(`${dir}/sub/file.txt`), { body: 'x' });
    for (const missing of [`${dir}/nothing.txt`, `${dir}/sub`]) {
      const got = await call('GET', artifacts(missing));
      expect(got.status).toBe(404);
      expect(got.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
      expect(got.headers['content-type']).toBe('application/json');
    }
  });

  it.each([
    ['..', 'mlflow-artifacts/artifacts/7/../../etc/passwd'],
    ['encoded ..', 'mlflow-artifacts/artifacts/7/%2E%2E/secret'],
    ['double-encoded ..', 'mlflow-artifacts/artifacts/7/%252e%252e/secret'],
    ['absolute', 'mlflow-artifacts/artifacts//etc/passwd'],
    ['encoded absolute', 'mlflow-artifacts/artifacts/%2Fetc/passwd'],
    ['backslash', 'mlflow-artifacts/artifacts/7/a%5C..%5Cb'],
    ['control character', 'mlflow-artifacts/artifacts/7/a%00b'],
    ['empty segment', 'mlflow-artifacts/artifacts/7//b'],
  ])('refuses a %s path with 400 INVALID_PARAMETER_VALUE on every method', async (_, route) => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const answer = await call(method, route, method === 'PUT' ? { body: 'x' } : {});
      expect(answer.status, `${method} ${route}`).toBe(400);
      expect(answer.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
  });
});

describe('artifacts handler: listing', () => {
  it('lists one level with MLflow shapes: names relative to the directory, sizes only for files', async () => {
    const dir = runDir();
    for (const [name, body] of [
      ['b.txt', 'bb'],
      ['a.txt', 'a'],
      ['model/MLmodel', 'm'],
      ['model/data/weights.bin', 'www'],
      ['empty.txt', ''],
    ] as const) {
      await call('PUT', artifacts(`${dir}/${name}`), { body });
    }
    const root = await call('GET', `mlflow-artifacts/artifacts?path=${encodeURIComponent(dir)}`);
    expect(root.status).toBe(200);
    expect(root.json).toEqual({
      files: [
        { path: 'a.txt', is_dir: false, file_size: 1 },
        { path: 'b.txt', is_dir: false, file_size: 2 },
        { path: 'empty.txt', is_dir: false, file_size: 0 },
        { path: 'model', is_dir: true },
      ],
    });
    const model = await call('GET', `mlflow-artifacts/artifacts?path=${encodeURIComponent(`${dir}/model/`)}`);
    expect(model.json).toEqual({
      files: [
        { path: 'MLmodel', is_dir: false, file_size: 1 },
        { path: 'data', is_dir: true },
      ],
    });
  });

  it('answers 200 {} for a missing directory and for a file, as MLflow does', async () => {
    const dir = runDir();
    await call('PUT', artifacts(`${dir}/file.txt`), { body: 'x' });
    for (const listed of [`${dir}/missing`, `${dir}/file.txt`, '999999/none']) {
      const answer = await call('GET', `mlflow-artifacts/artifacts?path=${encodeURIComponent(listed)}`);
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({});
    }
  });

  it('lists the artifact root without a path', async () => {
    await call('PUT', artifacts(`${runDir()}/x.txt`), { body: 'x' });
    const answer = await call('GET', 'mlflow-artifacts/artifacts');
    expect(answer.json.files).toContainEqual({ path: '7', is_dir: true });
  });

  it('reads every page of a directory larger than one ListObjectsV2 page (1000 keys)', async () => {
    const dir = runDir();
    const names = Array.from({ length: 1100 }, (_, i) => `f${String(i).padStart(4, '0')}.txt`);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(
        names
          .slice(i, i + 50)
          .map((name) =>
            raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${dir}/${name}`, Body: 'x' })),
          ),
      );
    }
    const answer = await call('GET', `mlflow-artifacts/artifacts?path=${encodeURIComponent(dir)}`);
    expect(answer.json.files).toHaveLength(1100);
    expect(answer.json.files.map((f: { path: string }) => f.path)).toEqual(names);
  });

  it('refuses an escaping listing path with 400', async () => {
    for (const listed of ['../x', '/etc', '7/%2e%2e']) {
      const answer = await call('GET', `mlflow-artifacts/artifacts?path=${encodeURIComponent(listed)}`);
      expect(answer.status).toBe(400);
      expect(answer.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
  });
});

describe('artifacts handler: delete', () => {
  it('deletes a file, or a directory and everything below it, leaving namesakes alone', async () => {
    const dir = runDir();
    for (const name of ['keep.txt', 'model/MLmodel', 'model/data/w.bin', 'model.txt', 'modelx/y']) {
      await call('PUT', artifacts(`${dir}/${name}`), { body: name });
    }
    const file = await call('DELETE', artifacts(`${dir}/keep.txt`));
    expect(file.status).toBe(200);
    expect(file.json).toEqual({});
    expect((await call('DELETE', artifacts(`${dir}/model`))).status).toBe(200);
    const listed = await call('GET', `mlflow-artifacts/artifacts?path=${encodeURIComponent(dir)}`);
    expect(listed.json.files.map((f: { path: string }) => f.path)).toEqual(['model.txt', 'modelx']);
  });

  it('deletes more than one DeleteObjects batch (1000 keys) under a directory', async () => {
    const dir = runDir();
    for (let i = 0; i < 1050; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${dir}/many/f${i + j}`, Body: 'x' })),
        ),
      );
    }
    expect((await call('DELETE', artifacts(`${dir}/many`))).status).toBe(200);
    expect((await call('GET', `mlflow-artifacts/artifacts?path=${encodeURIComponent(dir)}`)).json).toEqual(
      {},
    );
  });

  it('answers 200 for what is missing, as MLflow does', async () => {
    const answer = await call('DELETE', artifacts(`${runDir()}/never/was.txt`));
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({});
  });
});

describe('artifacts handler: multipart upload', () => {
  /** What MLflow's client does: create with its local path, PUT each part to its URL, complete. */
  async function uploadInParts(dir: string, localPath: string, parts: Buffer[]) {
    const created = await call('POST', `mlflow-artifacts/mpu/create/${urlPath(dir)}`, {
      json: { path: localPath, num_parts: parts.length },
    });
    expect(created.status).toBe(200);
    const { upload_id, credentials } = created.json as {
      upload_id: string;
      credentials: Array<{ url: string; part_number: number; headers: Record<string, string> }>;
    };
    const uploaded = await Promise.all(
      credentials.map(async (credential) => {
        const put = await fetch(credential.url, {
          method: 'PUT',
          headers: credential.headers,
          body: parts[credential.part_number - 1],
        });
        expect(put.status).toBe(200);
        return {
          part_number: credential.part_number,
          etag: put.headers.get('etag') ?? '',
          url: credential.url,
        };
      }),
    );
    return { upload_id, credentials, uploaded };
  }

  it("creates, uploads parts straight to S3 and completes, as MLflow's client does", async () => {
    const dir = runDir();
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];
    const { upload_id, credentials, uploaded } = await uploadInParts(
      dir,
      '/tmp/mlflow-xyz/big model.bin',
      parts,
    );
    expect(upload_id).toEqual(expect.any(String));
    expect(credentials.map((c) => c.part_number)).toEqual([1, 2, 3]);
    for (const credential of credentials) {
      expect(credential.headers).toEqual({});
      // S3 would refuse parts against a checksum of an empty body baked into the URL (the emulator
      // does not check it, so this test must).
      expect(credential.url).not.toMatch(/x-amz-checksum|x-amz-sdk-checksum/i);
      expect(new URL(credential.url).searchParams.get('X-Amz-Expires')).toBe('3600');
    }
    const completed = await call('POST', `mlflow-artifacts/mpu/complete/${urlPath(dir)}`, {
      json: { path: '/tmp/mlflow-xyz/big model.bin', upload_id, parts: [...uploaded].reverse() },
    });
    expect(completed.status).toBe(200);
    expect(completed.json).toEqual({});
    const whole = Buffer.concat(parts);
    expect(sha256(await storedObject(`${dir}/big model.bin`))).toBe(sha256(whole));
    const listed = await call('GET', `mlflow-artifacts/artifacts?path=${encodeURIComponent(dir)}`);
    expect(listed.json.files).toEqual([{ path: 'big model.bin', is_dir: false, file_size: whole.length }]);
    const download = await call('GET', artifacts(`${dir}/big model.bin`));
    expect(download.status).toBe(302);
  });

  it('takes the file name from a Windows client path too', async () => {
    const dir = runDir();
    const { upload_id, uploaded } = await uploadInParts(dir, 'C:\\Users\\ana\\weights.bin', [
      Buffer.from('tiny'),
    ]);
    const completed = await call('POST', `mlflow-artifacts/mpu/complete/${urlPath(dir)}`, {
      json: { path: 'C:\\Users\\ana\\weights.bin', upload_id, parts: uploaded },
    });
    expect(completed.status).toBe(200);
    expect((await storedObject(`${dir}/weights.bin`)).toString()).toBe('tiny');
  });

  it.each([
    [{ path: 'f.bin', num_parts: 0 }, 'num_parts'],
    [{ path: 'f.bin', num_parts: 10_001 }, 'num_parts'],
    [{ path: 'f.bin', num_parts: 'many' }, 'num_parts'],
    [{ path: 'f.bin' }, "Missing value for required parameter 'num_parts'"],
    [{ num_parts: 1 }, "Missing value for required parameter 'path'"],
    [{ path: '/tmp/', num_parts: 1 }, 'name a file'],
    [{ path: '..', num_parts: 1 }, "'..'"],
  ])('refuses create with %j (400)', async (body, message) => {
    const answer = await call('POST', `mlflow-artifacts/mpu/create/${runDir()}`, { json: body });
    expect(answer.status).toBe(400);
    expect(answer.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(answer.json.message).toContain(message);
  });

  it('leaves no upload behind when create is refused', async () => {
    const dir = runDir();
    await call('POST', `mlflow-artifacts/mpu/create/${dir}`, { json: { path: 'f.bin', num_parts: 0 } });
    const uploads = await raw.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: dir }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it('refuses to complete with unknown uploads (404), bad parts and parts S3 refuses (400)', async () => {
    const dir = runDir();
    const small = [Buffer.from('first part, too small'), Buffer.from('last')];
    const { upload_id, uploaded } = await uploadInParts(dir, 'f.bin', small);
    const complete = (body: Record<string, unknown>) =>
      call('POST', `mlflow-artifacts/mpu/complete/${dir}`, { json: { path: 'f.bin', upload_id, ...body } });

    const unknown = await complete({ upload_id: 'no-such-upload', parts: uploaded });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await complete({ parts: [] })).json.message).toContain("'parts'");
    expect((await complete({})).json.message).toContain("'parts'");
    expect((await complete({ parts: [{ part_number: 1 }] })).status).toBe(400);
    expect((await complete({ parts: [{ part_number: 'x', etag: '"a"' }] })).status).toBe(400);
    expect((await complete({ parts: [...uploaded, uploaded[0]] })).json.message).toContain('twice');
    const wrongEtag = await complete({
      parts: [{ part_number: 1, etag: '"0123456789abcdef0123456789abcdef"' }],
    });
    expect(wrongEtag.status).toBe(400);
    expect(wrongEtag.json.message).toContain('InvalidPart');
    // S3 requires every part but the last to be at least 5 MiB.
    const tooSmall = await complete({ parts: uploaded });
    expect(tooSmall.status).toBe(400);
    expect(tooSmall.json.message).toContain('EntityTooSmall');
    // The upload is still there: the client can abort it.
    const aborted = await call('POST', `mlflow-artifacts/mpu/abort/${dir}`, {
      json: { path: 'f.bin', upload_id },
    });
    expect(aborted.status).toBe(200);
    expect(aborted.json).toEqual({});
    expect((await complete({ parts: uploaded })).status).toBe(404);
  });

  it("accepts a completion listing thousands of parts with their URLs, as MLflow's client sends it, up to 4 MiB", async () => {
    const dir = runDir();
    const url = `https://bucket.s3.amazonaws.com/${dir}/f.bin?X-Amz-Signature=${'a'.repeat(1200)}`;
    const parts = (count: number) =>
      Array.from({ length: count }, (_, i) => ({ part_number: i + 1, etag: `"${'0'.repeat(32)}"`, url }));
    const complete = (body: string) =>
      call('POST', `mlflow-artifacts/mpu/complete/${dir}`, {
        body,
        headers: { 'content-type': 'application/json' },
      });
    const body = JSON.stringify({ path: 'f.bin', upload_id: 'no-such-upload', parts: parts(2000) });
    expect(Buffer.byteLength(body)).toBeGreaterThan(2 * MiB);
    // Past the size check: the upload itself is unknown.
    expect((await complete(body)).status).toBe(404);
    const atLimit = body + ' '.repeat(4 * MiB - Buffer.byteLength(body));
    expect((await complete(atLimit)).status).toBe(404);
    const over = await complete(`${atLimit} `);
    expect(over.status).toBe(413);
    expect(over.json.message).toContain(`mpu/complete/{artifact_path+} accepts at most ${4 * MiB} bytes`);
  });

  it('aborts idempotently: an unknown or finished upload answers 200, like a delete', async () => {
    const dir = runDir();
    const abort = (upload_id: string) =>
      call('POST', `mlflow-artifacts/mpu/abort/${dir}`, { json: { path: 'f.bin', upload_id } });
    expect((await abort('no-such-upload')).status).toBe(200);
    const missingId = await call('POST', `mlflow-artifacts/mpu/abort/${dir}`, { json: { path: 'f.bin' } });
    expect(missingId.status).toBe(400);
    expect(missingId.json.message).toContain("'upload_id'");
  });

  it('refuses a non-JSON body on the multipart endpoints, as MLflow does', async () => {
    const answer = await call('POST', `mlflow-artifacts/mpu/create/${runDir()}`, {
      body: 'path=f.bin',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(answer.status).toBe(400);
    expect(answer.json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });
});

describe('artifacts handler: mlflow/artifacts/list (by run)', () => {
  async function createRun(artifactUri?: string) {
    const runId = `${Date.now().toString(16)}${(++runCounter).toString(16).padStart(8, '0')}`;
    const uri = artifactUri ?? `mlflow-artifacts:/7/${runId}/artifacts`;
    // The run item as the runs slice writes it (shared/tracking/keys.ts: runKeys.item).
    await runs.send(
      new PutCommand({
        TableName: tableName('TrackingTable'),
        Item: { pk: `RUN#${runId}`, sk: 'RUN', entity: 'run', runId, artifactUri: uri },
      }),
    );
    return { runId, dir: `7/${runId}/artifacts`, uri };
  }

  it("lists a run's artifacts relative to its root, as MLflow's ListArtifacts", async () => {
    const { runId, dir, uri } = await createRun();
    await call('PUT', artifacts(`${dir}/model/MLmodel`), { body: 'abc' });
    await call('PUT', artifacts(`${dir}/model/data/w.bin`), { body: Buffer.from([1, 2]) });
    await call('PUT', artifacts(`${dir}/notes.txt`), { body: 'n' });

    const root = await call('GET', `mlflow/artifacts/list?run_id=${runId}`);
    expect(root.status).toBe(200);
    expect(root.json).toEqual({
      root_uri: uri,
      files: [
        { path: 'model', is_dir: true },
        { path: 'notes.txt', is_dir: false, file_size: 1 },
      ],
    });
    const model = await call('GET', `mlflow/artifacts/list?run_uuid=${runId}&path=model`, {
      prefix: '/ajax-api/2.0/',
    });
    expect(model.json).toEqual({
      root_uri: uri,
      files: [
        { path: 'model/MLmodel', is_dir: false, file_size: 3 },
        { path: 'model/data', is_dir: true },
      ],
    });
  });

  it('answers only root_uri for a run without artifacts', async () => {
    const { runId, uri } = await createRun();
    expect((await call('GET', `mlflow/artifacts/list?run_id=${runId}`)).json).toEqual({ root_uri: uri });
  });

  it('answers 404 for an unknown run and 400 for a missing or malformed run id, path or token', async () => {
    const unknown = await call('GET', 'mlflow/artifacts/list?run_id=0123456789abcdef0123456789abcdef');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    const missing = await call('GET', 'mlflow/artifacts/list');
    expect(missing.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: "Missing value for required parameter 'run_id'.",
    });
    const { runId } = await createRun();
    for (const query of [
      'run_id=bad%20id',
      `run_id=${runId}&path=../x`,
      `run_id=${runId}&page_token=garbage`,
    ]) {
      const answer = await call('GET', `mlflow/artifacts/list?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it("lists a run whose s3:// artifact URI lies in the artifact bucket, as MLflow's S3 repository would", async () => {
    const root = `explicit/${Date.now().toString(36)}${++runCounter}`;
    const { runId, uri } = await createRun(`s3://${BUCKET}/${root}/`);
    await call('PUT', artifacts(`${root}/model/MLmodel`), { body: 'abcd' });
    const listed = await call('GET', `mlflow/artifacts/list?run_id=${runId}&path=model`);
    expect(listed.json).toEqual({
      root_uri: uri,
      files: [{ path: 'model/MLmodel', is_dir: false, file_size: 4 }],
    });
  });

  it('answers 501 naming why for a run whose artifacts are outside the artifact bucket', async () => {
    for (const uri of ['s3://somebody-elses-bucket/path', 'gs://bucket/path', 'file:///tmp/mlruns/0/r']) {
      const { runId } = await createRun(uri);
      const answer = await call('GET', `mlflow/artifacts/list?run_id=${runId}`);
      expect(answer.status, uri).toBe(501);
      expect(answer.json.error_code).toBe('NOT_IMPLEMENTED');
      expect(answer.json.message).toContain(`'${uri}', outside Runway's artifact store`);
    }
  });
});

describe('artifacts handler: logged-model artifacts (MLflow 3)', () => {
  let modelCounter = 0;
  /** The model item as the logged-models slice writes it (logged-models/keys.ts: loggedModelKeys.item). */
  async function createModel(options: { stage?: string; location?: string } = {}) {
    const modelId = `m-${Date.now().toString(16).padStart(24, '0')}${(++modelCounter).toString(16).padStart(8, '0')}`;
    const location = options.location ?? `mlflow-artifacts:/7/models/${modelId}/artifacts`;
    await runs.send(
      new PutCommand({
        TableName: tableName('TrackingTable'),
        Item: {
          pk: `LM#${modelId}`,
          sk: 'LM',
          entity: 'logged-model',
          modelId,
          artifactLocation: location,
          lifecycleStage: options.stage ?? 'active',
        },
      }),
    );
    return { modelId, dir: `7/models/${modelId}/artifacts`, location };
  }

  it("lists a model's artifacts relative to its location, as MLflow's ListLoggedModelArtifacts", async () => {
    const { modelId, dir, location } = await createModel();
    await call('PUT', artifacts(`${dir}/MLmodel`), { body: 'flavors: {}' });
    await call('PUT', artifacts(`${dir}/data/model.onnx`), { body: Buffer.from([1, 2, 3]) });
    const root = await call('GET', `mlflow/logged-models/${modelId}/artifacts/directories`);
    expect(root.status).toBe(200);
    expect(root.json).toEqual({
      root_uri: location,
      files: [
        { path: 'MLmodel', is_dir: false, file_size: 11 },
        { path: 'data', is_dir: true },
      ],
    });
    const data = await call(
      'GET',
      `mlflow/logged-models/${modelId}/artifacts/directories?artifact_directory_path=data`,
      { prefix: '/ajax-api/2.0/' },
    );
    expect(data.json).toEqual({
      root_uri: location,
      files: [{ path: 'data/model.onnx', is_dir: false, file_size: 3 }],
    });
    const empty = await call(
      'GET',
      `mlflow/logged-models/${modelId}/artifacts/directories?artifact_directory_path=nothing`,
    );
    expect(empty.json).toEqual({ root_uri: location });
  });

  it("serves a model's file with MLflow's download headers (the UI's artifacts/files)", async () => {
    const { modelId, dir } = await createModel();
    await call('PUT', artifacts(`${dir}/MLmodel`), { body: 'flavors: {}' });
    const file = await call(
      'GET',
      `mlflow/logged-models/${modelId}/artifacts/files?artifact_file_path=MLmodel`,
      {
        prefix: '/ajax-api/2.0/',
      },
    );
    expect(file.status).toBe(200);
    expect(file.bytes.toString('utf8')).toBe('flavors: {}');
    expect(file.headers['content-type']).toBe('text/plain');
    expect(file.headers['content-disposition']).toContain('MLmodel');
  });

  it('answers 404 for unknown, deleted and malformed models, 400 for bad paths, 501 outside the bucket', async () => {
    const { modelId } = await createModel();
    const { modelId: deleted } = await createModel({ stage: 'deleted' });
    const { modelId: foreign } = await createModel({ location: 's3://somebody-elses-bucket/m/artifacts' });
    const cases: Array<[string, number, string]> = [
      [`${'m-'.padEnd(34, 'f')}/artifacts/directories`, 404, 'RESOURCE_DOES_NOT_EXIST'],
      [`${deleted}/artifacts/directories`, 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['not-a-model/artifacts/directories', 404, 'RESOURCE_DOES_NOT_EXIST'],
      [`${deleted}/artifacts/files?artifact_file_path=MLmodel`, 404, 'RESOURCE_DOES_NOT_EXIST'],
      [`${modelId}/artifacts/files?artifact_file_path=missing.txt`, 404, 'RESOURCE_DOES_NOT_EXIST'],
      [`${modelId}/artifacts/directories?artifact_directory_path=../x`, 400, 'INVALID_PARAMETER_VALUE'],
      [`${modelId}/artifacts/directories?page_token=garbage`, 400, 'INVALID_PARAMETER_VALUE'],
      [`${modelId}/artifacts/files?artifact_file_path=..%2F..%2Fx`, 400, 'INVALID_PARAMETER_VALUE'],
      [`${modelId}/artifacts/files`, 400, 'INVALID_PARAMETER_VALUE'],
      [`${foreign}/artifacts/directories`, 501, 'NOT_IMPLEMENTED'],
      [`${modelId}/artifacts/elsewhere`, 404, 'ENDPOINT_NOT_FOUND'],
    ];
    for (const [path, status, code] of cases) {
      const answer = await call('GET', `mlflow/logged-models/${path}`);
      expect({ path, status: answer.status, code: answer.json?.error_code }).toEqual({ path, status, code });
    }
  });
});

describe('artifacts handler: routes', () => {
  it('answers unknown routes and wrong methods as JSON, never HTML', async () => {
    const unknown = await call('GET', 'mlflow-artifacts/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error_code).toBe('ENDPOINT_NOT_FOUND');
    const wrong = await call('POST', artifacts('7/r/artifacts/a.txt'), { json: {} });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET, PUT, DELETE');
    const deleteRoot = await call('DELETE', 'mlflow-artifacts/artifacts/');
    expect(deleteRoot.status).toBe(405);
  });
});

describe('artifacts handler: every spelling of a relative path on every artifact route', () => {
  /**
   * `.` and `..` segments as clients and attackers spell them in a URL path: plain, percent-encoded
   * once and twice, with an encoded slash, and with backslashes (raw and encoded). The handler
   * receives the path as the client sent it (API Gateway's rawPath) and decodes it once.
   */
  const SPELLINGS: Array<[string, string]> = [
    ['..', '../../escape.txt'],
    ['%2e%2e', '%2e%2e/%2e%2e/escape.txt'],
    ['%2E%2E', '%2E%2E/escape.txt'],
    ['%252e%252e', '%252e%252e/%252e%252e/escape.txt'],
    ['..%2f', '..%2f..%2fescape.txt'],
    ['..%2F, mixed', '.%2e%2F..%2Fescape.txt'],
    ['backslash', '..\\..\\escape.txt'],
    ['%5c', '..%5c..%5cescape.txt'],
    ['%255c', '..%255cescape.txt'],
    ['.', './escape.txt'],
    ['%2e', '%2e/escape.txt'],
    ['trailing ..', 'sub/..'],
  ];
  /** The same spellings as a query argument's value once the query string is decoded. */
  const decodedOnce = (spelling: string) =>
    spelling.replace(/%2f/gi, '/').replace(/%2e/gi, '.').replace(/%5c/gi, '\\').replace(/%25/g, '%');
  const MODEL_ID = `m-${'1'.repeat(32)}`;
  const RUN_ID = 'f'.repeat(32);
  const upload = { path: '/tmp/model/escape.txt', num_parts: 1 };

  /** Every artifact route, given the bad path as a URL path part (`raw`) and as a query value (`query`). */
  const ROUTES: Array<[string, (dir: string, raw: string, query: string) => [string, string, CallOptions]]> =
    [
      ['PUT artifacts/<path>', (d, r) => ['PUT', `mlflow-artifacts/artifacts/${d}/${r}`, { body: 'x' }]],
      ['GET artifacts/<path>', (d, r) => ['GET', `mlflow-artifacts/artifacts/${d}/${r}`, {}]],
      ['DELETE artifacts/<path>', (d, r) => ['DELETE', `mlflow-artifacts/artifacts/${d}/${r}`, {}]],
      [
        'GET artifacts?path=',
        (d, _r, q) => ['GET', `mlflow-artifacts/artifacts?path=${encodeURIComponent(`${d}/${q}`)}`, {}],
      ],
      [
        'POST mpu/create/<path>',
        (d, r) => ['POST', `mlflow-artifacts/mpu/create/${d}/${r}`, { json: upload }],
      ],
      [
        'POST mpu/complete/<path>',
        (d, r) => [
          'POST',
          `mlflow-artifacts/mpu/complete/${d}/${r}`,
          { json: { path: upload.path, upload_id: 'u', parts: [{ part_number: 1, etag: 'e' }] } },
        ],
      ],
      [
        'POST mpu/abort/<path>',
        (d, r) => [
          'POST',
          `mlflow-artifacts/mpu/abort/${d}/${r}`,
          { json: { path: upload.path, upload_id: 'u' } },
        ],
      ],
      [
        'GET mlflow/artifacts/list?path=',
        (_d, _r, q) => ['GET', `mlflow/artifacts/list?run_id=${RUN_ID}&path=${encodeURIComponent(q)}`, {}],
      ],
      [
        'GET logged-models/<id>/artifacts/directories',
        (_d, _r, q) => [
          'GET',
          `mlflow/logged-models/${MODEL_ID}/artifacts/directories?artifact_directory_path=${encodeURIComponent(q)}`,
          {},
        ],
      ],
      [
        'GET logged-models/<id>/artifacts/files',
        (_d, _r, q) => [
          'GET',
          `mlflow/logged-models/${MODEL_ID}/artifacts/files?artifact_file_path=${encodeURIComponent(q)}`,
          {},
        ],
      ],
    ];

  async function objectCount(): Promise<number> {
    let count = 0;
    let token: string | undefined;
    do {
      const page = await raw.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
      count += page.KeyCount ?? 0;
      token = page.NextContinuationToken;
    } while (token);
    return count;
  }

  it.each(ROUTES)(
    '%s: 400 INVALID_PARAMETER_VALUE for each spelling, before anything is read or written',
    async (_label, request) => {
      const dir = runDir();
      await call('PUT', artifacts(`${dir}/sub/kept.txt`), { body: 'kept' });
      const before = await objectCount();
      for (const [name, spelling] of SPELLINGS) {
        const [method, route, options] = request(dir, spelling, decodedOnce(spelling));
        const answer = await call(method, route, options);
        expect({ name, route, status: answer.status, code: answer.json?.error_code }).toEqual({
          name,
          route,
          status: 400,
          code: 'INVALID_PARAMETER_VALUE',
        });
        expect(answer.json.message, `${name}: ${route}`).toMatch(/'\.' or '\.\.' segment|backslash/);
      }
      // Nothing was written or deleted anywhere (a DELETE of `sub/..` would have removed `kept.txt`).
      expect(await objectCount()).toBe(before);
      expect((await call('GET', artifacts(`${dir}/sub/kept.txt`))).bytes.toString()).toBe('kept');
    },
  );
});
