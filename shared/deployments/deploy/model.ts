import * as z from 'zod';
import { endpointName, rolloutPolicy, servedVersion, target } from '../model.ts';
import type { SageMakerDeploymentConfig } from './sagemaker-plan.ts';

/**
 * What travels through the deploy state machine: its input, the context Resolve builds, and the
 * rollout's progress. Each Lambda step parses what it receives with these schemas, so a definition
 * and a handler that drift apart fail loudly on the first execution.
 */

/** The input of a deploy execution (what the trigger, the reconciler or a person starts it with). */
export const deployRequest = z.object({
  endpointName,
  modelName: z.string().min(1),
  /** The version the registry named when the deploy was started. */
  version: z.string().regex(/^\d+$/),
  /** The registry change behind it (`desiredVersion().changeKey`); `manual` deploys name their own. */
  changeKey: z.string().min(1),
  trigger: z.enum(['event', 'reconciler', 'manual']),
});
export type DeployRequest = z.infer<typeof deployRequest>;

/** The execution, from the context object (`$$.Execution`). */
export const executionInfo = z.object({
  name: z.string().min(1),
  arn: z.string().min(1),
  startTime: z.string().min(1),
});
export type ExecutionInfo = z.infer<typeof executionInfo>;

const sageMakerPlan = z.object({
  endpointName: z.string(),
  modelName: z.string(),
  endpointConfigName: z.string(),
  create: z.boolean(),
  image: z.string(),
  modelDataUrl: z.string(),
  instanceType: z.string(),
  initialInstanceCount: z.number().int(),
  deploymentConfig: z.custom<SageMakerDeploymentConfig>(
    (value) => typeof value === 'object' && value !== null,
  ),
  alarms: z.object({ errors: z.string(), latency: z.string() }),
  tags: z.array(z.object({ Key: z.string(), Value: z.string() })),
  expectedSeconds: z.number().int(),
  maxErrorRate: z.number(),
  maxLatencyMicros: z.number(),
  alarmPeriodSeconds: z.number().int(),
});

/** What Resolve hands the rest of the execution (`$.deploy`). */
export const deployContext = z.object({
  /** `deploy`: go on; `skip`: nothing to do (the reason says why); `wait`: another deploy holds the endpoint. */
  outcome: z.enum(['deploy', 'skip', 'wait']),
  reason: z.string().nullable(),
  deploymentId: z.string(),
  startedAt: z.number().int(),
  endpointName,
  modelName: z.string(),
  version: z.string(),
  trigger: z.enum(['event', 'reconciler', 'manual']),
  executionArn: z.string(),
  /** The model directory, `s3://bucket/prefix`. */
  storageLocation: z.string(),
  /** What served before this deploy: where a rollback returns to. */
  previous: servedVersion.nullable(),
  target,
  policy: rolloutPolicy,
  sagemaker: sageMakerPlan.nullable(),
});
export type DeployContext = z.infer<typeof deployContext>;

/** The lambda target's rollout progress (`$.rollout`). */
export const rolloutState = z.object({
  /** The index in `policy.trafficSteps` of the step now live (or next to go live, before ShiftTraffic). */
  stepIndex: z.number().int().min(0),
  /** The canary's weight now. */
  weight: z.number().int().min(0).max(100),
  /** When the current step went live (epoch ms): its bake's statistics start here. */
  since: z.number().int(),
  healthy: z.boolean(),
  reason: z.string().nullable(),
  /** Every step passed: promote. */
  done: z.boolean(),
});
export type RolloutState = z.infer<typeof rolloutState>;

/** A caught error as Step Functions hands it on (`Catch` with `ResultPath: $.error`). */
export const caughtError = z.object({ Error: z.string(), Cause: z.string().optional() });
export type CaughtError = z.infer<typeof caughtError>;

/**
 * The whole execution state, as the rollback and failure steps receive it: what got how far is
 * known only at run time (a Catch may come from any step), so they read what is there.
 */
export const executionState = z.object({
  request: deployRequest,
  execution: executionInfo,
  deploy: deployContext.optional(),
  rollout: rolloutState.optional(),
  /** The state that failed, set by the `<State>Failed` Pass its Catch leads to. */
  failedStep: z.string().optional(),
  error: caughtError.optional(),
  /** SageMaker's DescribeEndpoint answer, on the SageMaker path. */
  endpointStatus: z
    .object({ EndpointStatus: z.string(), FailureReason: z.string().optional() })
    .passthrough()
    .optional(),
});
export type ExecutionState = z.infer<typeof executionState>;

/** The payload of the deploy-steps function: one step of the state machine per call. */
export const stepPayload = z.discriminatedUnion('step', [
  z.object({ step: z.literal('resolve'), request: deployRequest, execution: executionInfo }),
  z.object({ step: z.literal('prune'), deploy: deployContext }),
  z.object({ step: z.literal('queue'), deploy: deployContext, taskToken: z.string().min(1).max(2048) }),
  z.object({ step: z.literal('shift-traffic'), deploy: deployContext, rollout: rolloutState }),
  z.object({ step: z.literal('check-canary'), deploy: deployContext, rollout: rolloutState }),
  z.object({ step: z.literal('promote'), deploy: deployContext }),
  z.object({ step: z.literal('roll-back'), state: executionState.extend({ deploy: deployContext }) }),
  z.object({ step: z.literal('fail'), state: executionState }),
]);
export type StepPayload = z.infer<typeof stepPayload>;

/** The payload of the model-checks function (the one that loads models): CheckModel and SmokeTest. */
export const modelCheckPayload = z.discriminatedUnion('step', [
  z.object({ step: z.literal('check-model'), deploy: deployContext }),
  z.object({ step: z.literal('smoke-test'), deploy: deployContext }),
]);
export type ModelCheckPayload = z.infer<typeof modelCheckPayload>;
