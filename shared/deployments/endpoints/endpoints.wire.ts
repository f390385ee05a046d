import * as z from 'zod';
import { int64 } from '../../platform/http/wire.ts';
import { LIMITS } from '../../registry/model.ts';
import {
  type Deployment,
  type Endpoint,
  endpointName,
  rolloutPolicy,
  type ServedVersion,
  target,
} from '../model.ts';

/**
 * The endpoints API on the wire: JSON in snake_case, as MLflow's REST API, while the domain is
 * camelCase (`model.ts`). Timestamps are epoch milliseconds as JSON numbers (MLflow's
 * `creation_timestamp`, `last_updated_timestamp`, `start_time`, `end_time`); versions are strings.
 * Every schema here is strict: an unknown field is a 400 naming it, never silently dropped.
 */

/** Endpoints per page of a listing, and of a deployment history. */
export const PAGE_LIMITS = { default: 100, max: 1000 } as const;

const policy = rolloutPolicy.shape;
/** Each field of the rollout policy with the contract's own limits, without its default. */
const policyFields = {
  traffic_steps: policy.trafficSteps.unwrap(),
  bake_seconds: policy.bakeSeconds.unwrap(),
  max_error_rate: policy.maxErrorRate.unwrap(),
  max_latency_ms: policy.maxLatencyMs.unwrap(),
  min_invocations: policy.minInvocations.unwrap(),
};
const POLICY_FIELDS = {
  traffic_steps: 'trafficSteps',
  bake_seconds: 'bakeSeconds',
  max_error_rate: 'maxErrorRate',
  max_latency_ms: 'maxLatencyMs',
  min_invocations: 'minInvocations',
} as const satisfies Record<keyof typeof policyFields, keyof z.output<typeof rolloutPolicy>>;

/**
 * A rollout policy as a client sends it: any subset of the fields. Create fills the rest with the
 * defaults, update with the endpoint's current values; the whole is then checked by `checkPolicy`.
 */
export const rolloutPolicyInput = z
  .object({
    traffic_steps: policyFields.traffic_steps.optional(),
    bake_seconds: policyFields.bake_seconds.optional(),
    max_error_rate: policyFields.max_error_rate.optional(),
    max_latency_ms: policyFields.max_latency_ms.optional(),
    min_invocations: policyFields.min_invocations.optional(),
  })
  .strict();
export type RolloutPolicyInput = z.output<typeof rolloutPolicyInput>;

/** The policy's camelCase changes, for the service to merge over a base. */
export function policyChanges(input: RolloutPolicyInput): Partial<Endpoint['rolloutPolicy']> {
  const out: Record<string, unknown> = {};
  for (const [wire, domain] of Object.entries(POLICY_FIELDS)) {
    const value = input[wire as keyof RolloutPolicyInput];
    if (value !== undefined) out[domain] = value;
  }
  return out as Partial<Endpoint['rolloutPolicy']>;
}

/** The wire name of a policy field, for error messages that name what the client sent. */
export function policyFieldName(domain: string): string {
  return Object.entries(POLICY_FIELDS).find(([, name]) => name === domain)?.[0] ?? domain;
}

export const followsInput = z.union([
  z.object({ alias: z.string().min(1).max(LIMITS.alias) }).strict(),
  z
    .object({
      // MLflow's stages are case-insensitive on input; Runway stores the canonical spelling.
      stage: z
        .string()
        .transform((stage) => stage.charAt(0).toUpperCase() + stage.slice(1).toLowerCase())
        .pipe(z.enum(['Staging', 'Production'], { message: "must be 'Staging' or 'Production'" })),
    })
    .strict(),
]);

export const sagemakerInput = z
  .object({
    instance_type: z
      .string()
      .regex(/^ml\.[a-z0-9-]+\.[a-z0-9]+$/, "must be a SageMaker instance type such as 'ml.m5.large'"),
    initial_instance_count: int64().pipe(z.number().int().min(1).max(100)),
    image: z.string().min(1).max(2048).optional(),
  })
  .strict();

export const modelNameInput = z.string().min(1).max(LIMITS.modelName);
export const descriptionInput = z.string().max(LIMITS.description);
export const endpointNameInput = endpointName;
export const targetInput = target;
/** The fraction of invocations captured for monitoring (0 turns capture off for this endpoint). */
export const captureSampleRateInput = z.number().min(0).max(1);

export const maxResultsInput = int64().pipe(z.number().int().min(1).max(PAGE_LIMITS.max));

