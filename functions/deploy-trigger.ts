/**
 * Lambda entry point for the rule that matches registry promotions (alias set, stage transitioned):
 * starts the deploys of the endpoints that follow the alias or stage. It throws only when it cannot
 * read state or start an execution, so EventBridge retries the event (then its dead-letter queue).
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { createEndpointDirectory } from '../shared/deployments/deploy/adapters/endpoint-directory.ts';
import { createDeployTrigger, deployStarterConfig } from '../shared/deployments/deploy/deploy.module.ts';
import { logger } from '../shared/platform/logger.ts';

const config = deployStarterConfig();
const trigger = createDeployTrigger(config, createEndpointDirectory(config.DEPLOYMENTS_TABLE_NAME));

export const handler = async (event: EventBridgeEvent<string, unknown>) => {
  logger.setContext({ eventId: event.id, detailType: event['detail-type'] });
  const decisions = await trigger.handle(event['detail-type'], event.detail);
  logger.info('promotion event handled', { decisions });
  return { decisions };
};
