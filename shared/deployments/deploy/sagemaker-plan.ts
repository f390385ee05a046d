import { createHash } from 'node:crypto';
import type { Endpoint, RolloutPolicy } from '../model.ts';

/**
 * The SageMaker requests of one deploy, computed once (in Resolve) so that every task state of the
 * state machine passes them on verbatim and a retried state sends the same request again.
 */
export interface SageMakerPlan {
  /** The SageMaker endpoint behind a Runway endpoint (`runway-<name>`; IAM grants `runway-*` only). */
  endpointName: string;
  modelName: string;
  endpointConfigName: string;
  /** No SageMaker endpoint exists yet: CreateEndpoint, else UpdateEndpoint with the blue/green policy. */
  create: boolean;
  image: string;
  /** The model directory as an uncompressed S3 prefix (ends with `/`). */
  modelDataUrl: string;
  instanceType: string;
  initialInstanceCount: number;
  deploymentConfig: SageMakerDeploymentConfig;
  alarms: { errors: string; latency: string };
  /** Tags of every SageMaker resource of the deploy: whose it is (the reconciler removes orphans by them). */
  tags: { Key: string; Value: string }[];
  /**
   * How long SageMaker should take (creating instances, and each traffic step's wait of a blue/green
   * update): the state machine waits this long before it first asks, then polls.
   */
  expectedSeconds: number;
  /** Thresholds of the two alarms, from the rollout policy. */
  maxErrorRate: number;
  /** SageMaker's `ModelLatency` is in microseconds. */
  maxLatencyMicros: number;
  /** Seconds per alarm period: the bake time, at least a minute (CloudWatch's standard resolution). */
  alarmPeriodSeconds: number;
}

export interface SageMakerDeploymentConfig {
  BlueGreenUpdatePolicy: {
    TrafficRoutingConfiguration: {
      Type: 'ALL_AT_ONCE' | 'CANARY' | 'LINEAR';
      WaitIntervalInSeconds: number;
      CanarySize?: { Type: 'CAPACITY_PERCENT'; Value: number };
      LinearStepSize?: { Type: 'CAPACITY_PERCENT'; Value: number };
    };
    TerminationWaitInSeconds: number;
    MaximumExecutionTimeoutInSeconds: number;
  };
  AutoRollbackConfiguration: { Alarms: { AlarmName: string }[] };
}

/** SageMaker resource names: 1 to 63 letters, digits and dashes, starting and ending alphanumeric. */
const MAX_NAME = 63;
/** Models and endpoint configs are `<prefix>-v<version>-<hash>`: the prefix stays within this. */
const MAX_PREFIX = 40;
/** The tag naming the Runway a SageMaker resource belongs to (its deployments table). */
export const OWNER_TAG = 'runway:owner';
/** Instances take minutes to start; a blue/green update adds its traffic steps' waits. */
const SAGEMAKER_START_SECONDS = 300;
const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);

/** `runway-<name>`, shortened with a hash when the Runway name is too long for SageMaker. */
export function sageMakerEndpointName(endpointName: string): string {
  const full = `runway-${endpointName}`;
  if (full.length <= MAX_NAME) return full;
  return `runway-${endpointName.slice(0, MAX_NAME - 'runway-'.length - 9)}-${shortHash(endpointName)}`;
}

/**
 * The prefix of an endpoint's models and endpoint configs: its SageMaker endpoint name, or when that
 * is longer than 40 characters its first 31 and a hash of the whole name, so two endpoints never share
 * a prefix (pruning one endpoint's old models never touches another's).
 */
export function sageMakerResourcePrefix(endpointName: string): string {
  const full = sageMakerEndpointName(endpointName);
  if (full.length <= MAX_PREFIX) return full;
  return `${full.slice(0, MAX_PREFIX - 9)}-${shortHash(endpointName)}`;
}

/** The model and endpoint config of one deploy of `version` (one of each per deploy). */
export function sageMakerResourceName(endpointName: string, version: string, deploymentId: string): string {
  return `${sageMakerResourcePrefix(endpointName)}-v${version}-${shortHash(deploymentId)}`;
}

/** The prefix of a model or endpoint config named by `sageMakerResourceName`, or undefined for other names. */
export function sageMakerResourceOwner(resourceName: string): string | undefined {
  return /^(runway-.+)-v\d+-[0-9a-f]{8}$/.exec(resourceName)?.[1];
}

/** The two canary alarms of an endpoint (PutMetricAlarm overwrites them with each deploy). */
export function sageMakerAlarmNames(endpointName: string): { errors: string; latency: string } {
  const name = sageMakerEndpointName(endpointName);
  return { errors: `${name}-canary-errors`, latency: `${name}-canary-latency` };
}

