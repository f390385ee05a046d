import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { http, httpRawPath, mlflow, httpRaw as send, unique } from '../support/http-client.ts';

/**
 * Artifacts over HTTP as MLflow's client moves them (mlflow/store/artifact/http_artifact_repo.py):
 * small files by PUT and GET through the API; large ones by multipart upload, each part PUT straight
 * to storage at a presigned URL, and downloaded by following a redirect to a presigned GET. A 64 MiB
 * file in 16 MiB parts is checked byte for byte (sha256) end to end; `npm run bench` does 1 GiB.
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

  it('moves a 64 MiB file by multipart upload (16 MiB parts) and redirect, sha256 intact', async () => {
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

    const download = await send(
      'GET',
      `${ARTIFACTS}/${encodePath(`${directory}/model weights.bin`)}`,
      undefined,
      {
        redirect: 'manual',
      },
    );
    expect(download.status).toBe(302);
    const location = download.headers.get('location') ?? '';
    expect(location).toMatch(/X-Amz-Signature=/);
    // What the client's redirect-following does next: a plain GET of the presigned URL.
    const fetched = await fetch(location);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-length')).toBe(String(64 * MiB));
    expect(await streamedSha256(fetched)).toBe(sha256(data));
  });

  it('refuses an inline upload above the limit with an MLflow 413 that names multipart upload', async () => {
    const over = await send(
      'PUT',
      `${ARTIFACTS}/${encodePath(`${runDir}/too-big.bin`)}`,
      Buffer.alloc(4 * MiB + 1, 7),
      { 'content-type': 'application/octet-stream' },
    );
    expect(over.status).toBe(413);
    const error = JSON.parse(Buffer.from(over.body).toString('utf8'));
    expect(error.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(error.message).toContain('MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true');
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

async function streamedSha256(response: Response): Promise<string> {
  const hash = createHash('sha256');
  const reader = response.body?.getReader();
  for (;;) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) break;
    hash.update(chunk.value);
  }
  return hash.digest('hex');
}
