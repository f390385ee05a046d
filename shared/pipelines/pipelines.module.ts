import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { envVar, parseConfig } from '../platform/config.ts';
import { EventBridgeRegistryPublisher } from '../registry/adapters/events.eventbridge-publisher.ts';
import { DynamoLoggedModelSource } from '../registry/adapters/logged-models.dynamodb-source.ts';
import { DynamoRegistryRepository } from '../registry/adapters/registry.dynamodb-repository.ts';
import { DynamoRunArtifactLocator as RegistryRunLocator } from '../registry/adapters/run-artifacts.dynamodb-locator.ts';
import type { RegistryEventPublisher } from '../registry/ports.ts';
import { RegistryService } from '../registry/registry.service.ts';
import { DynamoExperimentRepository } from '../tracking/adapters/experiment.dynamodb-repository.ts';
import { DynamoRunRepository } from '../tracking/adapters/run.dynamodb-repository.ts';
import { S3ArtifactStore } from '../tracking/artifacts/adapters/artifact.s3-store.ts';
import { ExperimentService } from '../tracking/experiment.service.ts';
import { DynamoLinkedMetricsReader } from '../tracking/logged-models/adapters/linked-metrics.dynamodb-reader.ts';
import { DynamoLoggedModelRepository } from '../tracking/logged-models/adapters/logged-model.dynamodb-repository.ts';
import { LoggedModelService } from '../tracking/logged-models/logged-model.service.ts';
import { RunService } from '../tracking/run.service.ts';
import { S3DatasetReader } from './adapters/dataset.s3-reader.ts';
import { PipelineService } from './pipeline.service.ts';

/**
 * A pipeline step function's configuration, read once at cold start. Every step gets the tracking
 * table and artifact bucket; only the steps that touch the registry get its table (and only the
 * registering step the bus), so those variables are optional here and checked where used.
 */
export function pipelineConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      TRACKING_TABLE_NAME: envVar.name(),
      ARTIFACT_BUCKET_NAME: envVar.name(),
      ARTIFACT_KEY_PREFIX: envVar.name().optional(),
      REGISTRY_TABLE_NAME: envVar.name().optional(),
      EVENT_BUS_NAME: envVar.name().optional(),
      DEFAULT_ARTIFACT_ROOT: envVar.name().default('mlflow-artifacts:/'),
      /** `<registry>/<name>` of the ECR repositories SageMaker training images may come from (Prepare). */
      TRAINING_IMAGE_REPOSITORIES: z
        .string()
        .default('')
        .transform((value) =>
          value
            .split(',')
            .map((item) => item.trim())
            .filter(Boolean),
        ),
      /** The longest a training job may run: less than the execution's timeout (Prepare). */
      TRAINING_MAX_RUNTIME_SECONDS: z.coerce.number().int().min(0).default(0),
    },
    env,
  );
}

/** A registry port for steps not granted the registry: any use is a wiring bug, said plainly. */
const noRegistry = new Proxy(
  {},
  {
    get: (_target, property) => () => {
      throw new Error(`This pipeline step has no registry access (called ${String(property)})`);
    },
  },
) as RegistryService;

const noEvents: RegistryEventPublisher = {
  publish: async () => {
    throw new Error('This pipeline step may not publish registry events');
  },
};

function runwayVersion(): string {
  try {
    const url = new URL('../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    // Bundled into a Lambda, package.json is not beside the code.
    return process.env.RUNWAY_VERSION ?? '0.0.0';
  }
}

/** Composition root of the pipeline steps: the tracking and registry services in-process, over S3. */
export function createPipelineService(config: ReturnType<typeof pipelineConfig>): PipelineService {
  const experiments = new ExperimentService({
    experiments: new DynamoExperimentRepository(config.TRACKING_TABLE_NAME),
    defaultArtifactRoot: config.DEFAULT_ARTIFACT_ROOT,
  });
  const runs = new RunService(new DynamoRunRepository(config.TRACKING_TABLE_NAME), experiments);
  const models = new LoggedModelService({
    models: new DynamoLoggedModelRepository(config.TRACKING_TABLE_NAME),
    experiments,
    metrics: new DynamoLinkedMetricsReader(config.TRACKING_TABLE_NAME),
  });
  const artifacts = new S3ArtifactStore({
    bucket: config.ARTIFACT_BUCKET_NAME,
    keyPrefix: config.ARTIFACT_KEY_PREFIX ?? '',
  });
  const registry = config.REGISTRY_TABLE_NAME
    ? new RegistryService({
        repository: new DynamoRegistryRepository(config.REGISTRY_TABLE_NAME),
        runs: new RegistryRunLocator(config.TRACKING_TABLE_NAME),
        loggedModels: new DynamoLoggedModelSource(config.TRACKING_TABLE_NAME),
        events: config.EVENT_BUS_NAME ? new EventBridgeRegistryPublisher(config.EVENT_BUS_NAME) : noEvents,
      })
    : noRegistry;
  return new PipelineService({
    tracking: { experiments, runs, models },
    registry,
    artifacts,
    datasets: new S3DatasetReader(artifacts),
    runwayVersion: runwayVersion(),
    sagemakerTraining: {
      imageRepositories: config.TRAINING_IMAGE_REPOSITORIES,
      maxRuntimeSeconds: config.TRAINING_MAX_RUNTIME_SECONDS,
    },
    s3UriOf: (artifactPath) =>
      `s3://${config.ARTIFACT_BUCKET_NAME}/${[config.ARTIFACT_KEY_PREFIX, artifactPath].filter(Boolean).join('/')}`,
  });
}
