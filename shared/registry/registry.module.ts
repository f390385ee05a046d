import { envVar, parseConfig } from '../platform/config.ts';
import type { Operation } from '../platform/http/operation.ts';
import { EventBridgeRegistryPublisher } from './adapters/events.eventbridge-publisher.ts';
import { DynamoLoggedModelSource } from './adapters/logged-models.dynamodb-source.ts';
import { DynamoRegistryRepository } from './adapters/registry.dynamodb-repository.ts';
import { DynamoRunArtifactLocator } from './adapters/run-artifacts.dynamodb-locator.ts';
import { modelVersionOperations } from './api/model-versions.routes.ts';
import { registeredModelOperations } from './api/registered-models.routes.ts';
import { RegistryService } from './registry.service.ts';

/** The registry function's configuration, read once at cold start. */
export function registryConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      REGISTRY_TABLE_NAME: envVar.name(),
      /**
       * A `runs:/` source resolves to the run's artifact URI from the run item, a `models:/<model_id>`
       * one to the logged model's artifact location; the logged model's `mlflow.modelVersions` tag is
       * the only thing written there.
       */
      TRACKING_TABLE_NAME: envVar.name(),
      /** The Runway bus, where every registry change is announced. */
      EVENT_BUS_NAME: envVar.name(),
    },
    env,
  );
}

/** Composition root of the registry context: adapters wired into the service, the service into operations. */
export function createRegistryApi(config: ReturnType<typeof registryConfig>): {
  operations: Operation[];
  service: RegistryService;
} {
  const service = new RegistryService({
    repository: new DynamoRegistryRepository(config.REGISTRY_TABLE_NAME),
    runs: new DynamoRunArtifactLocator(config.TRACKING_TABLE_NAME),
    loggedModels: new DynamoLoggedModelSource(config.TRACKING_TABLE_NAME),
    events: new EventBridgeRegistryPublisher(config.EVENT_BUS_NAME),
  });
  return { service, operations: [...registeredModelOperations(service), ...modelVersionOperations(service)] };
}
