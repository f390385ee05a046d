import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../shared/platform/http/http-handler.ts';
import { webhookKeys } from '../../shared/registry/webhooks/keys.ts';
import { verifySignature } from '../../shared/registry/webhooks/signing.ts';
import { createWebhooksApi, webhooksConfig } from '../../shared/registry/webhooks/webhooks.module.ts';
import { type ApiHandler, handlerCaller, unique } from '../support/handler-call.ts';
import { emulatorDocumentClient, tableName, useEmulators } from '../support/handler-env.ts';

/** The function as the local runtime configures it: private targets and http allowed. */
let handler: ApiHandler;
/** The same operations configured as on AWS: https only, public addresses only. */
let cloudHandler: ApiHandler;
const call = handlerCaller(() => handler);
const ajax = handlerCaller(() => handler, '/ajax-api/2.0/mlflow/');
const cloud = handlerCaller(() => cloudHandler);

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
/** How the receiver answers the next request, by path. */
const answers: Record<string, (response: ServerResponse) => void> = {
  '/ok': (response) => response.end('{"status": "received"}'),
  '/fail': (response) => {
    response.writeHead(500);
    response.end('boom');
  },
  '/redirect': (response) => {
    response.writeHead(302, { location: `${receiverUrl}/ok` });
    response.end();
  },
};

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body });
      (answers[request.url ?? ''] ?? answers['/ok'])?.(response);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  useEmulators({
    REGISTRY_TABLE_NAME: tableName('RegistryTable'),
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_ALLOWED_SCHEMES: 'http,https',
    WEBHOOK_TIMEOUT_MS: '2000',
  });
  ({ handler } = (await import('../../functions/webhook-api.ts')) as unknown as { handler: ApiHandler });
  const cloudConfig = webhooksConfig({
    ...process.env,
    WEBHOOK_ALLOW_PRIVATE_TARGETS: undefined,
    WEBHOOK_ALLOWED_SCHEMES: undefined,
  });
  cloudHandler = createHttpHandler({ operations: createWebhooksApi(cloudConfig).operations }) as ApiHandler;
});

afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

beforeEach(() => {
  received.length = 0;
});

const MODEL_VERSION_CREATED = { entity: 'MODEL_VERSION', action: 'CREATED' };

async function create(body: Record<string, unknown> = {}) {
  const response = await call('POST', 'webhooks', {
    name: unique('hook'),
    url: `${receiverUrl}/ok`,
    events: [MODEL_VERSION_CREATED],
    ...body,
  });
  expect(response.status).toBe(200);
  return response.json.webhook as { webhook_id: string; [key: string]: unknown };
}

