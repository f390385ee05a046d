import type { ModelState } from '../../registry/ports.ts';
import type { Deployment, Endpoint, Target, Traffic } from '../model.ts';
import type { CanaryStats } from './canary.ts';

/** The deploy that holds an endpoint, recorded on the endpoint item. */
export interface ActiveDeployment {
  deploymentId: string;
  /** When it took the endpoint (epoch ms); a hold older than the longest possible deploy is stale. */
  since: number;
}

/** An endpoint with the deploy that holds it, if any. */
export interface EndpointState {
  endpoint: Endpoint;
  active: ActiveDeployment | undefined;
}

export type ClaimResult =
  | { claimed: true; state: EndpointState }
  | { claimed: false; holder: ActiveDeployment }
  | { claimed: false; holder: undefined; missing: true };

/**
 * What deploys write: the endpoint's live traffic (only while holding the endpoint, and only from the
 * traffic revision they last read) and the deployment records. One deploy holds an endpoint at a time.
 */
export interface DeploymentLedger {
  get(endpointName: string): Promise<EndpointState | undefined>;
  /**
   * Takes the endpoint for `deploymentId` (again, if it holds it already). Holds taken before
   * `staleBefore` are taken over: their execution has ended without letting go (it was stopped).
   */
  claim(endpointName: string, hold: ActiveDeployment, staleBefore: number): Promise<ClaimResult>;
  /** Replaces the traffic if it is still at `expectedRevision` and the deploy holds the endpoint; `TrafficConflictError` otherwise. */
  setTraffic(
    endpointName: string,
    deploymentId: string,
    expectedRevision: number,
    traffic: Omit<Traffic, 'revision'>,
    status: Endpoint['status'],
  ): Promise<Traffic>;
  /**
   * Lets go of the endpoint, setting its status; does nothing if the deploy does not hold it. Returns
   * the task tokens of the deploys that queued for it (`queue`), to resume them.
   */
  release(endpointName: string, deploymentId: string, status: Endpoint['status']): Promise<string[]>;
  /**
   * Queues a deploy for an endpoint another deploy holds: the holder's release hands its token back.
   * False when nobody else holds it any more (the caller resumes at once).
   */
  queue(endpointName: string, deploymentId: string, taskToken: string): Promise<boolean>;
  /** Records a deployment; returns the stored one if it exists already (a retried step). */
  createDeployment(deployment: Deployment): Promise<Deployment>;
  getDeployment(
    endpointName: string,
    startedAt: number,
    deploymentId: string,
  ): Promise<Deployment | undefined>;
  /** Writes the deployment's outcome or steps; a finished deployment is never changed again. */
  updateDeployment(deployment: Deployment): Promise<void>;
}

/** Endpoints as the endpoints API stores them: the trigger and the reconciler only read them. */
export interface EndpointDirectory {
  /** Endpoints that follow some alias or stage of the model. */
  listByModel(modelName: string): Promise<Endpoint[]>;
  /** Every endpoint, a page at a time. */
  list(pageToken?: string): Promise<{ endpoints: Endpoint[]; nextPageToken?: string | undefined }>;
  /** Endpoints being deleted, a page at a time. */
  listDeleting(pageToken?: string): Promise<{ endpoints: Endpoint[]; nextPageToken?: string | undefined }>;
}

/** The registry as deploys read it: one Query for a model with its versions, aliases and stages. */
export interface RegistryReader {
  get(modelName: string): Promise<ModelState | undefined>;
}

/** Checks a model directory before any traffic moves (the model server's own loader). */
export interface ModelVerifier {
  /**
   * Throws `ModelInvalidError` naming what is wrong. The Lambda target needs an ONNX flavor; SageMaker
   * serves any MLflow model its image can load, so there only the `MLmodel` file is checked.
   */
  check(modelLocation: string, target: Target): Promise<void>;
  /** Loads the model and predicts its input example, if it has one; throws `SmokeTestFailedError`. */
  smokeTest(modelLocation: string): Promise<void>;
}

/** What the model server measured for one version of an endpoint since a time. */
export interface CanaryStatsReader {
  read(endpointName: string, version: string, sinceMs: number): Promise<CanaryStats>;
}

/** Resumes a deploy execution waiting on a task token (Step Functions' SendTaskSuccess). */
export interface TaskCallbacks {
  /** Resumes the task; a token whose task ended already (timed out, stopped) is ignored. */
  resume(taskToken: string): Promise<void>;
}

/** Starts deploy executions by name. */
export interface ExecutionStarter {
  /** `duplicate` when an execution of that name exists or existed (Step Functions keeps names 90 days). */
  start(name: string, input: unknown): Promise<{ outcome: 'started' | 'duplicate'; executionArn: string }>;
}

export interface DeploymentEvent {
  name: 'deployment.started' | 'deployment.succeeded' | 'deployment.rolled-back' | 'deployment.failed';
  detail: Record<string, unknown>;
}

/** Publishes deployments events; throws when the bus refused one, so the step is retried. */
export interface DeploymentEventPublisher {
  publish(event: DeploymentEvent): Promise<void>;
}

export interface Clock {
  now(): number;
}

/** A SageMaker model, endpoint config or endpoint as a listing returns it. */
export interface SageMakerResource {
  kind: 'model' | 'endpoint-config' | 'endpoint';
  name: string;
  createdAt: number;
}

/**
 * The SageMaker and CloudWatch resources of Runway's endpoints (`runway-*`), as the teardown, the
 * pruning after a deploy and the reconciler's orphan sweep use them. Deleting something that is gone
 * already succeeds (every caller may run twice).
 */
export interface SageMakerResources {
  /** Resources of `kind` whose name contains `nameContains`, every page. */
  list(kind: SageMakerResource['kind'], nameContains: string): Promise<SageMakerResource[]>;
  /** The endpoint's status and the config it runs, or undefined when there is no such endpoint. */
  describeEndpoint(name: string): Promise<{ status: string; configName: string } | undefined>;
  delete(kind: SageMakerResource['kind'], name: string): Promise<void>;
  deleteAlarms(names: readonly string[]): Promise<void>;
  /** The resource's tags (empty when it is gone). */
  tags(resource: SageMakerResource): Promise<Record<string, string>>;
}
