import { InvalidParameterError } from '../platform/errors.ts';
import type { LifecycleStage } from './model.ts';
import { validateLength, validateTagKey } from './model.ts';

/** MLflow's `RunStatus`. */
export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The tag MLflow keeps in step with a run's name. */
export const RUN_NAME_TAG = 'mlflow.runName';
/** The tag `runs/log-model` appends to (MLflow 2). */
export const LOG_MODEL_HISTORY_TAG = 'mlflow.log-model.history';

/** A point of a metric's history. `value` may be NaN or ±Infinity, as MLflow allows. */
export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  /** MLflow 3: the logged model and dataset a metric belongs to. */
  modelId?: string | undefined;
  datasetName?: string | undefined;
  datasetDigest?: string | undefined;
}

export interface Param {
  key: string;
  value: string;
}

export interface RunTag {
  key: string;
  value: string;
}

export interface Dataset {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema?: string | undefined;
  profile?: string | undefined;
}

export interface DatasetInput {
  dataset: Dataset;
  tags: RunTag[];
}

export interface RunInfo {
  runId: string;
  experimentId: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime?: number | undefined;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
}

/** MLflow 3: a logged model a run produced (`runs/outputs`), or used as input (`log-inputs`). */
export interface ModelOutput {
  modelId: string;
  step: number;
}

/** A run with its data as MLflow returns it: the latest value of each metric, params, tags, inputs. */
export interface Run {
  info: RunInfo;
  metrics: Metric[];
  params: Param[];
  tags: RunTag[];
  inputs: DatasetInput[];
  /** MLflow 3: logged models used as inputs. */
  modelInputs: string[];
  /** MLflow 3: logged models the run produced. */
  outputs: ModelOutput[];
}

/** The run's name lives in the `mlflow.runName` tag; the info field mirrors it. */
export function runNameOf(run: Pick<Run, 'tags'>): string {
  return run.tags.find((tag) => tag.key === RUN_NAME_TAG)?.value ?? '';
}

/** MLflow's limits (mlflow/utils/validation.py, 2.22; measured behaviour in mlflow-behaviours.md). */
export const RUN_LIMITS = {
  key: 250,
  paramValue: 6000,
  tagValue: 8000,
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchEntities: 1000,
  batchBytes: 1_000_000,
  searchMaxResults: 50_000,
  searchDefaultMaxResults: 1000,
  historyPage: 25_000,
  bulkRuns: 100,
  bulkResultsPerRun: 2500,
  datasetName: 500,
  datasetDigest: 36,
  datasetSchema: 1_048_575,
  datasetSource: 65_535,
  datasetProfile: 16_777_215,
  inputTagKey: 255,
  inputTagValue: 500,
  datasetsPerBatch: 1000,
  /**
   * Runway's own: a dataset input is one DynamoDB item (at most 400 KB), so its name, digest, source,
   * schema, profile and tags together stay below this, although MLflow allows a 1 MB schema.
   */
  datasetStoredBytes: 350_000,
} as const;

/** Infinity is stored as the largest double, as MLflow's SQL store does. */
export const MAX_DOUBLE = 1.7976931348623157e308;

/** MLflow run ids: 32 hex characters from a UUID4, but any `[a-zA-Z0-9][\w-]{0,255}` is accepted. */
const RUN_ID = /^[a-zA-Z0-9][\w-]{0,255}$/;

export function validateRunId(runId: string): string {
  if (!RUN_ID.test(runId)) throw new InvalidParameterError(`Invalid run ID: '${runId}'`);
  return runId;
}

/** Validates a metric as MLflow's `_validate_metric`; returns it with ±Infinity clamped. */
export function validateMetric(metric: Metric): Metric {
  validateName('metric', metric.key);
  if (!Number.isInteger(metric.timestamp) || metric.timestamp < 0) {
    throw new InvalidParameterError(
      `Got invalid timestamp ${metric.timestamp} for metric '${metric.key}' (value=${metric.value}). Timestamp must be a nonnegative long (64-bit integer)`,
    );
  }
  if (!Number.isInteger(metric.step)) {
    throw new InvalidParameterError(
      `Got invalid step ${metric.step} for metric '${metric.key}' (value=${metric.value}). Step must be a valid long (64-bit integer).`,
    );
  }
  const value =
    metric.value === Number.POSITIVE_INFINITY
      ? MAX_DOUBLE
      : metric.value === Number.NEGATIVE_INFINITY
        ? -MAX_DOUBLE
        : metric.value;
  return { ...metric, value };
}

/** Validates a param; values over the limit are truncated, as MLflow 2.22 does. */
export function validateParam(param: Param): Param {
  validateName('parameter', param.key);
  return { key: param.key, value: param.value.slice(0, RUN_LIMITS.paramValue) };
}

/** Validates a run tag; values over the limit are truncated, as MLflow 2.22 does. */
export function validateRunTag(tag: RunTag): RunTag {
  validateTagKey(tag.key, RUN_LIMITS.key);
  return { key: tag.key, value: tag.value.slice(0, RUN_LIMITS.tagValue) };
}

