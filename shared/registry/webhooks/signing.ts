import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { eventParts, type WebhookEventName } from './model.ts';
import { type PythonJsonValue, pythonJsonDumps } from './python-json.ts';

/**
 * MLflow's delivery format (mlflow/webhooks/delivery.py and constants.py), which follows the
 * Standard Webhooks conventions: the body is `{"entity", "action", "timestamp", "data"}`, and the
 * headers carry a delivery id, a Unix timestamp and, when the webhook has a secret, an HMAC-SHA256
 * signature of `<delivery id>.<timestamp>.<body>` as `v1,<base64>`.
 */
export const WEBHOOK_HEADERS = {
  signature: 'X-MLflow-Signature',
  timestamp: 'X-MLflow-Timestamp',
  deliveryId: 'X-MLflow-Delivery-Id',
} as const;

export const SIGNATURE_VERSION = 'v1';

/** MLflow's `_generate_hmac_signature`. */
export function signPayload(secret: string, deliveryId: string, timestamp: string, payload: string): string {
  const digest = createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(Buffer.from(`${deliveryId}.${timestamp}.${payload}`, 'utf8'))
    .digest('base64');
  return `${SIGNATURE_VERSION},${digest}`;
}

/**
 * What a receiver does (MLflow's documented check): recompute the signature over the raw body and
 * compare in constant time. Runway's tests verify deliveries with it.
 */
export function verifySignature(input: {
  secret: string;
  deliveryId: string;
  timestamp: string;
  payload: string;
  signature: string;
}): boolean {
  if (!input.signature.startsWith(`${SIGNATURE_VERSION},`)) return false;
  const expected = Buffer.from(
    signPayload(input.secret, input.deliveryId, input.timestamp, input.payload),
    'utf8',
  );
  const given = Buffer.from(input.signature, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The delivery id of one registry change to one webhook: a UUID (as MLflow sends, in the RFC 9562
 * version 8 layout) derived from the event's idempotency key and the webhook id. A re-published
 * event, or a retried invocation, delivers under the same id, so receivers can deduplicate on it.
 */
export function deliveryIdFor(idempotencyKey: string, webhookId: string): string {
  const bytes = createHash('sha256')
    .update(JSON.stringify([idempotencyKey, webhookId]))
    .digest();
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The request body, as MLflow's `json.dumps` writes it. */
export function webhookBody(
  event: WebhookEventName,
  occurredAtMs: number,
  data: Record<string, PythonJsonValue>,
): string {
  const { entity, action } = eventParts(event);
  return pythonJsonDumps({
    entity: entity.toLowerCase(),
    action: action.toLowerCase(),
    timestamp: pythonIsoTimestamp(occurredAtMs),
    data,
  });
}

/**
 * Python's `datetime.now(timezone.utc).isoformat()`: microseconds, left out when zero, and `+00:00`.
 * MLflow stamps the send time; Runway stamps the time the change was stored, so every retry of a
 * delivery carries the same body.
 */
export function pythonIsoTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  const millis = ms % 1000;
  const seconds = iso.slice(0, 19);
  return millis === 0 ? `${seconds}+00:00` : `${seconds}.${String(millis * 1000).padStart(6, '0')}+00:00`;
}

/** The headers of one attempt: the timestamp is the attempt's, and signed with the body. */
export function deliveryHeaders(input: {
  deliveryId: string;
  timestampSeconds: number;
  body: string;
  secret: string | undefined;
}): Record<string, string> {
  const timestamp = String(input.timestampSeconds);
  return {
    'Content-Type': 'application/json',
    [WEBHOOK_HEADERS.deliveryId]: input.deliveryId,
    [WEBHOOK_HEADERS.timestamp]: timestamp,
    ...(input.secret
      ? { [WEBHOOK_HEADERS.signature]: signPayload(input.secret, input.deliveryId, timestamp, input.body) }
      : {}),
  };
}
