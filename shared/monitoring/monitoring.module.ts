import * as z from 'zod';
import { SfnExecutionStarter } from '../deployments/deploy/adapters/execution-starter.sfn.ts';
import { envVar, parseConfig } from '../platform/config.ts';
import type { Operation } from '../platform/http/operation.ts';
import { logger } from '../platform/logger.ts';
import { DynamoLoggedModelSource } from '../registry/adapters/logged-models.dynamodb-source.ts';
import { DynamoRegistryRepository } from '../registry/adapters/registry.dynamodb-repository.ts';
import { DynamoRunArtifactLocator as RegistryRunLocator } from '../registry/adapters/run-artifacts.dynamodb-locator.ts';
import { RegistryService } from '../registry/registry.service.ts';
import { DynamoExperimentRepository } from '../tracking/adapters/experiment.dynamodb-repository.ts';
import { DynamoRunRepository } from '../tracking/adapters/run.dynamodb-repository.ts';
import { ExperimentService } from '../tracking/experiment.service.ts';
import { RunService } from '../tracking/run.service.ts';
import { DeploymentsEndpointReader, VariantServingStats } from './adapters/deployments.readers.ts';
import { EventBridgeMonitoringPublisher } from './adapters/events.eventbridge-publisher.ts';
import { EmfMetricsSink } from './adapters/metrics.emf.ts';
import { DynamoMonitorStore } from './adapters/monitor.dynamodb-store.ts';
import { MonitorArtifacts, S3FeedbackWriter, S3ObjectSource } from './adapters/monitoring.s3.ts';
import { EventBridgeScheduleManager } from './adapters/schedule.eventbridge-scheduler.ts';
import { monitorOperations } from './api/monitors.routes.ts';
import { FeedbackService } from './feedback.service.ts';
import { MonitorService } from './monitor.service.ts';
import { RetrainService } from './retrain.service.ts';
import { MonitorRunService } from './run/monitor-run.service.ts';

const keyPrefix = z
  .string()
  .trim()
  .transform((value) => value.replace(/^\/+|\/+$/g, ''))
  .default('');

/** The monitoring API function's configuration, read once at cold start. */
export function monitoringApiConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      MONITORING_TABLE_NAME: envVar.name(),
      /** Read only: a monitor watches an endpoint that exists. */
      DEPLOYMENTS_TABLE_NAME: envVar.name(),
      /** Feedback is written, and reports read, here. */
      ARTIFACT_BUCKET_NAME: envVar.name(),
      ARTIFACT_KEY_PREFIX: keyPrefix,
      MONITOR_STATE_MACHINE_ARN: envVar.name(),
      SCHEDULE_GROUP_NAME: envVar.name(),
      /** The role EventBridge Scheduler assumes to start runs. */
      SCHEDULER_ROLE_ARN: envVar.name(),
    },
    env,
  );
}

/** Composition root of the monitors API and feedback. */
export function createMonitoringApi(config: ReturnType<typeof monitoringApiConfig>): {
  operations: Operation[];
  monitors: MonitorService;
} {
  const endpoints = new DeploymentsEndpointReader(config.DEPLOYMENTS_TABLE_NAME);
  const monitors = new MonitorService({
    store: new DynamoMonitorStore(config.MONITORING_TABLE_NAME),
    endpoints,
    schedules: new EventBridgeScheduleManager({
      groupName: config.SCHEDULE_GROUP_NAME,
      stateMachineArn: config.MONITOR_STATE_MACHINE_ARN,
      roleArn: config.SCHEDULER_ROLE_ARN,
    }),
    runs: new SfnExecutionStarter(config.MONITOR_STATE_MACHINE_ARN),
    reports: new MonitorArtifacts(config.ARTIFACT_BUCKET_NAME, config.ARTIFACT_KEY_PREFIX),
  });
  const feedback = new FeedbackService({
    endpoints,
    writer: new S3FeedbackWriter(config.ARTIFACT_BUCKET_NAME),
  });
  return { operations: monitorOperations(monitors, feedback), monitors };
}

/** The monitor state machine's steps' configuration. */
export function monitorStepsConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      MONITORING_TABLE_NAME: envVar.name(),
      DEPLOYMENTS_TABLE_NAME: envVar.name(),
      REGISTRY_TABLE_NAME: envVar.name(),
      TRACKING_TABLE_NAME: envVar.name(),
      ARTIFACT_BUCKET_NAME: envVar.name(),
      ARTIFACT_KEY_PREFIX: keyPrefix,
      EVENT_BUS_NAME: envVar.name(),
      DEFAULT_ARTIFACT_ROOT: envVar.name().default('mlflow-artifacts:/'),
    },
    env,
  );
}

/** Composition root of a monitor run: the tracking and registry services in-process, as the pipeline. */
export function createMonitorRunService(config: ReturnType<typeof monitorStepsConfig>): {
  service: MonitorRunService;
  capture: S3ObjectSource;
} {
  const experiments = new ExperimentService({
    experiments: new DynamoExperimentRepository(config.TRACKING_TABLE_NAME),
    defaultArtifactRoot: config.DEFAULT_ARTIFACT_ROOT,
  });
  const runs = new RunService(new DynamoRunRepository(config.TRACKING_TABLE_NAME), experiments);
  const registry = new RegistryService({
    repository: new DynamoRegistryRepository(config.REGISTRY_TABLE_NAME),
    runs: new RegistryRunLocator(config.TRACKING_TABLE_NAME),
    loggedModels: new DynamoLoggedModelSource(config.TRACKING_TABLE_NAME),
    events: {
      publish: async () => {
        throw new Error('A monitor run does not change the registry');
      },
    },
  });
  const capture = new S3ObjectSource(config.ARTIFACT_BUCKET_NAME);
  const service = new MonitorRunService({
    store: new DynamoMonitorStore(config.MONITORING_TABLE_NAME),
    endpoints: new DeploymentsEndpointReader(config.DEPLOYMENTS_TABLE_NAME),
    registry,
    tracking: { experiments, runs },
    artifacts: new MonitorArtifacts(config.ARTIFACT_BUCKET_NAME, config.ARTIFACT_KEY_PREFIX),
    capture,
    stats: new VariantServingStats(config.DEPLOYMENTS_TABLE_NAME),
    events: new EventBridgeMonitoringPublisher(config.EVENT_BUS_NAME),
    metrics: new EmfMetricsSink(),
  });
  return { service, capture };
}

/** The retrain function's configuration. */
export function retrainConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    { MONITORING_TABLE_NAME: envVar.name(), PIPELINE_STATE_MACHINE_ARN: envVar.name() },
    env,
  );
}

export function createRetrainService(config: ReturnType<typeof retrainConfig>): RetrainService {
  return new RetrainService({
    store: new DynamoMonitorStore(config.MONITORING_TABLE_NAME),
    pipeline: new SfnExecutionStarter(config.PIPELINE_STATE_MACHINE_ARN),
    logger,
  });
}
