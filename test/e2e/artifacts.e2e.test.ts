import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { http, httpRawPath, httpStream, mlflow, httpRaw as send, unique } from '../support/http-client.ts';

/**
 * Artifacts over HTTP as MLflow's client moves them (mlflow/store/artifact/http_artifact_repo.py): at
 * its default settings one PUT of the whole file and one streamed GET, of any size, at Runway's URL
 * (the distribution's edge path straight to storage, docs/artifacts.md); with multipart upload
 * enabled, parts PUT straight to storage at presigned URLs. Every file is checked byte for byte
 * (sha256) end to end; `npm run bench -- artifacts` measures 20 MB to 1 GiB.
 */

const MiB = 1024 * 1024;
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

let experimentId: string;
/** The proxy paths need no run to exist, so the run id is made up. */
const runId = randomBytes(16).toString('hex');
let runDir: string;

beforeAll(async () => {
  const created = await mlflow('POST', 'experiments/create', { name: unique('artifacts') });
  expect(created.status).toBe(200);
  experimentId = created.json.experiment_id;
  const experiment = await mlflow('GET', `experiments/get?experiment_id=${experimentId}`);
  expect(experiment.json.experiment.artifact_location).toBe(`mlflow-artifacts:/${experimentId}`);
  runDir = `${experimentId}/${runId}/artifacts`;
});

/** Each segment percent-encoded, as the MLflow client's `requests` sends paths. */
const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The client's requests at its default settings, recorded from MLflow 3.11.1 (test/fixtures/mlflow/). */
const CLIENT = JSON.parse(
  readFileSync(
    path.join(
      path.dirname(fileURLToPath(import.meta.url)),
      '../fixtures/mlflow/artifact-requests-3.11.1.json',
    ),
    'utf8',
  ),
) as Record<
  'upload' | 'list' | 'download',
  { method: string; path: string; headers: Record<string, string> }
>;

/** A deterministic pseudo-random body of `size` bytes in 1 MiB chunks (xorshift32), and its sha256, never held whole. */
function generatedBody(size: number, seed: number) {
  const chunks = function* () {
    let state = seed || 1;
    for (let offset = 0; offset < size; offset += MiB) {
      const words = new Uint32Array(Math.ceil(Math.min(MiB, size - offset) / 4));
      for (let i = 0; i < words.length; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        words[i] = state >>> 0;
      }
      yield new Uint8Array(words.buffer, 0, Math.min(MiB, size - offset));
    }
  };
  const hash = createHash('sha256');
  for (const chunk of chunks()) hash.update(chunk);
  return { length: size, chunks: chunks(), sha256: hash.digest('hex') };
}

const fill = (template: string, values: Record<string, string>) =>
  template.replace(/<(exp|run|file)>/g, (_m, key: string) => values[key] as string);

