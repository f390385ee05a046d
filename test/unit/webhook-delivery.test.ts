import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Logger } from '../../shared/platform/logger.ts';
import type { ModelState } from '../../shared/registry/ports.ts';
import {
  type DeliveryOptions,
  WebhookDeliveryService,
} from '../../shared/registry/webhooks/delivery.service.ts';
import type { WebhookEventName } from '../../shared/registry/webhooks/model.ts';
import type {
  DeadLetter,
  SendOutcome,
  StoredWebhook,
  WebhookRepository,
  WebhookRequest,
} from '../../shared/registry/webhooks/ports.ts';
import { deliveryIdFor, verifySignature } from '../../shared/registry/webhooks/signing.ts';

const read = <T>(path: string): T => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as T;
const state = read<ModelState>('../fixtures/webhooks/model-state.json');
// biome-ignore lint/suspicious/noExplicitAny: frozen fixtures are edited per test.
const event = (name: string): { 'detail-type': string; detail: any } =>
  read(`../fixtures/registry/events/${name}.v1.json`);

const NOW = Date.parse('2026-03-02T10:15:31.000Z');
const OPTIONS: DeliveryOptions = {
  maxAttempts: 3,
  retryBaseMs: 1000,
  timeoutMs: 5000,
  concurrency: 8,
  maxRetryAfterMs: 10_000,
};

function webhook(id: string, overrides: Partial<StoredWebhook> = {}): StoredWebhook {
  return {
    webhookId: id,
    name: id,
    description: undefined,
    url: `https://${id}.example.com/hook?token=url-secret`,
    events: ['model_version.created'],
    status: 'ACTIVE',
    secret: `secret-of-${id}`,
    creationTimestamp: 1,
    lastUpdatedTimestamp: 1,
    ...overrides,
  };
}

/** Everything delivery touches, faked: subscribers, the model, and receivers that answer from a script. */
function harness(
  subscribers: StoredWebhook[],
  scripts: Record<string, SendOutcome[]> = {},
  options: Partial<DeliveryOptions> = {},
  model: ModelState = state,
) {
  const queried: WebhookEventName[] = [];
  const deadLetters: DeadLetter[] = [];
  const requests: WebhookRequest[] = [];
  const waits: number[] = [];
  const lines: string[] = [];
  const modelReads: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const failures = { query: false, deadLetter: false };
  const repository = {
    async listActiveSubscribers(name: WebhookEventName) {
      if (failures.query) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      queried.push(name);
      return subscribers;
    },
    async recordDeadLetter(deadLetter: DeadLetter) {
      if (failures.deadLetter) throw new Error('table unavailable');
      deadLetters.push(deadLetter);
    },
  } as unknown as WebhookRepository;
  const service = new WebhookDeliveryService({
    webhooks: repository,
    models: {
      async get(name) {
        modelReads.push(name);
        return model;
      },
    },
    sender: {
      async send(request) {
        requests.push(request);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
        const host = new URL(request.url).hostname.split('.')[0] ?? '';
        return scripts[host]?.shift() ?? { kind: 'response', status: 200, body: '' };
      },
    },
    options: { ...OPTIONS, ...options },
    clock: { now: () => NOW + waits.reduce((sum, wait) => sum + wait, 0) },
    sleep: async (ms) => {
      waits.push(ms);
    },
    logger: new Logger({ level: 'debug', sink: (line) => lines.push(line) }),
  });
  return {
    service,
    queried,
    deadLetters,
    requests,
    waits,
    lines,
    modelReads,
    failures,
    maxInFlight: () => maxInFlight,
  };
}

const created = event('model-version.created');
const deliver = (h: ReturnType<typeof harness>, e = created) =>
  h.service.deliver({ detailType: e['detail-type'], detail: e.detail });
const header = (request: WebhookRequest | undefined, name: string) => request?.headers[name];

