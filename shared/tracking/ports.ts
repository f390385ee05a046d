import type { Experiment, LifecycleStage } from './model.ts';
import type { DatasetInput, Metric, ModelOutput, Param, Run, RunInfo, RunTag } from './run.model.ts';

/**
 * Storage for experiments. Implementations enforce name uniqueness and lifecycle transitions with
 * conditional writes, so concurrent callers cannot both win.
 */
export interface ExperimentRepository {
  /** Allocates a new experiment id; ids never repeat (gaps are allowed). */
  allocateId(): Promise<string>;
  /** Stores a new experiment; throws `ResourceAlreadyExistsError` when its name is taken. */
  create(experiment: Experiment): Promise<void>;
  get(experimentId: string): Promise<Experiment | undefined>;
  getByName(name: string): Promise<Experiment | undefined>;
  /** Every experiment (any stage), read from one index partition. */
  list(): Promise<Experiment[]>;
  /** Renames an active experiment; throws `ResourceAlreadyExistsError` when the new name is taken. */
  rename(experiment: Experiment, newName: string, now: number): Promise<void>;
  /**
   * Moves an experiment from one stage to the other; returns false when it was not in `from`
   * (or does not exist), so the caller can answer as MLflow does.
   */
  transition(experimentId: string, from: LifecycleStage, to: LifecycleStage, now: number): Promise<boolean>;
  /** Sets a tag on an active experiment; returns false when it is missing or not active. */
  setTag(experimentId: string, key: string, value: string): Promise<boolean>;
  /** Deletes a tag (missing tags are fine); returns false when the experiment is missing or not active. */
  deleteTag(experimentId: string, key: string): Promise<boolean>;
}

/** Time, injected so tests control it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The latest point of each metric kept in one shard, with the revision its next write must match. */
export interface LatestShard {
  shard: number;
  revision: number;
  metrics: Map<string, Metric>;
  /**
   * The run's stage as the shard last saw it (a copy of the run item's, which is the truth), so a
   * single conditional write can refuse a point for a deleted run. Absent on a shard not stored yet.
   */
  lifecycleStage?: LifecycleStage | undefined;
}

/** What a one-point conditional update of a run's latest values found. */
export type LatestPointOutcome =
  /** The point is now the metric's latest value. */
  | 'set'
  /** The stored latest point is as late or later (MLflow's order): nothing changed, as it should. */
  | 'not-later'
  /** The run is deleted. */
  | 'inactive'
  /** No shard item to update: the run is unknown, or nothing was logged to this shard yet. */
  | 'unknown';

/** A run as stored, with what the service needs to merge further writes. */
export interface StoredRun {
  run: Run;
  shards: LatestShard[];
}

/** What a write needs to know about a run, read in one request. */
export interface RunWriteState {
  info: RunInfo;
  /** The stored values of the params asked for (absent keys are not logged yet). */
  params: Map<string, string>;
  /** The latest-metrics shards asked for. */
  shards: LatestShard[];
}

/** Storage for runs and their data. Writes are conditional where MLflow's rules need them to be. */
export interface RunRepository {
  /** Stores a new run with its first tags. */
  create(info: RunInfo, tags: RunTag[]): Promise<void>;
  /** The run with its params, tags, latest metrics and inputs, in one Query. */
  get(runId: string): Promise<StoredRun | undefined>;
  /** The run's info, the named params and the named shards, in one BatchGetItem (no full read). */
  getForWrite(runId: string, paramKeys: string[], shards: number[]): Promise<RunWriteState | undefined>;
  /** Every run of an experiment with its data, from one GSI partition. */
  listByExperiment(experimentId: string): Promise<Run[]>;
  /** Updates status, end time; false when the run does not exist. */
  updateInfo(
    runId: string,
    changes: { status?: string | undefined; endTime?: number | undefined },
  ): Promise<boolean>;
  /**
   * Moves the run between stages (its info and the copy of the stage on each latest-metrics shard);
   * false when it does not exist.
   */
  setLifecycle(runId: string, experimentId: string, stage: 'active' | 'deleted'): Promise<boolean>;
  /**
   * Stores params that must not exist yet with another value. Returns the keys whose stored value
   * differs (a concurrent writer won); nothing else is written then.
   */
  putParams(runId: string, experimentId: string, params: Param[]): Promise<string[]>;
  /** Removes params written by `putParams` in a batch that later failed. */
  removeParams(runId: string, params: Param[]): Promise<void>;
  /** Appends metric points (idempotently) and sets tags, in batches. */
  appendMetricsAndTags(runId: string, experimentId: string, metrics: Metric[], tags: RunTag[]): Promise<void>;
  deleteTag(runId: string, key: string): Promise<void>;
  /** Writes a shard if its revision is still `expected`; false when another writer got there first. */
  putLatestShard(runId: string, experimentId: string, shard: LatestShard, expected: number): Promise<boolean>;
  readLatestShard(runId: string, shard: number): Promise<LatestShard>;
  /**
   * One metric point in one round trip: stores the point in the metric's history (idempotently)
   * and, in parallel, makes it the latest value if the run is active and the point is later than
   * the stored one. `created` tells whether the history point is new, so a caller can take it back.
   */
  logPoint(runId: string, metric: Metric): Promise<{ created: boolean; latest: LatestPointOutcome }>;
  /** Removes a history point `logPoint` created for a run that turned out deleted or unknown. */
  removePoint(runId: string, metric: Metric): Promise<void>;
  /** Records dataset inputs, merging tags of an input already recorded. */
  putInputs(runId: string, experimentId: string, inputs: DatasetInput[]): Promise<void>;
  /** MLflow 3: records logged models a run used (inputs) or produced (outputs, with a step). */
  putModelLinks(
    runId: string,
    experimentId: string,
    links: { inputs: string[]; outputs: ModelOutput[] },
  ): Promise<void>;
  /** A page of a metric's history in (step, timestamp) order. */
  metricHistory(
    runId: string,
    key: string,
    page: {
      limit: number;
      cursor?: string | undefined;
      fromStep?: number | undefined;
      toStep?: number | undefined;
    },
  ): Promise<{ metrics: Metric[]; cursor?: string | undefined }>;
}
