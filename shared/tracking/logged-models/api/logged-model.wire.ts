import type { LinkedMetric, LoggedModelWithMetrics } from '../model.ts';

/** MLflow's `Metric` message as a logged model carries it (service.proto). */
export interface LinkedMetricWire {
  key: string;
  /** A number, or `"NaN"`, `"Infinity"`, `"-Infinity"` as protobuf JSON writes non-finite doubles. */
  value: number | string;
  timestamp: number;
  step: number;
  dataset_name?: string;
  dataset_digest?: string;
  model_id: string;
  run_id: string;
}

/**
 * MLflow's `LoggedModel` message in protobuf JSON: fields in field-number order, empty lists left
 * out, ids as strings, times as numbers, the status as its enum name. `data` is always there (MLflow
 * sets the message even when it is empty, so it prints `"data": {}`), and so are `model_type` and
 * `source_run_id`, which MLflow stores as `""` when the client sent none.
 */
export interface LoggedModelWire {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    creation_timestamp_ms: number;
    last_updated_timestamp_ms: number;
    artifact_uri: string;
    status: string;
    model_type: string;
    source_run_id: string;
    tags?: Array<{ key: string; value: string }>;
  };
  data: {
    params?: Array<{ key: string; value: string }>;
    metrics?: LinkedMetricWire[];
  };
}

export function loggedModelToWire(model: LoggedModelWithMetrics): LoggedModelWire {
  const tags = Object.entries(model.tags).map(([key, value]) => ({ key, value }));
  const params = Object.entries(model.params).map(([key, value]) => ({ key, value }));
  return {
    info: {
      model_id: model.modelId,
      experiment_id: model.experimentId,
      name: model.name,
      creation_timestamp_ms: model.creationTimestamp,
      last_updated_timestamp_ms: model.lastUpdatedTimestamp,
      artifact_uri: model.artifactLocation,
      status: model.status,
      model_type: model.modelType,
      source_run_id: model.sourceRunId,
      ...(tags.length > 0 ? { tags } : {}),
    },
    data: {
      ...(params.length > 0 ? { params } : {}),
      ...(model.metrics.length > 0 ? { metrics: model.metrics.map(metricToWire) } : {}),
    },
  };
}

function metricToWire(metric: LinkedMetric): LinkedMetricWire {
  return {
    key: metric.key,
    value: Number.isFinite(metric.value) ? metric.value : String(metric.value),
    timestamp: metric.timestamp,
    step: metric.step,
    ...(metric.datasetName !== undefined ? { dataset_name: metric.datasetName } : {}),
    ...(metric.datasetDigest !== undefined ? { dataset_digest: metric.datasetDigest } : {}),
    model_id: metric.modelId,
    run_id: metric.runId,
  };
}
