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
const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);

/** `runway-<name>`, shortened with a hash when the Runway name is too long for SageMaker. */
export function sageMakerEndpointName(endpointName: string): string {
  const full = `runway-${endpointName}`;
  if (full.length <= MAX_NAME) return full;
  return `runway-${endpointName.slice(0, MAX_NAME - 'runway-'.length - 9)}-${shortHash(endpointName)}`;
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
  // One model and one endpoint config per deploy: SageMaker needs a new config to blue/green update.
  const resourceName = `${endpointName.slice(0, 40)}-v${version}-${shortHash(deploymentId)}`;
  const policy = endpoint.rolloutPolicy;
  const alarms = { errors: `${endpointName}-canary-errors`, latency: `${endpointName}-canary-latency` };
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
      BlueGreenUpdatePolicy: trafficRouting(policy),
      AutoRollbackConfiguration: { Alarms: [{ AlarmName: alarms.errors }, { AlarmName: alarms.latency }] },
    },
    alarms,
    maxErrorRate: policy.maxErrorRate,
    maxLatencyMicros: policy.maxLatencyMs * 1000,
    alarmPeriodSeconds: Math.max(60, Math.ceil(policy.bakeSeconds / 60) * 60),
  };
}
