/**
 * Lambda entry point for the rule that matches drift and quality events of monitors with a `retrain`
 * action: starts the training pipeline (once per monitor run, at most once per cooldown). It throws
 * only when it cannot read state or start the execution, so EventBridge retries the event.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { createRetrainService, retrainConfig } from '../shared/monitoring/monitoring.module.ts';
import { logger } from '../shared/platform/logger.ts';

const service = createRetrainService(retrainConfig());

export const handler = async (event: EventBridgeEvent<string, unknown>) => {
  logger.setContext({ eventId: event.id, detailType: event['detail-type'] });
  const decision = await service.handle(event['detail-type'], event.detail);
  logger.info('monitoring event handled', { decision });
  return decision;
};