/** `{"alias": "production"}` or `{"stage": "Production"}`. */
export type FollowsWire = { alias: string } | { stage: 'Staging' | 'Production' };

export interface ServedVersionWire {
  version: string;
  storage_location: string;
  deployment_id: string;
}

export interface EndpointWire {
  name: string;
  model_name: string;
  follows: FollowsWire;
  target: 'lambda' | 'sagemaker';
  rollout_policy: {
    traffic_steps: number[];
    bake_seconds: number;
    max_error_rate: number;
    max_latency_ms: number;
    min_invocations: number;
  };
  description?: string;
  /** Absent: the model server's default (0.1). */
  capture_sample_rate?: number;
  sagemaker?: { instance_type: string; initial_instance_count: number; image?: string };
  traffic: {
    primary: ServedVersionWire | null;
    canary: ServedVersionWire | null;
    canary_weight: number;
    revision: number;
  };
  status: Endpoint['status'];
  /** What a `Deleting` endpoint still waits for. */
  status_message?: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
}

export interface DeploymentWire {
  deployment_id: string;
  endpoint_name: string;
  model_name: string;
  version: string;
  previous_version: string | null;
  trigger: Deployment['trigger'];
  execution_arn: string | null;
  status: Deployment['status'];
  reason: string | null;
  steps: Array<{
    weight: number;
    timestamp: number;
    invocations: number;
    error_rate: number;
    p99_latency_ms: number | null;
  }>;
  start_time: number;
  end_time: number | null;
}

/** `GET runway/endpoints/{name}/statistics`: per version, the model server's statistics over time. */
export interface EndpointStatisticsWire {
  /** The interval of each point, in ms (a multiple of the server's 10-second buckets). */
  resolution_ms: number;
  /** The first interval's start (epoch ms). */
  since: number;
  versions: Array<{
    version: string;
    /** Intervals with invocations, oldest first. */
    points: Array<{
      time: number;
      invocations: number;
      model_errors: number;
      client_errors: number;
      error_rate: number;
      p50_latency_ms: number | null;
      p99_latency_ms: number | null;
    }>;
  }>;
}

const servedToWire = (served: ServedVersion | null): ServedVersionWire | null =>
  served && {
    version: served.version,
    storage_location: served.storageLocation,
    deployment_id: served.deploymentId,
  };

export function endpointToWire(endpoint: Endpoint): EndpointWire {
  const policy = endpoint.rolloutPolicy;
  return {
    name: endpoint.name,
    model_name: endpoint.modelName,
    follows: endpoint.follows,
    target: endpoint.target,
    rollout_policy: {
      traffic_steps: policy.trafficSteps,
      bake_seconds: policy.bakeSeconds,
      max_error_rate: policy.maxErrorRate,
      max_latency_ms: policy.maxLatencyMs,
      min_invocations: policy.minInvocations,
    },
    ...(endpoint.description !== undefined ? { description: endpoint.description } : {}),
    ...(endpoint.captureSampleRate !== undefined ? { capture_sample_rate: endpoint.captureSampleRate } : {}),
    ...(endpoint.sagemaker
      ? {
          sagemaker: {
            instance_type: endpoint.sagemaker.instanceType,
            initial_instance_count: endpoint.sagemaker.initialInstanceCount,
            ...(endpoint.sagemaker.image !== undefined ? { image: endpoint.sagemaker.image } : {}),
          },
        }
      : {}),
    traffic: {
      primary: servedToWire(endpoint.traffic.primary),
      canary: servedToWire(endpoint.traffic.canary),
      canary_weight: endpoint.traffic.canaryWeight,
      revision: endpoint.traffic.revision,
    },
    status: endpoint.status,
    ...(endpoint.statusMessage !== undefined ? { status_message: endpoint.statusMessage } : {}),
    creation_timestamp: endpoint.createdAt,
    last_updated_timestamp: endpoint.updatedAt,
  };
}

export function deploymentToWire(deployment: Deployment): DeploymentWire {
  return {
    deployment_id: deployment.deploymentId,
    endpoint_name: deployment.endpointName,
    model_name: deployment.modelName,
    version: deployment.version,
    previous_version: deployment.previousVersion,
    trigger: deployment.trigger,
    execution_arn: deployment.executionArn,
    status: deployment.status,
    reason: deployment.reason,
    steps: deployment.steps.map((step) => ({
      weight: step.weight,
      timestamp: step.at,
      invocations: step.invocations,
      error_rate: step.errorRate,
      p99_latency_ms: step.p99LatencyMs,
    })),
    start_time: deployment.startedAt,
    end_time: deployment.finishedAt,
  };
}
