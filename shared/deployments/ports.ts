import type { Page, PageRequest } from '../platform/dynamodb/query-page.ts';
import type { Deployment, Endpoint, Follows, RolloutPolicy, Traffic } from './model.ts';

/** The lifecycle states of an endpoint (`Endpoint['status']`). */
export type EndpointStatus = Endpoint['status'];
export type DeploymentStatus = Deployment['status'];

export type { Page, PageRequest };

/** What a new endpoint is made of; the store gives it empty traffic (revision 0) and its timestamps. */
export type NewEndpoint = Pick<
  Endpoint,
  | 'name'
  | 'modelName'
  | 'follows'
  | 'target'
  | 'rolloutPolicy'
  | 'description'
  | 'sagemaker'
  | 'captureSampleRate'
> & { status?: EndpointStatus };

/** Configuration an update sets; an absent field keeps its value. The target never changes. */
export interface EndpointChanges {
  follows?: Follows | undefined;
  rolloutPolicy?: RolloutPolicy | undefined;
  description?: string | undefined;
  sagemaker?: Endpoint['sagemaker'];
  captureSampleRate?: number | undefined;
}

/** The next traffic of an endpoint; the store sets its revision (the expected one plus 1). */
export type TrafficChange = Omit<Traffic, 'revision'>;

/** Names one deployment: its key is built from these (`keys.ts`). */
export type DeploymentRef = Pick<Deployment, 'endpointName' | 'deploymentId' | 'startedAt'>;

/** What finishing (or progressing) a deployment changes; an absent field keeps its value. */
export interface DeploymentChanges {
  status?: DeploymentStatus | undefined;
  reason?: string | null | undefined;
  steps?: Deployment['steps'] | undefined;
  executionArn?: string | null | undefined;
  finishedAt?: number | null | undefined;
}

/**
 * Storage of endpoints and their deployment history (the deployments table). Every change is one
 * conditional write of one item, so concurrent writers never lose an update and no transaction is
 * needed. Reads of one endpoint are strongly consistent; listings come from indexes and are
 * eventually consistent.
 *
 * Errors: `ResourceAlreadyExistsError` (create of a taken name), `ResourceDoesNotExistError` (no such
 * endpoint or deployment), `InvalidStateError` (the endpoint is being deleted, or a delete meets a
 * running deployment), `StaleRevisionError` (traffic moved since the caller read it),
 * `ConflictError` (an update conditioned on `updatedAt` or on a status lost its race),
 * `DeploymentFinishedError` (a finished deployment cannot change).
 */
export interface EndpointStore {
  /** Stores a new endpoint with no traffic (revision 0), status `Creating` unless given. */
  create(endpoint: NewEndpoint): Promise<Endpoint>;
  /** The endpoint, also while it is `Deleting`; `undefined` when there is none. */
  get(name: string): Promise<Endpoint | undefined>;
  /** Every endpoint, by name. */
  list(page: PageRequest): Promise<Page<Endpoint>>;
  /** The endpoints that follow a registered model, by name (a registry event finds them in one Query). */
  listByModel(modelName: string, page: PageRequest): Promise<Page<Endpoint>>;
  /**
   * Changes the configuration. With `expectedUpdatedAt`, only if nobody changed the endpoint since
   * (else `ConflictError`). Refused while the endpoint is deleting.
   */
  updateConfig(name: string, changes: EndpointChanges, expectedUpdatedAt?: number): Promise<Endpoint>;
  /**
   * Moves traffic: a compare-and-set on `traffic.revision`. Of two callers with the same expected
   * revision exactly one wins; the other gets `StaleRevisionError`. `status`, when given, is set in the
   * same write (the deploy state machine marks `Updating`, `RollingBack`, `InService` with its moves).
   */
  updateTraffic(
    name: string,
    expectedRevision: number,
    next: TrafficChange,
    status?: EndpointStatus,
  ): Promise<Endpoint>;
  /**
   * Sets the status; with `from`, only if the endpoint is in one of those states (else `ConflictError`).
   * `Deleting` is set only by `delete`.
   */
  updateStatus(
    name: string,
    status: Exclude<EndpointStatus, 'Deleting'>,
    from?: readonly EndpointStatus[],
  ): Promise<Endpoint>;
  /**
   * Deletes the endpoint with its deployment history and serving statistics, and returns it as it
   * was; resumes a delete that died half-way; `undefined` when there is no such endpoint. Refused
   * (`InvalidStateError`) while a deploy holds the endpoint (`activeDeployment`, the deploy context's
   * hold) or one of its deployments is `InProgress`: the deploy state machine owns the endpoint's
   * traffic until it finishes. A hold or deployment older than the state machine's timeout belongs to
   * an execution that ended and blocks nothing. A deploy's claim and a delete exclude each other: the
   * claim needs a status other than `Deleting`, the delete's commit needs no live hold.
   */
  delete(name: string): Promise<Endpoint | undefined>;
  /**
   * `delete`'s commit point alone: the endpoint becomes `Deleting`, leaves both listings and joins
   * the listing of deleting endpoints (`listDeleting`), with its items kept. For endpoints whose
   * SageMaker resources must go first; `delete` finishes the job. Refused as `delete` is.
   */
  markDeleting(name: string): Promise<Endpoint | undefined>;
  /** Endpoints being deleted (`markDeleting`), by name. */
  listDeleting(page: PageRequest): Promise<Page<Endpoint>>;
  /** Says on the endpoint what it waits for (a deleting endpoint's teardown); nothing if it is gone. */
  setStatusMessage(name: string, message: string): Promise<void>;

