import { InvalidParameterError } from '../platform/errors.ts';

/** MLflow's model version stages (`model_version_stages.py`), in its order. */
export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];
/** The stages `archive_existing_versions` applies to (MLflow's "active" stages). */
export const ACTIVE_STAGES: readonly Stage[] = ['Staging', 'Production'];

/** A registered model as the API shows it. */
export interface RegisteredModel {
  /** Stable for the model's life (renames keep it); events carry it so consumers survive renames. */
  modelId: string;
  name: string;
  /** Milliseconds since the epoch. */
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  description: string;
  tags: Record<string, string>;
  /** alias -> version. */
  aliases: Record<string, number>;
  /** The highest version in each stage that has one, ordered as MLflow orders them. */
  latestVersions: ModelVersion[];
}

/** A model version as the API shows it. */
export interface ModelVersion {
  name: string;
  version: number;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  description: string | undefined;
  currentStage: Stage;
  source: string;
  /** Where the files are: `source` resolved (`runs:/` to the run's artifact URI) when it was created. */
  storageLocation: string | undefined;
  runId: string;
  runLink: string;
  status: 'READY';
  tags: Record<string, string>;
  aliases: string[];
}

/** MLflow's limits (mlflow/utils/validation.py, its registry schema and handlers). */
export const LIMITS = {
  /** The registry's name column is 256 characters; MLflow's SQL stores refuse longer names. */
  modelName: 256,
  tagKey: 250,
  /** MLflow 3.11's `MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH`, for model and version tags (2.22: 5000). */
  tagValue: 100_000,
  /** The description columns are 5000 characters. */
  description: 5000,
  alias: 255,
  runId: 256,
  searchModelsDefault: 100,
  searchModelsMax: 1000,
  searchVersionsDefault: 200_000,
  searchVersionsMax: 200_000,
} as const;

/** The tag that marks a registered model as a prompt (MLflow's prompt registry shares the tables). */
export const PROMPT_TAG = 'mlflow.prompt.is_prompt';

export function validateModelName(name: string, parameter = 'name'): string {
  if (name === '') throw new InvalidParameterError(`Missing value for required parameter '${parameter}'.`);
  if (name.length > LIMITS.modelName) {
    throw new InvalidParameterError(
      `Registered model name exceeds the maximum length of ${LIMITS.modelName} characters`,
    );
  }
  return name;
}

/** MLflow's `_validate_model_version`: an integer, else 400. */
export function parseVersion(version: string): number {
  const trimmed = version.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) {
    throw new InvalidParameterError(`Parameter 'version' must be an integer, got '${version}'.`);
  }
  return Number(trimmed);
}

/** MLflow's `get_canonical_stage`: case-insensitive, else 400. */
export function canonicalStage(stage: string): Stage {
  const found = STAGES.find((candidate) => candidate.toLowerCase() === stage.toLowerCase());
  if (!found) {
    throw new InvalidParameterError(
      `Invalid Model Version stage: ${stage}. Value must be one of ${STAGES.join(', ')}.`,
    );
  }
  return found;
}

/** MLflow's `_validate_model_alias_name`. */
export function validateAlias(alias: string): string {
  if (alias === '') throw new InvalidParameterError('Registered model alias name cannot be empty.');
  if (!/^[\w-]*$/u.test(alias)) {
    throw new InvalidParameterError(
      `Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`,
    );
  }
  validateLength('Registered model alias name', alias, LIMITS.alias);
  if (alias.toLowerCase() === 'latest') {
    throw new InvalidParameterError("'latest' alias name (case insensitive) is reserved.");
  }
  if (/^[vV]\d+$/.test(alias)) throw new InvalidParameterError(`Version alias name '${alias}' is reserved.`);
  return alias;
}

/**
 * MLflow's `_validate_tag_name` on a Linux server (`[/\w.\- :]`, no path tricks) and the registry's
 * key limit.
 */
export function validateTagKey(key: string): void {
  if (key === '') throw new InvalidParameterError("Missing value for required parameter 'key'.");
  if (!/^[/\w.\- :]*$/u.test(key)) {
    throw new InvalidParameterError(
      `Invalid value "${key}" for parameter 'key' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`,
    );
  }
  if (pathNotUnique(key)) {
    throw new InvalidParameterError(
      `Invalid value "${key}" for parameter 'key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such.`,
    );
  }
  validateLength('key', key, LIMITS.tagKey);
}

export function validateTag(key: string, value: string): void {
  validateTagKey(key);
  validateLength('value', value, LIMITS.tagValue);
}

/** Tags as a map (a key given twice keeps its last value, as MLflow's stores do). */
export function validateTags(tags: ReadonlyArray<{ key: string; value: string }>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of tags) {
    validateTag(key, value);
    out[key] = value;
  }
  return out;
}

export function validateDescription(description: string): string {
  validateLength('description', description, LIMITS.description);
  return description;
}

/** MLflow's `_validate_length_limit` wording. */
export function validateLength(what: string, value: string, limit: number): void {
  if (value.length > limit) {
    throw new InvalidParameterError(`'${what}' exceeds the maximum length of ${limit} characters`);
  }
}

/** MLflow's `path_not_unique`: a name that normalises to another path (or escapes) is refused. */
function pathNotUnique(name: string): boolean {
  const normalised = normalisePosix(name);
  return (
    normalised !== name || normalised === '.' || normalised.startsWith('..') || normalised.startsWith('/')
  );
}

/** Python's `posixpath.normpath`. */
export function normalisePosix(path: string): string {
  if (path === '') return '.';
  // POSIX keeps exactly two leading slashes; one or three and more become one.
  const leading = path.startsWith('//') && !path.startsWith('///') ? '//' : path.startsWith('/') ? '/' : '';
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..' || (!leading && parts.length === 0) || parts[parts.length - 1] === '..') {
      parts.push(part);
    } else if (parts.length > 0) {
      parts.pop();
    }
  }
  const joined = leading + parts.join('/');
  return joined || '.';
}

/**
 * Orders a model's latest versions as MLflow's SQL store does: one per stage, the stages in the order
 * of the lowest version each holds (the store fills a dict while walking versions in number order).
 */
export function latestPerStage(versions: readonly ModelVersion[]): ModelVersion[] {
  const latest = new Map<Stage, ModelVersion>();
  for (const version of [...versions].sort((a, b) => a.version - b.version)) {
    latest.set(version.currentStage, version);
  }
  return [...latest.values()];
}
