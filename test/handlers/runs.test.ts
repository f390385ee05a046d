import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiHandler, handlerCaller, unique } from '../support/handler-call.ts';
import { tableName, useEmulators } from '../support/handler-env.ts';

let handler: ApiHandler;
const call = handlerCaller(() => handler);

beforeAll(async () => {
  useEmulators({ TRACKING_TABLE_NAME: tableName('TrackingTable') });
  ({ handler } = (await import('../../functions/tracking-api.ts')) as unknown as { handler: ApiHandler });
});

async function newExperiment(): Promise<string> {
  return (await call('POST', 'experiments/create', { name: unique('runs') })).json.experiment_id;
}

async function newRun(experimentId?: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await call('POST', 'runs/create', {
    experiment_id: experimentId ?? (await newExperiment()),
    start_time: 1000,
    ...extra,
  });
  expect(created.status).toBe(200);
  return created.json.run.info.run_id;
}

describe('runs: lifecycle', () => {
  it('creates a run with MLflow shapes, a made-up name and its tag', async () => {
    const experimentId = await newExperiment();
    const created = await call('POST', 'runs/create', {
      experiment_id: experimentId,
      user_id: 'ana',
      start_time: 123,
    });
    const run = created.json.run;
    expect(run.info).toMatchObject({
      experiment_id: experimentId,
      user_id: 'ana',
      status: 'RUNNING',
      start_time: 123,
      lifecycle_stage: 'active',
      artifact_uri: `mlflow-artifacts:/${experimentId}/${run.info.run_id}/artifacts`,
    });
    expect(run.info.run_id).toMatch(/^[0-9a-f]{32}$/);
    expect(run.info.run_uuid).toBe(run.info.run_id);
    expect(run.info.run_name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
    expect(run.info).not.toHaveProperty('end_time');
    expect(run.data.tags).toEqual([{ key: 'mlflow.runName', value: run.info.run_name }]);
    expect(run.inputs).toEqual({});
    const got = await call('GET', `runs/get?run_id=${run.info.run_id}`);
    expect(got.json.run).toEqual(run);
  });

  it('stores start_time 0 when none is given, and uses run_name or the runName tag', async () => {
    const experimentId = await newExperiment();
    const bare = await call('POST', 'runs/create', { experiment_id: experimentId });
    expect(bare.json.run.info.start_time).toBe(0);
    const named = await call('POST', 'runs/create', { experiment_id: experimentId, run_name: 'my-run' });
    expect(named.json.run.info.run_name).toBe('my-run');
    const tagged = await call('POST', 'runs/create', {
      experiment_id: experimentId,
      tags: [{ key: 'mlflow.runName', value: 'from-tag' }],
    });
    expect(tagged.json.run.info.run_name).toBe('from-tag');
    const conflict = await call('POST', 'runs/create', {
      experiment_id: experimentId,
      run_name: 'a',
      tags: [{ key: 'mlflow.runName', value: 'b' }],
    });
    expect(conflict.status).toBe(400);
  });

  it('creates runs in the default experiment and refuses unknown or deleted experiments', async () => {
    const inDefault = await call('POST', 'runs/create', {});
    expect(inDefault.json.run.info.experiment_id).toBe('0');
    expect((await call('POST', 'runs/create', { experiment_id: '99999999' })).status).toBe(404);
    const experimentId = await newExperiment();
    await call('POST', 'experiments/delete', { experiment_id: experimentId });
    const refused = await call('POST', 'runs/create', { experiment_id: experimentId });
    expect(refused.status).toBe(400);
    expect(refused.json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('updates status, end time and name; renaming by the runName tag too', async () => {
    const runId = await newRun();
    const updated = await call('POST', 'runs/update', {
      run_id: runId,
      status: 'FINISHED',
      end_time: 5000,
      run_name: 'renamed',
    });
    expect(updated.json.run_info).toMatchObject({ status: 'FINISHED', end_time: 5000, run_name: 'renamed' });
    await call('POST', 'runs/set-tag', { run_id: runId, key: 'mlflow.runName', value: 'by-tag' });
    const got = (await call('GET', `runs/get?run_uuid=${runId}`)).json.run;
    expect(got.info).toMatchObject({ status: 'FINISHED', end_time: 5000, run_name: 'by-tag' });
    expect((await call('POST', 'runs/update', { run_id: runId, status: 'DONE' })).status).toBe(400);
  });

  it('deletes and restores (idempotently), and refuses writes to a deleted run', async () => {
    const runId = await newRun();
    expect((await call('POST', 'runs/delete', { run_id: runId })).status).toBe(200);
    expect((await call('POST', 'runs/delete', { run_id: runId })).status).toBe(200);
    expect((await call('GET', `runs/get?run_id=${runId}`)).json.run.info.lifecycle_stage).toBe('deleted');
    for (const [path, body] of [
      ['runs/log-metric', { run_id: runId, key: 'm', value: 1, timestamp: 1 }],
      ['runs/log-parameter', { run_id: runId, key: 'p', value: '1' }],
      ['runs/set-tag', { run_id: runId, key: 't', value: '1' }],
      ['runs/log-batch', { run_id: runId, metrics: [{ key: 'm', value: 1, timestamp: 1 }] }],
      ['runs/update', { run_id: runId, status: 'FAILED' }],
    ] as const) {
      const refused = await call('POST', path, body);
      expect({ path, status: refused.status, code: refused.json.error_code }).toEqual({
        path,
        status: 400,
        code: 'INVALID_PARAMETER_VALUE',
      });
    }
    expect((await call('POST', 'runs/restore', { run_id: runId })).status).toBe(200);
    expect((await call('POST', 'runs/restore', { run_id: runId })).status).toBe(200);
    expect((await call('POST', 'runs/set-tag', { run_id: runId, key: 't', value: '1' })).status).toBe(200);
  });

  it('answers 404 for unknown runs and 400 for malformed ids', async () => {
    expect((await call('GET', 'runs/get?run_id=0123456789abcdef0123456789abcdef')).status).toBe(404);
    expect((await call('POST', 'runs/delete', { run_id: 'ffffffffffffffffffffffffffffffff' })).status).toBe(
      404,
    );
    expect((await call('GET', 'runs/get?run_id=..%2Fetc')).status).toBe(400);
    expect((await call('GET', 'runs/get')).status).toBe(400);
  });

  it('deleting an experiment deletes its runs, and restoring it restores them', async () => {
    const experimentId = await newExperiment();
    const runId = await newRun(experimentId);
    await call('POST', 'experiments/delete', { experiment_id: experimentId });
    expect((await call('GET', `runs/get?run_id=${runId}`)).json.run.info.lifecycle_stage).toBe('deleted');
    await call('POST', 'experiments/restore', { experiment_id: experimentId });
    expect((await call('GET', `runs/get?run_id=${runId}`)).json.run.info.lifecycle_stage).toBe('active');
  });
});

describe('runs: logging', () => {
  it('keeps params write-once: the same value is fine, another is 400', async () => {
    const runId = await newRun();
    expect(
      (await call('POST', 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.01' })).status,
    ).toBe(200);
    expect(
      (await call('POST', 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.01' })).status,
    ).toBe(200);
    const changed = await call('POST', 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.02' });
    expect(changed.status).toBe(400);
    expect(changed.json.message).toContain("Changing param values is not allowed. Param with key='lr'");
    expect((await call('GET', `runs/get?run_id=${runId}`)).json.run.data.params).toEqual([
      { key: 'lr', value: '0.01' },
    ]);
  });

  it('records metric history, the latest value by step then timestamp, and stores a retried point once', async () => {
    const runId = await newRun();
    const points = [
      { key: 'loss', value: 0.9, timestamp: 100, step: 0 },
      { key: 'loss', value: 0.5, timestamp: 300, step: 2 },
      { key: 'loss', value: 0.7, timestamp: 200, step: 1 },
      { key: 'loss', value: 0.5, timestamp: 300, step: 2 },
    ];
    for (const point of points) {
      expect((await call('POST', 'runs/log-metric', { run_id: runId, ...point })).status).toBe(200);
    }
    const run = (await call('GET', `runs/get?run_id=${runId}`)).json.run;
    expect(run.data.metrics).toEqual([{ key: 'loss', value: 0.5, timestamp: 300, step: 2 }]);
    const history = await call('GET', `metrics/get-history?run_id=${runId}&metric_key=loss`);
    expect(history.json.metrics.map((m: { step: number }) => m.step)).toEqual([0, 1, 2]);
  });

  it('sends NaN back as "NaN" and stores Infinity as the largest double', async () => {
    const runId = await newRun();
    await call('POST', 'runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'nan', value: 'NaN', timestamp: 1, step: 0 },
        { key: 'inf', value: 'Infinity', timestamp: 1, step: 0 },
        { key: 'neg', value: '-Infinity', timestamp: 1, step: 0 },
      ],
    });
    const metrics = (await call('GET', `runs/get?run_id=${runId}`)).json.run.data.metrics;
    expect(metrics).toEqual([
      { key: 'inf', value: 1.7976931348623157e308, timestamp: 1, step: 0 },
      { key: 'nan', value: 'NaN', timestamp: 1, step: 0 },
      { key: 'neg', value: -1.7976931348623157e308, timestamp: 1, step: 0 },
    ]);
  });

  it('logs a batch of metrics, params and tags together, and a bad entry writes nothing', async () => {
    const runId = await newRun();
    const good = await call('POST', 'runs/log-batch', {
      run_id: runId,
      metrics: Array.from({ length: 120 }, (_, i) => ({
        key: `m${i % 12}`,
        value: i,
        timestamp: 1000 + i,
        step: i,
      })),
      params: [{ key: 'a', value: '1' }],
      tags: [{ key: 'team', value: 'x' }],
    });
    expect(good.status).toBe(200);
    let run = (await call('GET', `runs/get?run_id=${runId}`)).json.run;
    expect(run.data.metrics).toHaveLength(12);
    expect(run.data.metrics.find((m: { key: string }) => m.key === 'm0').value).toBe(108);

    const bad = await call('POST', 'runs/log-batch', {
      run_id: runId,
      metrics: [{ key: 'new-metric', value: 1, timestamp: 1 }],
      params: [{ key: 'b', value: '2' }],
      tags: [{ key: 'bad/../key', value: 'x' }],
    });
    expect(bad.status).toBe(400);
    const conflict = await call('POST', 'runs/log-batch', {
      run_id: runId,
      metrics: [{ key: 'new-metric', value: 1, timestamp: 1 }],
      params: [
        { key: 'c', value: '3' },
        { key: 'a', value: 'changed' },
      ],
    });
    expect(conflict.status).toBe(400);
    run = (await call('GET', `runs/get?run_id=${runId}`)).json.run;
    expect(run.data.params).toEqual([{ key: 'a', value: '1' }]);
    expect(run.data.metrics.some((m: { key: string }) => m.key === 'new-metric')).toBe(false);
    expect((await call('GET', `metrics/get-history?run_id=${runId}&metric_key=new-metric`)).json).toEqual({});
  });

  it('enforces every log-batch limit', async () => {
    const runId = await newRun();
    const metric = (i: number) => ({ key: `m${i}`, value: 1, timestamp: 1 });
    const param = (i: number) => ({ key: `p${i}`, value: 'v' });
    const tag = (i: number) => ({ key: `t${i}`, value: 'v' });
    expect(
      (
        await call('POST', 'runs/log-batch', {
          run_id: runId,
          metrics: Array.from({ length: 1000 }, (_, i) => metric(i)),
        })
      ).status,
    ).toBe(200);
    const cases = [
      { metrics: Array.from({ length: 1001 }, (_, i) => metric(i)) },
      { params: Array.from({ length: 101 }, (_, i) => param(i)) },
      { tags: Array.from({ length: 101 }, (_, i) => tag(i)) },
      {
        metrics: Array.from({ length: 950 }, (_, i) => metric(i)),
        params: Array.from({ length: 51 }, (_, i) => param(i)),
      },
      { params: [param(1), param(1)] },
      { tags: [{ key: 'x'.repeat(251), value: 'v' }] },
      { metrics: [{ key: 'm', value: 1, timestamp: -1 }] },
      { metrics: [{ key: 'm', value: 'one', timestamp: 1 }] },
      { metrics: [{ key: 'bad key!', value: 1, timestamp: 1 }] },
    ];
    for (const body of cases) {
      const result = await call('POST', 'runs/log-batch', { run_id: runId, ...body });
      expect(result.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(result.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    const huge = await call('POST', 'runs/log-batch', {
      run_id: runId,
      tags: Array.from({ length: 100 }, (_, i) => ({ key: `big${i}`, value: 'x'.repeat(10_001) })),
    });
    expect(huge.status).toBe(400);
    expect(huge.json.message).toContain('at most 1000000 bytes');
  });

  it('truncates long param and tag values as MLflow 2.22 does', async () => {
    const runId = await newRun();
    await call('POST', 'runs/log-parameter', { run_id: runId, key: 'long', value: 'p'.repeat(7000) });
    await call('POST', 'runs/set-tag', { run_id: runId, key: 'long', value: 't'.repeat(9000) });
    const run = (await call('GET', `runs/get?run_id=${runId}`)).json.run;
    expect(run.data.params[0].value).toHaveLength(6000);
    expect(run.data.tags.find((t: { key: string }) => t.key === 'long').value).toHaveLength(8000);
  });

  it('keeps long values beside the run item: write-once, overwrite, delete, search and a full 1 MB batch', async () => {
    const experimentId = await newExperiment();
    const runId = await newRun(experimentId);
    const long = (c: string) => c.repeat(6000);
    const logParam = (value: string) =>
      call('POST', 'runs/log-parameter', { run_id: runId, key: 'cfg', value });
    expect((await logParam(long('a'))).status).toBe(200);
    expect((await logParam(long('a'))).status).toBe(200);
    const changed = await logParam(long('b'));
    expect(changed.status).toBe(400);
    expect(changed.json.message).toContain(`already logged with value='${long('a')}'`);
    expect((await logParam('short')).status).toBe(400);

    const setTag = (value: string) => call('POST', 'runs/set-tag', { run_id: runId, key: 'note', value });
    await setTag('n'.repeat(8000));
    await setTag('m'.repeat(8000));
    let run = (await call('GET', `runs/get?run_id=${runId}`)).json.run;
    expect(run.data.params).toEqual([{ key: 'cfg', value: long('a') }]);
    expect(run.data.tags.find((tag: { key: string }) => tag.key === 'note').value).toBe('m'.repeat(8000));
    const found = await call('POST', 'runs/search', {
      experiment_ids: [experimentId],
      filter: `tags.note = '${'m'.repeat(8000)}'`,
    });
    expect(found.json.runs.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([runId]);
    expect(found.json.runs[0].data.params).toEqual([{ key: 'cfg', value: long('a') }]);
    await setTag('short again');
    run = (await call('GET', `runs/get?run_id=${runId}`)).json.run;
    expect(run.data.tags.find((tag: { key: string }) => tag.key === 'note').value).toBe('short again');
    await setTag('z'.repeat(700));
    expect((await call('POST', 'runs/delete-tag', { run_id: runId, key: 'note' })).status).toBe(200);
    run = (await call('GET', `runs/get?run_id=${runId}`)).json.run;
    expect(run.data.tags.some((tag: { key: string }) => tag.key === 'note')).toBe(false);

    // 100 tags of MLflow's largest value: 800 KB, more than one DynamoDB item holds.
    const big = await call('POST', 'runs/log-batch', {
      run_id: runId,
      tags: Array.from({ length: 100 }, (_, i) => ({ key: `big${i}`, value: String(i % 10).repeat(8000) })),
    });
    expect(big.status).toBe(200);
    run = (await call('GET', `runs/get?run_id=${runId}`)).json.run;
    const bigTags = run.data.tags.filter((tag: { key: string }) => tag.key.startsWith('big'));
    expect(bigTags).toHaveLength(100);
    expect(bigTags.find((tag: { key: string }) => tag.key === 'big37').value).toBe('7'.repeat(8000));
  });

  it('refuses more metric keys than one run item holds, with a clear error', async () => {
    const runId = await newRun();
    const key = (i: number) => `${'k'.repeat(240)}${String(i).padStart(5, '0')}`;
    let refused: Awaited<ReturnType<typeof call>> | undefined;
    for (let batch = 0; batch < 5 && !refused; batch++) {
      const result = await call('POST', 'runs/log-batch', {
        run_id: runId,
        metrics: Array.from({ length: 1000 }, (_, i) => ({
          key: key(batch * 1000 + i),
          value: i,
          timestamp: 1,
        })),
      });
      if (result.status !== 200) refused = result;
    }
    expect(refused?.status).toBe(400);
    expect(refused?.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(refused?.json.message).toContain('too many distinct metric, param and tag keys');
    expect((await call('GET', `runs/get?run_id=${runId}`)).status).toBe(200);
  });

  it('deletes tags, answering 404 for a missing one', async () => {
    const runId = await newRun();
    await call('POST', 'runs/set-tag', { run_id: runId, key: 'k', value: 'v' });
    expect((await call('POST', 'runs/delete-tag', { run_id: runId, key: 'k' })).status).toBe(200);
    expect((await call('POST', 'runs/delete-tag', { run_id: runId, key: 'k' })).status).toBe(404);
  });

  it('records dataset inputs, merging tags of the same dataset', async () => {
    const runId = await newRun();
    const dataset = {
      name: 'iris',
      digest: 'abc123',
      source_type: 'local',
      source: '{"uri":"/data/iris.csv"}',
      schema: '{}',
    };
    await call('POST', 'runs/log-inputs', {
      run_id: runId,
      datasets: [{ dataset, tags: [{ key: 'mlflow.data.context', value: 'train' }] }],
    });
    await call('POST', 'runs/log-inputs', {
      run_id: runId,
      datasets: [{ dataset, tags: [{ key: 'extra', value: '1' }] }],
    });
    const inputs = (await call('GET', `runs/get?run_id=${runId}`)).json.run.inputs;
    expect(inputs.dataset_inputs).toHaveLength(1);
    expect(inputs.dataset_inputs[0].dataset).toEqual(dataset);
    expect(inputs.dataset_inputs[0].tags).toEqual([
      { key: 'mlflow.data.context', value: 'train' },
      { key: 'extra', value: '1' },
    ]);
    expect(
      (
        await call('POST', 'runs/log-inputs', {
          run_id: runId,
          datasets: [{ dataset: { ...dataset, digest: 'x'.repeat(37) } }],
        })
      ).status,
    ).toBe(400);
  });

  it('links MLflow 3 logged models as run inputs and outputs', async () => {
    const runId = await newRun();
    expect(
      (await call('POST', 'runs/outputs', { run_id: runId, models: [{ model_id: 'm-abc', step: 3 }] }))
        .status,
    ).toBe(200);
    expect(
      (await call('POST', 'runs/log-inputs', { run_id: runId, models: [{ model_id: 'm-in' }] })).status,
    ).toBe(200);
    const run = (await call('GET', `runs/get?run_id=${runId}`)).json.run;
    expect(run.outputs).toEqual({ model_outputs: [{ model_id: 'm-abc', step: 3 }] });
    expect(run.inputs).toEqual({ model_inputs: [{ model_id: 'm-in' }] });
    expect((await call('POST', 'runs/outputs', { run_id: runId })).status).toBe(400);
  });

  it('appends log-model history to its tag', async () => {
    const runId = await newRun();
    const model = {
      artifact_path: 'model',
      flavors: { onnx: {} },
      utc_time_created: '2026-11-28 00:00:00',
      run_id: runId,
    };
    await call('POST', 'runs/log-model', { run_id: runId, model_json: JSON.stringify(model) });
    await call('POST', 'runs/log-model', {
      run_id: runId,
      model_json: JSON.stringify({ ...model, artifact_path: 'm2' }),
    });
    const tag = (await call('GET', `runs/get?run_id=${runId}`)).json.run.data.tags.find(
      (t: { key: string }) => t.key === 'mlflow.log-model.history',
    );
    expect(JSON.parse(tag.value).map((m: { artifact_path: string }) => m.artifact_path)).toEqual([
      'model',
      'm2',
    ]);
    expect(
      (await call('POST', 'runs/log-model', { run_id: runId, model_json: '{"flavors":{}}' })).status,
    ).toBe(400);
  });

  it('loses nothing with 16 concurrent writers on one run', async () => {
    const runId = await newRun();
    await Promise.all(
      Array.from({ length: 16 }, (_, writer) =>
        (async () => {
          for (let i = 0; i < 5; i++) {
            const result = await call('POST', 'runs/log-batch', {
              run_id: runId,
              metrics: [
                { key: `w${writer}`, value: i, timestamp: 1000 + i, step: i },
                { key: 'shared', value: writer * 100 + i, timestamp: 1000 + i, step: writer * 10 + i },
              ],
              params: i === 0 ? [{ key: `p${writer}`, value: String(writer) }] : [],
              tags: [{ key: `t${writer}`, value: String(i) }],
            });
            expect(result.status).toBe(200);
          }
        })(),
      ),
    );
    const run = (await call('GET', `runs/get?run_id=${runId}`)).json.run;
    expect(run.data.params).toHaveLength(16);
    expect(run.data.metrics).toHaveLength(17);
    expect(run.data.metrics.find((m: { key: string }) => m.key === 'shared')).toMatchObject({
      step: 154,
      value: 1504,
    });
    for (let writer = 0; writer < 16; writer++) {
      expect(run.data.metrics.find((m: { key: string }) => m.key === `w${writer}`)).toMatchObject({
        step: 4,
        value: 4,
      });
    }
    const shared = await call('GET', `metrics/get-history?run_id=${runId}&metric_key=shared`);
    expect(shared.json.metrics).toHaveLength(80);
  });
});

describe('runs: log-metric in one round trip', () => {
  const history = async (runId: string, key: string) =>
    ((await call('GET', `metrics/get-history?run_id=${runId}&metric_key=${key}`)).json.metrics ??
      []) as Array<{
      step: number;
      value: number | string;
    }>;
  const latest = async (runId: string) =>
    (await call('GET', `runs/get?run_id=${runId}`)).json.run.data.metrics as Array<Record<string, unknown>>;

  it('refuses a deleted run (400) and an unknown one (404), and keeps no point of theirs', async () => {
    const runId = await newRun();
    // The first point creates the metric's shard; the second takes the one-request path.
    await call('POST', 'runs/log-metric', { run_id: runId, key: 'm', value: 1, timestamp: 1, step: 0 });
    await call('POST', 'runs/log-metric', { run_id: runId, key: 'm', value: 2, timestamp: 2, step: 1 });
    await call('POST', 'runs/delete', { run_id: runId });
    const refused = await call('POST', 'runs/log-metric', {
      run_id: runId,
      key: 'm',
      value: 3,
      timestamp: 3,
      step: 2,
    });
    expect([refused.status, refused.json.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    expect(refused.json.message).toContain("must be in the 'active' state");
    // A retry of a point the run already has is refused too, and the stored point stays.
    expect(
      (await call('POST', 'runs/log-metric', { run_id: runId, key: 'm', value: 2, timestamp: 2, step: 1 }))
        .status,
    ).toBe(400);
    expect((await history(runId, 'm')).map((point) => point.step)).toEqual([0, 1]);
    expect(await latest(runId)).toEqual([{ key: 'm', value: 2, timestamp: 2, step: 1 }]);

    await call('POST', 'runs/restore', { run_id: runId });
    await call('POST', 'runs/log-metric', { run_id: runId, key: 'm', value: 3, timestamp: 3, step: 2 });
    expect(await latest(runId)).toEqual([{ key: 'm', value: 3, timestamp: 3, step: 2 }]);

    const unknown = 'abcdef0123456789abcdef0123456789';
    const missing = await call('POST', 'runs/log-metric', {
      run_id: unknown,
      key: 'm',
      value: 1,
      timestamp: 1,
      step: 0,
    });
    expect([missing.status, missing.json.error_code]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
    expect(await history(unknown, 'm')).toEqual([]);
  });

  it('keeps the latest point by step, then timestamp, then value (NaN above every number)', async () => {
    const runId = await newRun();
    const log = (point: Record<string, unknown>) =>
      call('POST', 'runs/log-metric', { run_id: runId, key: 'x', ...point });
    await log({ value: 5, timestamp: 10, step: 3 });
    await log({ value: 9, timestamp: 99, step: 2 }); // an earlier step: not the latest
    expect(await latest(runId)).toEqual([{ key: 'x', value: 5, timestamp: 10, step: 3 }]);
    await log({ value: 1, timestamp: 11, step: 3 }); // same step, later timestamp
    expect(await latest(runId)).toEqual([{ key: 'x', value: 1, timestamp: 11, step: 3 }]);
    await log({ value: -7, timestamp: 11, step: 3 }); // same step and time, smaller value
    expect(await latest(runId)).toEqual([{ key: 'x', value: 1, timestamp: 11, step: 3 }]);
    await log({ value: 2.5, timestamp: 11, step: 3 }); // same step and time, larger value
    expect(await latest(runId)).toEqual([{ key: 'x', value: 2.5, timestamp: 11, step: 3 }]);
    await log({ value: 'NaN', timestamp: 11, step: 3 });
    expect(await latest(runId)).toEqual([{ key: 'x', value: 'NaN', timestamp: 11, step: 3 }]);
    await log({ value: 'Infinity', timestamp: 11, step: 3 }); // NaN stays above the largest double
    expect(await latest(runId)).toEqual([{ key: 'x', value: 'NaN', timestamp: 11, step: 3 }]);
    await log({ value: -4, timestamp: 1, step: -2 }); // negative steps are older
    expect((await latest(runId))[0]).toMatchObject({ value: 'NaN', step: 3 });
    expect((await history(runId, 'x')).map((point) => point.step)).toEqual([-2, 2, 3, 3, 3, 3, 3, 3]);
  });

  it('loses nothing with 16 concurrent log-metric writers beside a log-batch writer', async () => {
    const runId = await newRun();
    await Promise.all([
      ...Array.from({ length: 16 }, (_, writer) =>
        (async () => {
          for (let i = 0; i < 5; i++) {
            for (const point of [
              { key: `w${writer}`, value: i, timestamp: 1000 + i, step: i },
              { key: 'shared', value: writer * 100 + i, timestamp: 1000 + i, step: writer * 10 + i },
            ]) {
              const result = await call('POST', 'runs/log-metric', { run_id: runId, ...point });
              expect(result.status).toBe(200);
            }
          }
        })(),
      ),
      (async () => {
        for (let i = 0; i < 5; i++) {
          const result = await call('POST', 'runs/log-batch', {
            run_id: runId,
            metrics: Array.from({ length: 16 }, (_, writer) => ({
              key: `w${writer}`,
              value: -i,
              timestamp: 1,
              step: -1,
            })),
          });
          expect(result.status).toBe(200);
        }
      })(),
    ]);
    const metrics = await latest(runId);
    expect(metrics).toHaveLength(17);
    expect(metrics.find((m) => m.key === 'shared')).toMatchObject({ step: 154, value: 1504 });
    for (let writer = 0; writer < 16; writer++) {
      expect(metrics.find((m) => m.key === `w${writer}`)).toMatchObject({ step: 4, value: 4 });
    }
    expect(await history(runId, 'shared')).toHaveLength(80);
    expect(await history(runId, 'w3')).toHaveLength(10);
  });
});

describe('runs: large and small batches together', () => {
  it('loses nothing when batches too large for entry-by-entry conditions race small ones', async () => {
    const runId = await newRun();
    await Promise.all([
      // 60 keys: past DynamoDB's expression size, so these replace the maps under the revision.
      ...Array.from({ length: 3 }, (_, writer) =>
        (async () => {
          for (let i = 0; i < 3; i++) {
            const result = await call('POST', 'runs/log-batch', {
              run_id: runId,
              metrics: Array.from({ length: 60 }, (_, k) => ({
                key: `big${writer}-${k}`,
                value: i,
                timestamp: 1,
                step: i,
              })),
              params: i === 0 ? [{ key: `bp${writer}`, value: 'x' }] : [],
            });
            expect(result.status).toBe(200);
          }
        })(),
      ),
      ...Array.from({ length: 6 }, (_, writer) =>
        (async () => {
          for (let i = 0; i < 3; i++) {
            const result = await call('POST', 'runs/log-batch', {
              run_id: runId,
              metrics: [{ key: `small${writer}`, value: i, timestamp: 1, step: i }],
              tags: [{ key: `st${writer}`, value: String(i) }],
            });
            expect(result.status).toBe(200);
          }
        })(),
      ),
    ]);
    const run = (await call('GET', `runs/get?run_id=${runId}`)).json.run;
    expect(run.data.metrics).toHaveLength(3 * 60 + 6);
    expect(
      run.data.metrics.every((m: { step: number; value: number }) => m.step === 2 && m.value === 2),
    ).toBe(true);
    expect(run.data.params.map((p: { key: string }) => p.key)).toEqual(['bp0', 'bp1', 'bp2']);
    expect(run.data.tags.filter((t: { key: string }) => t.key.startsWith('st'))).toHaveLength(6);
    expect(
      run.data.tags.every((t: { key: string; value: string }) => !t.key.startsWith('st') || t.value === '2'),
    ).toBe(true);
  });
});

describe('metric history', () => {
  it('pages with opaque tokens and answers {} for unknown runs and keys', async () => {
    const runId = await newRun();
    await call('POST', 'runs/log-batch', {
      run_id: runId,
      metrics: Array.from({ length: 250 }, (_, i) => ({ key: 'acc', value: i / 250, timestamp: i, step: i })),
    });
    const steps: number[] = [];
    let token: string | undefined;
    do {
      const page = await call(
        'GET',
        `metrics/get-history?run_id=${runId}&metric_key=acc&max_results=100${token ? `&page_token=${token}` : ''}`,
      );
      steps.push(...page.json.metrics.map((m: { step: number }) => m.step));
      token = page.json.next_page_token;
    } while (token);
    expect(steps).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect((await call('GET', `metrics/get-history?run_id=${runId}&metric_key=nope`)).json).toEqual({});
    expect(
      (await call('GET', 'metrics/get-history?run_id=ffffffffffffffffffffffffffffffff&metric_key=acc')).json,
    ).toEqual({});
    const forged = Buffer.from(JSON.stringify({ pk: `RUN#${runId}`, sk: 'RUN' })).toString('base64url');
    expect(
      (await call('GET', `metrics/get-history?run_id=${runId}&metric_key=acc&page_token=${forged}`)).status,
    ).toBe(400);
    expect(
      (await call('GET', `metrics/get-history?run_id=${runId}&metric_key=acc&max_results=25001`)).status,
    ).toBe(400);
  });

  it('samples steps over several runs for get-history-bulk-interval, keeping first and last', async () => {
    const experimentId = await newExperiment();
    const a = await newRun(experimentId);
    const b = await newRun(experimentId);
    for (const [runId, count] of [
      [a, 100],
      [b, 37],
    ] as const) {
      await call('POST', 'runs/log-batch', {
        run_id: runId,
        metrics: Array.from({ length: count }, (_, i) => ({
          key: 'loss',
          value: 1 / (i + 1),
          timestamp: i,
          step: i,
        })),
      });
    }
    const all = await call(
      'GET',
      `metrics/get-history-bulk-interval?run_ids=${a}&run_ids=${b}&metric_key=loss`,
    );
    expect(all.json.metrics).toHaveLength(137);
    const sampled = await call(
      'GET',
      `metrics/get-history-bulk-interval?run_ids=${a}&run_ids=${b}&metric_key=loss&max_results=10`,
    );
    const stepsA = sampled.json.metrics
      .filter((m: { run_id: string }) => m.run_id === a)
      .map((m: { step: number }) => m.step);
    expect(stepsA).toContain(0);
    expect(stepsA).toContain(99);
    expect(stepsA).toContain(36);
    expect(stepsA.length).toBeLessThanOrEqual(13);
    const ranged = await call(
      'GET',
      `metrics/get-history-bulk-interval?run_ids=${a}&metric_key=loss&start_step=10&end_step=20`,
    );
    expect(ranged.json.metrics.map((m: { step: number }) => m.step)).toEqual(
      Array.from({ length: 11 }, (_, i) => 10 + i),
    );
    expect(
      (await call('GET', `metrics/get-history-bulk-interval?run_ids=${a}&metric_key=loss&start_step=5`))
        .status,
    ).toBe(400);
    expect(
      (await call('GET', `metrics/get-history-bulk-interval?run_ids=${a}&metric_key=loss&max_results=2501`))
        .status,
    ).toBe(400);
    const tooMany = Array.from({ length: 101 }, () => `run_ids=${a}`).join('&');
    expect((await call('GET', `metrics/get-history-bulk-interval?${tooMany}&metric_key=loss`)).status).toBe(
      400,
    );
  });
});

describe('search runs', () => {
  it('filters on metrics, params, tags and attributes, orders and pages', async () => {
    const experimentId = await newExperiment();
    for (let i = 0; i < 7; i++) {
      const runId = await newRun(experimentId, { run_name: `run-${i}`, start_time: 1000 + i });
      await call('POST', 'runs/log-batch', {
        run_id: runId,
        metrics: [{ key: 'acc', value: i / 10, timestamp: 1, step: 0 }],
        params: [{ key: 'lr', value: i % 2 === 0 ? '0.01' : '0.1' }],
        tags: [{ key: 'team', value: i < 4 ? 'a' : 'b' }],
      });
      if (i === 6) await call('POST', 'runs/delete', { run_id: runId });
    }
    const search = (body: Record<string, unknown>) =>
      call('POST', 'runs/search', { experiment_ids: [experimentId], ...body });
    const names = (result: { json: { runs?: Array<{ info: { run_name: string } }> } }) =>
      (result.json.runs ?? []).map((run) => run.info.run_name);

    expect(names(await search({}))).toEqual(['run-5', 'run-4', 'run-3', 'run-2', 'run-1', 'run-0']);
    expect(names(await search({ filter: "metrics.acc > 0.25 and params.lr = '0.01'" }))).toEqual(['run-4']);
    expect(names(await search({ filter: "tags.team = 'a'", order_by: ['metrics.acc ASC'] }))).toEqual([
      'run-0',
      'run-1',
      'run-2',
      'run-3',
    ]);
    expect(
      names(
        await search({
          filter: "attributes.run_name LIKE 'run-%' and attributes.status = 'RUNNING'",
          max_results: 2,
        }),
      ),
    ).toHaveLength(2);
    expect(names(await search({ run_view_type: 'DELETED_ONLY' }))).toEqual(['run-6']);
    expect(names(await search({ run_view_type: 'ALL' }))).toHaveLength(7);
    expect((await search({ filter: "params.lr = '9'" })).json).toEqual({});

    const paged: string[] = [];
    let token: string | undefined;
    do {
      const page = await search({
        max_results: 4,
        order_by: ['attributes.start_time ASC'],
        ...(token ? { page_token: token } : {}),
      });
      paged.push(...names(page));
      token = page.json.next_page_token;
    } while (token);
    expect(paged).toEqual(['run-0', 'run-1', 'run-2', 'run-3', 'run-4', 'run-5']);

    for (const bad of [
      { filter: 'metrics.acc > ' },
      { filter: "metrics.acc = 'x'" },
      { max_results: 50001 },
      { order_by: ['nope.x'] },
    ]) {
      const result = await search(bad);
      expect(result.status, JSON.stringify(bad)).toBe(400);
    }
  });

  it('filters on datasets and on every run attribute, by the name MLflow gives it', async () => {
    const experimentId = await newExperiment();
    const runs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const runId = await newRun(experimentId, {
        run_name: `ds-${i}`,
        user_id: `user-${i}`,
        start_time: 2000 + i,
      });
      runs.push(runId);
      await call('POST', 'runs/log-inputs', {
        run_id: runId,
        datasets: [
          {
            dataset: { name: i === 0 ? 'iris' : 'wine', digest: `d${i}`, source_type: 'local', source: '{}' },
            tags: [{ key: 'mlflow.data.context', value: i === 2 ? 'eval' : 'train' }],
          },
        ],
      });
    }
    await call('POST', 'runs/update', { run_id: runs[1], status: 'FINISHED', end_time: 5000 });
    const names = async (filter: string) =>
      (
        ((await call('POST', 'runs/search', { experiment_ids: [experimentId], filter })).json.runs ??
          []) as Array<{
          info: { run_name: string };
        }>
      )
        .map((run) => run.info.run_name)
        .sort();

    expect(await names("datasets.name = 'wine'")).toEqual(['ds-1', 'ds-2']);
    expect(await names("datasets.digest IN ('d0', 'd2')")).toEqual(['ds-0', 'ds-2']);
    expect(await names("datasets.context = 'train' and datasets.name = 'wine'")).toEqual(['ds-1']);
    expect(await names(`attributes.run_id = '${runs[2]}'`)).toEqual(['ds-2']);
    expect(await names("attributes.user_id = 'user-0'")).toEqual(['ds-0']);
    expect(await names("attributes.status = 'FINISHED'")).toEqual(['ds-1']);
    expect(await names('attributes.end_time > 0')).toEqual(['ds-1']);
    expect(await names('attributes.start_time >= 2001')).toEqual(['ds-1', 'ds-2']);
    expect(await names(`attributes.artifact_uri LIKE '%${runs[0]}%'`)).toEqual(['ds-0']);
    expect(await names("attributes.run_name = 'ds-2'")).toEqual(['ds-2']);
  });

  it('answers a small page from projections exactly as the full read does (order, ties, NaN, views, tokens)', async () => {
    const experimentId = await newExperiment();
    // acc: ties, negatives, -0, NaN, ±Infinity, and a run without it; start times tie in threes.
    const accs: Array<number | string | undefined> = [
      0.5,
      -1,
      0.5,
      'NaN',
      'Infinity',
      -0,
      undefined,
      0.5,
      2,
      '-Infinity',
      0.5,
      1,
    ];
    const ids: string[] = [];
    for (const [i, acc] of accs.entries()) {
      const runId = await newRun(experimentId, { run_name: `r-${i}`, start_time: 1000 + (i % 3) });
      ids.push(runId);
      await call('POST', 'runs/log-batch', {
        run_id: runId,
        metrics: acc === undefined ? [] : [{ key: 'acc', value: acc, timestamp: 1, step: 0 }],
        params: [{ key: 'lr', value: i === 4 ? 'L'.repeat(700) : i % 2 === 0 ? '0.1' : '0.01' }],
        tags: [{ key: 't', value: i === 2 ? 'T'.repeat(900) : String(i % 4) }],
      });
    }
    await call('POST', 'runs/log-inputs', {
      run_id: ids[8],
      datasets: [{ dataset: { name: 'd', digest: 'x1', source_type: 'local', source: '{}' }, tags: [] }],
    });
    await call('POST', 'runs/delete', { run_id: ids[9] });
    // A later point replaces run 1's value: -1 becomes 3 (the top).
    await call('POST', 'runs/log-metric', { run_id: ids[1], key: 'acc', value: 3, timestamp: 2, step: 1 });

    const search = async (body: Record<string, unknown>) => {
      const result = await call('POST', 'runs/search', { experiment_ids: [experimentId], ...body });
      expect(result.status, JSON.stringify(body)).toBe(200);
      return result.json as { runs?: Array<{ info: { run_name: string } }>; next_page_token?: string };
    };
    const names = (runs: Array<{ info: { run_name: string } }> = []) => runs.map((run) => run.info.run_name);

    // MLflow's order: numbers (desc), then NaN, then runs without the metric; ties by start_time
    // desc, then run id. The deleted run (-Infinity) is out of ACTIVE_ONLY.
    const tiesAt05 = ['r-0', 'r-2', 'r-7', 'r-10'].sort((a, b) => {
      const start = (name: string) => Number(name.slice(2)) % 3;
      return start(b) - start(a) || (ids[Number(a.slice(2))]! < ids[Number(b.slice(2))]! ? -1 : 1);
    });
    const all = names((await search({ order_by: ['metrics.acc DESC'], max_results: 1000 })).runs);
    expect(all).toEqual(['r-4', 'r-1', 'r-8', 'r-11', ...tiesAt05, 'r-5', 'r-3', 'r-6']);
    // The top 5 (a small page: projections, then the page's runs whole, long values and inputs too).
    const top = await search({ order_by: ['metrics.acc DESC'], max_results: 5 });
    expect(names(top.runs)).toEqual(all.slice(0, 5));
    expect(top.runs).toEqual(
      (await search({ order_by: ['metrics.acc DESC'], max_results: 1000 })).runs?.slice(0, 5),
    );

    const orders = [
      [],
      ['metrics.acc DESC'],
      ['metrics.acc ASC'],
      ['attributes.start_time ASC'],
      ['params.lr DESC'],
      ['tags.t ASC'],
    ];
    const filters = [
      '',
      'metrics.acc > 0',
      "params.lr = '0.1'",
      "attributes.run_name LIKE 'r-1%'",
      "tags.t != '1'",
      "attributes.status = 'RUNNING'",
      "dataset.name = 'd'",
    ];
    for (const order_by of orders) {
      for (const filter of filters) {
        for (const run_view_type of ['ACTIVE_ONLY', 'ALL']) {
          const query = { order_by, filter, run_view_type };
          const whole = (await search({ ...query, max_results: 1000 })).runs ?? [];
          const paged: Array<{ info: { run_name: string } }> = [];
          let token: string | undefined;
          do {
            const page = await search({ ...query, max_results: 4, ...(token ? { page_token: token } : {}) });
            paged.push(...(page.runs ?? []));
            token = page.next_page_token;
          } while (token);
          expect(paged, JSON.stringify(query)).toEqual(whole);
        }
      }
    }
  });
});
