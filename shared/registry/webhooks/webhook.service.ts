import { randomUUID } from 'node:crypto';
import { InvalidParameterError } from '../../platform/errors.ts';
import { type Clock, systemClock } from '../ports.ts';
import {
  validateEvents,
  validateWebhookDescription,
  validateWebhookName,
  validateWebhookSecret,
  WEBHOOK_LIMITS,
  type Webhook,
  type WebhookEventName,
  type WebhookStatus,
  type WebhookTestResult,
  webhookNotFound,
} from './model.ts';
import type { StoredWebhook, WebhookChanges, WebhookRepository, WebhookSender } from './ports.ts';
import { examplePayloadOf } from './registry-events.mapper.ts';
import { deliveryHeaders, webhookBody } from './signing.ts';
import type { TargetGuard } from './ssrf/target-guard.ts';

export interface WebhookServiceDeps {
  repository: WebhookRepository;
  guard: TargetGuard;
  sender: WebhookSender;
  /** Per request of `test` (one attempt: the API answers within API Gateway's 29 s). */
  timeoutMs: number;
  clock?: Clock;
}

export interface CreateWebhookInput {
  name: string;
  url: string;
  events: WebhookEventName[];
  description?: string | undefined;
  secret?: string | undefined;
  status?: WebhookStatus | undefined;
}

/**
 * MLflow's webhooks API (create, list, get, update, delete, test) with its rules and messages. URLs
 * go through the SSRF guard on create and update, and again when `test` sends. Every method answers
 * `Webhook`, which has no secret: the secret is written, never read back through the API.
 */
export class WebhookService {
  private readonly clock: Clock;

  constructor(private readonly deps: WebhookServiceDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  async create(input: CreateWebhookInput): Promise<Webhook> {
    const name = validateWebhookName(input.name);
    const events = validateEvents(input.events);
    const url = await this.deps.guard.validate(input.url);
    const stored = await this.deps.repository.create({
      name,
      url,
      events,
      // MLflow stores `description or None` and `secret or None`: "" is no value.
      description: input.description ? validateWebhookDescription(input.description) : undefined,
      secret: input.secret ? validateWebhookSecret(input.secret) : undefined,
      status: input.status ?? 'ACTIVE',
      creationTimestamp: this.clock.now(),
    });
    return view(stored);
  }

  async get(webhookId: string): Promise<Webhook> {
    return view(await this.require(webhookId));
  }

  async list(input: {
    maxResults?: number | undefined;
    pageToken?: string | undefined;
  }): Promise<{ webhooks: Webhook[]; nextPageToken?: string }> {
    const maxResults = input.maxResults ?? WEBHOOK_LIMITS.listDefault;
    if (maxResults < 1 || maxResults > WEBHOOK_LIMITS.listMax) {
      throw new InvalidParameterError(
        `Invalid value ${maxResults} for parameter 'max_results' supplied: it must be between 1 and ${WEBHOOK_LIMITS.listMax}`,
      );
    }
    const page = await this.deps.repository.list(maxResults, input.pageToken || undefined);
    return { ...page, webhooks: page.webhooks.map(view) };
  }

  /** MLflow's update: every field is optional, and an empty one ("", []) leaves the field as it is. */
  async update(webhookId: string, input: Partial<CreateWebhookInput>): Promise<Webhook> {
    const changes: WebhookChanges = {
      name: input.name ? validateWebhookName(input.name) : undefined,
      description: input.description ? validateWebhookDescription(input.description) : undefined,
      url: input.url ? await this.deps.guard.validate(input.url) : undefined,
      events: input.events?.length ? validateEvents(input.events) : undefined,
      secret: input.secret ? validateWebhookSecret(input.secret) : undefined,
      status: input.status,
    };
    return view(await this.deps.repository.update(webhookId, changes, this.clock.now()));
  }

  async delete(webhookId: string): Promise<void> {
    await this.deps.repository.delete(webhookId);
  }

  /**
   * MLflow's `test_webhook`: sends the example payload of `event` (default: the webhook's first
   * event) now, signed as a delivery is, and reports what came back. A URL the guard refuses, or a
   * network failure, is a result with `success: false` and an error message, as in MLflow; the
   * request is never sent to a refused address. Success means a 2xx answer (a redirect is not
   * followed, so it is not a success).
   */
  async test(webhookId: string, event: WebhookEventName | undefined): Promise<WebhookTestResult> {
    const webhook = await this.require(webhookId);
    const testEvent = event ?? webhook.events[0];
    if (!testEvent) throw new InvalidParameterError(`Webhook ${webhookId} has no events to test`);
    const now = this.clock.now();
    const body = webhookBody(testEvent, now, examplePayloadOf(testEvent));
    const outcome = await this.deps.sender.send({
      url: webhook.url,
      body,
      headers: deliveryHeaders({
        deliveryId: randomUUID(),
        timestampSeconds: Math.floor(now / 1000),
        body,
        secret: webhook.secret,
      }),
      timeoutMs: this.deps.timeoutMs,
    });
    switch (outcome.kind) {
      case 'response':
        return {
          success: outcome.status >= 200 && outcome.status < 300,
          responseStatus: outcome.status,
          responseBody: outcome.body,
          ...(outcome.status >= 300 && outcome.status < 400
            ? { errorMessage: `Redirects are not followed (HTTP ${outcome.status})` }
            : {}),
        };
      case 'refused':
      case 'failed':
        return { success: false, errorMessage: `Failed to test webhook: ${outcome.message}` };
    }
  }

  private async require(webhookId: string): Promise<StoredWebhook> {
    const webhook = await this.deps.repository.get(webhookId);
    if (!webhook) throw webhookNotFound(webhookId);
    return webhook;
  }
}

/** The API's view: everything but the secret. */
function view(webhook: StoredWebhook): Webhook {
  const { secret: _secret, ...rest } = webhook;
  return rest;
}