  /**
   * Records a deployment. Idempotent: a deployment already stored under the same key is returned as
   * it is (a retried state machine task does not duplicate history).
   */
  putDeployment(deployment: Deployment): Promise<Deployment>;
  /**
   * Changes a deployment that is `InProgress` (its steps as they happen, then its outcome). A finished
   * deployment never changes again: `DeploymentFinishedError`.
   */
  updateDeployment(ref: DeploymentRef, changes: DeploymentChanges): Promise<Deployment>;
  /** One deployment by id; `undefined` when the endpoint has none with that id. */
  getDeployment(endpointName: string, deploymentId: string): Promise<Deployment | undefined>;
  /** The endpoint's deployments, newest first. */
  listDeployments(endpointName: string, page: PageRequest): Promise<Page<Deployment>>;
}

/** What the endpoints API needs of the registry: a registered model as it is now. */
export interface RegisteredModelReader {
  /** `undefined` when no registered model has the name. */
  get(name: string): Promise<RegisteredModelView | undefined>;
}

export interface RegisteredModelView {
  name: string;
  /** The live versions' numbers, as strings (MLflow's wire form). */
  versions: string[];
  /** Alias to version. */
  aliases: Record<string, string>;
  /** Stage (other than `None`) to the versions in it. */
  stages: Record<string, string[]>;
}

/** A request to deploy a version to an endpoint now (the API's manual deploy). */
export interface DeployRequest {
  endpoint: Endpoint;
  /** The version to deploy; absent: the version the endpoint's alias or stage points to now. */
  version?: string | undefined;
  trigger: Deployment['trigger'];
}

/**
 * Starts the deploy state machine for an endpoint. Implemented by the deploy context
 * (`shared/deployments/deploy/`); the endpoints API only asks for a start and answers with what it
 * started. Implementations are idempotent for the same change (execution names derive from it).
 */
export interface DeployStarter {
  start(
    request: DeployRequest,
  ): Promise<{ deploymentId: string; executionArn: string | null; version: string }>;
}

/** A variant's serving statistics in one interval (what the model server recorded). */
export interface StatsPoint {
  start: number;
  invocations: number;
  errors: number;
  clientErrors: number;
  errorRate: number;
  p50LatencyMs: number | null;
  p99LatencyMs: number | null;
}

/** Reads the model server's per-version statistics of an endpoint over time (`shared/serving/variant-stats.ts`). */
export interface StatsReader {
  series(endpointName: string, version: string, sinceMs: number, resolutionMs: number): Promise<StatsPoint[]>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Finishes the delete of an endpoint marked `Deleting` (`EndpointStore.markDeleting`) whose target
 * runs outside Runway (SageMaker): one pass of tearing its resources down, and the endpoint's items
 * once nothing is left. Idempotent; run again until it answers `deleted`.
 */
export interface EndpointTeardown {
  continue(endpoint: Endpoint): Promise<'deleted' | 'deleting'>;
}
