import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_REGION, LocalRuntime } from '../../infra/local/runtime.ts';
import { webhookKeys } from '../../shared/registry/webhooks/keys.ts';
import { verifySignature } from '../../shared/registry/webhooks/signing.ts';

/**
 * Webhooks end to end on the local runtime running Runway's own app: the HTTP API stores a webhook,
 * a model version created through the HTTP API is announced on the local bus, the rule invokes the
 * delivery function, and the function POSTs to a receiver on 127.0.0.1 (allowed only because the app
 * was synthesized for the local runtime).
 */

interface Received {
  path: string;
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

let dataDir: string;
let runtime: LocalRuntime;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
const SECRET = 'local-webhook-secret';

async function api(method: string, pathname: string, body?: unknown) {
  const response = await fetch(`${runtime.url}/api/2.0/mlflow/${pathname}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered.
  return { status: response.status, json: (await response.json()) as any };
}

async function waitFor<T>(
  read: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function createWebhook(name: string, pathname: string, extra: Record<string, unknown> = {}) {
  const response = await api('POST', 'webhooks', {
    name,
    url: `${receiverUrl}${pathname}`,
    events: [{ entity: 'MODEL_VERSION', action: 'CREATED' }],
    ...extra,
  });
  expect(response.status).toBe(200);
  return response.json.webhook.webhook_id as string;
}

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({ path: request.url ?? '', at: Date.now(), headers: request.headers, body });
      response.writeHead(request.url === '/down' ? 503 : 200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-local-webhooks-'));
  runtime = await LocalRuntime.start({ port: 0, dataDir, functionLogs: 'silent', log: () => undefined });
});

afterAll(async () => {
  await runtime?.stop();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('webhooks on the local runtime', () => {
  it('delivers a signed model_version.created to 127.0.0.1; retries a failing receiver, then records a dead letter', async () => {
    const delivered = await createWebhook('local-ok', '/ok', { secret: SECRET });
    const failing = await createWebhook('local-down', '/down');
    await createWebhook('local-disabled', '/disabled', { status: 'DISABLED' });
    await createWebhook('local-other-event', '/other', {
      events: [{ entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' }],
    });

    expect((await api('POST', 'registered-models/create', { name: 'churn' })).status).toBe(200);
    const version = await api('POST', 'model-versions/create', {
      name: 'churn',
      source: 's3://models/churn/1',
      tags: [{ key: 'framework', value: 'onnx' }],
      description: 'first cut',
    });
    expect(version.status).toBe(200);

    // The receiver that answers 200 gets the delivery once, signed with the webhook's secret.
    const ok = await waitFor(() => received.find((request) => request.path === '/ok'));
    expect(JSON.parse(ok.body)).toEqual({
      entity: 'model_version',
      action: 'created',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/),
      data: {
        name: 'churn',
        version: '1',
        source: 's3://models/churn/1',
        run_id: null,
        tags: { framework: 'onnx' },
        description: 'first cut',
      },
    });
    const deliveryId = String(ok.headers['x-mlflow-delivery-id']);
    expect(deliveryId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(
      verifySignature({
        secret: SECRET,
        deliveryId,
        timestamp: String(ok.headers['x-mlflow-timestamp']),
        payload: ok.body,
        signature: String(ok.headers['x-mlflow-signature']),
      }),
    ).toBe(true);
    expect(
      verifySignature({
        secret: 'another-secret',
        deliveryId,
        timestamp: String(ok.headers['x-mlflow-timestamp']),
        payload: ok.body,
        signature: String(ok.headers['x-mlflow-signature']),
      }),
    ).toBe(false);

    // The one that answers 503 gets three attempts with growing pauses, then a dead letter.
    const deadLetter = await waitFor(async () => (await deadLettersOf(failing))[0], 30_000);
    const attempts = received.filter((request) => request.path === '/down');
    expect(attempts).toHaveLength(3);
    const [first, second, third] = attempts.map((attempt) => attempt.at);
    expect((second as number) - (first as number)).toBeGreaterThanOrEqual(900);
    expect((third as number) - (second as number)).toBeGreaterThanOrEqual(1900);
    // One delivery: the same id and body on every attempt, different from the other webhook's id.
    expect(new Set(attempts.map((attempt) => attempt.headers['x-mlflow-delivery-id'])).size).toBe(1);
    expect(attempts[0]?.headers['x-mlflow-delivery-id']).not.toBe(deliveryId);
    expect(new Set(attempts.map((attempt) => attempt.body))).toEqual(new Set([ok.body]));
    expect(attempts[0]?.headers['x-mlflow-signature']).toBeUndefined();
    expect(deadLetter).toMatchObject({
      webhookId: failing,
      deliveryId: attempts[0]?.headers['x-mlflow-delivery-id'],
      event: 'model_version.created',
      source: {
        detailType: 'registry.model-version.created',
        idempotencyKey: expect.stringContaining(':v1:created'),
      },
      body: ok.body,
      attempts: 3,
      lastStatus: 503,
      lastError: 'HTTP 503',
      gsi1pk: webhookKeys.deadLettersPartition,
      expiresAt: expect.any(Number),
    });

    // The rule invoked the delivery function, which succeeded: nothing for the bus's own dead letters.
    await runtime.eventBus.idle();
    const ruleDeliveries = runtime.eventBus.deliveries.filter((delivery) =>
      delivery.rule.includes('WebhookDeliveryRule'),
    );
    expect(ruleDeliveries.length).toBeGreaterThanOrEqual(2);
    expect(ruleDeliveries.every((delivery) => delivery.status === 'delivered')).toBe(true);
    expect(existsSync(path.join(dataDir, 'events', 'dead-letter.jsonl'))).toBe(false);
    // Disabled webhooks and webhooks of other events got nothing; the working one got one request.
    expect(received.map((request) => request.path).sort()).toEqual(['/down', '/down', '/down', '/ok']);
    expect(await deadLettersOf(delivered)).toEqual([]);
  });

  it('tests a webhook on 127.0.0.1 through the HTTP API', async () => {
    const webhookId = await createWebhook('local-test', '/tested', { secret: SECRET });
    const response = await api('POST', `webhooks/${webhookId}/test`, {});
    expect(response).toEqual({
      status: 200,
      json: { result: { success: true, response_status: 200, response_body: '{}' } },
    });
    const request = received.find((entry) => entry.path === '/tested');
    expect(JSON.parse(request?.body ?? '{}').data).toMatchObject({
      name: 'example_model',
      source: 'models:/123',
    });
  });
});

/** The dead letters of a webhook, read as an operator would: one Query of its partition. */
async function deadLettersOf(webhookId: string) {
  const table = runtime.template
    .resourcesOfType('AWS::DynamoDB::Table')
    .find((resource) => resource.logicalId.startsWith('RegistryTable'));
  if (!table) throw new Error('no registry table in the template');
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: runtime.environment.AWS_ENDPOINT_URL_DYNAMODB,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  try {
    const { Items = [] } = await client.send(
      new QueryCommand({
        TableName: runtime.template.physicalName(table),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `WEBHOOK#${webhookId}`, ':prefix': 'DEAD_LETTER#' },
      }),
    );
    return Items;
  } finally {
    client.destroy();
  }
}
