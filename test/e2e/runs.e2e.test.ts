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

  it('names runs as MLflow does: a made-up name, the runName tag, renames by that tag', async () => {
    const experimentId = (await mlflow('POST', 'experiments/create', { name: unique('names') })).json
      .experiment_id as string;
    const unnamed = (await mlflow('POST', 'runs/create', { experiment_id: experimentId })).json.run;
    expect(unnamed.info.run_name).not.toBe('');
    expect(unnamed.info.start_time).toBe(0);
    expect(unnamed.data.tags).toContainEqual({ key: 'mlflow.runName', value: unnamed.info.run_name });
    const conflicting = await mlflow('POST', 'runs/create', {
      experiment_id: experimentId,
      run_name: 'a',
      tags: [{ key: 'mlflow.runName', value: 'b' }],
    });
    expect(conflicting.status).toBe(400);
    expect(conflicting.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    const runId = unnamed.info.run_id as string;
    await mlflow('POST', 'runs/set-tag', { run_id: runId, key: 'mlflow.runName', value: 'renamed' });
    expect((await mlflow('GET', `runs/get?run_id=${runId}`)).json.run.info.run_name).toBe('renamed');
  });

  it('deletes and restores runs idempotently, and restored runs are searchable again', async () => {
    const experimentId = (await mlflow('POST', 'experiments/create', { name: unique('restore') })).json
      .experiment_id as string;
    const runId = (await mlflow('POST', 'runs/create', { experiment_id: experimentId })).json.run.info
      .run_id as string;
    expect((await mlflow('POST', 'runs/restore', { run_id: runId })).status).toBe(200);
    expect((await mlflow('POST', 'runs/delete', { run_id: runId })).status).toBe(200);
    expect((await mlflow('POST', 'runs/delete', { run_id: runId })).status).toBe(200);
    const deleted = await mlflow('POST', 'runs/search', {
      experiment_ids: [experimentId],
      run_view_type: 'DELETED_ONLY',
    });
    expect(deleted.json.runs[0].info.lifecycle_stage).toBe('deleted');
    expect((await mlflow('POST', 'runs/restore', { run_id: runId })).status).toBe(200);
    const active = await mlflow('POST', 'runs/search', { experiment_ids: [experimentId] });
    expect(active.json.runs.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([runId]);
    expect((await mlflow('GET', `runs/get?run_id=${runId}`)).json.run.info.lifecycle_stage).toBe('active');
  });

  it('keeps MLflow value rules: NaN and Infinity, write-once params, truncated values, {} for no history', async () => {
    const runId = (await mlflow('POST', 'runs/create', {})).json.run.info.run_id as string;
    const batch = await mlflow('POST', 'runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'nan', value: 'NaN', timestamp: 1, step: 0 },
        { key: 'inf', value: 'Infinity', timestamp: 1, step: 0 },
      ],
      params: [{ key: 'long', value: 'p'.repeat(6001) }],
      tags: [{ key: 'long', value: 't'.repeat(8001) }],
    });
    expect(batch.status).toBe(200);
    const data = (await mlflow('GET', `runs/get?run_id=${runId}`)).json.run.data;
    const metric = (key: string) => data.metrics.find((m: { key: string }) => m.key === key)?.value;
    expect(metric('nan')).toBe('NaN');
    expect(metric('inf')).toBe(1.7976931348623157e308);
    expect(data.params).toEqual([{ key: 'long', value: 'p'.repeat(6000) }]);
    expect(data.tags.find((t: { key: string }) => t.key === 'long').value).toHaveLength(8000);
    // The same value again is accepted (the client retries); another value is not (limits file).
    expect(
      (await mlflow('POST', 'runs/log-parameter', { run_id: runId, key: 'long', value: 'p'.repeat(6001) }))
        .status,
    ).toBe(200);
    const unknown = await mlflow(
      'GET',
      'metrics/get-history?run_id=0123456789abcdef0123456789abcdef&metric_key=x',
    );
    expect(unknown.status).toBe(200);
    expect(unknown.json).toEqual({});
    expect((await mlflow('GET', `metrics/get-history?run_id=${runId}&metric_key=never`)).json).toEqual({});
  });

  it('logs dataset inputs and MLflow 2 models (log-inputs, log-model)', async () => {
    const runId = (await mlflow('POST', 'runs/create', {})).json.run.info.run_id as string;
    const inputs = await mlflow('POST', 'runs/log-inputs', {
      run_id: runId,
      datasets: [
        {
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
          dataset: { name: 'iris', digest: 'abc123', source_type: 'local', source: '{"uri": "iris.csv"}' },
        },
      ],
    });
    expect(inputs.status).toBe(200);
    const model = {
      artifact_path: 'model',
      flavors: { sklearn: {} },
      utc_time_created: '2026-01-01 00:00:00.000000',
      run_id: runId,
    };
    const logged = await mlflow('POST', 'runs/log-model', {
      run_id: runId,
      model_json: JSON.stringify(model),
    });
    expect(logged.status).toBe(200);
    const run = (await mlflow('GET', `runs/get?run_id=${runId}`)).json.run;
    expect(run.inputs.dataset_inputs).toEqual([
      {
        tags: [{ key: 'mlflow.data.context', value: 'training' }],
        dataset: expect.objectContaining({ name: 'iris', digest: 'abc123' }),
      },
    ]);
    const history = run.data.tags.find((t: { key: string }) => t.key === 'mlflow.log-model.history');
    expect(JSON.parse(history.value)).toEqual([model]);
    const incomplete = await mlflow('POST', 'runs/log-model', {
      run_id: runId,
      model_json: JSON.stringify({ artifact_path: 'model' }),
    });
    expect(incomplete.status).toBe(400);
    expect(incomplete.json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('orders and pages run searches and metric history without losing or repeating one', async () => {
    const experimentId = (await mlflow('POST', 'experiments/create', { name: unique('pages') })).json
      .experiment_id as string;
    const runIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const runId = (await mlflow('POST', 'runs/create', { experiment_id: experimentId })).json.run.info
        .run_id as string;
      await mlflow('POST', 'runs/log-metric', {
        run_id: runId,
        key: 'score',
        value: i,
        timestamp: 1,
        step: i,
      });
      runIds.push(runId);
    }
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await mlflow('POST', 'runs/search', {
        experiment_ids: [experimentId],
        order_by: ['metrics.score DESC'],
        max_results: 2,
        ...(token ? { page_token: token } : {}),
      });
      seen.push(...page.json.runs.map((r: { info: { run_id: string } }) => r.info.run_id));
      token = page.json.next_page_token;
    } while (token);
    expect(seen).toEqual([...runIds].reverse());

    const runId = runIds[0] as string;
    await mlflow('POST', 'runs/log-batch', {
      run_id: runId,
      metrics: Array.from({ length: 7 }, (_, i) => ({ key: 'loss', value: i, timestamp: 1, step: i })),
    });
    const steps: number[] = [];
    token = undefined;
    do {
      const page = await mlflow(
        'GET',
        `metrics/get-history?run_id=${runId}&metric_key=loss&max_results=3${token ? `&page_token=${encodeURIComponent(token)}` : ''}`,
      );
      steps.push(...page.json.metrics.map((m: { step: number }) => m.step));
      token = page.json.next_page_token;
    } while (token);
    expect(steps).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
