import * as z from 'zod';
import { logger as defaultLogger, type Logger } from '../../platform/logger.ts';
import { type Clock, systemClock } from '../ports.ts';
import type { WebhookEventName } from './model.ts';
import type { ModelReader, SendOutcome, StoredWebhook, WebhookRepository, WebhookSender } from './ports.ts';
import {
  type DeliverableRegistryEvent,
  needsModel,
  parseDeliverableEvent,
  webhookEventOf,
  webhookPayloadOf,
} from './registry-events.mapper.ts';
import { deliveryHeaders, deliveryIdFor, webhookBody } from './signing.ts';

export interface DeliveryOptions {
  /** Attempts per webhook, counting the first. @default 3 */
  maxAttempts: number;
  /** The wait before the second attempt, doubled for each further one. @default 1000 ms */
  retryBaseMs: number;
  /** Per attempt, connect to last byte. @default 10 000 ms */
  timeoutMs: number;
  /** Webhooks delivered to at once. @default 8 */
  concurrency: number;
  /** The longest `Retry-After` honoured; a longer one waits the backoff instead. @default 10 000 ms */
  maxRetryAfterMs: number;
}

export interface WebhookDeliveryDeps {
  webhooks: WebhookRepository;
  models: ModelReader;
  sender: WebhookSender;
  options: DeliveryOptions;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  logger?: Logger;
}

/** What one registry event came to. */
export interface DeliveryReport {
  event: WebhookEventName | undefined;
  subscribers: number;
  delivered: number;
  deadLettered: number;
  skipped?: 'not-a-webhook-event' | 'invalid-event' | 'no-subscribers' | 'prompt';
}

/**
 * Delivers registry events to MLflow webhooks: maps the event (`registry-events.mapper.ts`), finds
 * the ACTIVE webhooks subscribed to it (one Query), reads the model when the payload needs it, and
 * POSTs the signed body to each webhook, independently and a few at a time.
 *
 * Each webhook gets up to `maxAttempts` attempts with exponential backoff; network failures,
 * timeouts, 408, 425, 429 and 5xx are retried, other answers are final (a 401 stays a 401), and a URL
 * the SSRF guard refuses is never sent to. A delivery that does not succeed becomes a dead letter
 * (`WebhookRepository.recordDeadLetter`) and does not fail the others. Only a failure to read or
 * record state throws, so the platform retries the whole event: deliveries that had succeeded are
 * then sent again under the same delivery id, which receivers deduplicate on.
 */
export class WebhookDeliveryService {
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly log: Logger;

  constructor(private readonly deps: WebhookDeliveryDeps) {
    this.clock = deps.clock ?? systemClock;
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.log = deps.logger ?? defaultLogger;
  }

  async deliver(input: { detailType: string; detail: unknown }): Promise<DeliveryReport> {
    let event: DeliverableRegistryEvent | undefined;
    try {
      event = parseDeliverableEvent(input.detailType, input.detail);
    } catch (error) {
      if (!(error instanceof z.ZodError)) throw error;
      // A bug upstream that no retry fixes: logged, and left to the bus archive for a replay.
      this.log.error('registry event does not match its schema; not delivered', {
        detailType: input.detailType,
        issues: error.issues.slice(0, 5),
      });
      return report(undefined, 'invalid-event');
    }
    const webhookEvent = event && webhookEventOf(event);
    if (!event || !webhookEvent) return report(undefined, 'not-a-webhook-event');

    const subscribers = await this.deps.webhooks.listActiveSubscribers(webhookEvent);
    if (subscribers.length === 0) return report(webhookEvent, 'no-subscribers');
    // The model is read only when someone listens and the event lacks what MLflow sends.
    const model = needsModel(event) ? await this.deps.models.get(event.detail.modelName) : undefined;
    const data = webhookPayloadOf(event, model);
    if (!data) return { ...report(webhookEvent, 'prompt'), subscribers: subscribers.length };

    const body = webhookBody(webhookEvent, Date.parse(event.detail.occurredAt), data);
    const results = await settleAll(subscribers, this.deps.options.concurrency, (webhook) =>
      this.deliverTo(webhook, event, webhookEvent, body),
    );
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    const delivered = results.filter((result) => result.status === 'fulfilled' && result.value).length;
    return {
      event: webhookEvent,
      subscribers: subscribers.length,
      delivered,
      deadLettered: subscribers.length - delivered,
    };
  }

