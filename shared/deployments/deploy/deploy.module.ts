import * as z from 'zod';
import { envVar, parseConfig } from '../../platform/config.ts';
import { logger } from '../../platform/logger.ts';
import { DynamoRegistryRepository } from '../../registry/adapters/registry.dynamodb-repository.ts';
import { DynamoDeploymentLedger } from './adapters/deployment-ledger.dynamodb.ts';
import { EventBridgeDeploymentPublisher } from './adapters/events.eventbridge-publisher.ts';
import { SfnExecutionStarter } from './adapters/execution-starter.sfn.ts';
import { DeployService } from './deploy.service.ts';
import { ManualDeployStarter } from './manual-deploy.ts';
import type { CanaryStatsReader, EndpointDirectory, ModelVerifier } from './ports.ts';
import { Reconciler } from './reconciler.service.ts';
import { DeployTrigger } from './trigger.service.ts';

/** The trigger's and the reconciler's configuration, read once at cold start. */
export function deployStarterConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      DEPLOYMENTS_TABLE_NAME: envVar.name(),
      REGISTRY_TABLE_NAME: envVar.name(),
      DEPLOY_STATE_MACHINE_ARN: envVar.name(),
    },
    env,
  );
}

/** The deploy steps' configuration, read once at cold start. */
export function deployStepsConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      DEPLOYMENTS_TABLE_NAME: envVar.name(),
      REGISTRY_TABLE_NAME: envVar.name(),
      EVENT_BUS_NAME: envVar.name(),
      ARTIFACT_BUCKET_NAME: envVar.name(),
      ARTIFACT_KEY_PREFIX: z
        .string()
        .trim()
        .transform((value) => value.replace(/^\/+|\/+$/g, ''))
        .default(''),
      /** The state machine's timeout: a hold on an endpoint older than this is stale. */
      DEPLOY_MAX_DURATION_SECONDS: z.coerce
        .number()
        .int()
        .positive()
        .default(12 * 3600),
    },
    env,
  );
}

/** Composition root of the trigger: registry events in, deploy executions out. */
export function createDeployTrigger(
  config: ReturnType<typeof deployStarterConfig>,
  endpoints: EndpointDirectory,
): DeployTrigger {
  return new DeployTrigger({
    endpoints,
    registry: new DynamoRegistryRepository(config.REGISTRY_TABLE_NAME),
    executions: new SfnExecutionStarter(config.DEPLOY_STATE_MACHINE_ARN),
    logger,
  });
}

/** Composition root of the reconciler. */
export function createReconciler(
  config: ReturnType<typeof deployStarterConfig>,
  endpoints: EndpointDirectory,
): Reconciler {
  return new Reconciler({
    endpoints,
    ledger: new DynamoDeploymentLedger(config.DEPLOYMENTS_TABLE_NAME),
    registry: new DynamoRegistryRepository(config.REGISTRY_TABLE_NAME),
    executions: new SfnExecutionStarter(config.DEPLOY_STATE_MACHINE_ARN),
    logger,
  });
}

/** Composition root of the deploy steps. */
export function createDeployService(
  config: ReturnType<typeof deployStepsConfig>,
  serving: { verifier: ModelVerifier; stats: CanaryStatsReader },
): DeployService {
  return new DeployService({
    ledger: new DynamoDeploymentLedger(config.DEPLOYMENTS_TABLE_NAME),
    registry: new DynamoRegistryRepository(config.REGISTRY_TABLE_NAME),
    verifier: serving.verifier,
    stats: serving.stats,
    events: new EventBridgeDeploymentPublisher(config.EVENT_BUS_NAME),
    clock: { now: () => Date.now() },
    artifactRoot: { bucket: config.ARTIFACT_BUCKET_NAME, keyPrefix: config.ARTIFACT_KEY_PREFIX },
    maxDeployMs: config.DEPLOY_MAX_DURATION_SECONDS * 1000,
  });
}

/**
 * The endpoints API's manual deploy: starts the deploy state machine named in
 * `DEPLOY_STATE_MACHINE_ARN`, or nothing when the variable is unset (the API then answers 501).
 */
export function createManualDeployStarter(
  env: NodeJS.ProcessEnv = process.env,
): ManualDeployStarter | undefined {
  const { DEPLOY_STATE_MACHINE_ARN: arn } = parseConfig(
    { DEPLOY_STATE_MACHINE_ARN: z.string().trim().min(1).optional() },
    env,
  );
  return arn ? new ManualDeployStarter(new SfnExecutionStarter(arn), { now: () => Date.now() }) : undefined;
}
