import { envVar, parseConfig } from '../platform/config.ts';
import type { Operation } from '../platform/http/operation.ts';
import { DynamoExperimentRepository } from './adapters/experiment.dynamodb-repository.ts';
import { DynamoRunRepository } from './adapters/run.dynamodb-repository.ts';
import { experimentOperations } from './api/experiments.routes.ts';
import { genAiOperations } from './api/genai.routes.ts';
import { mlflow3UnservedOperations } from './api/mlflow3-unserved.routes.ts';
import { runOperations } from './api/runs.routes.ts';
import { ExperimentService } from './experiment.service.ts';
import { createLoggedModelsApi } from './logged-models/logged-models.module.ts';
import { RunService } from './run.service.ts';

/** The tracking function's configuration, read once at cold start. */
export function trackingConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      TRACKING_TABLE_NAME: envVar.name(),
      /** Where experiments without an explicit location keep artifacts: MLflow's proxied scheme. */
      DEFAULT_ARTIFACT_ROOT: envVar.name().default('mlflow-artifacts:/'),
    },
    env,
  );
}

/**
 * Composition root of the tracking context: adapters wired into services, services into operations
 * (experiments, runs and metrics, MLflow 3 logged models, and the GenAI endpoints Runway answers 501).
 */
export function createTrackingApi(config: ReturnType<typeof trackingConfig>): { operations: Operation[] } {
  let runs: RunService | undefined;
  const experiments = new ExperimentService({
    experiments: new DynamoExperimentRepository(config.TRACKING_TABLE_NAME),
    defaultArtifactRoot: config.DEFAULT_ARTIFACT_ROOT,
    onLifecycleChange: (experimentId, stage) =>
      runs?.setExperimentRunsLifecycle(experimentId, stage) ?? Promise.resolve(),
  });
  runs = new RunService(new DynamoRunRepository(config.TRACKING_TABLE_NAME), experiments);
  const loggedModels = createLoggedModelsApi(config, experiments);
  return {
    operations: [
      ...experimentOperations(experiments),
      ...runOperations(runs),
      ...loggedModels.operations,
      ...genAiOperations(),
      ...mlflow3UnservedOperations(),
    ],
  };
}