export function validateDatasetInput(input: DatasetInput): DatasetInput {
  const { dataset } = input;
  validateLength('Dataset name', dataset.name, RUN_LIMITS.datasetName);
  validateLength('Dataset digest', dataset.digest, RUN_LIMITS.datasetDigest);
  validateLength('Dataset source', dataset.source, RUN_LIMITS.datasetSource);
  if (dataset.schema !== undefined)
    validateLength('Dataset schema', dataset.schema, RUN_LIMITS.datasetSchema);
  if (dataset.profile !== undefined)
    validateLength('Dataset profile', dataset.profile, RUN_LIMITS.datasetProfile);
  for (const tag of input.tags) {
    if (tag.key === '') throw new InvalidParameterError('Input tag key cannot be empty');
    validateLength('Input tag key', tag.key, RUN_LIMITS.inputTagKey);
    validateLength('Input tag value', tag.value, RUN_LIMITS.inputTagValue);
  }
  const stored = [
    dataset.name,
    dataset.digest,
    dataset.sourceType,
    dataset.source,
    dataset.schema ?? '',
    dataset.profile ?? '',
    ...input.tags.flatMap((tag) => [tag.key, tag.value]),
  ].reduce((total, text) => total + Buffer.byteLength(text, 'utf8'), 0);
  if (stored > RUN_LIMITS.datasetStoredBytes) {
    throw new InvalidParameterError(
      `Dataset '${dataset.name.slice(0, 100)}' is ${stored} bytes with its schema, profile, source and tags; ` +
        `Runway stores at most ${RUN_LIMITS.datasetStoredBytes} bytes per dataset input`,
    );
  }
  return input;
}

function validateName(kind: 'metric' | 'parameter', key: string): void {
  if (key === '') throw new InvalidParameterError(`Invalid ${kind} name: ''. A key name must be provided.`);
  try {
    validateTagKey(key, RUN_LIMITS.key);
  } catch (error) {
    if (!(error instanceof InvalidParameterError)) throw error;
    const label = kind === 'metric' ? 'Metric name' : 'Param key';
    throw new InvalidParameterError(
      error.message.replace(/^Invalid tag name/, `Invalid ${kind} name`).replace(/^Tag key/, label),
    );
  }
}

/** Which of two points of one metric is the later, as MLflow's SQL store decides the latest value. */
export function isLaterMetric(
  a: Pick<Metric, 'step' | 'timestamp' | 'value'>,
  b: Pick<Metric, 'step' | 'timestamp' | 'value'>,
) {
  return compareMetricPoints(a, b) > 0;
}

/**
 * A text whose order (code-unit, as DynamoDB compares strings) is the order {@link isLaterMetric}
 * gives values: NaN above every number, -0 equal to 0. It lets a conditional write decide "newer"
 * on the server, where values are stored as text. Numbers map to their IEEE 754 bits, sign bit
 * flipped for positives and every bit flipped for negatives, as 16 hex digits; NaN is `n`.
 */
export function metricValueOrder(value: number): string {
  if (Number.isNaN(value)) return 'n';
  // Two 32-bit halves, not a BigInt: a batch orders a thousand points, and this ran a third of it.
  DOUBLE.setFloat64(0, value === 0 ? 0 : value);
  let high = DOUBLE.getUint32(0);
  let low = DOUBLE.getUint32(4);
  if (high & 0x8000_0000) {
    high = ~high >>> 0;
    low = ~low >>> 0;
  } else {
    high = (high | 0x8000_0000) >>> 0;
  }
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

const DOUBLE = new DataView(new ArrayBuffer(8));
const OFFSET_63 = 2n ** 63n;

/** A signed 64-bit integer offset by 2^63, as 16 hex digits, so signed values sort as text. */
function offsetHex(value: number): string {
  // A safe non-negative integer is `8` then 15 hex digits (2^53 needs 14); others take the BigInt way.
  if (Number.isSafeInteger(value) && value >= 0) return `8${value.toString(16).padStart(15, '0')}`;
  return (BigInt(value) + OFFSET_63).toString(16).padStart(16, '0');
}

/** A non-negative integer as 16 hex digits (timestamps). */
function hex16(value: number): string {
  if (Number.isSafeInteger(value) && value >= 0) return value.toString(16).padStart(16, '0');
  return BigInt(value).toString(16).padStart(16, '0');
}

/**
 * A text whose order is the order {@link isLaterMetric} gives points: the step (offset so signed
 * 64-bit steps sort as text), then the timestamp, then {@link metricValueOrder}, each fixed-width.
 * One comparison of it on the server decides "later", which keeps a conditional write's expression
 * short (the emulator's expression parser is slow on nested conditions).
 */
export function metricPointOrder(point: Pick<Metric, 'step' | 'timestamp' | 'value'>): string {
  return `${offsetHex(point.step)}${hex16(point.timestamp)}${metricValueOrder(point.value)}`;
}

/** NaN sorts above every number, as `is_nan` does in MLflow's ordering; -0 equals 0. */
function compareValues(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return a === b ? 0 : a < b ? -1 : 1;
}

/**
 * Two points of one metric in the order of {@link metricPointOrder} (step, timestamp, value), as a
 * sort comparator: 0 exactly when their order texts are equal.
 */
export function compareMetricPoints(
  a: Pick<Metric, 'step' | 'timestamp' | 'value'>,
  b: Pick<Metric, 'step' | 'timestamp' | 'value'>,
): number {
  if (a.step !== b.step) return a.step < b.step ? -1 : 1;
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return compareValues(a.value, b.value);
}