describe('webhooks API: create and get', () => {
  it("creates and gets a webhook in MLflow's shape, without its secret", async () => {
    const name = unique('deploy-hook');
    const created = await call('POST', 'webhooks', {
      name,
      url: `${receiverUrl}/ok`,
      events: [MODEL_VERSION_CREATED, { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' }],
      description: 'Starts the deploy pipeline',
      secret: 'top-secret-value',
    });
    expect(created.status).toBe(200);
    const webhook = created.json.webhook;
    expect(webhook).toEqual({
      webhook_id: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
      name,
      description: 'Starts the deploy pipeline',
      url: `${receiverUrl}/ok`,
      events: [MODEL_VERSION_CREATED, { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' }],
      status: 'ACTIVE',
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: webhook.creation_timestamp,
    });
    const got = await call('GET', `webhooks/${webhook.webhook_id}`);
    expect(got).toMatchObject({ status: 200, json: created.json });
    expect(JSON.stringify([created.json, got.json])).not.toContain('top-secret-value');
    // Stored (delivery signs with it), never answered.
    const { Item } = await emulatorDocumentClient().send(
      new GetCommand({ TableName: tableName('RegistryTable'), Key: webhookKeys.webhook(webhook.webhook_id) }),
    );
    expect(Item?.secret).toBe('top-secret-value');
  });

  it('leaves out an empty description, takes enum numbers, counts a repeated event once, and creates DISABLED', async () => {
    const webhook = await create({
      description: '',
      events: [{ entity: 2, action: 1 }, MODEL_VERSION_CREATED],
      status: 'DISABLED',
    });
    expect(webhook.description).toBeUndefined();
    expect(webhook.events).toEqual([MODEL_VERSION_CREATED]);
    expect(webhook.status).toBe('DISABLED');
  });

  it.each([
    ['', "Missing value for required parameter 'name'"],
    ['-starts-with-dash', "Webhook name '-starts-with-dash' is invalid"],
    ['ends-with-dot.', "Webhook name 'ends-with-dot.' is invalid"],
    ['has space', "Webhook name 'has space' is invalid"],
    ['x'.repeat(64), 'It must start and end with a letter or digit, be less than 63 characters long'],
    ['naïve', "Webhook name 'naïve' is invalid"],
  ])('refuses the name %#: %s', async (name, message) => {
    const body = { url: `${receiverUrl}/ok`, events: [MODEL_VERSION_CREATED], ...(name ? { name } : {}) };
    const response = await call('POST', 'webhooks', body);
    expect(response.status).toBe(400);
    expect(response.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(response.json.message).toContain(message);
  });

  it('accepts names of 1 and 63 characters with dots, underscores and hyphens', async () => {
    for (const name of ['a', `A.b_c-1${'x'.repeat(56)}`]) {
      expect(
        (await call('POST', 'webhooks', { name, url: `${receiverUrl}/ok`, events: [MODEL_VERSION_CREATED] }))
          .status,
      ).toBe(200);
    }
  });

  it.each([
    ['a blank URL', { url: '   ' }, "Webhook URL cannot be empty or just whitespace: '   '"],
    [
      'an ftp URL',
      { url: 'ftp://example.com/hook' },
      "Invalid webhook URL scheme: 'ftp'. Allowed schemes are: http, https.",
    ],
    ['an unparseable URL', { url: 'http://[invalid' }, "Invalid webhook URL: 'http://[invalid'"],
    [
      'a URL over 500 characters',
      { url: `http://127.0.0.1/${'a'.repeat(484)}` },
      "'url' exceeds the maximum length of 500 characters",
    ],
    ['no events', { events: [] }, 'Webhook events must be a non-empty list of WebhookEvent objects: [].'],
    [
      'an action the entity lacks',
      { events: [{ entity: 'REGISTERED_MODEL', action: 'DELETED' }] },
      "Invalid action 'deleted' for entity 'registered_model'. Valid actions are: ['created']",
    ],
    [
      'another action the entity lacks',
      { events: [{ entity: 'MODEL_VERSION_TAG', action: 'CREATED' }] },
      "Invalid action 'created' for entity 'model_version_tag'. Valid actions are: ['deleted', 'set']",
    ],
    [
      'a prompt event',
      { events: [{ entity: 'PROMPT', action: 'CREATED' }] },
      "Webhook event 'prompt.created' is not supported",
    ],
    [
      'a lower-case enum name',
      { events: [{ entity: 'registered_model', action: 'CREATED' }] },
      "for parameter 'events.0.entity'",
    ],
    [
      'an unknown enum number',
      { events: [{ entity: 'MODEL_VERSION', action: 9 }] },
      "for parameter 'events.0.action'",
    ],
    [
      'an event without entity',
      { events: [{ action: 'CREATED' }] },
      "Missing value for required parameter 'events.0.entity'",
    ],
    ['an unknown status', { status: 'PAUSED' }, "for parameter 'status'"],
    [
      'a description over 1000 characters',
      { description: 'd'.repeat(1001) },
      "'description' exceeds the maximum length of 1000 characters",
    ],
    [
      'a secret over 512 characters',
      { secret: 's'.repeat(513) },
      "'secret' exceeds the maximum length of 512 characters",
    ],
  ])('refuses %s with 400', async (_label, change, message) => {
    const response = await call('POST', 'webhooks', {
      name: unique('bad'),
      url: `${receiverUrl}/ok`,
      events: [MODEL_VERSION_CREATED],
      ...change,
    });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringContaining(message),
    });
    // A secret is never echoed, not even in an error.
    expect(response.json.message).not.toContain('sss');
  });

  it('answers 404 with MLflow’s message for an unknown webhook, under both prefixes', async () => {
    for (const caller of [call, ajax]) {
      const response = await caller('GET', 'webhooks/nonexistent');
      expect(response.status).toBe(404);
      expect(response.json).toEqual({
        error_code: 'RESOURCE_DOES_NOT_EXIST',
        message: 'Webhook with ID nonexistent not found',
      });
    }
    expect((await call('PUT', 'webhooks')).status).toBe(405);
  });
});

describe('webhooks API: list, update, delete', () => {
  it('lists every webhook newest first, in pages without duplicates or an empty last page', async () => {
    const mine = [await create(), await create(), await create(), await create(), await create()];
    const seen: Array<{ webhook_id: string; creation_timestamp: number }> = [];
    let token: string | undefined;
    do {
      const page = await call(
        'GET',
        `webhooks?max_results=2${token ? `&page_token=${encodeURIComponent(token)}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.json.webhooks.length).toBeGreaterThan(0);
      expect(page.json.webhooks.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.webhooks);
      token = page.json.next_page_token;
    } while (token);
    const ids = seen.map((webhook) => webhook.webhook_id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const webhook of mine) expect(ids).toContain(webhook.webhook_id);
    // Newest first: the five just made lead, in reverse order of creation.
    expect(ids.slice(0, 5)).toEqual(mine.map((webhook) => webhook.webhook_id).reverse());
    const times = seen.map((webhook) => webhook.creation_timestamp);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(JSON.stringify(seen)).not.toContain('secret');
  });

  it('refuses max_results out of 1..1000 and a page token it did not issue', async () => {
    for (const max of [0, 1001]) {
      const response = await call('GET', `webhooks?max_results=${max}`);
      expect(response.status).toBe(400);
      expect(response.json.message).toContain("for parameter 'max_results'");
    }
    const response = await call('GET', 'webhooks?page_token=bm90LWEtdG9rZW4');
    expect(response).toMatchObject({ status: 400, json: { error_code: 'INVALID_PARAMETER_VALUE' } });
  });

  it('updates only the fields given (empty ones are not given) and moves last_updated_timestamp', async () => {
    const webhook = await create({ description: 'original', secret: 'first-secret' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const renamed = await call('PATCH', `webhooks/${webhook.webhook_id}`, {
      name: 'renamed-hook',
      description: '',
    });
    expect(renamed.status).toBe(200);
    expect(renamed.json.webhook).toMatchObject({
      webhook_id: webhook.webhook_id,
      name: 'renamed-hook',
      description: 'original',
      url: webhook.url,
      events: webhook.events,
      status: 'ACTIVE',
      creation_timestamp: webhook.creation_timestamp,
    });
    expect(renamed.json.webhook.last_updated_timestamp).toBeGreaterThan(
      Number(webhook.last_updated_timestamp),
    );
    const changed = await call('PATCH', `webhooks/${webhook.webhook_id}`, {
      url: `${receiverUrl}/fail`,
      events: [{ entity: 'REGISTERED_MODEL', action: 'CREATED' }],
      status: 'DISABLED',
      secret: 'second-secret',
    });
    expect(changed.json.webhook).toMatchObject({
      url: `${receiverUrl}/fail`,
      events: [{ entity: 'REGISTERED_MODEL', action: 'CREATED' }],
      status: 'DISABLED',
    });
    expect(JSON.stringify(changed.json)).not.toContain('second-secret');
    const { Item } = await emulatorDocumentClient().send(
      new GetCommand({ TableName: tableName('RegistryTable'), Key: webhookKeys.webhook(webhook.webhook_id) }),
    );
    expect(Item?.secret).toBe('second-secret');
  });

  it('answers 404 for updating or deleting an unknown webhook, and 400 for a bad new URL', async () => {
    expect(await call('PATCH', 'webhooks/nonexistent', { name: 'x' })).toMatchObject({
      status: 404,
      json: { message: 'Webhook with ID nonexistent not found' },
    });
    expect((await call('DELETE', 'webhooks/nonexistent')).status).toBe(404);
    const webhook = await create();
    const bad = await call('PATCH', `webhooks/${webhook.webhook_id}`, { url: 'ftp://example.com' });
    expect(bad).toMatchObject({
      status: 400,
      json: { message: expect.stringContaining('Invalid webhook URL scheme') },
    });
  });

  it('deletes a webhook: gone from get and list, and a second delete is 404', async () => {
    const webhook = await create();
    expect(await call('DELETE', `webhooks/${webhook.webhook_id}`)).toMatchObject({ status: 200, json: {} });
    expect((await call('GET', `webhooks/${webhook.webhook_id}`)).status).toBe(404);
    const list = await call('GET', 'webhooks?max_results=1000');
    expect(list.json.webhooks.map((w: { webhook_id: string }) => w.webhook_id)).not.toContain(
      webhook.webhook_id,
    );
    expect((await call('DELETE', `webhooks/${webhook.webhook_id}`)).status).toBe(404);
  });
});

describe('webhooks API: test', () => {
  it("sends MLflow's example payload for the first event now, signed, and reports the answer", async () => {
    const webhook = await create({ secret: 'test-secret-key' });
    const response = await call('POST', `webhooks/${webhook.webhook_id}/test`, {});
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      result: { success: true, response_status: 200, response_body: '{"status": "received"}' },
    });
    expect(received).toHaveLength(1);
    const [request] = received;
    const body = JSON.parse(request?.body ?? '{}');
    expect(body).toMatchObject({ entity: 'model_version', action: 'created' });
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    expect(body.data).toEqual({
      name: 'example_model',
      version: '1',
      source: 'models:/123',
      run_id: 'abcd1234abcd5678',
      tags: { example_key: 'example_value' },
      description: 'An example model version',
    });
    expect(
      verifySignature({
        secret: 'test-secret-key',
        deliveryId: String(request?.headers['x-mlflow-delivery-id']),
        timestamp: String(request?.headers['x-mlflow-timestamp']),
        payload: request?.body ?? '',
        signature: String(request?.headers['x-mlflow-signature']),
      }),
    ).toBe(true);
  });

  it('tests the event asked for, even on a DISABLED webhook (as MLflow)', async () => {
    const webhook = await create({
      status: 'DISABLED',
      events: [MODEL_VERSION_CREATED, { entity: 'MODEL_VERSION_TAG', action: 'SET' }],
    });
    const response = await call('POST', `webhooks/${webhook.webhook_id}/test`, {
      event: { entity: 'MODEL_VERSION_TAG', action: 'SET' },
    });
    expect(response.json.result.success).toBe(true);
    expect(JSON.parse(received[0]?.body ?? '{}').data).toEqual({
      name: 'example_model',
      version: '1',
      key: 'example_key',
      value: 'example_value',
    });
    expect(received[0]?.headers['x-mlflow-signature']).toBeUndefined();
  });

  it('reports a failing receiver, a redirect (not followed) and an unreachable one as success: false', async () => {
    const failing = await create({ url: `${receiverUrl}/fail` });
    expect((await call('POST', `webhooks/${failing.webhook_id}/test`, {})).json).toEqual({
      result: { success: false, response_status: 500, response_body: 'boom' },
    });
    const redirecting = await create({ url: `${receiverUrl}/redirect` });
    expect((await call('POST', `webhooks/${redirecting.webhook_id}/test`, {})).json.result).toMatchObject({
      success: false,
      response_status: 302,
      error_message: 'Redirects are not followed (HTTP 302)',
    });
    expect(received.map((request) => request.path)).toEqual(['/fail', '/redirect']);
    const unreachable = await create({ url: 'http://127.0.0.1:1/hook' });
    expect((await call('POST', `webhooks/${unreachable.webhook_id}/test`, {})).json.result).toEqual({
      success: false,
      error_message: expect.stringMatching(/^Failed to test webhook: ECONNREFUSED/),
    });
    expect((await call('POST', 'webhooks/nonexistent/test', {})).status).toBe(404);
  });
});

describe('webhooks API configured as on AWS (https, public addresses only)', () => {
  const create = (url: string) =>
    cloud('POST', 'webhooks', { name: unique('cloud'), url, events: [MODEL_VERSION_CREATED] });

  it.each([
    ['http://93.184.216.34/hook', "Invalid webhook URL scheme: 'http'. Allowed schemes are: https."],
    ['https://127.0.0.1/hook', "'127.0.0.1' resolves to 127.0.0.1 (loopback)"],
    ['https://169.254.169.254/latest/meta-data/', '(link-local)'],
    ['https://2852039166/latest/meta-data/', "'169.254.169.254' resolves to 169.254.169.254 (link-local)"],
    ['https://[::ffff:169.254.169.254]/', '(link-local)'],
    ['https://[fd00:ec2::254]/', '(unique-local)'],
    ['https://10.1.2.3/hook', '(private)'],
  ])('refuses to create a webhook to %s', async (url, message) => {
    const response = await create(url);
    expect(response.status).toBe(400);
    expect(response.json.message).toContain(message);
  });

  it('accepts a public https address, and refuses to update it to a private one', async () => {
    const created = await create('https://93.184.216.34/hook');
    expect(created.status).toBe(200);
    const updated = await cloud('PATCH', `webhooks/${created.json.webhook.webhook_id}`, {
      url: 'https://192.168.1.1/',
    });
    expect(updated.status).toBe(400);
    expect(updated.json.message).toContain('must not resolve to a non-public IP address');
  });

  it('does not send a test to a private address, even for a webhook stored with one', async () => {
    // Stored through the locally configured function, then tested as on AWS.
    const webhook = await create_local();
    const response = await cloud('POST', `webhooks/${webhook.webhook_id}/test`, {});
    expect(response.status).toBe(200);
    expect(response.json.result).toEqual({
      success: false,
      error_message: expect.stringMatching(/^Failed to test webhook: Invalid webhook URL scheme: 'http'/),
    });
    expect(received).toEqual([]);
  });

  async function create_local() {
    const response = await call('POST', 'webhooks', {
      name: unique('stored'),
      url: `${receiverUrl}/ok`,
      events: [MODEL_VERSION_CREATED],
    });
    return response.json.webhook as { webhook_id: string };
  }
});