describe('artifacts at the client defaults: one PUT, one GET, any size', () => {
  it("replays MLflow 3.11.1's log_artifact and download of a 50 MB file: a single PUT, the listing, a streamed GET", async () => {
    const run = (await mlflow('POST', 'runs/create', { experiment_id: experimentId })).json.run.info;
    const values = { exp: experimentId, run: run.run_id as string, file: 'weights.bin' };
    const body = generatedBody(50 * MiB, 50);

    const put = await httpStream(
      CLIENT.upload.method,
      fill(CLIENT.upload.path, values),
      CLIENT.upload.headers,
      body,
    );
    expect({ status: put.status, body: put.head }).toEqual({ status: 200, body: '{}' });

    // The client lists the file's own path first (a file lists as empty, as with MLflow's server), then GETs it.
    const listed = await http(
      CLIENT.list.method,
      fill(CLIENT.list.path, values),
      undefined,
      CLIENT.list.headers,
    );
    expect({ status: listed.status, json: listed.json }).toEqual({ status: 200, json: {} });
    const directory = await http(
      'GET',
      `${ARTIFACTS}?path=${encodeURIComponent(`${experimentId}/${values.run}/artifacts`)}`,
    );
    expect(directory.json).toEqual({ files: [{ path: 'weights.bin', is_dir: false, file_size: 50 * MiB }] });

    const got = await httpStream(
      CLIENT.download.method,
      fill(CLIENT.download.path, values),
      CLIENT.download.headers,
    );
    expect(got.status).toBe(200);
    expect(got.headers['content-length']).toBe(String(50 * MiB));
    expect(got.headers['content-type']).toBe('application/octet-stream');
    expect(got.headers['content-disposition']).toBe('attachment; filename=weights.bin');
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect({ size: got.size, sha256: got.sha256 }).toEqual({ size: 50 * MiB, sha256: body.sha256 });

    // The run's own listing (the UI's) sees the same file.
    const runListing = await mlflow('GET', `artifacts/list?run_id=${run.run_id}`);
    expect(runListing.json.files).toEqual([{ path: 'weights.bin', is_dir: false, file_size: 50 * MiB }]);
  });

  it('replaces a file on a second PUT and serves HEAD with its length', async () => {
    const file = `${ARTIFACTS}/${encodePath(`${experimentId}/${randomBytes(16).toString('hex')}/artifacts/model.pkl`)}`;
    expect((await httpStream('PUT', file, {}, generatedBody(3 * MiB, 1))).status).toBe(200);
    const second = generatedBody(5 * MiB + 7, 2);
    expect((await httpStream('PUT', file, {}, second)).status).toBe(200);
    const got = await httpStream('GET', file, {});
    expect(got.sha256).toBe(second.sha256);
    const head = await send('HEAD', file);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(5 * MiB + 7));
  });

  it("refuses a single PUT over S3's 5 GiB before reading it: MLflow's 413 naming the size, the limit and multipart upload", async () => {
    const declared = 6 * 1024 * MiB;
    const answer = await sendHeadersOnly(`PUT ${ARTIFACTS}/${runDir}/huge.bin HTTP/1.1`, {
      'content-type': 'application/octet-stream',
      'content-length': String(declared),
    });
    expect(answer.status).toBe(413);
    const error = JSON.parse(answer.body);
    expect(error.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(error.message).toContain(`is ${declared} bytes`);
    expect(error.message).toContain(`limited to ${5 * 1024 * MiB} bytes`);
    expect(error.message).toContain('MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true');
    const listed = await http('GET', `${ARTIFACTS}?path=${encodeURIComponent(runDir)}`);
    expect(JSON.stringify(listed.json)).not.toContain('huge.bin');
  });

  it('refuses a PUT without a declared length (chunked) before storing anything', async () => {
    const answer = await sendHeadersOnly(`PUT ${ARTIFACTS}/${runDir}/chunked.bin HTTP/1.1`, {
      'transfer-encoding': 'chunked',
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).message).toContain('without a Content-Length');
  });

  it("refuses '..' in any encoding, and backslashes, before anything is stored", async () => {
    for (const bad of [
      '..%2F..%2Fescape.bin',
      '%2e%2e/escape.bin',
      '%252e%252e/escape.bin',
      'a%5Cb.bin',
      'a/../../b.bin',
    ]) {
      const answer = await sendHeadersOnly(
        `PUT ${ARTIFACTS}/${runDir}/${bad} HTTP/1.1`,
        {
          'content-type': 'application/octet-stream',
          'content-length': '4',
        },
        'evil',
      );
      expect({ bad, status: answer.status, code: JSON.parse(answer.body).error_code }).toEqual({
        bad,
        status: 400,
        code: 'INVALID_PARAMETER_VALUE',
      });
    }
    const listed = await http('GET', `${ARTIFACTS}?path=${encodeURIComponent(experimentId)}`);
    expect(JSON.stringify(listed.json)).not.toContain('escape');
  });
});

/**
 * Sends a request line and headers (and an optional short body) on a raw connection and reads the
 * answer: how a client that declares a body it has not sent yet meets a refusal.
 */
