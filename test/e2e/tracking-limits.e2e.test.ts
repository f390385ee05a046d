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
      // MLflow 2.x's StartTrace needs an experiment.
      ['POST', 'traces', {}, 400, 'INVALID_PARAMETER_VALUE'],
      ['GET', 'runs/nothing-here', undefined, 404, 'ENDPOINT_NOT_FOUND'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const result = await mlflow(method, path, body);
      expect({ path, status: result.status, code: result.json?.error_code }).toEqual({ path, status, code });
    }
    const v3 = await http('POST', '/api/3.0/mlflow/traces', {});
    expect(v3.status).toBe(400);
    expect(v3.json.message).toContain('trace');
  });

  it("refuses a body over API Gateway's limit before any function runs", async () => {
    const huge = await http(
      'POST',
      '/api/2.0/mlflow/runs/log-batch',
      `{"run_id":"x","tags":[{"key":"a","value":"${'x'.repeat(10 * 1024 * 1024)}"}]}`,
    );
    expect(huge.status).toBe(413);
  });

  it('enforces each run limit at and past it: batch sizes, history and bulk pages, datasets', async () => {
    const runId = (await mlflow('POST', 'runs/create', {})).json.run.info.run_id as string;
    const otherRun = (await mlflow('POST', 'runs/create', {})).json.run.info.run_id as string;
    const metrics = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ key: `m${i % 50}`, value: i, timestamp: 1, step: i }));
    const params = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `p${i}`, value: 'v' }));
    const dataset = (overrides: Record<string, unknown>, tags: unknown[] = []) => ({
      run_id: runId,
      datasets: [
        { tags, dataset: { name: 'd', digest: 'abc', source_type: 'local', source: 's', ...overrides } },
      ],
    });
    const runIds = (n: number) => Array.from({ length: n }, () => `run_ids=${runId}`).join('&');
    const cases: Array<[string, string, unknown, number]> = [
      ['POST', 'runs/log-batch', { run_id: runId, metrics: metrics(1000) }, 200],
      ['POST', 'runs/log-batch', { run_id: otherRun, params: params(100) }, 200],
      // 1000 entities in all: 950 metrics and 100 params are each within their limit, not together.
      ['POST', 'runs/log-batch', { run_id: runId, metrics: metrics(950), params: params(51) }, 400],
      [
        'POST',
        'runs/log-batch',
        {
          run_id: runId,
          params: [
            { key: 'twice', value: '1' },
            { key: 'twice', value: '1' },
          ],
        },
        400,
      ],
      // MLflow's 1 MB per log-batch request: 100 tags of 8000 characters and 100 params of 6000.
      [
        'POST',
        'runs/log-batch',
        {
          run_id: runId,
          tags: Array.from({ length: 100 }, (_, i) => ({ key: `big${i}`, value: 't'.repeat(8000) })),
          params: Array.from({ length: 100 }, (_, i) => ({ key: `big${i}`, value: 'p'.repeat(6000) })),
        },
        400,
      ],
      ['POST', 'runs/log-parameter', { run_id: runId, key: 'k'.repeat(251), value: 'v' }, 400],
      ['POST', 'runs/log-parameter', { run_id: runId, key: 'k'.repeat(250), value: 'v' }, 200],
      ['POST', 'runs/set-tag', { run_id: runId, key: 't'.repeat(251), value: 'v' }, 400],
      ['GET', `metrics/get-history?run_id=${runId}&metric_key=m1&max_results=25001`, undefined, 400],
      ['GET', `metrics/get-history?run_id=${runId}&metric_key=m1&max_results=25000`, undefined, 200],
      ['GET', `metrics/get-history-bulk-interval?${runIds(101)}&metric_key=m1`, undefined, 400],
      ['GET', `metrics/get-history-bulk-interval?${runIds(100)}&metric_key=m1`, undefined, 200],
      [
        'GET',
        `metrics/get-history-bulk-interval?run_ids=${runId}&metric_key=m1&max_results=2501`,
        undefined,
        400,
      ],
      ['GET', `metrics/get-history-bulk-interval?metric_key=m1`, undefined, 400],
      ['POST', 'runs/search', { max_results: 50000 }, 200],
      ['POST', 'runs/search', { max_results: 0 }, 400],
      ['POST', 'runs/search', { order_by: ['nonsense DESC'] }, 400],
      ['POST', 'runs/log-inputs', dataset({ digest: 'x'.repeat(36) }), 200],
      ['POST', 'runs/log-inputs', dataset({ name: 'n'.repeat(501) }), 400],
      ['POST', 'runs/log-inputs', dataset({}, [{ key: 'k'.repeat(256), value: 'v' }]), 400],
      ['POST', 'runs/log-inputs', dataset({}, [{ key: 'k', value: 'v'.repeat(501) }]), 400],
      ['POST', 'runs/log-model', { run_id: runId, model_json: 'not json' }, 400],
      [
        'POST',
        'runs/outputs',
        { run_id: '0123456789abcdef0123456789abcdef', models: [{ model_id: 'm-0', step: 0 }] },
        404,
      ],
      ['POST', 'runs/restore', { run_id: '0123456789abcdef0123456789abcdef' }, 404],
    ];
    for (const [method, path, body, status] of cases) {
      const result = await mlflow(method, path, body);
      const label = `${method} ${path.slice(0, 120)} ${JSON.stringify(body)?.slice(0, 120)}`;
      expect({ label, status: result.status }).toEqual({ label, status });
      if (status >= 400)
        expect(result.json.error_code).toMatch(/^(INVALID_PARAMETER_VALUE|RESOURCE_DOES_NOT_EXIST)$/);
    }
  });

  it('answers the GenAI endpoints Runway does not serve 501 NOT_IMPLEMENTED, on each prefix MLflow serves it', async () => {
    const paths = [
      ['POST', '/api/2.0/mlflow/experiments/search-datasets'],
      ['POST', '/ajax-api/2.0/mlflow/experiments/search-datasets'],
      ['GET', '/api/2.0/mlflow/unified-traces'],
      ['POST', '/api/2.0/mlflow/traces/link-prompts'],
      ['POST', '/api/3.0/mlflow/traces/calculate-filter-correlation'],
      ['POST', '/ajax-api/3.0/mlflow/traces/metrics'],
    ];
    for (const [method, path] of paths as Array<[string, string]>) {
      const result = await http(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
      expect({ method, path, status: result.status, code: result.json?.error_code }).toEqual({
        method,
        path,
        status: 501,
        code: 'NOT_IMPLEMENTED',
      });
    }
  });
});
