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
  /**
   * Deletes a tag of an active experiment; returns false when the tag, or the experiment, is missing
   * or the experiment is not active (one conditional write cannot say which; the caller reads).
   */
  deleteTag(experimentId: string, key: string): Promise<boolean>;
}

/** Time, injected so tests control it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * A param or tag value as a write sees it: the text, or for a long value kept in an item of its own
 * only the digest of the text (`valueDigest`), which is all a write needs to compare or keep it.
 */
export type StoredValue = string | { digest: string };

/** A run's data as one write sees it: what a batch merges into, and the revision it must match. */
export interface RunWriteState {
  info: RunInfo;
  params: Map<string, StoredValue>;
  tags: Map<string, StoredValue>;
  /** The latest point of each metric. */
  metrics: Map<string, Metric>;
  revision: number;
}

/** The entries a write sets: new params, changed tags, points later than the stored latest ones. */
export interface RunDataChange {
  params: Map<string, string>;
  tags: Map<string, string>;
  metrics: Map<string, Metric>;
}

/** The parts of its runs' data a search needs beside their info: what its filter and order name. */
export interface RunFields {
  metrics: string[];
  params: string[];
  tags: string[];
  /**
   * Whether the filter or order names a run attribute (status, user, times...). When not, a
   * projection may carry only what view types and MLflow's tie-breaks read: run id, start time and
   * lifecycle stage.
   */
  attributes: boolean;
}

/** What a one-point conditional update of a run's latest values found. */
export type LatestPointOutcome =
  /** The point is now the metric's latest value. */
  | 'set'
  /** The stored latest point is as late or later (MLflow's order): nothing changed, as it should. */
  | 'not-later'
  /** The run is deleted. */
  | 'inactive'
  /** There is no such run. */
  | 'unknown';

/** An equality a search can look up in the index: runs whose param, tag or status is one of `values`. */
export type EqualityProbe =
  | { kind: 'param' | 'tag'; key: string; values: readonly string[] }
  | { kind: 'status'; values: readonly string[] };

/**
 * A walk over an experiment's runs by the latest value of one metric: numbers within the bounds
 * (inclusive or not; `metricValueOrder` texts), in ascending or descending order, then the runs
 * whose value is NaN, if asked for. Runs without the metric are not in it.
 */
export interface MetricWalk {
  key: string;
  descending: boolean;
  lower?: { order: string; inclusive: boolean } | undefined;
  upper?: { order: string; inclusive: boolean } | undefined;
  nan: boolean;
}

/** An index entry of a metric: a run and the `metricValueOrder` of its latest value, as indexed. */
export interface MetricEntry {
  runId: string;
  order: string;
}

/** Storage for runs and their data. Writes are conditional where MLflow's rules need them to be. */
export interface RunRepository {
  /** Stores a new run with its first tags (and their search index entries). */
  create(info: RunInfo, tags: RunTag[]): Promise<void>;
  /** The run with its params, tags, latest metrics and inputs, in one Query. */
  get(runId: string): Promise<Run | undefined>;
  /** The run item alone (info, params, tags, latest metrics, revision): one consistent GetItem. */
  getForWrite(runId: string): Promise<RunWriteState | undefined>;
  /** Every run of an experiment with its data, from one GSI partition. */
  listByExperiment(experimentId: string): Promise<Run[]>;
  /**
   * Every run of an experiment with its info and only the named fields (no inputs), from the same
   * partition, reading small projections: enough to filter and order before reading whole runs.
   * Undefined when that cannot be done (a named value is long and stored apart; too many names).
   */
  listFields(experimentId: string, fields: RunFields): Promise<Run[] | undefined>;
  /** Whole runs by id (missing ones left out): a BatchGetItem per 100 runs, and one more for their
   * long values, inputs and model links when they have any. */
  getMany(runIds: string[]): Promise<Run[]>;
  /** Updates status (and its index entry), end time; false when the run does not exist. */
  updateInfo(
    runId: string,
    experimentId: string,
    changes: { status?: string | undefined; endTime?: number | undefined },
  ): Promise<boolean>;
  /** Moves the run between stages; false when it does not exist. */
  setLifecycle(runId: string, experimentId: string, stage: 'active' | 'deleted'): Promise<boolean>;
  /**
   * Sets the changed entries of an active run, if what the merge relied on still holds (each new
   * param still absent, each point still later than the stored one; for a batch too large to say
   * so entry by entry, the revision read in `state`), and returns the run's new revision; false
   * otherwise: the caller reads the run again and merges again.
   */
  putData(
    runId: string,
    experimentId: string,
    change: RunDataChange,
    state: RunWriteState,
  ): Promise<number | false>;
  /**
   * Appends metric points to their histories (idempotently: a retried request is stored once) and
   * offers each key's latest point of the batch to the search index, which keeps the later one.
   */
  appendHistory(runId: string, experimentId: string, metrics: Metric[]): Promise<void>;
  /**
   * Brings the search index entries of these params and tags to the values given, which the run
   * holds as of `revision` (an entry already written by a later revision is left as it is).
   */
  indexValues(
    runId: string,
    experimentId: string,
    values: { params: Param[]; tags: RunTag[] },
    revision: number,
  ): Promise<void>;
  /** Removes a tag of an active run (and its index entry). */
  deleteTag(runId: string, key: string): Promise<void>;
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
  /** A page of a metric's history in (step, timestamp, value) order, each point once. */
  metricHistory(
    runId: string,
    key: string,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<{ metrics: Metric[]; cursor?: string | undefined }>;
  /** Whether every run of the experiment has search index entries (see `indexValues`). */
  isIndexed(experimentId: string): Promise<boolean>;
  /**
   * Ids of the experiment's runs an equality holds for, as the index has them (a run whose write
   * is under way may be missing or stale: callers check each run they read). At most `limit` + 1,
   * so a caller can tell that there are more than `limit`.
   */
  runIdsWhere(experimentId: string, probe: EqualityProbe, limit: number): Promise<string[]>;
  /** Offers a run's latest point of a metric to its index entry again (a search found it lagging). */
  mendMetricEntry(runId: string, experimentId: string, metric: Metric): Promise<void>;
  /** A page of a walk over the experiment's runs by a metric (see `MetricWalk`), at most `limit`. */
  metricEntries(
    experimentId: string,
    walk: MetricWalk,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<{ entries: MetricEntry[]; cursor?: string | undefined }>;
}
