import type { ServedVersion } from '../deployments/model.ts';
import type { Tracking } from '../pipelines/ports.ts';
import type { Page, PageRequest } from '../platform/dynamodb/query-page.ts';
import type { ModelVersion } from '../registry/model.ts';
import type { MonitoringEvent } from './events/index.ts';
import type { FeedbackRecord, Monitor, MonitorRun, RunFindings } from './model.ts';

export type { Page, PageRequest };

/**
 * Monitors and their runs (the monitoring table). Every change is one conditional write of one item.
 * Errors: `ResourceAlreadyExistsError` (a taken name), `ResourceDoesNotExistError` (no such monitor),
 * `ConflictError` (an update that lost a race).
 */
export interface MonitorStore {
  create(monitor: Monitor): Promise<Monitor>;
  get(name: string): Promise<Monitor | undefined>;
  list(page: PageRequest, endpointName?: string): Promise<Page<Monitor>>;
  /** Replaces the settings, only if nobody changed the monitor since `expectedUpdatedAt`. */
  update(monitor: Monitor, expectedUpdatedAt: number): Promise<Monitor>;
  /** Deletes the monitor and its runs; false when there was none. */
  delete(name: string): Promise<boolean>;
  /** Stores a new run; false when a run with this id exists (a duplicate start of the same window). */
  createRun(run: MonitorRun): Promise<boolean>;
  updateRun(
    monitorName: string,
    runId: string,
    changes: Partial<
      Pick<
        MonitorRun,
        'status' | 'findings' | 'reportUri' | 'mlflowRunId' | 'experimentId' | 'error' | 'finishedAt'
      >
    >,
  ): Promise<void>;
  getRun(monitorName: string, runId: string): Promise<MonitorRun | undefined>;
  listRuns(monitorName: string, page: PageRequest): Promise<Page<MonitorRun>>;
  /**
   * Takes the retrain action's cooldown for `runId`: succeeds when the last retraining is older than
   * `cooldownMs` or was for this same run (a retry of one event). `'cooldown'` otherwise.
   */
  claimRetrain(name: string, runId: string, now: number, cooldownMs: number): Promise<'claimed' | 'cooldown'>;
  /** Records the execution the retraining started. */
  recordRetrain(name: string, runId: string, executionArn: string): Promise<void>;
}

/** An endpoint as monitoring needs it (the deployments table, read only). */
export interface EndpointView {
  name: string;
  modelName: string;
  target: 'lambda' | 'sagemaker';
  traffic: { primary: ServedVersion | null; canary: ServedVersion | null };
}

export interface EndpointReader {
  get(name: string): Promise<EndpointView | undefined>;
}

/**
 * The schedule that starts a monitor's runs (EventBridge Scheduler, one schedule per monitor in
 * Runway's schedule group). `put` creates or replaces it; a disabled monitor's schedule is kept off.
 */
export interface ScheduleManager {
  put(monitor: Pick<Monitor, 'name' | 'schedule' | 'enabled'>): Promise<void>;
  /** Removes it; a missing schedule is not an error. */
  delete(name: string): Promise<void>;
}

/** Starts executions by name (Step Functions `StartExecution`). */
export interface ExecutionStarter {
  start(name: string, input: unknown): Promise<{ outcome: 'started' | 'duplicate'; executionArn: string }>;
}

/** Capture and feedback objects in the artifact bucket. */
export interface ObjectSource {
  /** Keys under a prefix, in key order (paged by the adapter). */
  list(prefix: string): AsyncIterable<string>;
  /** One object's text, whole (capture objects are at most 5 MiB; larger ones are refused). */
  read(key: string): Promise<string>;
  /** S3 requests made so far, by operation (the monitoring bench reports them). */
  readonly requests: Record<string, number>;
}

/** Writes feedback objects under `serving-feedback/`. */
export interface FeedbackWriter {
  write(endpointName: string, hourPath: string, records: readonly FeedbackRecord[]): Promise<void>;
}

/** Whole files in the artifact bucket (baselines, model metadata, reports) by URI. */
export interface ArtifactReader {
  /** The bytes at `uri` (`s3://`, `mlflow-artifacts:/`), at most `maxBytes`; undefined when absent. */
  read(uri: string, maxBytes: number): Promise<Uint8Array | 'too-large' | undefined>;
}

export interface ArtifactWriter {
  /** Writes under the run's artifacts (`<experiment>/<run>/artifacts/<relative>`); answers its URI. */
  writeRunArtifact(
    artifactUri: string,
    relative: string,
    body: Uint8Array,
    contentType: string,
  ): Promise<string>;
  /** Monitor state outside any run (prediction references): `monitoring/<monitor>/<relative>`. */
  writeState(monitorName: string, relative: string, body: Uint8Array): Promise<void>;
  readState(monitorName: string, relative: string): Promise<Uint8Array | undefined>;
}

/** The registry, read only: a version's tags name its training statistics. */
export interface RegistryReader {
  getVersion(name: string, version: string): Promise<ModelVersion>;
}

/** Serving statistics of one version over a window (the deployments table's `STATS#` items). */
export interface ServingStats {
  read(
    endpointName: string,
    version: string,
    sinceMs: number,
    untilMs: number,
  ): Promise<{ invocations: number; errors: number; errorRate: number; p99LatencyMs: number | null }>;
}

/** Domain events on the Runway bus; throws when the bus refuses (the step retries). */
export interface MonitoringEventPublisher {
  publish(events: readonly MonitoringEvent[]): Promise<void>;
}

/** CloudWatch metrics of a run (embedded metric format lines, which Lambda's log agent turns into metrics). */
export interface MetricsSink {
  put(monitor: Pick<Monitor, 'name' | 'endpointName'>, findings: RunFindings): void;
}

/** The MLflow tracking services a run uses, in-process (the pipeline's, without logged models). */
export type MonitorTracking = {
  experiments: Tracking['experiments'];
  runs: Pick<Tracking['runs'], 'create' | 'get' | 'logBatch' | 'update'>;
};

export interface Clock {
  now(): number;
}
