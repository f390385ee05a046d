import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Replayed, readRecording, replay } from '../support/client-replay.ts';
import { mlflow, unique } from '../support/http-client.ts';

/**
 * The MLflow 2.22.4 client's classic workflows (test/fixtures/mlflow3/client-2.22.4-requests.json,
 * captured from the real client against `npm start`), replayed over HTTP: tracking, artifacts, a model
 * logged as a run artifact and registered from it, an alias, a stage, loading by alias, searches.
 * They keep working beside MLflow 3's way (mlflow3-client.e2e.test.ts).
 */

const recording = readRecording('client-2.22.4-requests.json');
const MODEL_DIR = path.resolve(import.meta.dirname, '../fixtures/models/mlflow-onnx-logreg');
const FILES = new Map(readdirSync(MODEL_DIR).map((file) => [file, readFileSync(path.join(MODEL_DIR, file))]));
const vars: Record<string, string> = { name: unique('churn2'), experiment_name: unique('mlflow2-client') };
const uploaded = new Map<string, Uint8Array>();

const answerOf = (done: Replayed[], method: string, route: string) =>
  done.find((entry) => entry.method === method && entry.path.includes(route))?.response.json;

describe('the MLflow 2.22.4 client’s classic workflows, replayed', { timeout: 120_000 }, () => {
  it('tracks a run (params, metric steps, a tag, an artifact), logs the model under the run and registers it', async () => {
    const done = await replay(recording.flows.track_and_log_model ?? [], vars, (artifactPath) =>
      path.posix.basename(artifactPath) === 'notes.txt'
        ? new TextEncoder().encode('hello')
        : FILES.get(path.posix.basename(artifactPath)),
    );
    for (const entry of done) {
      if (entry.method === 'PUT' && entry.bytes)
        uploaded.set(entry.path.split('/artifacts/').pop() as string, entry.bytes);
    }
    const version = answerOf(done, 'POST', '/mlflow/model-versions/create').model_version;
    expect(version).toMatchObject({
      name: vars.name,
      version: '1',
      source: `mlflow-artifacts:/${vars.experiment_id}/${vars.run_id}/artifacts/model`,
      run_id: vars.run_id,
    });
    const { run } = (await mlflow('GET', `runs/get?run_id=${vars.run_id}`)).json;
    expect(run.data.params).toEqual([
      { key: 'C', value: '1.0' },
      { key: 'solver', value: 'lbfgs' },
    ]);
    expect(run.data.tags).toContainEqual({ key: 'team', value: 'growth' });
    expect(run.data.tags.map((tag: { key: string }) => tag.key)).toContain('mlflow.log-model.history');
    expect(run.outputs).toEqual({});
  });

  it('sets an alias and a stage, and loads models:/<name>@champion: the run’s files, byte for byte', async () => {
    const done = await replay(recording.flows.alias_stage_and_load ?? [], vars);
    const byAlias = answerOf(done, 'GET', '/mlflow/registered-models/alias?').model_version;
    expect(byAlias).toMatchObject({ version: '1', current_stage: 'Production', aliases: ['champion'] });
    const uri = answerOf(done, 'GET', '/mlflow/model-versions/get-download-uri');
    expect(uri).toEqual({
      artifact_uri: `mlflow-artifacts:/${vars.experiment_id}/${vars.run_id}/artifacts/model`,
    });
    const downloads = done.filter(
      (entry) => entry.method === 'GET' && entry.path.includes('/mlflow-artifacts/artifacts/'),
    );
    expect(downloads.length).toBe(7);
    for (const entry of downloads) {
      const relative = entry.path.split('/artifacts/').pop() as string;
      expect(Buffer.from(entry.bytes ?? []).equals(Buffer.from(uploaded.get(relative) ?? [])), relative).toBe(
        true,
      );
    }
  });

  it('searches runs by metric and param, reads a metric’s history and searches versions', async () => {
    const done = await replay(recording.flows.search ?? [], vars);
    const runs = answerOf(done, 'POST', '/mlflow/runs/search').runs;
    expect(runs.map((run: { info: { run_id: string } }) => run.info.run_id)).toEqual([vars.run_id]);
    const history = answerOf(done, 'GET', '/mlflow/metrics/get-history').metrics;
    expect(history.map((point: { step: number; value: number }) => [point.step, point.value])).toEqual([
      [0, 1],
      [1, 0.5],
      [2, 1 / 3],
    ]);
    const versions = answerOf(done, 'GET', '/mlflow/model-versions/search').model_versions;
    expect(versions).toEqual([
      expect.objectContaining({ version: '1', current_stage: 'Production', aliases: ['champion'] }),
    ]);
  });
});
