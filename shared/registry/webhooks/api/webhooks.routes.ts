import * as z from 'zod';
import { defineOperation, type Operation } from '../../../platform/http/operation.ts';
import { int64 } from '../../../platform/http/wire.ts';
import type { WebhookService } from '../webhook.service.ts';
import {
  eventNames,
  testResultToWire,
  webhookEventInput,
  webhookStatusInput,
  webhookToWire,
} from './webhook.wire.ts';

// Ids are UUIDs; the bound keeps any id within DynamoDB's 1 KB sort key (4 bytes a character at most).
const webhookId = z.string().min(1).max(200);

/**
 * MLflow's webhooks API (webhooks.proto, MLflow 3.3), under `/api/2.0/` and `/ajax-api/2.0/`:
 * `mlflow/webhooks` (POST create, GET list) and `mlflow/webhooks/{webhook_id}` (GET, PATCH, DELETE),
 * `mlflow/webhooks/{webhook_id}/test` (POST). The path's id wins over one in the body.
 */
export function webhookOperations(service: WebhookService): Operation[] {
  return [
    defineOperation({
      method: 'POST',
      path: 'mlflow/webhooks',
      input: z.object({
        name: z.string(),
        url: z.string(),
        events: z.array(webhookEventInput()),
        description: z.string().optional(),
        secret: z.string().optional(),
        status: webhookStatusInput().optional(),
      }),
      handle: async ({ events, ...input }) => ({
        webhook: webhookToWire(await service.create({ ...input, events: eventNames(events) })),
      }),
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/webhooks',
      input: z.object({ max_results: int64().optional(), page_token: z.string().optional() }),
      handle: async ({ max_results, page_token }) => {
        const page = await service.list({ maxResults: max_results, pageToken: page_token });
        return {
          ...(page.webhooks.length > 0 ? { webhooks: page.webhooks.map(webhookToWire) } : {}),
          ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
        };
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'mlflow/webhooks/{webhook_id}',
      input: z.object({ webhook_id: webhookId }),
      handle: async ({ webhook_id }) => ({ webhook: webhookToWire(await service.get(webhook_id)) }),
    }),
    defineOperation({
      method: 'PATCH',
      path: 'mlflow/webhooks/{webhook_id}',
      input: z.object({
        webhook_id: webhookId,
        name: z.string().optional(),
        description: z.string().optional(),
        url: z.string().optional(),
        events: z.array(webhookEventInput()).optional(),
        secret: z.string().optional(),
        status: webhookStatusInput().optional(),
      }),
      handle: async ({ webhook_id, events, ...input }) => ({
        webhook: webhookToWire(
          await service.update(webhook_id, { ...input, events: events && eventNames(events) }),
        ),
      }),
    }),
    defineOperation({
      method: 'DELETE',
      path: 'mlflow/webhooks/{webhook_id}',
      input: z.object({ webhook_id: webhookId }),
      handle: async ({ webhook_id }) => {
        await service.delete(webhook_id);
        return {};
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'mlflow/webhooks/{webhook_id}/test',
      input: z.object({ webhook_id: webhookId, event: webhookEventInput().optional() }),
      handle: async ({ webhook_id, event }) => ({
        result: testResultToWire(await service.test(webhook_id, event && eventNames([event])[0])),
      }),
    }),
  ];
}
