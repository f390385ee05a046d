import type { Operation } from '../../platform/http/operation.ts';
import { DynamoLinkedMetricsReader } from './adapters/linked-metrics.dynamodb-reader.ts';
import { DynamoLoggedModelRepository } from './adapters/logged-model.dynamodb-repository.ts';
import { loggedModelOperations } from './api/logged-models.routes.ts';
import { LoggedModelService } from './logged-model.service.ts';
import type { ExperimentLookup } from './ports.ts';

export { loggedModelOperations } from './api/logged-models.routes.ts';
export { LoggedModelService } from './logged-model.service.ts';

/**
 * Composition root of MLflow 3's logged models, for the tracking function's module
 * (`shared/tracking/tracking.module.ts`): the DynamoDB repository, the experiments it resolves
 * models against, and the operations.
 *
 * `DEFAULT_ARTIFACT_ROOT` is accepted with the rest of the tracking configuration but not needed: a
 * model's artifact URI derives from its experiment's `artifact_location`, which already carries the
 * root (or the location the experiment was created with), as in MLflow.
 *
 * Linked metrics are the points runs logged with this model's id (see `keys.ts`). A model's
 * artifacts are listed and read by the artifacts function (`../artifacts/`), which holds the bucket.
 */
export function createLoggedModelsApi(
  config: { TRACKING_TABLE_NAME: string; DEFAULT_ARTIFACT_ROOT: string },
  experiments: ExperimentLookup,
): { operations: Operation[]; service: LoggedModelService } {
  const service = new LoggedModelService({
    models: new DynamoLoggedModelRepository(config.TRACKING_TABLE_NAME),
    experiments,
    metrics: new DynamoLinkedMetricsReader(config.TRACKING_TABLE_NAME),
  });
  return { operations: loggedModelOperations(service), service };
}
