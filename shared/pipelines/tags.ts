/**
 * Names Runway's pipelines write: tags on pipeline runs and the versions they register, and artifact
 * paths within a run. No zod here, so the console can import these constants without the schemas.
 */

/** Tags Runway puts on pipeline runs and the versions they register. */
export const PIPELINE_TAGS = {
  executionArn: 'runway.pipeline.execution_arn',
  stateMachineArn: 'runway.pipeline.state_machine_arn',
  datasetDigest: 'runway.dataset.digest',
  datasetUri: 'runway.dataset.uri',
  /** On a version: the artifact URI of the dataset schema it was trained on (the next baseline). */
  datasetSchema: 'runway.dataset.schema_uri',
  /** On a version: the artifact URI of its training statistics (the drift-monitoring baseline). */
  datasetStatistics: 'runway.dataset.statistics_uri',
  gate: 'runway.pipeline.gate',
  failedStep: 'runway.pipeline.failed_step',
} as const;

/** Artifact paths within a run. */
export const ARTIFACTS = {
  statistics: 'data/statistics.json',
  schema: 'data/schema.json',
  anomalies: 'data/anomalies.json',
  report: 'data/validation_report.txt',
  train: 'data/train.csv',
  test: 'data/test.csv',
  model: 'model',
  evaluation: 'evaluation/metrics.json',
  containerMetrics: 'evaluation/container_metrics.json',
  sagemakerOutput: 'sagemaker',
} as const;
