import type { ArtifactStore } from '../artifacts/ports.ts';
import type { Experiment } from '../model.ts';
import type { StoredTrace } from './model.ts';

/** Where a scan of an experiment's traces by time starts and stops (milliseconds, inclusive). */
export interface TimeScan {
  ascending: boolean;
  /** Only traces that started at or after this time. */
  from?: number | undefined;
  /** Only traces that started at or before this time. */
  to?: number | undefined;
  /**
   * Resume after this trace (exclusive), as a previous page ended: traces of the same millisecond
   * come again, so the caller can skip those it already answered.
   */
  resumeAt?: number | undefined;
}

/**
 * The parts of a trace a search reads before it knows which traces it answers: only what its filter
 * and order name (a trace's id and start time always), so that scanning thousands of traces moves a
 * few bytes each. The page's traces are then read whole by id.
 */
export interface TraceFields {
  state?: boolean;
  executionDuration?: boolean;
  clientRequestId?: boolean;
  /** Tag keys (or every tag). */
  tags?: readonly string[] | 'all';
  metadata?: readonly string[] | 'all';
  linkedRuns?: boolean;
  assessments?: boolean;
}

/**
 * Storage for trace infos. Every write is conditional on the revision the caller read (or, for a
 * new trace, on its absence), so concurrent writers of one trace re-read and merge instead of
 * overwriting each other.
 */
export interface TraceRepository {
  /** The trace, read consistently. */
  get(traceId: string): Promise<StoredTrace | undefined>;
  /**
   * Traces by id, missing ones left out, in no particular order (BatchGetItem, 100 keys a call):
   * whole, or with `fields`, as `scanByTime` projects them.
   */
  getMany(traceIds: readonly string[], fields?: TraceFields): Promise<StoredTrace[]>;
  /**
   * Writes the trace if its stored revision is still `previous.revision` (no `previous`: if there is
   * none yet); the written trace carries the next revision. Its run links (`linkedRuns`) that
   * `previous` lacked, or all of them when its start time changed, are written first. False when
   * another writer came first.
   */
  put(trace: StoredTrace, previous: StoredTrace | undefined): Promise<boolean>;
  /** Records that `traces.json` holds the first `parts` span parts, if nothing changed since `revision`. */
  markCompacted(traceId: string, parts: number, revision: number): Promise<void>;
  /** Deletes traces' infos (their assessments with them) and their run links. */
  deleteMany(traces: ReadonlyArray<Pick<StoredTrace, 'traceId' | 'linkedRuns'>>): Promise<void>;
  /** The traces linked to a run (made in it, or linked), from the run's index partition. */
  tracesOfRun(runId: string): Promise<Array<{ traceId: string; experimentId: string }>>;
  /**
   * The experiment's traces in start-time order (ties by id), read lazily page by page: whole, or,
   * with `fields`, only their id, start time and those fields (the rest empty).
   */
  scanByTime(experimentId: string, scan: TimeScan, fields?: TraceFields): AsyncIterable<StoredTrace>;
}

/** The experiments a trace belongs to (the experiments slice owns them). */
export interface ExperimentLookup {
  /** Throws `ResourceDoesNotExistError` for an unknown experiment. */
  get(experimentId: string): Promise<Experiment>;
}

/** Runs, for `LinkTracesToRun` (the runs slice owns them). */
export interface RunLookup {
  /** The run's experiment and stage, or `undefined` for an unknown run. */
  find(runId: string): Promise<{ experimentId: string; lifecycleStage: string } | undefined>;
}

/**
 * Where spans live: the artifact store, at the trace's artifact location, so that MLflow's client
 * uploads and downloads `traces.json` through the artifact proxy and Runway reads the same files.
 */
export type SpanStore = Pick<ArtifactStore, 'write' | 'read' | 'deleteTree' | 'pathOf'>;
