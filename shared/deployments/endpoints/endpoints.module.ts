import * as z from 'zod';
import { envVar, parseConfig } from '../../platform/config.ts';
import type { Operation } from '../../platform/http/operation.ts';
import { readVariantStatsSeries } from '../../serving/variant-stats.ts';
import { DynamoEndpointStore } from '../adapters/dynamodb-endpoint-store.ts';
import { RegistryModelReader } from '../adapters/registry-model-reader.ts';
import { createEndpointDeletion } from '../deploy/deploy.module.ts';
import type { DeployStarter, EndpointTeardown } from '../ports.ts';
import { sageMakerLimits, sageMakerLimitsConfig } from '../sagemaker-limits.ts';
import { endpointOperations } from './endpoints.routes.ts';
import { EndpointsService } from './endpoints.service.ts';

/** The endpoints API function's configuration, read once at cold start. */
export function endpointsConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      /** Endpoints and their deployments (`shared/deployments/keys.ts`). */
      DEPLOYMENTS_TABLE_NAME: envVar.name(),
      /** Read only: an endpoint must follow a registered model that exists. */
      REGISTRY_TABLE_NAME: envVar.name(),
      /**
       * `false` where SageMaker cannot run: the CDK app sets it when synthesized for the local runtime
       * (context `runway:local`). `true` or `false`, nothing else: a typo must fail the cold start.
       */
      SAGEMAKER_TARGET_ENABLED: z
        .enum(['true', 'false'])
        .default('true')
        .transform((value) => value === 'true'),
      /** `arn:<partition>:sagemaker:<region>:<account>:` (a deleted endpoint's teardown reads tags by ARN). */
      SAGEMAKER_ARN_PREFIX: z.string().trim().default(''),
      ...sageMakerLimitsConfig,
    },
    env,
  );
}

/** Composition root of the endpoints API: adapters into the service, the service into operations. */
export function createEndpointsApi(
  config: ReturnType<typeof endpointsConfig>,
  deployStarter?: DeployStarter,
  teardown: EndpointTeardown = createEndpointDeletion(config),
): { operations: Operation[]; service: EndpointsService } {
  const service = new EndpointsService({
    store: new DynamoEndpointStore(config.DEPLOYMENTS_TABLE_NAME),
    models: new RegistryModelReader(config.REGISTRY_TABLE_NAME),
    deployStarter,
    sagemakerEnabled: config.SAGEMAKER_TARGET_ENABLED,
    sagemakerLimits: sageMakerLimits(config),
    teardown,
    stats: {
      series: (endpoint, version, sinceMs, resolutionMs) =>
        readVariantStatsSeries(endpoint, version, sinceMs, resolutionMs, {
          tableName: config.DEPLOYMENTS_TABLE_NAME,
        }),
    },
  });
  return { service, operations: endpointOperations(service) };
}
