import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { http, mlflow, httpRaw as send, unique } from '../support/http-client.ts';

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
    expect(error.error_code).toBe('REQUEST_LIMIT_EXCEEDED');
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

  it("lists a real run's artifacts with mlflow/artifacts/list (once runs are served)", async (context) => {
    const run = await mlflow('POST', 'runs/create', { experiment_id: experimentId });
    if (run.json?.error_code === 'ENDPOINT_NOT_FOUND') context.skip('runs/create is not served yet');
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
