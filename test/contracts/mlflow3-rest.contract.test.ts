import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelVersionToWire, registeredModelToWire } from '../../shared/registry/api/registry.wire.ts';
import type { ModelVersion } from '../../shared/registry/model.ts';
import { parseModelSource } from '../../shared/registry/model-source.ts';
import { runToWire } from '../../shared/tracking/api/run.wire.ts';
import { loggedModelToWire } from '../../shared/tracking/logged-models/api/logged-model.wire.ts';
import type { LoggedModelWithMetrics } from '../../shared/tracking/logged-models/model.ts';
import type { Run } from '../../shared/tracking/run.model.ts';

/**
 * What the real MLflow 3.11.1 server answered for a model logged and registered by its client
 * (test/fixtures/mlflow3-rest/, from the shared fixtures): the same entities, held the way Runway
 * holds them and written by Runway's wire functions, must come out as MLflow wrote them, field for
 * field (MLflow's ids and timestamps are reused so the comparison is exact; tag order is MLflow's
 * business, so tags compare as sets).
 */

// biome-ignore lint/suspicious/noExplicitAny: fixtures are MLflow's JSON as it is.
const fixture = (name: string): any =>
  JSON.parse(
    readFileSync(path.join(import.meta.dirname, '../fixtures/mlflow3-rest', `${name}.json`), 'utf8'),
  );

const loggedModel = fixture('logged-models-get').model;
const run = fixture('runs-get').run;
const version = fixture('model-versions-get').model_version;
const downloadUri = fixture('model-versions-get-download-uri');
const registered = fixture('registered-models-get').registered_model;

const sortTags = <T extends { key: string }>(tags: T[] | undefined) =>
  [...(tags ?? [])].sort((a, b) => a.key.localeCompare(b.key));

describe('MLflow 3.11.1 answers for a logged, registered model', () => {
  it('logged-models/get: the same info and data', () => {
    const info = loggedModel.info;
    const model: LoggedModelWithMetrics = {
      modelId: info.model_id,
      experimentId: info.experiment_id,
      name: info.name,
      artifactLocation: info.artifact_uri,
      creationTimestamp: info.creation_timestamp_ms,
      lastUpdatedTimestamp: info.last_updated_timestamp_ms,
      status: info.status,
      modelType: info.model_type,
      sourceRunId: info.source_run_id,
      lifecycleStage: 'active',
      tags: Object.fromEntries(info.tags.map((tag: { key: string; value: string }) => [tag.key, tag.value])),
      params: {},
      metrics: [],
    };
    const wire = loggedModelToWire(model);
    expect({ ...wire.info, tags: sortTags(wire.info.tags) }).toEqual({ ...info, tags: sortTags(info.tags) });
    expect(wire.data).toEqual(loggedModel.data);
    // The registry's link, in the format the server and the client write it (Python's json.dumps).
    const link = info.tags.find((tag: { key: string }) => tag.key === 'mlflow.modelVersions').value;
    expect(link).toBe('[{"name": "fixture", "version": 1}, {"name": "fixture", "version": "1"}]');
  });

  it('runs/get: outputs.model_outputs names the logged model; inputs and outputs are always present', () => {
    const stored: Run = {
      info: {
        runId: run.info.run_id,
        experimentId: run.info.experiment_id,
        userId: run.info.user_id,
        status: run.info.status,
        startTime: run.info.start_time,
        endTime: run.info.end_time,
        artifactUri: run.info.artifact_uri,
        lifecycleStage: run.info.lifecycle_stage,
      },
      metrics: [],
      params: [],
      tags: run.data.tags,
      inputs: [],
      modelInputs: [],
      outputs: run.outputs.model_outputs.map((output: { model_id: string; step: number }) => ({
        modelId: output.model_id,
        step: output.step,
      })),
    };
    const wire = runToWire(stored);
    expect({ ...wire, data: { tags: sortTags(wire.data.tags) } }).toEqual({
      ...run,
      data: { tags: sortTags(run.data.tags) },
    });
    // A run without outputs answers `"outputs": {}`, as MLflow 3.11 does.
    expect(runToWire({ ...stored, outputs: [] }).outputs).toEqual({});
    expect(runToWire({ ...stored, outputs: [] }).inputs).toEqual({});
  });

  const stored: ModelVersion = {
    name: version.name,
    version: Number(version.version),
    creationTimestamp: version.creation_timestamp,
    lastUpdatedTimestamp: version.last_updated_timestamp,
    description: version.description,
    currentStage: version.current_stage,
    source: version.source,
    storageLocation: downloadUri.artifact_uri,
    runId: version.run_id,
    runLink: version.run_link,
    status: 'READY',
    tags: {},
    aliases: [],
  };

  it('model-versions/get: the source stays models:/<model_id>; no model_id field, as MLflow answers', () => {
    expect(modelVersionToWire(stored)).toEqual(version);
    expect(version).not.toHaveProperty('model_id');
  });

  it('model-versions/get-download-uri: models:/<model_id> resolves to the logged model’s artifact location', () => {
    expect(parseModelSource(version.source)).toEqual({
      kind: 'logged-model',
      modelId: loggedModel.info.model_id,
    });
    expect(downloadUri).toEqual({ artifact_uri: loggedModel.info.artifact_uri });
  });

  it('registered-models/get: latest_versions carry the version as model-versions/get does', () => {
    expect(
      registeredModelToWire({
        modelId: 'id',
        name: registered.name,
        creationTimestamp: registered.creation_timestamp,
        lastUpdatedTimestamp: registered.last_updated_timestamp,
        description: '',
        tags: {},
        aliases: {},
        latestVersions: [stored],
      }),
    ).toEqual(registered);
  });
});
