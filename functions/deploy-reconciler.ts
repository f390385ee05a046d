/**
 * Lambda entry point for the reconciler's schedule: starts the deploys that registry events missed.
 */
import { createEndpointDirectory } from '../shared/deployments/deploy/adapters/endpoint-directory.ts';
import { createReconciler, deployStarterConfig } from '../shared/deployments/deploy/deploy.module.ts';
import { logger } from '../shared/platform/logger.ts';

const config = deployStarterConfig();
const reconciler = createReconciler(config, createEndpointDirectory(config.DEPLOYMENTS_TABLE_NAME));

export const handler = async () => {
  const report = await reconciler.reconcile();
  logger.info('reconciled', { endpoints: report.endpoints, started: report.started });
  return report;
};
