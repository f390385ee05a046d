import type { App, Environment } from 'aws-cdk-lib';
import { ApiStack } from './stacks/api.stack.ts';
import { DeploymentsStack } from './stacks/deployments.stack.ts';
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
}

/** The stacks of one Runway deployment: the stateful stack first, stateless stacks taking its resources. */
export function defineRunwayApp(app: App, options: RunwayAppOptions = {}) {
  const prefix = options.prefix ?? 'Runway';
  const env = options.env;
  const stateful = new StatefulStack(app, `${prefix}-Stateful`, { env });
  const api = new ApiStack(app, `${prefix}-Api`, {
    env,
    trackingTable: stateful.trackingTable,
    registryTable: stateful.registryTable,
    artifactBucket: stateful.artifactBucket,
    artifactAccessPolicy: stateful.artifactAccessPolicy,
    eventBus: stateful.eventBus,
    accessTable: stateful.accessTable,
    adminPrincipals: options.adminPrincipals,
    defaultPermission: options.defaultPermission,
    rateLimit: options.apiRateLimit,
    burstLimit: options.apiBurstLimit,
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
  });
  const serving = new ServingStack(app, `${prefix}-Serving`, {
    env,
    apis: api.apis,
    access,
    deploymentsTable: stateful.deploymentsTable,
    artifactBucket: stateful.artifactBucket,
    modelServingPolicy: stateful.modelServingPolicy,
  });
  const pipelines = new PipelinesStack(app, `${prefix}-Pipelines`, {
    env,
    trackingTable: stateful.trackingTable,
    registryTable: stateful.registryTable,
    artifactBucket: stateful.artifactBucket,
    artifactAccessPolicy: stateful.artifactAccessPolicy,
    eventBus: stateful.eventBus,
  });
  return { stateful, api, deployments, serving, pipelines };
}
