import { describe, expect, it } from 'vitest';
import { http, mlflow, httpRaw as send, unique } from '../support/http-client.ts';

/**
 * MLflow 3's logged models over HTTP, as its client drives them (the request sequence of
 * `mlflow.sklearn.log_model` in test/fixtures/mlflow/logged-models.json): create, run output, linked
 * metrics, artifact upload through the proxy under the model's `artifact_uri`, finalize; then what
 * loading `models:/<model_id>` and the UI do: get, list and download its artifacts; tags, params,
 * search, delete; and every error and limit of these endpoints.
 */

const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';
const MODEL_FILES: Record<string, string> = {
  MLmodel: 'artifact_path: model\nflavors:\n  sklearn: {}\n',
  'conda.yaml': 'name: mlflow-env\n',
  'model.pkl': 'pickled bytes',
  'python_env.yaml': 'python: 3.11\n',
  'requirements.txt': 'scikit-learn==1.5.2\n',
};

async function newExperiment(prefix: string): Promise<string> {
  const created = await mlflow('POST', 'experiments/create', { name: unique(prefix) });
  expect(created.status).toBe(200);
  return created.json.experiment_id as string;
}

async function newModel(experimentId: string, extra: Record<string, unknown> = {}) {
  const created = await mlflow('POST', 'logged-models', { experiment_id: experimentId, ...extra });
  expect(created.status).toBe(200);
  return created.json.model.info as { model_id: string; artifact_uri: string; name: string };
}