describe('webhook delivery', () => {
  it('POSTs the signed MLflow body to every ACTIVE subscriber, under a delivery id derived from the change', async () => {
    const h = harness([webhook('a'), webhook('b', { secret: undefined })]);
    const report = await deliver(h);
    expect(report).toEqual({ event: 'model_version.created', subscribers: 2, delivered: 2, deadLettered: 0 });
    expect(h.queried).toEqual(['model_version.created']);
    expect(h.modelReads).toEqual(['churn-classifier']);
    const [toA, toB] = h.requests;
    expect(JSON.parse(toA?.body ?? '')).toEqual({
      entity: 'model_version',
      action: 'created',
      timestamp: '2026-03-02T10:15:30.123000+00:00',
      data: {
        name: 'churn-classifier',
        version: '3',
        source: 'runs:/4f9d3c2b1a0e4d5f8a7b6c5d4e3f2a1b/model',
        run_id: '4f9d3c2b1a0e4d5f8a7b6c5d4e3f2a1b',
        tags: { framework: 'xgboost' },
        description: 'Gradient boosted trees',
      },
    });
    expect(header(toA, 'X-MLflow-Delivery-Id')).toBe(deliveryIdFor(created.detail.idempotencyKey, 'a'));
    expect(header(toA, 'X-MLflow-Timestamp')).toBe(String(Math.floor(NOW / 1000)));
    expect(
      verifySignature({
        secret: 'secret-of-a',
        deliveryId: String(header(toA, 'X-MLflow-Delivery-Id')),
        timestamp: String(header(toA, 'X-MLflow-Timestamp')),
        payload: toA?.body ?? '',
        signature: String(header(toA, 'X-MLflow-Signature')),
      }),
    ).toBe(true);
    expect(header(toB, 'X-MLflow-Signature')).toBeUndefined();
    expect(header(toB, 'X-MLflow-Delivery-Id')).not.toBe(header(toA, 'X-MLflow-Delivery-Id'));
    expect(toA?.timeoutMs).toBe(OPTIONS.timeoutMs);
  });

  it('reads nothing more and sends nothing when nobody subscribes, or the event has no MLflow webhook', async () => {
    const nobody = harness([]);
    expect(await deliver(nobody)).toMatchObject({
      event: 'model_version.created',
      skipped: 'no-subscribers',
    });
    expect(nobody.modelReads).toEqual([]);
    const other = harness([webhook('a')]);
    expect(await deliver(other, event('model-version.stage-transitioned'))).toMatchObject({
      event: undefined,
      skipped: 'not-a-webhook-event',
    });
    expect([other.queried, other.requests]).toEqual([[], []]);
  });

  it('retries network failures and 5xx with exponential backoff, resigning each attempt of one delivery', async () => {
    const h = harness([webhook('a')], {
      a: [
        { kind: 'failed', message: 'ECONNRESET: socket hang up' },
        { kind: 'response', status: 502, body: '' },
        { kind: 'response', status: 200, body: '' },
      ],
    });
    expect(await deliver(h)).toMatchObject({ delivered: 1, deadLettered: 0 });
    expect(h.waits).toEqual([1000, 2000]);
    expect(h.requests).toHaveLength(3);
    expect(new Set(h.requests.map((request) => request.body)).size).toBe(1);
    expect(new Set(h.requests.map((request) => header(request, 'X-MLflow-Delivery-Id'))).size).toBe(1);
    expect(h.requests.map((request) => header(request, 'X-MLflow-Timestamp'))).toEqual([
      String(Math.floor(NOW / 1000)),
      String(Math.floor((NOW + 1000) / 1000)),
      String(Math.floor((NOW + 3000) / 1000)),
    ]);
    expect(h.deadLetters).toEqual([]);
  });

  it('records a dead letter after the last attempt, without failing the other webhooks', async () => {
    const down: SendOutcome = { kind: 'response', status: 503, body: 'down' };
    const h = harness([webhook('a'), webhook('b')], { a: [down, down, down] });
    expect(await deliver(h)).toMatchObject({ subscribers: 2, delivered: 1, deadLettered: 1 });
    expect(h.deadLetters).toEqual([
      {
        deliveryId: deliveryIdFor(created.detail.idempotencyKey, 'a'),
        webhookId: 'a',
        event: 'model_version.created',
        source: {
          detailType: 'registry.model-version.created',
          idempotencyKey: created.detail.idempotencyKey,
        },
        body: h.requests.find((request) => request.url.includes('//a.'))?.body,
        attempts: 3,
        lastStatus: 503,
        lastError: 'HTTP 503',
        failedAt: NOW + 3000,
      },
    ]);
  });

  it.each([
    [{ kind: 'response', status: 401, body: 'bad signature' }, 'HTTP 401'],
    [{ kind: 'response', status: 404, body: '' }, 'HTTP 404'],
    [{ kind: 'response', status: 302, body: '' }, 'HTTP 302 (redirects are not followed)'],
    [{ kind: 'refused', message: "'a.example.com' resolves to 10.0.0.1 (private)" }, 'refused: '],
  ] satisfies Array<[SendOutcome, string]>)('does not retry a final answer: %j', async (outcome, error) => {
    const h = harness([webhook('a')], { a: [outcome] });
    await deliver(h);
    expect(h.requests).toHaveLength(1);
    expect(h.deadLetters[0]).toMatchObject({ attempts: 1 });
    expect(h.deadLetters[0]?.lastError.startsWith(error)).toBe(true);
  });

  it('retries 408, 425 and 429, waiting what Retry-After asks when it is not too long', async () => {
    const h = harness([webhook('a')], {
      a: [
        { kind: 'response', status: 429, body: '', retryAfterMs: 5000 },
        { kind: 'response', status: 429, body: '', retryAfterMs: 60_000 },
        { kind: 'response', status: 408, body: '' },
      ],
    });
    await deliver(h);
    expect(h.waits).toEqual([5000, 2000]);
    expect(h.deadLetters[0]).toMatchObject({ attempts: 3, lastStatus: 408 });
  });

  it('delivers to a few webhooks at a time', async () => {
    const h = harness(
      ['a', 'b', 'c', 'd', 'e'].map((id) => webhook(id)),
      {},
      { concurrency: 2 },
    );
    expect(await deliver(h)).toMatchObject({ delivered: 5 });
    expect(h.maxInFlight()).toBe(2);
  });

  it('sends nothing for prompts', async () => {
    const prompt = { ...state, model: { ...state.model, tags: { 'mlflow.prompt.is_prompt': 'true' } } };
    const h = harness([webhook('a', { events: ['model_version_tag.set'] })], {}, {}, prompt);
    const tagSet = event('model-version.tag-set');
    expect(await deliver(h, tagSet)).toMatchObject({ event: 'model_version_tag.set', skipped: 'prompt' });
    expect(h.requests).toEqual([]);
  });

  it('drops (and logs) an event whose detail breaks its schema instead of retrying it forever', async () => {
    const h = harness([webhook('a')]);
    const broken = event('model-version.created');
    broken.detail.modelVersion = 'three';
    expect(await deliver(h, broken)).toMatchObject({ skipped: 'invalid-event' });
    expect(h.lines.some((line) => line.includes('does not match its schema'))).toBe(true);
  });

  it('throws when it cannot read subscribers or record a dead letter, so the platform retries the event', async () => {
    const unreadable = harness([webhook('a')]);
    unreadable.failures.query = true;
    await expect(deliver(unreadable)).rejects.toThrow('throttled');
    const down: SendOutcome = { kind: 'response', status: 500, body: '' };
    const unrecordable = harness([webhook('a'), webhook('b')], { a: [down, down, down] });
    unrecordable.failures.deadLetter = true;
    await expect(deliver(unrecordable)).rejects.toThrow('table unavailable');
    // The other webhook was still delivered to; the retry sends it again under the same id.
    expect(unrecordable.requests.filter((request) => request.url.includes('//b.'))).toHaveLength(1);
  });

  it('never logs a secret or a URL (URLs may carry tokens)', async () => {
    const down: SendOutcome = { kind: 'failed', message: 'ETIMEDOUT' };
    const h = harness([webhook('a'), webhook('b')], { a: [down, down, down] });
    await deliver(h);
    const text = h.lines.join('\n');
    expect(h.lines.length).toBeGreaterThan(2);
    expect(text).not.toContain('secret-of-');
    expect(text).not.toContain('url-secret');
    expect(text).not.toContain('example.com');
  });
});