function sendHeadersOnly(
  requestLine: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; body: string }> {
  const base = new URL(inject('baseUrl'));
  if (base.protocol !== 'http:') throw new Error('raw requests need the local runtime');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(base.port), base.hostname);
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(received.slice(0, end))?.[1] ?? 0);
      if (received.length >= end + 4 + length) {
        socket.destroy();
        resolve({ status: Number(received.split(' ')[1]), body: received.slice(end + 4, end + 4 + length) });
      }
    });
    socket.on('error', reject);
    const lines = [
      requestLine,
      `host: ${base.host}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  });
}

describe('artifacts over HTTP', () => {
  it('uploads, lists, downloads and deletes small files through the API, binary intact', async () => {
    const data = randomBytes(256 * 1024);
    const name = 'plots/roc curve ü+%.bin';
    const put = await send('PUT', `${ARTIFACTS}/${encodePath(`${runDir}/${name}`)}`, data, {
      'content-type': 'application/octet-stream',
    });
    expect(put.status).toBe(200);
    const mlmodel = 'artifact_path: model\nflavors: {}\n';
    const text = await send('PUT', `${ARTIFACTS}/${encodePath(`${runDir}/model/MLmodel`)}`, mlmodel, {
      'content-type': 'text/plain',
    });
    expect(text.status).toBe(200);

    const listed = await http('GET', `${ARTIFACTS}?path=${encodeURIComponent(runDir)}`);
    expect(listed.json).toEqual({
      files: [
        { path: 'model', is_dir: true },
        { path: 'plots', is_dir: true },
      ],
    });
    const plots = await http('GET', `${ARTIFACTS}?path=${encodeURIComponent(`${runDir}/plots`)}`);
    expect(plots.json).toEqual({
      files: [{ path: 'roc curve ü+%.bin', is_dir: false, file_size: data.length }],
    });

    const got = await send('GET', `${ARTIFACTS}/${encodePath(`${runDir}/${name}`)}`);
    expect(got.status).toBe(200);
    expect(sha256(got.body)).toBe(sha256(data));
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(got.headers.get('content-disposition')).toContain(
      "filename*=UTF-8''roc%20curve%20%C3%BC%2B%25.bin",
    );
    const model = await send('GET', `${ARTIFACTS}/${encodePath(`${runDir}/model/MLmodel`)}`);
    expect(Buffer.from(model.body).toString('utf8')).toBe(mlmodel);
    expect(model.headers.get('content-type')).toBe('text/plain');

    expect((await http('DELETE', `${ARTIFACTS}/${encodePath(`${runDir}/plots`)}`)).status).toBe(200);
    const after = await http('GET', `${ARTIFACTS}?path=${encodeURIComponent(`${runDir}/plots`)}`);
    expect(after.json).toEqual({});
  });

  it('serves the same API under /ajax-api/2.0/', async () => {
    const path = `/ajax-api/2.0/mlflow-artifacts/artifacts/${runDir}/ajax.txt`;
    expect((await send('PUT', path, 'ajax', { 'content-type': 'text/plain' })).status).toBe(200);
    expect(Buffer.from((await send('GET', path)).body).toString()).toBe('ajax');
  });

  it('moves a 64 MiB file by multipart upload (16 MiB parts) and one streamed GET, sha256 intact', async () => {
    const partSize = 16 * MiB;
    const data = randomBytes(64 * MiB);
    const directory = `${runDir}/model/data`;
    const localPath = '/tmp/mlflow-e2e/model weights.bin';

    const created = await http('POST', `/api/2.0/mlflow-artifacts/mpu/create/${encodePath(directory)}`, {
      path: localPath,
      num_parts: 4,
    });
    expect(created.status).toBe(200);
    const credentials = created.json.credentials as Array<{
      url: string;
      part_number: number;
      headers: Record<string, string>;
    }>;
    expect(credentials.map((c) => c.part_number)).toEqual([1, 2, 3, 4]);

    // Straight to storage, in parallel, as MLflow's client does; the API never sees the bytes.
    const parts = await Promise.all(
      credentials.map(async (credential) => {
        const start = (credential.part_number - 1) * partSize;
        const response = await fetch(credential.url, {
          method: 'PUT',
          headers: credential.headers,
          body: data.subarray(start, start + partSize),
        });
        expect(response.status).toBe(200);
        return {
          part_number: credential.part_number,
          etag: response.headers.get('etag'),
          url: credential.url,
        };
      }),
    );
    const completed = await http('POST', `/api/2.0/mlflow-artifacts/mpu/complete/${encodePath(directory)}`, {
      path: localPath,
      upload_id: created.json.upload_id,
      parts,
    });
    expect(completed.status).toBe(200);

    const listed = await http('GET', `${ARTIFACTS}?path=${encodeURIComponent(directory)}`);
    expect(listed.json).toEqual({
      files: [{ path: 'model weights.bin', is_dir: false, file_size: 64 * MiB }],
    });

    // At Runway's URL one GET streams it, whatever its size (no redirect to follow).
    const download = await httpStream(
      'GET',
      `${ARTIFACTS}/${encodePath(`${directory}/model weights.bin`)}`,
      {},
    );
    expect(download.status).toBe(200);
    expect(download.headers['content-length']).toBe(String(64 * MiB));
    expect(download.sha256).toBe(sha256(data));
  });

  it('answers client mistakes with JSON 4xx: traversal, missing files, unknown runs', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['GET', `${ARTIFACTS}/${runDir}/..%2F..%2Fsecret`, 400, 'INVALID_PARAMETER_VALUE'],
      ['GET', `${ARTIFACTS}?path=..`, 400, 'INVALID_PARAMETER_VALUE'],
      ['GET', `${ARTIFACTS}/${runDir}/no-such-file.txt`, 404, 'RESOURCE_DOES_NOT_EXIST'],
      [
        'GET',
        `/api/2.0/mlflow/artifacts/list?run_id=${randomBytes(16).toString('hex')}`,
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      ['GET', '/api/2.0/mlflow/artifacts/list', 400, 'INVALID_PARAMETER_VALUE'],
      ['POST', `/api/2.0/mlflow-artifacts/mpu/create/${runDir}`, 400, 'INVALID_PARAMETER_VALUE'],
      ['POST', `${ARTIFACTS}/${runDir}/a.txt`, 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [method, path, status, code] of cases) {
      const result = await http(method, path, method === 'POST' ? {} : undefined);
      expect({ method, path, status: result.status, code: result.json?.error_code }).toEqual({
        method,
        path,
        status,
        code,
      });
    }
    expect((await http('GET', `${ARTIFACTS}?path=${encodeURIComponent(`${runDir}/nothing`)}`)).json).toEqual(
      {},
    );
    expect((await http('DELETE', `${ARTIFACTS}/${runDir}/nothing/at/all`)).status).toBe(200);
  });

  it('refuses every spelling of a . or .. segment on every artifact route, and writes nothing', async () => {
    // The request paths travel exactly as written (no client-side resolution of `..`).
    const spellings = [
      '../../escape.txt',
      '%2e%2e/%2e%2e/escape.txt',
      '%252e%252e/escape.txt',
      '..%2f..%2fescape.txt',
      '..%5c..%5cescape.txt',
      './escape.txt',
    ];
    const modelId = `m-${'2'.repeat(32)}`;
    const dir = `${runDir}/spell`;
    expect((await send('PUT', `${ARTIFACTS}/${dir}/kept.txt`, 'kept')).status).toBe(200);
    const mpu = {
      path: '/tmp/x/escape.txt',
      num_parts: 1,
      upload_id: 'u',
      parts: [{ part_number: 1, etag: 'e' }],
    };
    for (const spelling of spellings) {
      // A query value is decoded once too, so the same raw text spells the same path there.
      const query = spelling;
      const routes: Array<[string, string, string | undefined, string?]> = [
        ['PUT', `${ARTIFACTS}/${dir}/${spelling}`, 'x'],
        ['GET', `${ARTIFACTS}/${dir}/${spelling}`, undefined],
        ['DELETE', `${ARTIFACTS}/${dir}/${spelling}`, undefined],
        ['GET', `${ARTIFACTS}?path=${encodeURIComponent(dir)}%2F${query}`, undefined],
        [
          'POST',
          `/api/2.0/mlflow-artifacts/mpu/create/${dir}/${spelling}`,
          JSON.stringify(mpu),
          'application/json',
        ],
        [
          'POST',
          `/api/2.0/mlflow-artifacts/mpu/complete/${dir}/${spelling}`,
          JSON.stringify(mpu),
          'application/json',
        ],
        [
          'POST',
          `/api/2.0/mlflow-artifacts/mpu/abort/${dir}/${spelling}`,
          JSON.stringify(mpu),
          'application/json',
        ],
        ['GET', `/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=${query}`, undefined],
        [
          'GET',
          `/api/2.0/mlflow/logged-models/${modelId}/artifacts/directories?artifact_directory_path=${query}`,
          undefined,
        ],
        [
          'GET',
          `/api/2.0/mlflow/logged-models/${modelId}/artifacts/files?artifact_file_path=${query}`,
          undefined,
        ],
      ];
      for (const [method, path, body, type] of routes) {
        const result = await httpRawPath(method, path, body, type ? { 'content-type': type } : {});
        expect({ method, path, status: result.status, code: result.json?.error_code }).toEqual({
          method,
          path,
          status: 400,
          code: 'INVALID_PARAMETER_VALUE',
        });
      }
    }
    // Nothing landed outside the run (nor inside it): the run's directory and the experiment's hold what they held.
    const listed = await http('GET', `${ARTIFACTS}?path=${encodeURIComponent(dir)}`);
    expect(listed.json).toEqual({ files: [{ path: 'kept.txt', is_dir: false, file_size: 4 }] });
    for (const outside of [
      `${runDir}/escape.txt`,
      `${experimentId}/${runId}/escape.txt`,
      `${experimentId}/escape.txt`,
      'escape.txt',
    ]) {
      expect((await http('GET', `${ARTIFACTS}/${outside}`)).status, outside).toBe(404);
    }
  });

  it("lists a real run's artifacts with mlflow/artifacts/list, on both prefixes", async () => {
    const run = await mlflow('POST', 'runs/create', { experiment_id: experimentId });
    expect(run.status).toBe(200);
    const info = run.json.run.info as { run_id: string; artifact_uri: string };
    const root = info.artifact_uri.replace(/^mlflow-artifacts:\/*/, '');
    await send('PUT', `${ARTIFACTS}/${encodePath(`${root}/model/MLmodel`)}`, 'm', {
      'content-type': 'text/plain',
    });
    const listed = await mlflow('GET', `artifacts/list?run_id=${info.run_id}&path=model`);
    expect(listed.json).toEqual({
      root_uri: info.artifact_uri,
      files: [{ path: 'model/MLmodel', is_dir: false, file_size: 1 }],
    });
    const top = await http('GET', `/ajax-api/2.0/mlflow/artifacts/list?run_uuid=${info.run_id}`);
    expect(top.json).toEqual({ root_uri: info.artifact_uri, files: [{ path: 'model', is_dir: true }] });
    const empty = (await mlflow('POST', 'runs/create', { experiment_id: experimentId })).json.run.info;
    expect((await mlflow('GET', `artifacts/list?run_id=${empty.run_id}`)).json).toEqual({
      root_uri: empty.artifact_uri,
    });
  });

  it('lists runs and logged models of an experiment kept at s3:// in the artifact bucket', async (context) => {
    const bucket = inject('artifactBucket');
    if (!bucket) context.skip('E2E_ARTIFACT_BUCKET names the deployment bucket');
    const prefix = `e2e-explicit/${randomBytes(6).toString('hex')}`;
    const explicit = await mlflow('POST', 'experiments/create', {
      name: unique('explicit'),
      artifact_location: `s3://${bucket}/${prefix}`,
    });
    const id = explicit.json.experiment_id as string;
    const run = (await mlflow('POST', 'runs/create', { experiment_id: id })).json.run.info;
    expect(run.artifact_uri).toBe(`s3://${bucket}/${prefix}/${run.run_id}/artifacts`);
    // The proxy path of the same objects: the key below the bucket (no key prefix locally).
    await send('PUT', `${ARTIFACTS}/${prefix}/${run.run_id}/artifacts/notes.txt`, 'abc', {
      'content-type': 'text/plain',
    });
    expect((await mlflow('GET', `artifacts/list?run_id=${run.run_id}`)).json).toEqual({
      root_uri: run.artifact_uri,
      files: [{ path: 'notes.txt', is_dir: false, file_size: 3 }],
    });
    const model = (await mlflow('POST', 'logged-models', { experiment_id: id })).json.model.info;
    await send('PUT', `${ARTIFACTS}/${prefix}/models/${model.model_id}/artifacts/MLmodel`, 'm', {
      'content-type': 'text/plain',
    });
    expect((await mlflow('GET', `logged-models/${model.model_id}/artifacts/directories`)).json).toEqual({
      root_uri: model.artifact_uri,
      files: [{ path: 'MLmodel', is_dir: false, file_size: 1 }],
    });
  });

  it('answers 501 naming the location for artifact roots outside the artifact bucket', async () => {
    const foreign = await mlflow('POST', 'experiments/create', {
      name: unique('foreign'),
      artifact_location: 's3://somebody-elses-bucket/mlruns',
    });
    const id = foreign.json.experiment_id as string;
    const run = (await mlflow('POST', 'runs/create', { experiment_id: id })).json.run.info;
    const listed = await mlflow('GET', `artifacts/list?run_id=${run.run_id}`);
    expect([listed.status, listed.json.error_code]).toEqual([501, 'NOT_IMPLEMENTED']);
    expect(listed.json.message).toContain(run.artifact_uri);
    const model = (await mlflow('POST', 'logged-models', { experiment_id: id })).json.model.info;
    const directories = await mlflow('GET', `logged-models/${model.model_id}/artifacts/directories`);
    expect([directories.status, directories.json.error_code]).toEqual([501, 'NOT_IMPLEMENTED']);
  });

  it('aborts a multipart upload: parts discarded, completing it then is 404, aborting again is 200', async () => {
    const directory = `${runDir}/aborted`;
    const body = (uploadId: string) => ({ path: '/tmp/big.bin', upload_id: uploadId });
    const created = await http('POST', `/api/2.0/mlflow-artifacts/mpu/create/${directory}`, {
      path: '/tmp/big.bin',
      num_parts: 2,
    });
    expect(created.status).toBe(200);
    const [first] = created.json.credentials as Array<{ url: string }>;
    const part = await fetch(first?.url ?? '', { method: 'PUT', body: Buffer.alloc(1024, 1) });
    expect(part.status).toBe(200);
    const uploadId = created.json.upload_id as string;
    const abort = `/api/2.0/mlflow-artifacts/mpu/abort/${directory}`;
    expect((await http('POST', abort, body(uploadId))).status).toBe(200);
    const completed = await http('POST', `/api/2.0/mlflow-artifacts/mpu/complete/${directory}`, {
      ...body(uploadId),
      parts: [{ part_number: 1, etag: part.headers.get('etag') }],
    });
    expect([completed.status, completed.json.error_code]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
    expect((await http('POST', abort, body(uploadId))).status).toBe(200);
    expect((await http('GET', `${ARTIFACTS}?path=${encodeURIComponent(directory)}`)).json).toEqual({});
  });

  it('enforces the multipart and inline limits at and past them', async () => {
    const mpu = (action: string, body: unknown) =>
      http('POST', `/api/2.0/mlflow-artifacts/mpu/${action}/${runDir}/limits`, body);
    const cases: Array<[string, unknown, number, string]> = [
      ['create', { path: 'x.bin', num_parts: 0 }, 400, 'INVALID_PARAMETER_VALUE'],
      ['create', { path: 'x.bin', num_parts: 10_001 }, 400, 'INVALID_PARAMETER_VALUE'],
      // The body's path is the client's local file: only its name counts, and it must have one.
      ['create', { path: '/tmp/', num_parts: 1 }, 400, 'INVALID_PARAMETER_VALUE'],
      ['create', { num_parts: 1 }, 400, 'INVALID_PARAMETER_VALUE'],
      ['complete', { path: 'x.bin', upload_id: 'u', parts: [] }, 400, 'INVALID_PARAMETER_VALUE'],
      [
        'complete',
        { path: 'x.bin', upload_id: 'u', parts: [{ part_number: 10_001, etag: 'e' }] },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'complete',
        {
          path: 'x.bin',
          upload_id: 'u',
          parts: [
            { part_number: 1, etag: 'e' },
            { part_number: 1, etag: 'e' },
          ],
        },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'complete',
        { path: 'x.bin', upload_id: 'no-such-upload', parts: [{ part_number: 1, etag: 'e' }] },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      ['abort', { path: 'x.bin' }, 400, 'INVALID_PARAMETER_VALUE'],
    ];
    for (const [action, body, status, code] of cases) {
      const result = await mpu(action, body);
      expect({ action, body, status: result.status, code: result.json?.error_code }).toEqual({
        action,
        body,
        status,
        code,
      });
    }
    expect((await mpu('abort', { path: 'x.bin', upload_id: 'no-such-upload' })).status).toBe(200);
    const escaping = await http('POST', `/api/2.0/mlflow-artifacts/mpu/create/${runDir}/..%2F..%2Fx`, {
      path: 'x.bin',
      num_parts: 1,
    });
    expect([escaping.status, escaping.json.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    const exact = await send('PUT', `${ARTIFACTS}/${runDir}/exact.bin`, Buffer.alloc(4 * MiB, 1), {
      'content-type': 'application/octet-stream',
    });
    expect(exact.status).toBe(200);
    const root = await http('DELETE', `${ARTIFACTS}/`);
    expect(root.status).toBeGreaterThanOrEqual(400);
    expect(root.status).toBeLessThan(500);
  });
});
