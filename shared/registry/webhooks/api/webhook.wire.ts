import * as z from 'zod';
import {
  eventParts,
  validateEvent,
  WEBHOOK_ACTIONS,
  WEBHOOK_ENTITIES,
  WEBHOOK_STATUSES,
  type Webhook,
  type WebhookActionName,
  type WebhookEntityName,
  type WebhookEventName,
  type WebhookStatus,
  type WebhookTestResult,
} from '../model.ts';

/**
 * MLflow's webhook messages in protobuf JSON (mlflow/protos/webhooks.proto): enums by name (numbers
 * are accepted on input, as protobuf JSON allows), timestamps as numbers, an empty description left
 * out, and never a secret.
 */
export interface WebhookWire {
  webhook_id: string;
  name: string;
  description?: string;
  url: string;
  events: Array<{ entity: WebhookEntityName; action: WebhookActionName }>;
  status: WebhookStatus;
  creation_timestamp: number;
  last_updated_timestamp: number;
}

export interface WebhookTestResultWire {
  success: boolean;
  response_status?: number;
  response_body?: string;
  error_message?: string;
}

export function webhookToWire(webhook: Webhook): WebhookWire {
  return {
    webhook_id: webhook.webhookId,
    name: webhook.name,
    ...(webhook.description ? { description: webhook.description } : {}),
    url: webhook.url,
    events: webhook.events.map(eventParts),
    status: webhook.status,
    creation_timestamp: webhook.creationTimestamp,
    last_updated_timestamp: webhook.lastUpdatedTimestamp,
  };
}

export function testResultToWire(result: WebhookTestResult): WebhookTestResultWire {
  return {
    success: result.success,
    ...(result.responseStatus !== undefined ? { response_status: result.responseStatus } : {}),
    ...(result.responseBody ? { response_body: result.responseBody } : {}),
    ...(result.errorMessage ? { error_message: result.errorMessage } : {}),
  };
}

/** A protobuf enum field: its name, or its number. */
function protoEnum<T extends Record<string, number>>(values: T) {
  const names = Object.keys(values) as Array<keyof T & string>;
  const byNumber = new Map(Object.entries(values).map(([name, number]) => [number, name]));
  return z.union([
    z.enum(names as [keyof T & string, ...Array<keyof T & string>]),
    z
      .number()
      .int()
      .transform((number, context) => {
        const name = byNumber.get(number);
        if (name === undefined) {
          context.addIssue({ code: 'custom', message: `must be one of ${names.join(', ')}` });
          return z.NEVER;
        }
        return name as keyof T & string;
      }),
  ]);
}

/** `WebhookEvent`: `{"entity": "MODEL_VERSION", "action": "CREATED"}`, checked as MLflow checks it. */
export const webhookEventInput = () =>
  z
    .object({ entity: protoEnum(WEBHOOK_ENTITIES), action: protoEnum(WEBHOOK_ACTIONS) })
    .transform(({ entity, action }): { entity: WebhookEntityName; action: WebhookActionName } => ({
      entity,
      action,
    }));

export const webhookStatusInput = () => protoEnum(WEBHOOK_STATUSES);

/** Wire events to their dotted names; an invalid combination is MLflow's 400. */
export function eventNames(
  events: ReadonlyArray<{ entity: WebhookEntityName; action: WebhookActionName }>,
): WebhookEventName[] {
  return events.map(({ entity, action }) => validateEvent(entity, action));
}
