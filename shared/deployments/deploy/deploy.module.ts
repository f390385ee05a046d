import * as z from 'zod';
import { envVar, parseConfig } from '../../platform/config.ts';
import { logger } from '../../platform/logger.ts';
import { DynamoRegistryRepository } from '../../registry/adapters/registry.dynamodb-repository.ts';
import { DynamoEndpointStore } from '../adapters/dynamodb-endpoint-store.ts';
import { sageMakerLimits, sageMakerLimitsConfig } from '../sagemaker-limits.ts';
import { DynamoDeploymentLedger } from './adapters/deployment-ledger.dynamodb.ts';
import { EventBridgeDeploymentPublisher } from './adapters/events.eventbridge-publisher.ts';
import { SfnExecutionStarter } from './adapters/execution-starter.sfn.ts';
import { SdkSageMakerResources } from './adapters/sagemaker-resources.sdk.ts';
import { SfnTaskCallbacks } from './adapters/task-callbacks.sfn.ts';
import { DeployService, ModelCheckSteps } from './deploy.service.ts';
import { EndpointDeletion } from './endpoint-deletion.ts';
import { ManualDeployStarter } from './manual-deploy.ts';
import type { CanaryStatsReader, EndpointDirectory, ModelVerifier, SageMakerResources } from './ports.ts';
import { Reconciler } from './reconciler.service.ts';
import { SageMakerJanitor } from './sagemaker-janitor.ts';
import { DeployTrigger } from './trigger.service.ts';

/**
 * `arn:<partition>:sagemaker:<region>:<account>:`, which names SageMaker resources to ListTags; set by
 * the CDK app where SageMaker resources are swept (the reconciler, the endpoints API).
 */
const sageMakerArnPrefix = () => z.string().trim().default('');

/** The trigger's and the reconciler's configuration, read once at cold start. */
export function deployStarterConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      DEPLOYMENTS_TABLE_NAME: envVar.name(),
      REGISTRY_TABLE_NAME: envVar.name(),
      DEPLOY_STATE_MACHINE_ARN: envVar.name(),
      SAGEMAKER_ARN_PREFIX: sageMakerArnPrefix(),
    },
    env,
  );
}

/**
 * The SageMaker janitor of this Runway: its resources are tagged with the deployments table's name,
 * which no other Runway in the account shares.
 */
export function createJanitor(
  config: { DEPLOYMENTS_TABLE_NAME: string; SAGEMAKER_ARN_PREFIX: string },
  resources: SageMakerResources = new SdkSageMakerResources(config.SAGEMAKER_ARN_PREFIX),
): SageMakerJanitor {
  return new SageMakerJanitor({
    resources,
    clock: { now: () => Date.now() },
    logger,
    owner: config.DEPLOYMENTS_TABLE_NAME,
  });
}

/** The teardown of deleted SageMaker endpoints (the endpoints API's first pass, the reconciler's next). */
export function createEndpointDeletion(
  config: { DEPLOYMENTS_TABLE_NAME: string; SAGEMAKER_ARN_PREFIX: string },
  janitor: SageMakerJanitor = createJanitor(config),
): EndpointDeletion {
  return new EndpointDeletion({
    store: new DynamoEndpointStore(config.DEPLOYMENTS_TABLE_NAME),
    janitor,
    logger,
  });
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
      SAGEMAKER_ARN_PREFIX: sageMakerArnPrefix(),
      ...sageMakerLimitsConfig,
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
  janitor: SageMakerJanitor = createJanitor(config),
): Reconciler {
  return new Reconciler({
    endpoints,
    ledger: new DynamoDeploymentLedger(config.DEPLOYMENTS_TABLE_NAME),
    registry: new DynamoRegistryRepository(config.REGISTRY_TABLE_NAME),
    executions: new SfnExecutionStarter(config.DEPLOY_STATE_MACHINE_ARN),
    teardown: createEndpointDeletion(config, janitor),
    janitor,
    logger,
  });
}

/** Composition root of the deploy steps (all but the model checks). */
export function createDeployService(
  config: ReturnType<typeof deployStepsConfig>,
  stats: CanaryStatsReader,
  janitor: SageMakerJanitor = createJanitor(config),
): DeployService {
  return new DeployService({
    ledger: new DynamoDeploymentLedger(config.DEPLOYMENTS_TABLE_NAME),
    registry: new DynamoRegistryRepository(config.REGISTRY_TABLE_NAME),
    stats,
    events: new EventBridgeDeploymentPublisher(config.EVENT_BUS_NAME),
    clock: { now: () => Date.now() },
    artifactRoot: { bucket: config.ARTIFACT_BUCKET_NAME, keyPrefix: config.ARTIFACT_KEY_PREFIX },
    maxDeployMs: config.DEPLOY_MAX_DURATION_SECONDS * 1000,
    sagemakerLimits: sageMakerLimits(config),
    janitor,
    owner: config.DEPLOYMENTS_TABLE_NAME,
    callbacks: new SfnTaskCallbacks(),
  });
}

/** Composition root of the model checks. */
export function createModelCheckSteps(verifier: ModelVerifier): ModelCheckSteps {
  return new ModelCheckSteps(verifier);
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
