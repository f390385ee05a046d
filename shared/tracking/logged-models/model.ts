import { randomUUID } from 'node:crypto';
import { InvalidParameterError } from '../../platform/errors.ts';
import { validateLength } from '../model.ts';

/**
 * MLflow 3's `LoggedModelStatus` (service.proto), by its protobuf name. A model is created
 * `PENDING`, and the client finalizes it `READY` once its artifacts are uploaded, or
 * `UPLOAD_FAILED` when the upload broke.
 */
export const LOGGED_MODEL_STATUSES = [
  'LOGGED_MODEL_PENDING',
  'LOGGED_MODEL_READY',
  'LOGGED_MODEL_UPLOAD_FAILED',
] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

/** The statuses `finalize` accepts (FinalizeLoggedModel's documented values). */
export const FINAL_STATUSES: readonly LoggedModelStatus[] = [
  'LOGGED_MODEL_READY',
  'LOGGED_MODEL_UPLOAD_FAILED',
];

/** Deleting a logged model only marks it, as MLflow's stores do; `get` can still read it on request. */
export type LoggedModelLifecycleStage = 'active' | 'deleted';

/** An MLflow 3 logged model: the entity `log_model` creates, uploads artifacts to and finalizes. */
export interface LoggedModel {
  /** `m-` and 32 hex digits, as MLflow's SQL store makes them. */
  modelId: string;
  experimentId: string;
  name: string;
  /** `<experiment artifact_location>/models/<model_id>/artifacts`, where the client uploads. */
  artifactLocation: string;
  /** Milliseconds since the epoch. */
  creationTimestamp: number;
  /** Changes on finalize and delete only, as in MLflow (tags and params leave it alone). */
  lastUpdatedTimestamp: number;
  status: LoggedModelStatus;
  /** What the client sent, `''` when it sent nothing (MLflow stores and answers `""` then). */
  modelType: string;
  sourceRunId: string;
  lifecycleStage: LoggedModelLifecycleStage;
  tags: Record<string, string>;
  /** Write-once, like a run's params. */
  params: Record<string, string>;
}

/**
 * A metric linked to a logged model: a run's metric logged with `model_id` (MLflow 3's
 * `log_batch`/`log_metric` with a model). Runs own them; logged models only read them.
 */
export interface LinkedMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  runId: string;
  modelId: string;
  datasetName?: string | undefined;
  datasetDigest?: string | undefined;
}

/** A logged model as the API answers it: with the metrics its runs linked to it. */
export interface LoggedModelWithMetrics extends LoggedModel {
  metrics: readonly LinkedMetric[];
}

/** A key/value pair as MLflow sends params and tags. */
export interface KeyValue {
  key: string;
  value: string;
}

/**
 * Limits. MLflow's SQL store checks none of these for logged models (its columns are `TEXT`); Runway
 * applies MLflow's entity limits (mlflow/utils/validation.py) so that a model, which is one
 * DynamoDB item, stays well inside the 400 KB item limit, and refuses rather than truncates.
 */
export const LOGGED_MODEL_LIMITS = {
  /** `logged_models.name` is `VARCHAR(500)`. */
  name: 500,
  modelType: 500,
  sourceRunId: 256,
  /** MAX_ENTITY_KEY_LENGTH. */
  key: 250,
  /** MAX_PARAM_VAL_LENGTH. */
  paramValue: 6000,
  /** MAX_TAG_VAL_LENGTH. */
  tagValue: 8000,
  /** SEARCH_LOGGED_MODEL_MAX_RESULTS_DEFAULT. */
  searchDefaultMaxResults: 100,
  /** SEARCH_MAX_RESULTS_THRESHOLD: the most any MLflow search hands out in one page. */
  searchMaxResults: 50_000,
} as const;

const MODEL_ID = /^m-[0-9a-f]{32}$/;

/** A new model id: `m-` and a UUID4 without dashes, as MLflow's `create_logged_model`. */
export function newModelId(): string {
  return `m-${randomUUID().replaceAll('-', '')}`;
}

/** Whether `modelId` can name a model Runway created (anything else is unknown without a read). */
export function isModelId(modelId: string): boolean {
  return MODEL_ID.test(modelId);
}

/**
 * MLflow's `_validate_logged_model_name` (PR mlflow/mlflow#15000): a name is non-empty and has no
 * `/`, `:` or `.`, because it becomes part of `models:/` URIs and artifact paths.
 */
export function validateLoggedModelName(name: string): void {
  const forbidden = ['/', ':', '.'];
  if (name === '' || forbidden.some((char) => name.includes(char))) {
    throw new InvalidParameterError(
      `Invalid model name ('${name.slice(0, 250)}') provided. Model name must be a non-empty string and cannot contain the following characters: ('/', ':', '.')`,
    );
  }
  validateLength('Model name', name, LOGGED_MODEL_LIMITS.name);
}

/** Validates params and tags, refusing a key given twice (MLflow's primary keys refuse it too). */
export function validateEntries(
  what: 'Param' | 'Tag',
  entries: readonly KeyValue[],
  valueLimit: number,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of entries) {
    validateKey(what, key);
    validateLength(`${what} value`, value, valueLimit);
    if (Object.hasOwn(out, key)) {
      throw new InvalidParameterError(
        `Duplicate ${what.toLowerCase()} keys have been submitted: ['${key}']. Please ensure the request contains only one value per key.`,
      );
    }
    out[key] = value;
  }
  return out;
}

/** MLflow's rule for param and tag names: `[/\w.\- ]`, and nothing that resolves to another path. */
const VALID_KEY = /^[/\w.\- ]*$/u;

/** MLflow's `_validate_param_name` / `_validate_tag_name`, and the key length limit. */
function validateKey(what: 'Param' | 'Tag', key: string): void {
  const name = what === 'Param' ? 'parameter' : 'tag';
  if (key === '') {
    throw new InvalidParameterError(`${what} name cannot be empty. A key name must be provided.`);
  }
  if (!VALID_KEY.test(key)) {
    throw new InvalidParameterError(
      `Invalid ${name} name: '${key.slice(0, 250)}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).`,
    );
  }
  if (resolvesElsewhere(key)) {
    throw new InvalidParameterError(
      `Invalid ${name} name: '${key.slice(0, 250)}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such.`,
    );
  }
  validateLength(`${what} key`, key, LOGGED_MODEL_LIMITS.key);
}

/** MLflow's `path_not_unique`: `posixpath.normpath(name)` differs, is `.`, or escapes upwards. */
function resolvesElsewhere(name: string): boolean {
  const absolute = name.startsWith('/');
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && parts.length > 0 && parts.at(-1) !== '..') parts.pop();
    else if (part !== '..' || !absolute) parts.push(part);
  }
  const normalised = absolute ? `/${parts.join('/')}` : parts.join('/') || '.';
  return (
    normalised !== name || normalised === '.' || normalised.startsWith('..') || normalised.startsWith('/')
  );
}

/** `<root>/models/<model_id>/artifacts`, as MLflow's `append_to_uri_path` joins it. */
export function modelArtifactLocation(experimentArtifactLocation: string, modelId: string): string {
  return `${experimentArtifactLocation.replace(/\/+$/, '')}/models/${modelId}/artifacts`;
}
