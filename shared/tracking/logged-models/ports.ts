import type { Experiment } from '../model.ts';
import type { KeyValue, LinkedMetric, LoggedModel, LoggedModelStatus } from './model.ts';

/**
 * Storage for logged models. Writes are conditional on the model existing (and, except for delete,
 * being active), so a write never resurrects or creates a model by accident.
 */
export interface LoggedModelRepository {
  /** Stores a new model; throws if its id is taken (ids are random, so that is a bug). */
  create(model: LoggedModel): Promise<void>;
  /** The model in any lifecycle stage, read consistently. */
  get(modelId: string): Promise<LoggedModel | undefined>;
  /** The active models of one experiment, from its GSI1 partition (one paged Query). */
  listActive(experimentId: string): Promise<LoggedModel[]>;
  /** Sets (or overwrites) tags; false when the model is missing or deleted. */
  setTags(modelId: string, tags: Record<string, string>): Promise<boolean>;
  /**
   * Sets one tag only if it still holds `expected` (`undefined`: absent), so a read-modify-write of a
   * tag loses no concurrent change. `changed` when it holds something else now, `no-model` when the
   * model is missing or deleted.
   */
  replaceTag(
    modelId: string,
    key: string,
    expected: string | undefined,
    value: string,
  ): Promise<'replaced' | 'changed' | 'no-model'>;
  /** Removes a tag; says what was missing when nothing was removed. */
  deleteTag(modelId: string, key: string): Promise<'deleted' | 'no-model' | 'no-tag'>;
  /**
   * Adds params that are absent or already hold the same value (params are write-once). Returns
   * `conflict` when a stored value differs, `no-model` when the model is missing or deleted.
   * A call may apply some keys before a concurrent writer's conflicting key stops it.
   */
  addParams(modelId: string, params: readonly KeyValue[]): Promise<'added' | 'no-model' | 'conflict'>;
  /** Sets the status of an active model; the updated model, or undefined when missing or deleted. */
  finalize(modelId: string, status: LoggedModelStatus, now: number): Promise<LoggedModel | undefined>;
  /** Marks the model deleted (again, if it already was); false when it does not exist. */
  markDeleted(modelId: string, now: number): Promise<boolean>;
}

/**
 * Metrics linked to logged models. Runs write them (`runs/log-batch` with `model_id` on a metric);
 * this port reads them for many models in one call, so a search page costs no per-model requests.
 */
export interface LinkedMetricsReader {
  /** The linked metrics of each model, keyed by model id; models without metrics may be absent. */
  metricsOf(
    models: ReadonlyArray<Pick<LoggedModel, 'modelId' | 'experimentId'>>,
  ): Promise<ReadonlyMap<string, readonly LinkedMetric[]>>;
}

/**
 * The reader until runs record linked metrics where logged models can read them: every model has
 * none. (MLflow's `LoggedModelData.metrics` stays empty, filters on metrics match nothing.)
 */
export const noLinkedMetrics: LinkedMetricsReader = {
  metricsOf: async () => new Map(),
};

/** What the experiments slice offers logged models: an experiment by id, or a 404. */
export interface ExperimentLookup {
  /** Throws `ResourceDoesNotExistError` for an unknown experiment. */
  get(experimentId: string): Promise<Experiment>;
}
