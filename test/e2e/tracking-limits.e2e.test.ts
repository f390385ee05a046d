import { describe, expect, it } from 'vitest';
import { http, mlflow, unique } from '../support/http-client.ts';

/** Every tracking limit and error over HTTP, as a client meets them: MLflow's codes, never a 5xx. */
describe('tracking limits and errors over HTTP', () => {
  it('answers each bad request with MLflow error codes', async () => {
    const experimentId = (await mlflow('POST', 'experiments/create', { name: unique('limits') })).json
      .experiment_id;
    const runId = (await mlflow('POST', 'runs/create', { experiment_id: experimentId })).json.run.info
      .run_id as string;
    await mlflow('POST', 'runs/log-parameter', { run_id: runId, key: 'p', value: 'a' });
    const metric = (i: number) => ({ key: `m${i}`, value: i, timestamp: 1, step: 0 });
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', 'runs/create', { experiment_id: '987654321' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['GET', 'runs/get?run_id=00000000000000000000000000000000', undefined, 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['GET', 'runs/get', undefined, 400, 'INVALID_PARAMETER_VALUE'],
      ['POST', 'runs/log-parameter', { run_id: runId, key: 'p', value: 'b' }, 400, 'INVALID_PARAMETER_VALUE'],
      [
        'POST',
        'runs/log-metric',
        { run_id: runId, key: 'm', value: 'x', timestamp: 1 },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'POST',
        'runs/log-metric',
        { run_id: runId, key: 'k'.repeat(251), value: 1, timestamp: 1 },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      ['POST', 'runs/set-tag', { run_id: runId, key: '../x', value: 'v' }, 400, 'INVALID_PARAMETER_VALUE'],
      ['POST', 'runs/delete-tag', { run_id: runId, key: 'never-set' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
      [
        'POST',
        'runs/log-batch',
        { run_id: runId, metrics: Array.from({ length: 1001 }, (_, i) => metric(i)) },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'POST',
        'runs/log-batch',
        { run_id: runId, params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'v' })) },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'POST',
        'runs/log-batch',
        { run_id: runId, tags: Array.from({ length: 101 }, (_, i) => ({ key: `t${i}`, value: 'v' })) },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'POST',
        'runs/search',
        { experiment_ids: [experimentId], filter: 'metrics.x >' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'POST',
        'runs/search',
        { experiment_ids: [experimentId], max_results: 50001 },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'POST',
        'runs/search',
        { experiment_ids: [experimentId], page_token: 'bogus' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'GET',
        `metrics/get-history?run_id=${runId}&metric_key=m&max_results=0`,
        undefined,
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      ['POST', 'runs/update', { run_id: runId, status: 'SLEEPING' }, 400, 'INVALID_PARAMETER_VALUE'],
      [
        'POST',
        'runs/log-inputs',
        {
          run_id: runId,
          datasets: [{ dataset: { name: 'd', digest: 'x'.repeat(40), source_type: 'local', source: 's' } }],
        },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      ['POST', 'traces', {}, 501, 'NOT_IMPLEMENTED'],
      ['GET', 'runs/nothing-here', undefined, 404, 'ENDPOINT_NOT_FOUND'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const result = await mlflow(method, path, body);
      expect({ path, status: result.status, code: result.json?.error_code }).toEqual({ path, status, code });
    }
    const v3 = await http('POST', '/api/3.0/mlflow/traces', {});
    expect(v3.status).toBe(501);
  });

  it("refuses a body over API Gateway's limit before any function runs", async () => {
    const huge = await http(
      'POST',
      '/api/2.0/mlflow/runs/log-batch',
      `{"run_id":"x","tags":[{"key":"a","value":"${'x'.repeat(10 * 1024 * 1024)}"}]}`,
    );
    expect(huge.status).toBe(413);
  });
});
