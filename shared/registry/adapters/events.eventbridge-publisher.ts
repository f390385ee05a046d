import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { eventBridgeClient } from '../../platform/aws/eventbridge.ts';
import { logger as defaultLogger, type Logger } from '../../platform/logger.ts';
import { type RegistryEvent, registryEventModule } from '../events/index.ts';
import type { RegistryEventPublisher } from '../ports.ts';

/** PutEvents takes at most 10 entries. */
const MAX_ENTRIES = 10;

export interface EventBridgePublisherOptions {
  /** Attempts per entry, counting the first; the SDK's own retries (throttling, 5xx) come on top. @default 3 */
  attempts?: number;
  /** @default 50 ms, doubled each retry */
  retryDelayMs?: number;
  logger?: Logger;
}

/**
 * Publishes registry events to the Runway bus. The change is already stored when this runs, so
 * nothing here may fail the API call: entries EventBridge refuses (or a request that fails) are
 * retried a couple of times and then logged as errors with their idempotency keys; the deploy side's
 * reconciler repairs whatever a lost event would have triggered. A detail that does not match its
 * schema is a bug: it is logged and not sent.
 */
export class EventBridgeRegistryPublisher implements RegistryEventPublisher {
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly log: Logger;

  constructor(
    private readonly busName: string,
    private readonly client: EventBridgeClient = eventBridgeClient(),
    options: EventBridgePublisherOptions = {},
  ) {
    this.attempts = options.attempts ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 50;
    this.log = options.logger ?? defaultLogger;
  }

  async publish(events: readonly RegistryEvent[]): Promise<void> {
    const entries = events.flatMap((event) => this.toEntry(event));
    for (let start = 0; start < entries.length; start += MAX_ENTRIES) {
      await this.send(entries.slice(start, start + MAX_ENTRIES));
    }
  }

  private toEntry(event: RegistryEvent): PutEventsRequestEntry[] {
    const module = registryEventModule(event.name);
    const checked = module?.schema.safeParse(event.detail);
    if (!module || !checked?.success) {
      this.log.error('registry event not published: its detail does not match its schema', {
        detailType: event.name,
        idempotencyKey: event.detail.idempotencyKey,
        issues: checked?.error?.issues.slice(0, 5),
      });
      return [];
    }
    return [
      {
        EventBusName: this.busName,
        Source: module.source,
        DetailType: module.name,
        Detail: JSON.stringify(event.detail),
        Time: new Date(String(event.detail.occurredAt)),
      },
    ];
  }

  private async send(batch: PutEventsRequestEntry[]): Promise<void> {
    let pending = batch;
    let lastError = '';
    for (let attempt = 1; attempt <= this.attempts && pending.length > 0; attempt++) {
      if (attempt > 1) await sleep(this.retryDelayMs * 2 ** (attempt - 2));
      try {
        const result = await this.client.send(new PutEventsCommand({ Entries: pending }));
        // Entries answer in request order; keep those that failed for the next attempt.
        const failed = pending.filter((_entry, index) => result.Entries?.[index]?.ErrorCode !== undefined);
        lastError = result.Entries?.find((entry) => entry.ErrorCode)?.ErrorMessage ?? lastError;
        pending = failed;
      } catch (error) {
        lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
    }
    for (const entry of pending) {
      this.log.error('registry event not published', {
        detailType: entry.DetailType,
        idempotencyKey: idempotencyKeyOf(entry),
        attempts: this.attempts,
        error: lastError,
      });
    }
  }
}

function idempotencyKeyOf(entry: PutEventsRequestEntry): unknown {
  try {
    return (JSON.parse(entry.Detail ?? '{}') as { idempotencyKey?: unknown }).idempotencyKey;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
