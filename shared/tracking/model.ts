import { InvalidParameterError } from '../platform/errors.ts';

/** An experiment's lifecycle stage, as MLflow names it. */
export type LifecycleStage = 'active' | 'deleted';

/** MLflow's `ViewType`: which lifecycle stages a listing includes. */
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

/** An MLflow experiment. Tags live on the experiment so a get is one read. */
export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  /** Milliseconds since the epoch. */
  creationTime: number;
  lastUpdateTime: number;
  tags: Record<string, string>;
}

/** The id MLflow gives its default experiment, which every store creates first. */
export const DEFAULT_EXPERIMENT_ID = '0';
export const DEFAULT_EXPERIMENT_NAME = 'Default';

/** MLflow's limits (mlflow/utils/validation.py). */
export const LIMITS = {
  experimentName: 500,
  experimentTagKey: 250,
  experimentTagValue: 5000,
  /** MLflow's `MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH` default. */
  artifactLocation: 2048,
  searchMaxResults: 50_000,
} as const;

/** MLflow's rule for tag, param and metric names: `[/\w.\- ]`, and no path tricks like `a/../b`. */
const VALID_KEY = /^[/\w.\- ]*$/u;

export function validateExperimentName(name: string): string {
  if (name.trim() === '') throw new InvalidParameterError(`Invalid experiment name: '${name}'`);
  if (name.length > LIMITS.experimentName) {
    throw new InvalidParameterError(
      `Experiment name exceeds the maximum length of ${LIMITS.experimentName} characters`,
    );
  }
  return name;
}

/** Validates a tag key as MLflow's `_validate_tag_name`. */
export function validateTagKey(key: string, limit: number): void {
  if (key === '') throw new InvalidParameterError('Tag name cannot be empty. A key name must be provided.');
  if (!VALID_KEY.test(key)) {
    throw new InvalidParameterError(
      `Invalid tag name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).`,
    );
  }
  if (pathNotUnique(key)) {
    throw new InvalidParameterError(
      `Invalid tag name: '${key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such.`,
    );
  }
  validateLength('Tag key', key, limit);
}

/** Rejects a value longer than `limit` characters, naming the field as MLflow does. */
export function validateLength(what: string, value: string, limit: number): void {
  if (value.length > limit) {
    throw new InvalidParameterError(
      `${what} '${value.slice(0, 250)}' had length ${value.length}, which exceeded length limit of ${limit}`,
    );
  }
}

/** MLflow's `path_not_unique`: a name that normalises to another path (or escapes) is refused. */
function pathNotUnique(name: string): boolean {
  const normalised = normalisePosix(name);
  return (
    normalised !== name || normalised === '.' || normalised.startsWith('..') || normalised.startsWith('/')
  );
}

function normalisePosix(path: string): string {
  if (path === '') return '.';
  const absolute = path.startsWith('/');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else if (part !== '..' || !absolute) parts.push(part);
  }
  const joined = parts.join('/');
  return absolute ? `/${joined}` : joined || '.';
}
