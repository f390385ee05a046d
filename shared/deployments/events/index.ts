import * as z from 'zod';
import { DEPLOYMENT_EVENT_SOURCE } from '../model.ts';

/**
 * The deployments context's domain events on the Runway bus (source `runway.deployments`), one per
 * deploy outcome, published by the deploy state machine. Like the registry's, each detail carries a
 * schema `version` and an `idempotencyKey` (`<deploymentId>:<outcome>`): a retried step may publish
 * an outcome twice, and consumers deduplicate on the key.
 */
const envelope = {
  version: z.literal(1),
  idempotencyKey: z.string().min(1),
  occurredAt: z.iso.datetime(),
  deploymentId: z.string().min(1),
  endpointName: z.string().min(1),
  modelName: z.string().min(1),
  modelVersion: z.string().regex(/^\d+$/),
  /** What served before the deploy (what a rollback returned to); null for an endpoint's first deploy. */
  previousVersion: z.string().regex(/^\d+$/).nullable(),
  trigger: z.enum(['event', 'reconciler', 'manual']),
  executionArn: z.string().min(1),
};

const module = <N extends string, S extends z.ZodRawShape>(name: N, own: S) =>
  ({ name, source: DEPLOYMENT_EVENT_SOURCE, version: 1, schema: z.object({ ...envelope, ...own }) }) as const;

/** A deploy took the endpoint and starts checking the model. */
export const DeploymentStarted = module('deployment.started', {});
/** All traffic is on the new version. */
export const DeploymentSucceeded = module('deployment.succeeded', {
  /** The traffic steps passed, with what the canary measured in each. */
  steps: z.array(z.object({ weight: z.number(), invocations: z.number(), errorRate: z.number() })),
});
/** Traffic had moved to the new version and went back to the previous one. */
export const DeploymentRolledBack = module('deployment.rolled-back', { reason: z.string().min(1) });
/** The deploy stopped before any traffic moved (the model failed its checks, the endpoint was gone...). */
export const DeploymentFailed = module('deployment.failed', {
  reason: z.string().min(1),
  /** The state machine step that failed. */
  failedStep: z.string().min(1),
});

export const DEPLOYMENT_EVENT_MODULES = [
  DeploymentStarted,
  DeploymentSucceeded,
  DeploymentRolledBack,
  DeploymentFailed,
] as const;

export function deploymentEventModule(name: string) {
  return DEPLOYMENT_EVENT_MODULES.find((candidate) => candidate.name === name);
}
