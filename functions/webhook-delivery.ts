/**
 * Lambda entry point for webhook delivery: the target of the EventBridge rule that matches the
 * registry events MLflow has webhooks for. It throws only when it cannot read or record state, so
 * that the platform retries the event; a receiver that fails gets a dead letter instead.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { logger } from '../shared/platform/logger.ts';
import { createWebhookDelivery, webhookDeliveryConfig } from '../shared/registry/webhooks/webhooks.module.ts';

const { service } = createWebhookDelivery(webhookDeliveryConfig());

export const handler = async (event: EventBridgeEvent<string, unknown>) => {
  logger.setContext({ eventId: event.id, detailType: event['detail-type'] });
  const report = await service.deliver({ detailType: event['detail-type'], detail: event.detail });
  logger.info('registry event handled', { ...report });
  return report;
};
