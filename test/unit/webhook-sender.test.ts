import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpWebhookSender } from '../../shared/registry/webhooks/adapters/http.webhook-sender.ts';
import { type AddressResolver, TargetGuard } from '../../shared/registry/webhooks/ssrf/target-guard.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const servers: Server[] = [];

/** A receiver on 127.0.0.1 that records requests and answers with `answer`. */
async function receiver(answer: (response: ServerResponse, received: Received) => void = (r) => r.end('ok')) {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const entry = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body };
      received.push(entry);
      answer(response, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { received, port: (server.address() as AddressInfo).port };
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Names only this resolver knows: a request that reaches them was connected through it. */
const resolver: AddressResolver = {
  async resolve(hostname) {
    if (hostname === 'hooks.runway.test') return [{ address: '127.0.0.1', family: 4 }];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  },
};
const localGuard = new TargetGuard(
  { allowPrivateTargets: true, allowedSchemes: ['http', 'https'] },
  resolver,
);
const cloudGuard = new TargetGuard(
  { allowPrivateTargets: false, allowedSchemes: ['http', 'https'] },
  resolver,
);

const post = (sender: HttpWebhookSender, url: string, timeoutMs = 2000) =>
  sender.send({
    url,
    body: '{"a": 1}',
    headers: { 'Content-Type': 'application/json', 'X-Test': 'yes' },
    timeoutMs,
  });

describe('HTTP webhook sender', () => {
  it('POSTs the body and headers, and answers the status and body', async () => {
    const { received, port } = await receiver((response) => {
      response.writeHead(201, { 'content-type': 'text/plain' });
      response.end('created');
    });
    const outcome = await post(new HttpWebhookSender(localGuard), `http://127.0.0.1:${port}/hook?x=1`);
    expect(outcome).toEqual({ kind: 'response', status: 201, body: 'created', retryAfterMs: undefined });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/hook?x=1', body: '{"a": 1}' });
    expect(received[0]?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-test': 'yes',
      'content-length': '8',
      'user-agent': 'runway-webhooks',
    });
  });

  it('connects to the address the guard resolved and checked (no second lookup), keeping the Host name', async () => {
    const { received, port } = await receiver();
    const outcome = await post(new HttpWebhookSender(localGuard), `http://hooks.runway.test:${port}/hook`);
    expect(outcome).toMatchObject({ kind: 'response', status: 200 });
    expect(received[0]?.headers.host).toBe(`hooks.runway.test:${port}`);
  });

  it('refuses a private address when private targets are not allowed, and sends nothing', async () => {
    const { received, port } = await receiver();
    for (const url of [
      `http://127.0.0.1:${port}/`,
      `http://hooks.runway.test:${port}/`,
      `http://[::1]:${port}/`,
    ]) {
      const outcome = await post(new HttpWebhookSender(cloudGuard), url);
      expect(outcome).toMatchObject({ kind: 'refused' });
    }
    expect(received).toEqual([]);
  });

  it('never follows a redirect: a 302 to an internal address is an answer, not a request there', async () => {
    const metadata = await receiver();
    const { port } = await receiver((response, received) => {
      // 302 turns the POST into a GET (read); 307 and 308 repeat the POST (write).
      response.writeHead(Number(received.url.slice(1)), {
        location: `http://127.0.0.1:${metadata.port}/latest/meta-data/`,
      });
      response.end();
    });
    for (const status of [301, 302, 303, 307, 308]) {
      const outcome = await post(new HttpWebhookSender(localGuard), `http://127.0.0.1:${port}/${status}`);
      expect(outcome).toMatchObject({ kind: 'response', status });
    }
    expect(metadata.received).toEqual([]);
  });

  it('gives up after the timeout, and on a refused connection, as network failures', async () => {
    const { port } = await receiver(() => undefined);
    const started = Date.now();
    const slow = await post(new HttpWebhookSender(localGuard), `http://127.0.0.1:${port}/`, 200);
    expect(slow).toMatchObject({
      kind: 'failed',
      message: expect.stringContaining('no answer within 200 ms'),
    });
    expect(Date.now() - started).toBeLessThan(2000);
    const closed = await post(new HttpWebhookSender(localGuard), 'http://127.0.0.1:1/');
    expect(closed).toMatchObject({ kind: 'failed', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('keeps at most maxResponseBytes of an answer, and reads Retry-After', async () => {
    const { port } = await receiver((response) => {
      response.writeHead(503, { 'retry-after': '7' });
      response.end('x'.repeat(100_000));
    });
    const outcome = await post(
      new HttpWebhookSender(localGuard, { maxResponseBytes: 10 }),
      `http://127.0.0.1:${port}/`,
    );
    expect(outcome).toEqual({ kind: 'response', status: 503, body: 'x'.repeat(10), retryAfterMs: 7000 });
    const statusOnly = await post(
      new HttpWebhookSender(localGuard, { maxResponseBytes: 0 }),
      `http://127.0.0.1:${port}/`,
    );
    expect(statusOnly).toMatchObject({ kind: 'response', status: 503, body: '' });
  });
});
