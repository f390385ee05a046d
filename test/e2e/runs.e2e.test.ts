import { describe, expect, it } from 'vitest';
import { mlflow, unique } from '../support/http-client.ts';

/**
 * A training script as the MLflow 2.22 client runs it (the request sequence of workflow.py in
 * ../shared/mlflow-rest-endpoints.txt): start a run, log params, metrics in a loop and in batches,
 * tags, end the run; then search it, read its history, and delete it.
 */
describe('runs over HTTP, as the MLflow client drives them', () => {
  it('tracks a training loop end to end', async () => {
    const experimentId = (await mlflow('POST', 'experiments/create', { name: unique('train') })).json
      .experiment_id;
    const started = Date.now();
    const created = await mlflow('POST', 'runs/create', {
      experiment_id: experimentId,
      user_id: 'ana',
      start_time: started,
      tags: [{ key: 'mlflow.source.name', value: 'train.py' }],
    });
    expect(created.status).toBe(200);
    const runId = created.json.run.info.run_id as string;

    expect(
      (await mlflow('POST', 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.01' })).status,
    ).toBe(200);
    for (let epoch = 0; epoch < 6; epoch++) {
      const logged = await mlflow('POST', 'runs/log-metric', {
        run_id: runId,
        key: 'loss',
        value: 1 / (epoch + 1),
        timestamp: started + epoch,
        step: epoch,
      });
      expect(logged.status).toBe(200);
    }
    // mlflow.log_metrics/log_params/set_tags all go to log-batch; 1000 metrics + 1 param + 1 tag as 2 requests.
    const metrics = Array.from({ length: 1000 }, (_, i) => ({
      key: `m${i % 10}`,
      value: i,
      timestamp: started,
      step: i,
    }));
    expect(
      (
        await mlflow('POST', 'runs/log-batch', {
          run_id: runId,
          metrics: metrics.slice(0, 998),
          params: [{ key: 'depth', value: '5' }],
          tags: [{ key: 'stage', value: 'dev' }],
        })
      ).status,
    ).toBe(200);
    expect(
      (await mlflow('POST', 'runs/log-batch', { run_id: runId, metrics: metrics.slice(998) })).status,
    ).toBe(200);
    expect((await mlflow('POST', 'runs/set-tag', { run_id: runId, key: 'temp', value: 'x' })).status).toBe(
      200,
    );
    expect((await mlflow('POST', 'runs/delete-tag', { run_id: runId, key: 'temp' })).status).toBe(200);
    const ended = await mlflow('POST', 'runs/update', {
      run_id: runId,
      status: 'FINISHED',
      end_time: started + 10,
    });
    expect(ended.json.run_info.status).toBe('FINISHED');

    const run = (await mlflow('GET', `runs/get?run_id=${runId}`)).json.run;
    expect(run.info).toMatchObject({ status: 'FINISHED', end_time: started + 10, user_id: 'ana' });
    expect(run.data.params).toEqual([
      { key: 'depth', value: '5' },
      { key: 'lr', value: '0.01' },
    ]);
    expect(run.data.metrics).toHaveLength(11);
    expect(run.data.metrics.find((m: { key: string }) => m.key === 'm9')).toMatchObject({
      value: 999,
      step: 999,
    });
    expect(run.data.tags.map((t: { key: string }) => t.key).sort()).toEqual([
      'mlflow.runName',
      'mlflow.source.name',
      'stage',
    ]);

    const history = await mlflow('GET', `metrics/get-history?run_id=${runId}&metric_key=loss`);
    expect(history.json.metrics.map((m: { value: number }) => m.value)).toEqual([
      1,
      1 / 2,
      1 / 3,
      1 / 4,
      1 / 5,
      1 / 6,
    ]);

    const found = await mlflow('POST', 'runs/search', {
      experiment_ids: [experimentId],
      filter: "metrics.loss < 0.2 and params.lr = '0.01' and attributes.status = 'FINISHED'",
      max_results: 10,
    });
    expect(found.json.runs.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([runId]);

    expect((await mlflow('POST', 'runs/delete', { run_id: runId })).status).toBe(200);
    const afterDelete = await mlflow('POST', 'runs/search', { experiment_ids: [experimentId] });
    expect(afterDelete.json).toEqual({});
    const write = await mlflow('POST', 'runs/log-metric', {
      run_id: runId,
      key: 'loss',
      value: 0,
      timestamp: started,
    });
    expect(write.status).toBe(400);
  });

  it('serves the same run under /ajax-api/2.0/ and its metric history in bulk', async () => {
    const runId = (await mlflow('POST', 'runs/create', {})).json.run.info.run_id as string;
    await mlflow('POST', 'runs/log-batch', {
      run_id: runId,
      metrics: Array.from({ length: 20 }, (_, i) => ({ key: 'acc', value: i / 20, timestamp: i, step: i })),
    });
    const { http } = await import('../support/http-client.ts');
    const viaAjax = await http('GET', `/ajax-api/2.0/mlflow/runs/get?run_id=${runId}`);
    expect(viaAjax.json.run.info.run_id).toBe(runId);
    const bulk = await http(
      'GET',
      `/ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id=${runId}&metric_key=acc`,
    );
    expect(bulk.json.metrics).toHaveLength(20);
    expect(bulk.json.metrics[0]).toMatchObject({ run_id: runId, key: 'acc' });
    const interval = await mlflow(
      'GET',
      `metrics/get-history-bulk-interval?run_ids=${runId}&metric_key=acc&max_results=5`,
    );
    expect(interval.json.metrics.length).toBeGreaterThanOrEqual(5);
    expect(interval.json.metrics.length).toBeLessThanOrEqual(7);
  });
});