/** The proxy path of a `mlflow-artifacts:/` URI. */
const proxyPath = (uri: string) => uri.replace(/^mlflow-artifacts:\/*/, '');

describe('logged models over HTTP, as the MLflow 3 client logs and loads them', () => {
  it('logs a model: create, run output, linked metric, artifacts through the proxy, finalize READY', async () => {
    const experimentId = await newExperiment('lm');
    const runId = (await mlflow('POST', 'runs/create', { experiment_id: experimentId })).json.run.info
      .run_id as string;
    const model = await newModel(experimentId, {
      name: 'model',
      source_run_id: runId,
      params: [{ key: 'C', value: '1.0' }],
      tags: [{ key: 'mlflow.source.type', value: 'LOCAL' }],
    });
    expect(model.artifact_uri).toBe(`mlflow-artifacts:/${experimentId}/models/${model.model_id}/artifacts`);
    expect(
      (
        await mlflow('POST', 'runs/outputs', {
          run_id: runId,
          models: [{ model_id: model.model_id, step: 0 }],
        })
      ).status,
    ).toBe(200);
    const logged = await mlflow('POST', 'runs/log-batch', {
      run_id: runId,
      metrics: [{ key: 'accuracy', value: 0.93, timestamp: 5, step: 1, model_id: model.model_id }],
    });
    expect(logged.status).toBe(200);
    const pending = await mlflow('GET', `logged-models/${model.model_id}`);
    expect(pending.json.model.info.status).toBe('LOGGED_MODEL_PENDING');

    const root = proxyPath(pending.json.model.info.artifact_uri);
    for (const [name, text] of Object.entries(MODEL_FILES)) {
      const put = await send('PUT', `${ARTIFACTS}/${root}/${name}`, text, { 'content-type': 'text/plain' });
      expect(put.status).toBe(200);
    }
    const finalized = await mlflow('PATCH', `logged-models/${model.model_id}`, {
      model_id: model.model_id,
      status: 'LOGGED_MODEL_READY',
    });
    expect(finalized.json.model.info.status).toBe('LOGGED_MODEL_READY');

    const got = (await mlflow('GET', `logged-models/${model.model_id}`)).json.model;
    expect(got.info).toMatchObject({ name: 'model', source_run_id: runId, status: 'LOGGED_MODEL_READY' });
    expect(got.data.params).toEqual([{ key: 'C', value: '1.0' }]);
    expect(got.data.metrics).toEqual([
      expect.objectContaining({
        key: 'accuracy',
        value: 0.93,
        step: 1,
        run_id: runId,
        model_id: model.model_id,
      }),
    ]);
    const run = (await mlflow('GET', `runs/get?run_id=${runId}`)).json.run;
    expect(run.outputs.model_outputs).toEqual([{ model_id: model.model_id, step: 0 }]);

    // Loading models:/<model_id>: the client lists and downloads through the proxy under artifact_uri.
    const listed = await http('GET', `${ARTIFACTS}?path=${encodeURIComponent(root)}`);
    expect(listed.json.files.map((file: { path: string }) => file.path)).toEqual(Object.keys(MODEL_FILES));
    for (const [name, text] of Object.entries(MODEL_FILES)) {
      const file = await send('GET', `${ARTIFACTS}/${root}/${name}`);
      expect(Buffer.from(file.body).toString('utf8')).toBe(text);
    }
  });

  it("lists a model's artifacts (artifacts/directories) and opens one (artifacts/files), on both prefixes", async () => {
    const experimentId = await newExperiment('lm-artifacts');
    const model = await newModel(experimentId);
    const root = proxyPath(model.artifact_uri);
    await send('PUT', `${ARTIFACTS}/${root}/MLmodel`, MODEL_FILES.MLmodel, { 'content-type': 'text/plain' });
    await send('PUT', `${ARTIFACTS}/${root}/data/model.onnx`, new Uint8Array([1, 2, 3]), {
      'content-type': 'application/octet-stream',
    });
    for (const prefix of ['/api/2.0', '/ajax-api/2.0']) {
      const base = `${prefix}/mlflow/logged-models/${model.model_id}/artifacts`;
      const top = await http('GET', `${base}/directories`);
      expect(top.status).toBe(200);
      expect(top.json).toEqual({
        root_uri: model.artifact_uri,
        files: [
          { path: 'MLmodel', is_dir: false, file_size: MODEL_FILES.MLmodel?.length },
          { path: 'data', is_dir: true },
        ],
      });
      const data = await http('GET', `${base}/directories?artifact_directory_path=data`);
      expect(data.json.files).toEqual([{ path: 'data/model.onnx', is_dir: false, file_size: 3 }]);
      const file = await send('GET', `${base}/files?artifact_file_path=MLmodel`);
      expect(file.status).toBe(200);
      expect(Buffer.from(file.body).toString('utf8')).toBe(MODEL_FILES.MLmodel);
      expect(file.headers.get('content-type')).toBe('text/plain');
    }
    const empty = await mlflow(
      'GET',
      `logged-models/${model.model_id}/artifacts/directories?artifact_directory_path=none`,
    );
    expect(empty.json).toEqual({ root_uri: model.artifact_uri });
  });

  it('sets and deletes tags (keys with slashes), logs params, searches, and deletes the model', async () => {
    const experimentId = await newExperiment('lm-life');
    const model = await newModel(experimentId, { name: 'first' });
    const second = await newModel(experimentId, { name: 'second' });
    const id = model.model_id;
    expect(
      (await mlflow('PATCH', `logged-models/${id}/tags`, { tags: [{ key: 'team/owner', value: 'ana' }] }))
        .status,
    ).toBe(200);
    // Twice: the same value again is a no-op, so a retried request succeeds.
    for (let attempt = 0; attempt < 2; attempt++) {
      const params = { model_id: id, params: [{ key: 'alpha', value: '0.5' }] };
      expect((await mlflow('POST', `logged-models/${id}/params`, params)).status).toBe(200);
    }
    const tagged = (await mlflow('GET', `logged-models/${id}`)).json.model;
    expect(tagged.info.tags).toEqual([{ key: 'team/owner', value: 'ana' }]);
    expect(tagged.data.params).toEqual([{ key: 'alpha', value: '0.5' }]);
    expect((await mlflow('DELETE', `logged-models/${id}/tags/team/owner`)).status).toBe(200);
    expect((await mlflow('GET', `logged-models/${id}`)).json.model.info).not.toHaveProperty('tags');

    const byParam = await mlflow('POST', 'logged-models/search', {
      experiment_ids: [experimentId],
      filter: "params.alpha = '0.5'",
    });
    expect(byParam.json.models.map((m: { info: { model_id: string } }) => m.info.model_id)).toEqual([id]);
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await http('POST', '/ajax-api/2.0/mlflow/logged-models/search', {
        experiment_ids: [experimentId],
        order_by: [{ field_name: 'name', ascending: true }],
        max_results: 1,
        ...(token ? { page_token: token } : {}),
      });
      names.push(...page.json.models.map((m: { info: { name: string } }) => m.info.name));
      token = page.json.next_page_token;
    } while (token);
    expect(names).toEqual(['first', 'second']);

    expect((await mlflow('DELETE', `logged-models/${id}`, { model_id: id })).status).toBe(200);
    expect((await mlflow('DELETE', `logged-models/${id}`, { model_id: id })).status).toBe(200);
    expect((await mlflow('GET', `logged-models/${id}`)).status).toBe(404);
    const kept = await mlflow('GET', `logged-models/${id}?allow_deleted=true`);
    expect(kept.json.model.info.model_id).toBe(id);
    const left = await mlflow('POST', 'logged-models/search', { experiment_ids: [experimentId] });
    expect(left.json.models.map((m: { info: { model_id: string } }) => m.info.model_id)).toEqual([
      second.model_id,
    ]);
  });

  it('answers every logged-model mistake with a JSON 4xx in MLflow format, and each limit', async () => {
    const experimentId = await newExperiment('lm-errors');
    const model = await newModel(experimentId);
    const id = model.model_id;
    await mlflow('POST', `logged-models/${id}/params`, { model_id: id, params: [{ key: 'p', value: 'a' }] });
    const deleted = (await newModel(experimentId)).model_id;
    await mlflow('DELETE', `logged-models/${deleted}`, { model_id: deleted });
    const deletedExperiment = await newExperiment('lm-deleted');
    await mlflow('POST', 'experiments/delete', { experiment_id: deletedExperiment });
    const unknown = 'm-00000000000000000000000000000000';
    const param = (key: string, value = 'v') => ({ model_id: id, params: [{ key, value }] });
    const tag = (key: string, value = 'v') => ({ tags: [{ key, value }] });
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', 'logged-models', {}, 400, 'INVALID_PARAMETER_VALUE'],
      ['POST', 'logged-models', { experiment_id: '987654321' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['POST', 'logged-models', { experiment_id: deletedExperiment }, 400, 'INVALID_PARAMETER_VALUE'],
      ['POST', 'logged-models', { experiment_id: experimentId, name: 'a/b' }, 400, 'INVALID_PARAMETER_VALUE'],
      [
        'POST',
        'logged-models',
        { experiment_id: experimentId, name: 'x'.repeat(501) },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      ['GET', `logged-models/${unknown}`, undefined, 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['GET', 'logged-models/not-a-model-id', undefined, 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['POST', `logged-models/${id}/params`, param('p', 'b'), 400, 'INVALID_PARAMETER_VALUE'],
      ['POST', `logged-models/${id}/params`, param('k'.repeat(251)), 400, 'INVALID_PARAMETER_VALUE'],
      ['POST', `logged-models/${id}/params`, param('k', 'v'.repeat(6001)), 400, 'INVALID_PARAMETER_VALUE'],
      ['PATCH', `logged-models/${id}/tags`, tag('k', 'v'.repeat(8001)), 400, 'INVALID_PARAMETER_VALUE'],
      ['PATCH', `logged-models/${id}/tags`, tag('k'.repeat(251)), 400, 'INVALID_PARAMETER_VALUE'],
      ['DELETE', `logged-models/${id}/tags/never-set`, undefined, 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['PATCH', `logged-models/${id}`, { status: 'LOGGED_MODEL_PENDING' }, 400, 'INVALID_PARAMETER_VALUE'],
      ['PATCH', `logged-models/${id}`, { status: 'DONE' }, 400, 'INVALID_PARAMETER_VALUE'],
      ['PATCH', `logged-models/${deleted}`, { status: 'LOGGED_MODEL_READY' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['PATCH', `logged-models/${deleted}/tags`, tag('k'), 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['POST', `logged-models/${deleted}/params`, param('q'), 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['DELETE', `logged-models/${unknown}`, undefined, 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['POST', 'logged-models/search', {}, 400, 'INVALID_PARAMETER_VALUE'],
      [
        'POST',
        'logged-models/search',
        { experiment_ids: [experimentId], filter: 'nonsense > 1' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'POST',
        'logged-models/search',
        { experiment_ids: [experimentId], page_token: 'bogus' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'POST',
        'logged-models/search',
        { experiment_ids: [experimentId], order_by: [{ field_name: 'nonsense' }] },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      ['GET', `logged-models/${unknown}/artifacts/directories`, undefined, 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['GET', `logged-models/${deleted}/artifacts/directories`, undefined, 404, 'RESOURCE_DOES_NOT_EXIST'],
      [
        'GET',
        `logged-models/${id}/artifacts/directories?artifact_directory_path=../x`,
        undefined,
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      ['GET', `logged-models/${id}/artifacts/files`, undefined, 400, 'INVALID_PARAMETER_VALUE'],
      [
        'GET',
        `logged-models/${id}/artifacts/files?artifact_file_path=missing.txt`,
        undefined,
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      ['PUT', `logged-models/${id}`, {}, 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const result = await mlflow(method, path, body);
      expect({ method, path, status: result.status, code: result.json?.error_code }).toEqual({
        method,
        path,
        status,
        code,
      });
    }
    // At the limits exactly, every write is accepted.
    expect(
      (await mlflow('POST', `logged-models/${id}/params`, param('k'.repeat(250), 'v'.repeat(6000)))).status,
    ).toBe(200);
    expect(
      (await mlflow('PATCH', `logged-models/${id}/tags`, tag('k'.repeat(250), 'v'.repeat(8000)))).status,
    ).toBe(200);
    expect(
      (await mlflow('POST', 'logged-models', { experiment_id: experimentId, name: 'x'.repeat(500) })).status,
    ).toBe(200);
  });
});