/**
 * The policy's traffic steps in SageMaker's terms. SageMaker shifts by one canary then the rest
 * (CANARY) or by equal steps (LINEAR): one step of 100 is ALL_AT_ONCE, two steps are a canary of the
 * first, more are linear steps of the first step's size. SageMaker bakes each step for the policy's
 * bake time and rolls back by itself when an alarm fires.
 */
export function trafficRouting(policy: RolloutPolicy): SageMakerDeploymentConfig['BlueGreenUpdatePolicy'] {
  const steps = policy.trafficSteps;
  const first = steps[0] ?? 100;
  const wait = policy.bakeSeconds;
  const routing: SageMakerDeploymentConfig['BlueGreenUpdatePolicy']['TrafficRoutingConfiguration'] =
    steps.length === 1
      ? { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: wait }
      : steps.length === 2
        ? {
            Type: 'CANARY',
            WaitIntervalInSeconds: wait,
            CanarySize: { Type: 'CAPACITY_PERCENT', Value: first },
          }
        : {
            Type: 'LINEAR',
            WaitIntervalInSeconds: wait,
            LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: first },
          };
  // Every wait plus the fleet's start, within SageMaker's bounds (600..28800 s).
  const total = wait * steps.length + 1800;
  return {
    TrafficRoutingConfiguration: routing,
    TerminationWaitInSeconds: 0,
    MaximumExecutionTimeoutInSeconds: Math.min(28_800, Math.max(600, total)),
  };
}

export interface SageMakerPlanInput {
  endpoint: Endpoint;
  version: string;
  deploymentId: string;
  /** `s3://bucket/prefix` of the model directory. */
  modelLocation: string;
  /** Whether the SageMaker endpoint exists already (the Runway endpoint has served something). */
  exists: boolean;
  /** The bucket SageMaker may read models from (its role reads run artifacts there, nothing else). */
  artifactBucket: string;
  /** The value of `OWNER_TAG` on every resource the deploy creates. */
  owner: string;
}

/** Everything the SageMaker branch sends, or a sentence saying why the endpoint cannot deploy there. */
export function sageMakerPlan(input: SageMakerPlanInput): SageMakerPlan | string {
  const { endpoint, version, deploymentId } = input;
  const settings = endpoint.sagemaker;
  if (!settings) return 'the endpoint targets SageMaker but has no instance settings';
  if (!settings.image) {
    return 'the endpoint targets SageMaker but names no serving image (an MLflow pyfunc serving image in ECR)';
  }
  const endpointName = sageMakerEndpointName(endpoint.name);
  const location = /^s3:\/\/([^/]+)\/(.+)$/.exec(input.modelLocation);
  if (!location || location[1] !== input.artifactBucket || !/(^|\/)artifacts(\/|$)/.test(location[2] ?? '')) {
    return `SageMaker serves models from run or logged-model artifacts in the artifact bucket (s3://${input.artifactBucket}/.../artifacts/...), not ${input.modelLocation}`;
  }
  // One model and one endpoint config per deploy: SageMaker needs a new config to blue/green update.
  const resourceName = sageMakerResourceName(endpoint.name, version, deploymentId);
  const policy = endpoint.rolloutPolicy;
  const alarms = sageMakerAlarmNames(endpoint.name);
  const routing = trafficRouting(policy);
  const waits = routing.TrafficRoutingConfiguration.WaitIntervalInSeconds * policy.trafficSteps.length;
  return {
    endpointName,
    modelName: resourceName,
    endpointConfigName: resourceName,
    create: !input.exists,
    image: settings.image,
    modelDataUrl: input.modelLocation.endsWith('/') ? input.modelLocation : `${input.modelLocation}/`,
    instanceType: settings.instanceType,
    initialInstanceCount: settings.initialInstanceCount,
    deploymentConfig: {
      BlueGreenUpdatePolicy: routing,
      AutoRollbackConfiguration: { Alarms: [{ AlarmName: alarms.errors }, { AlarmName: alarms.latency }] },
    },
    alarms,
    tags: [
      { Key: OWNER_TAG, Value: input.owner },
      { Key: 'runway:endpoint', Value: endpoint.name },
    ],
    expectedSeconds: SAGEMAKER_START_SECONDS + (input.exists ? waits : 0),
    maxErrorRate: policy.maxErrorRate,
    maxLatencyMicros: policy.maxLatencyMs * 1000,
    alarmPeriodSeconds: Math.max(60, Math.ceil(policy.bakeSeconds / 60) * 60),
  };
}
