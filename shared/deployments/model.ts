import * as z from 'zod';

/**
 * The deployments context's shared vocabulary: what an endpoint is, how it rolls out, and what it
 * serves right now. The endpoints API (`shared/deployments/endpoints/`) writes these, the deploy state
 * machine (`shared/deployments/deploy/`) moves traffic by rewriting `traffic`, and the model server
 * (`shared/serving/`) reads `traffic` to route each invocation. Stored in the deployments table under
 * the keys in `keys.ts`.
 */

/** Endpoint names are URL path segments: lower-case letters, digits and dashes, as SageMaker allows. */
export const endpointName = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/,
    'lower-case letters, digits and dashes, starting and ending with a letter or digit',
  );

export const target = z.enum(['lambda', 'sagemaker']);
export type Target = z.infer<typeof target>;

/** What an endpoint follows in the registry: an alias (`production`) or a stage (`Production`). */
export const follows = z.union([
  z.object({ alias: z.string().min(1).max(255) }).strict(),
  z.object({ stage: z.enum(['Staging', 'Production']) }).strict(),
]);
export type Follows = z.infer<typeof follows>;

/**
 * How a new version takes over. `trafficSteps` are the canary's percentages in order, each held for
 * `bakeSeconds` while its live error rate and p99 latency stay under the limits; the last step is
 * always 100. A step that breaks a limit rolls back to the previous version.
 */
export const rolloutPolicy = z
  .object({
    trafficSteps: z.array(z.number().int().min(1).max(100)).min(1).max(10).default([10, 50, 100]),
    bakeSeconds: z.number().int().min(0).max(3600).default(60),
    /** Fraction (0..1) of the canary's invocations that may fail during a step. */
    maxErrorRate: z.number().min(0).max(1).default(0.01),
    /** The canary's p99 latency limit in milliseconds. */
    maxLatencyMs: z.number().int().min(1).max(60_000).default(1000),
    /** Invocations a step needs before its error rate counts; below it the step passes on the smoke test alone. */
    minInvocations: z.number().int().min(0).max(1_000_000).default(0),
  })
  .strict()
  .refine((policy) => policy.trafficSteps.at(-1) === 100, {
    message: 'the last traffic step must be 100',
    path: ['trafficSteps'],
  })
  .refine(
    (policy) => policy.trafficSteps.every((step, i) => i === 0 || step > (policy.trafficSteps[i - 1] ?? 0)),
    {
      message: 'traffic steps must increase',
      path: ['trafficSteps'],
    },
  );
export type RolloutPolicy = z.infer<typeof rolloutPolicy>;

/** One model version as the server sees it: enough to load it without asking the registry again. */
export const servedVersion = z.object({
  /** The registry version number, as MLflow sends it (a string of digits). */
  version: z.string().regex(/^\d+$/),
  /** The model directory (`s3://bucket/prefix` of the `MLmodel` file's folder). */
  storageLocation: z.string().min(1),
  /** The deployment that put it there. */
  deploymentId: z.string().min(1),
});
export type ServedVersion = z.infer<typeof servedVersion>;

/**
 * What an endpoint serves right now. With a canary, `canaryWeight` percent of invocations go to it
 * (chosen at random per invocation), the rest to the primary. No primary means nothing is deployed
 * yet: invocations answer 503 until the first deploy finishes. `revision` increases with every
 * change; writers update conditionally on it.
 */
export const traffic = z.object({
  primary: servedVersion.nullable(),
  canary: servedVersion.nullable(),
  canaryWeight: z.number().int().min(0).max(100),
  revision: z.number().int().min(0),
});
export type Traffic = z.infer<typeof traffic>;

/** An endpoint as stored and as the API answers it (timestamps in epoch milliseconds). */
export const endpoint = z.object({
  name: endpointName,
  modelName: z.string().min(1),
  follows,
  target,
  rolloutPolicy,
  description: z.string().max(5000).optional(),
  /**
   * The fraction (0..1) of invocations the model server captures for monitoring; absent: the model
   * server's default (`CAPTURE_SAMPLE_RATE`, 0.1). Quality monitoring joins feedback with captured
   * invocations only, so a monitor of live accuracy wants 1.
   */
  captureSampleRate: z.number().min(0).max(1).optional(),
  /** SageMaker target only: instance type and count for the endpoint's production variants. */
  sagemaker: z
    .object({
      instanceType: z.string().min(1),
      initialInstanceCount: z.number().int().min(1).max(100),
      image: z.string().min(1).optional(),
    })
    .strict()
    .optional(),
  traffic,
  status: z.enum(['Creating', 'InService', 'Updating', 'RollingBack', 'Failed', 'Deleting']),
  /** What a `Deleting` endpoint still waits for (its SageMaker resources), in a sentence. */
  statusMessage: z.string().optional(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type Endpoint = z.infer<typeof endpoint>;

/** One deploy of a version to an endpoint, from start to its outcome: the endpoint's history. */
export const deployment = z.object({
  deploymentId: z.string().min(1),
  endpointName,
  modelName: z.string().min(1),
  version: z.string().regex(/^\d+$/),
  previousVersion: z.string().regex(/^\d+$/).nullable(),
  /** What started it: a registry event, the reconciler, or a person through the API/CLI. */
  trigger: z.enum(['event', 'reconciler', 'manual']),
  /** The Step Functions execution running it. */
  executionArn: z.string().nullable(),
  status: z.enum(['InProgress', 'Succeeded', 'RolledBack', 'Failed']),
  /** Why it rolled back or failed, in a sentence; null while it runs and on success. */
  reason: z.string().nullable(),
  /** Each traffic step reached, with what the canary measured during its bake. */
  steps: z.array(
    z.object({
      weight: z.number().int(),
      at: z.number().int(),
      invocations: z.number().int(),
      errorRate: z.number(),
      p99LatencyMs: z.number().nullable(),
    }),
  ),
  startedAt: z.number().int(),
  finishedAt: z.number().int().nullable(),
});
export type Deployment = z.infer<typeof deployment>;

/** The `source` of every deployments event on the Runway bus. */
export const DEPLOYMENT_EVENT_SOURCE = 'runway.deployments';
export const DEPLOYMENT_EVENTS = [
  'deployment.started',
  'deployment.succeeded',
  'deployment.rolled-back',
  'deployment.failed',
] as const;