  /** One webhook: attempts, then a dead letter. Resolves whether it was delivered. */
  private async deliverTo(
    webhook: StoredWebhook,
    event: DeliverableRegistryEvent,
    webhookEvent: WebhookEventName,
    body: string,
  ): Promise<boolean> {
    const { maxAttempts, timeoutMs } = this.deps.options;
    const deliveryId = deliveryIdFor(event.detail.idempotencyKey, webhook.webhookId);
    const fields = { webhookId: webhook.webhookId, deliveryId, event: webhookEvent };
    let outcome: SendOutcome = { kind: 'failed', message: 'not attempted' };
    let attempts = 0;
    while (attempts < maxAttempts) {
      attempts++;
      outcome = await this.deps.sender.send({
        url: webhook.url,
        body,
        headers: deliveryHeaders({
          deliveryId,
          timestampSeconds: Math.floor(this.clock.now() / 1000),
          body,
          secret: webhook.secret,
        }),
        timeoutMs,
      });
      if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
        this.log.info('webhook delivered', { ...fields, status: outcome.status, attempts });
        return true;
      }
      if (!retryable(outcome) || attempts >= maxAttempts) break;
      const wait = this.backoff(attempts, outcome);
      this.log.info('webhook attempt failed; retrying', {
        ...fields,
        attempts,
        waitMs: wait,
        error: describe(outcome),
      });
      await this.sleep(wait);
    }
    const failedAt = this.clock.now();
    await this.deps.webhooks.recordDeadLetter({
      deliveryId,
      webhookId: webhook.webhookId,
      event: webhookEvent,
      source: { detailType: event.name, idempotencyKey: event.detail.idempotencyKey },
      body,
      attempts,
      lastStatus: outcome.kind === 'response' ? outcome.status : undefined,
      lastError: describe(outcome),
      failedAt,
    });
    this.log.warn('webhook delivery failed; dead letter recorded', {
      ...fields,
      attempts,
      error: describe(outcome),
    });
    return false;
  }

  private backoff(attempt: number, outcome: SendOutcome): number {
    const { retryBaseMs, maxRetryAfterMs } = this.deps.options;
    const exponential = retryBaseMs * 2 ** (attempt - 1);
    const asked = outcome.kind === 'response' ? outcome.retryAfterMs : undefined;
    return asked !== undefined && asked <= maxRetryAfterMs ? Math.max(exponential, asked) : exponential;
  }
}

/** What is worth another attempt: the network, timeouts, and answers that say "later". */
function retryable(outcome: SendOutcome): boolean {
  if (outcome.kind === 'failed') return true;
  if (outcome.kind === 'refused') return false;
  return outcome.status === 408 || outcome.status === 425 || outcome.status === 429 || outcome.status >= 500;
}

/** A short reason, without the receiver's body (it is the receiver's data, not ours to keep). */
function describe(outcome: SendOutcome): string {
  switch (outcome.kind) {
    case 'response':
      return outcome.status >= 300 && outcome.status < 400
        ? `HTTP ${outcome.status} (redirects are not followed)`
        : `HTTP ${outcome.status}`;
    case 'refused':
      return `refused: ${outcome.message}`;
    case 'failed':
      return outcome.message;
  }
}

function report(event: WebhookEventName | undefined, skipped: DeliveryReport['skipped']): DeliveryReport {
  return { event, subscribers: 0, delivered: 0, deadLettered: 0, skipped };
}

/** Runs `work` on every item, at most `limit` at a time (a slow receiver holds one slot only). */
async function settleAll<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await work(items[index] as T) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
