import type { DatasetInput, Metric, Run, RunInfo } from '../run.model.ts';
import { runNameOf } from '../run.model.ts';

/** A metric value in MLflow's JSON: NaN travels as the string "NaN" (JSON has no NaN). */
export function metricValueToWire(value: number): number | string {
  return Number.isNaN(value) ? 'NaN' : value;
}

export function metricToWire(metric: Metric) {
  return {
    key: metric.key,
    value: metricValueToWire(metric.value),
    timestamp: metric.timestamp,
    step: metric.step,
    ...(metric.datasetName ? { dataset_name: metric.datasetName, dataset_digest: metric.datasetDigest } : {}),
    ...(metric.modelId ? { model_id: metric.modelId } : {}),
  };
}

/** MLflow's `RunInfo` (`run_uuid` is the deprecated twin of `run_id` that old clients still read). */
export function runInfoToWire(info: RunInfo, runName: string) {
  return {
    run_uuid: info.runId,
    run_id: info.runId,
    run_name: runName,
    experiment_id: info.experimentId,
    user_id: info.userId,
    status: info.status,
    start_time: info.startTime,
    ...(info.endTime !== undefined ? { end_time: info.endTime } : {}),
    artifact_uri: info.artifactUri,
    lifecycle_stage: info.lifecycleStage,
  };
}

function datasetInputToWire(input: DatasetInput) {
  return {
    ...(input.tags.length > 0 ? { tags: input.tags } : {}),
    dataset: {
      name: input.dataset.name,
      digest: input.dataset.digest,
      source_type: input.dataset.sourceType,
      source: input.dataset.source,
      ...(input.dataset.schema !== undefined ? { schema: input.dataset.schema } : {}),
      ...(input.dataset.profile !== undefined ? { profile: input.dataset.profile } : {}),
    },
  };
}

/** MLflow's `Run` in protobuf JSON: empty lists are left out; `data`, `inputs` and `outputs` always present. */
export function runToWire(run: Run) {
  const byKey = <T extends { key: string }>(items: T[]) =>
    [...items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    info: runInfoToWire(run.info, runNameOf(run)),
    data: {
      ...(run.metrics.length > 0 ? { metrics: byKey(run.metrics).map(metricToWire) } : {}),
      ...(run.params.length > 0 ? { params: byKey(run.params) } : {}),
      ...(run.tags.length > 0 ? { tags: byKey(run.tags) } : {}),
    },
    inputs: {
      ...(run.inputs.length > 0 ? { dataset_inputs: run.inputs.map(datasetInputToWire) } : {}),
      ...(run.modelInputs.length > 0
        ? { model_inputs: run.modelInputs.map((model_id) => ({ model_id })) }
        : {}),
    },
    // Always present, as `inputs` (MLflow 3.11 answers `"outputs": {}`; MLflow 2 clients ignore it).
    outputs: {
      ...(run.outputs.length > 0
        ? {
            model_outputs: run.outputs.map((output) => ({ model_id: output.modelId, step: output.step })),
          }
        : {}),
    },
  };
}
