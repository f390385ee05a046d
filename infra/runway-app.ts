import type { App, Environment } from 'aws-cdk-lib';
import { DEFAULT_SAGEMAKER_LIMITS } from '../shared/deployments/sagemaker-limits.ts';
import { ApiStack } from './stacks/api.stack.ts';
import { DeploymentsStack } from './stacks/deployments.stack.ts';
import { MonitoringStack } from './stacks/monitoring.stack.ts';
import { PipelinesStack } from './stacks/pipelines.stack.ts';
import { ServingStack } from './stacks/serving.stack.ts';
import { StatefulStack } from './stacks/stateful.stack.ts';

export interface RunwayAppOptions {
  /** @default the CLI's account and region */
  env?: Environment;
  /** Prefix of every stack name, so several Runways can share an account. @default 'Runway' */
  prefix?: string;
  /** IAM principal ARNs that are Runway admins (`-c adminPrincipals=arn:...,arn:...`). @default none */
  adminPrincipals?: readonly string[];
  /** MLflow's `default_permission` (`-c defaultPermission=NO_PERMISSIONS`). @default 'READ' */
  defaultPermission?: 'NO_PERMISSIONS' | 'READ' | 'USE' | 'EDIT' | 'MANAGE';
  /**
   * Steady requests per second each HTTP API stage accepts before answering 429
   * (`-c apiRateLimit=200`). @default 500
   */
  apiRateLimit?: number;
  /** Requests a stage accepts at once above the rate (`-c apiBurstLimit=400`). @default 1000 */
  apiBurstLimit?: number;
  /**
   * Seconds captured invocations wait in a model server container before they reach S3 (what a
   * monitor reads), `-c captureFlushSeconds=30`. @default 60
   */
  captureFlushSeconds?: number;
  /**
   * Instance types SageMaker endpoints may run on (`-c sagemakerInstanceTypes=ml.m5.large,ml.c6i.large`).
   * @default ml.m5.large, ml.c5.large
   */
  sagemakerInstanceTypes?: readonly string[];
  /** Instances one SageMaker endpoint may start (`-c sagemakerMaxInstances=4`). @default 2 */
  sagemakerMaxInstances?: number;
  /**
   * ECR repositories (names, this account and region) serving images may come from
   * (`-c sagemakerImageRepositories=mlflow-pyfunc,my-serving`). @default mlflow-pyfunc
   */
  sagemakerImageRepositories?: readonly string[];
  /**
   * ECR repositories (names, this account and region) SageMaker training images may come from
   * (`-c trainingImageRepositories=my-trainer`). @default runway-training
   */
  trainingImageRepositories?: readonly string[];
  /** An email address subscribed to the alarms topic (`-c alarmEmail=ops@example.com`). @default none */
  alarmEmail?: string;
  /** The console's built bundle, uploaded to its bucket (served from there locally). @default `console/dist` */
  consoleBundleDir?: string;
}

/** The stacks of one Runway deployment: the stateful stack first, stateless stacks taking its resources. */
export function defineRunwayApp(app: App, options: RunwayAppOptions = {}) {
  const prefix = options.prefix ?? 'Runway';
  const env = options.env;
  // Lambda@Edge lives in us-east-1 and is named there literally; the region keeps two Runways of one
  // prefix in two regions apart.
  const edgeName = `${prefix}-ArtifactEdge-${env?.region ?? 'local'}`;
  const stateful = new StatefulStack(app, `${prefix}-Stateful`, {
    env,
    alarmEmail: options.alarmEmail,
    artifactEdgePolicyName: edgeName,
  });
  const sagemaker = {
    instanceTypes: options.sagemakerInstanceTypes ?? DEFAULT_SAGEMAKER_LIMITS.instanceTypes,
    maxInstances: options.sagemakerMaxInstances ?? DEFAULT_SAGEMAKER_LIMITS.maxInstances,
    imageRepositoryNames: options.sagemakerImageRepositories ?? DEFAULT_SAGEMAKER_LIMITS.imageRepositoryNames,
  };
  const api = new ApiStack(app, `${prefix}-Api`, {
    env,
    trackingTable: stateful.trackingTable,
    registryTable: stateful.registryTable,
    artifactBucket: stateful.artifactBucket,
    accessLogBucket: stateful.accessLogBucket,
    ...(options.consoleBundleDir ? { consoleBundleDir: options.consoleBundleDir } : {}),
    artifactAccessPolicy: stateful.artifactAccessPolicy,
    traceSpansPolicy: stateful.traceSpansPolicy,
    eventBus: stateful.eventBus,
    accessTable: stateful.accessTable,
    artifactEdgePolicy: stateful.artifactEdgePolicy,
    edge: { stackId: `${prefix}-Edge`, functionName: edgeName },
    adminPrincipals: options.adminPrincipals,
    defaultPermission: options.defaultPermission,
    rateLimit: options.apiRateLimit,
    burstLimit: options.apiBurstLimit,
    alarms: stateful.alarms,
  });
  // The access layer of the functions outside the API stack: the same table and settings.
  const access = {
    table: stateful.accessTable,
    adminPrincipals: options.adminPrincipals,
    defaultPermission: options.defaultPermission,
  };
  const deployments = new DeploymentsStack(app, `${prefix}-Deployments`, {
    env,
    apis: api.apis,
    access,
    deploymentsTable: stateful.deploymentsTable,
    registryTable: stateful.registryTable,
    eventBus: stateful.eventBus,
    artifactBucket: stateful.artifactBucket,
    artifactReadPolicy: stateful.artifactReadPolicy,
    sageMakerModelPolicy: stateful.sageMakerModelPolicy,
    sagemaker,
    alarms: stateful.alarms,
  });
  const serving = new ServingStack(app, `${prefix}-Serving`, {
    env,
    apis: api.apis,
    access,
    deploymentsTable: stateful.deploymentsTable,
    artifactBucket: stateful.artifactBucket,
    modelServingPolicy: stateful.modelServingPolicy,
    captureFlushSeconds: options.captureFlushSeconds,
  });
  const pipelines = new PipelinesStack(app, `${prefix}-Pipelines`, {
    env,
    trackingTable: stateful.trackingTable,
    registryTable: stateful.registryTable,
    artifactBucket: stateful.artifactBucket,
    artifactPolicy: stateful.pipelineArtifactPolicy,
    trainingJobDataPolicy: stateful.trainingJobDataPolicy,
    eventBus: stateful.eventBus,
    apis: api.apis,
    access,
    trainingImageRepositories: options.trainingImageRepositories ?? ['runway-training'],
    alarms: stateful.alarms,
  });
  const monitoring = new MonitoringStack(app, `${prefix}-Monitoring`, {
    env,
    apis: api.apis,
    access,
    monitoringTable: stateful.monitoringTable,
    deploymentsTable: stateful.deploymentsTable,
    registryTable: stateful.registryTable,
    trackingTable: stateful.trackingTable,
    artifactBucket: stateful.artifactBucket,
    monitorRunPolicy: stateful.monitorRunPolicy,
    monitoringApiPolicy: stateful.monitoringApiPolicy,
    eventBus: stateful.eventBus,
    trainingPipeline: pipelines.training.stateMachine,
    alarms: stateful.alarms,
  });
  return { stateful, api, deployments, serving, pipelines, monitoring };
}
