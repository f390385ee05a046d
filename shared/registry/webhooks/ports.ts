import type { ModelState } from '../ports.ts';
import type { Webhook, WebhookEventName, WebhookStatus } from './model.ts';

/** A webhook as stored: the API view plus its secret, which only delivery reads. */
export interface StoredWebhook extends Webhook {
  secret: string | undefined;
}

export interface NewWebhook {
  name: string;
  description: string | undefined;
  url: string;
  events: WebhookEventName[];
  secret: string | undefined;
  status: WebhookStatus;
  creationTimestamp: number;
}

/** Fields an update sets; an absent field keeps its value (MLflow cannot clear a field either). */
export interface WebhookChanges {
  name?: string | undefined;
  description?: string | undefined;
  url?: string | undefined;
  events?: WebhookEventName[] | undefined;
  secret?: string | undefined;
  status?: WebhookStatus | undefined;
}

/** A failed delivery, kept for an operator to inspect (and replay: the body is the signed one). */
export interface DeadLetter {
  deliveryId: string;
  webhookId: string;
  event: WebhookEventName;
  /** The registry event that caused it: its EventBridge detail-type and idempotency key. */
  source: { detailType: string; idempotencyKey: string };
  /** The exact body that was sent (signed per attempt with the attempt's timestamp). */
  body: string;
  attempts: number;
  /** The last HTTP status, when the receiver answered at all. */
  lastStatus: number | undefined;
  lastError: string;
  failedAt: number;
}

/**
 * Storage for webhooks and their dead letters. Reads are strongly consistent, so a webhook that was
 * just disabled, changed or deleted is not delivered to with its old settings.
 */
export interface WebhookRepository {
  create(webhook: NewWebhook): Promise<StoredWebhook>;
  /** `undefined` when there is no such webhook. */
  get(webhookId: string): Promise<StoredWebhook | undefined>;
  /** Newest first. Throws `InvalidParameterError` for a page token it did not issue. */
  list(
    maxResults: number,
    pageToken: string | undefined,
  ): Promise<{ webhooks: StoredWebhook[]; nextPageToken?: string }>;
  /** Throws `ResourceDoesNotExistError` when there is no such webhook. */
  update(webhookId: string, changes: WebhookChanges, now: number): Promise<StoredWebhook>;
  /** Throws `ResourceDoesNotExistError` when there is no such webhook. */
  delete(webhookId: string): Promise<void>;
  /** Every ACTIVE webhook subscribed to the event. */
  listActiveSubscribers(event: WebhookEventName): Promise<StoredWebhook[]>;
  /** Records a failed delivery; recording one delivery again replaces it (retried invocations). */
  recordDeadLetter(deadLetter: DeadLetter): Promise<void>;
}

/** Reads a model as it is now, to build payloads that need more than the event carries. */
export interface ModelReader {
  get(name: string): Promise<ModelState | undefined>;
}

/** One HTTP POST to a webhook. */
export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/**
 * What came of one attempt: the receiver's answer (any status; redirects are answers too, never
 * followed), a refusal by the SSRF guard (never retried), or a network failure or timeout.
 */
export type SendOutcome =
  | { kind: 'response'; status: number; body: string; retryAfterMs?: number | undefined }
  | { kind: 'refused'; message: string }
  | { kind: 'failed'; message: string };

/** Sends webhook requests; implementations never throw for what a receiver or the network does. */
export interface WebhookSender {
  send(request: WebhookRequest): Promise<SendOutcome>;
}
