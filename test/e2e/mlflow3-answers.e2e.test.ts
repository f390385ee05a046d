import { describe, expect, it } from 'vitest';
import { http, mlflow, unique } from '../support/http-client.ts';

/**
 * MLflow 3.11's answers where they differ from 2.22's, and where Runway answers better than MLflow
 * (docs/mlflow-compatibility.md), over HTTP. Each request was sent to a real MLflow 3.11.1 server too:
 * the statuses and error codes here are what it answered, except where the page says Runway answers
 * better (malformed JSON) and for the 501s of features MLflow has and Runway does not.
 */

const raw = (path: string, body: string) =>
  http('POST', `/api/2.0/mlflow/${path}`, body, { 'content-type': 'application/json' });

async function experiment() {
  return (await mlflow('POST', 'experiments/create', { name: unique('answers') })).json
    .experiment_id as string;
}

async function runsIn(experimentId: string): Promise<number> {
  const found = await mlflow('POST', 'runs/search', { experiment_ids: [experimentId], max_results: 1000 });
  return (found.json.runs ?? []).length;
}

describe('MLflow 3.11 answers over HTTP', () => {
  it('refuses malformed JSON naming the error, and writes nothing (MLflow creates a run from `{"experiment_id": `)', async () => {
    const before = await runsIn('0');
    for (const [path, body] of [
      ['runs/create', '{"experiment_id": '],
      ['experiments/create', '{"name": '],
      ['registered-models/create', '{"name": "x",}'],
      ['runs/log-batch', "{'run_id': 'x'}"],
    ] as const) {
      const answer = await raw(path, body);
      expect({ path, status: answer.status, code: answer.json.error_code }).toEqual({
        path,
        status: 400,
        code: 'INVALID_PARAMETER_VALUE',
      });
      expect(answer.json.message).toMatch(/not valid JSON: /);
    }
    expect(await runsIn('0')).toBe(before);
  });

  it('reads a double-encoded body (a JSON string holding the object) as the object, as MLflow does', async () => {
    const name = unique('double');
    const created = await raw('experiments/create', JSON.stringify(JSON.stringify({ name })));
    expect(created.status).toBe(200);
    const found = await mlflow('GET', `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
    expect(found.json.experiment.experiment_id).toBe(created.json.experiment_id);
  });

  it('answers 400 for a non-numeric experiment id, an artifact_location with a fragment, and a bare string for a list', async () => {
    expect((await mlflow('GET', 'experiments/get?experiment_id=abc')).json.error_code).toBe(
      'INVALID_PARAMETER_VALUE',
    );
    const fragment = await mlflow('POST', 'experiments/create', {
      name: unique('fragment'),
      artifact_location: 's3://bucket/path#frag',
    });
    expect(fragment.status).toBe(400);
    expect(fragment.json.message).toContain("can't include fragments or params");
    const bare = await mlflow('POST', 'runs/search', { experiment_ids: '0' });
    expect(bare.status).toBe(400);
    expect(bare.json.message).toContain("'experiment_ids'");
  });

  it('stores an experiment tag sent without a value as "", and answers runs with "outputs": {}', async () => {
    const experimentId = await experiment();
    expect(
      (await mlflow('POST', 'experiments/set-experiment-tag', { experiment_id: experimentId, key: 'k' }))
        .status,
    ).toBe(200);
    const tags = (await mlflow('GET', `experiments/get?experiment_id=${experimentId}`)).json.experiment.tags;
    expect(tags).toContainEqual({ key: 'k', value: '' });
    const run = (await mlflow('POST', 'runs/create', { experiment_id: experimentId })).json.run;
    expect(run.inputs).toEqual({});
    expect(run.outputs).toEqual({});
    const got = (await mlflow('GET', `runs/get?run_id=${run.info.run_id}`)).json.run;
    expect(got.outputs).toEqual({});
    // A log-inputs with nothing to log: 200 and nothing logged (the 3.11.1 server answers the same).
    expect((await mlflow('POST', 'runs/log-inputs', { run_id: run.info.run_id })).status).toBe(200);
    expect((await mlflow('GET', `runs/get?run_id=${run.info.run_id}`)).json.run.inputs).toEqual({});
  });

  it('takes model version tag values up to 100,000 characters (MLflow 2.22 refused more than 5000)', async () => {
    const name = unique('long-tags');
    await mlflow('POST', 'registered-models/create', { name });
    await mlflow('POST', 'model-versions/create', { name, source: 's3://bucket/model' });
    const value = 'v'.repeat(100_000);
    expect(
      (await mlflow('POST', 'model-versions/set-tag', { name, version: '1', key: 'long', value })).status,
    ).toBe(200);
    const version = (await mlflow('GET', `model-versions/get?name=${name}&version=1`)).json.model_version;
    expect(version.tags).toEqual([{ key: 'long', value }]);
    expect(
      (await mlflow('POST', 'model-versions/set-tag', { name, version: '1', key: 'k', value: `${value}v` }))
        .status,
    ).toBe(400);
  });

  it('answers 501 naming the RPC for MLflow 3 features Runway does not serve', async () => {
    for (const [method, path] of [
      ['POST', '/api/3.0/mlflow/datasets/create'],
      ['GET', '/api/3.0/mlflow/scorers/list'],
      ['GET', '/api/3.0/mlflow/gateway/endpoints/list'],
      ['GET', '/api/3.0/mlflow/workspaces'],
      ['POST', '/ajax-api/3.0/mlflow/issues/search'],
    ] as const) {
      const answer = await http(method, path, method === 'POST' ? {} : undefined);
      expect({ path, status: answer.status, code: answer.json.error_code }).toEqual({
        path,
        status: 501,
        code: 'NOT_IMPLEMENTED',
      });
      expect(answer.json.message).toMatch(/\(MLflow's \w+\) is not implemented/);
    }
  });
});
