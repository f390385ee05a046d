import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../infra/local/runtime.ts';
import { runRunwayCli } from '../support/runway-cli.ts';

/**
 * Nothing secret in logs, as a test: every line the local runtime and its functions print is
 * captured while tokens are created with the CLI, used (good, wrong, revoked, expired; Bearer and
 * Basic), quoted in bodies and query strings, refused at the edge and by the functions, and while
 * presigned URLs and SigV4 headers pass through. No line may hold a token, its secret, a Basic
 * credential, an Authorization header's value or a SigV4 signature.
 */

let dataDir: string;
let runtime: LocalRuntime;
let adminToken: string;
/** `[function] line` for function output, the line itself for the runtime's own messages. */
const lines: string[] = [];
/** Every credential the test handled: none of them may appear in a line. */
const secrets = new Set<string>();

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-secrets-'));
  runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    auth: true,
    functionLogs: (name, line) => lines.push(`[${name}] ${line}`),
    log: (line) => lines.push(line),
  });
  adminToken = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  remember(adminToken);
});

afterAll(async () => {
  await runtime?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A token, its secret part, and the Basic credentials that would carry it. */
function remember(token: string, user?: string): void {
  secrets.add(token);
  secrets.add(token.slice(21));
  secrets.add(`Bearer ${token}`);
  if (user) secrets.add(Buffer.from(`${user}:${token}`).toString('base64'));
}

async function api(
  method: string,
  route: string,
  options: { authorization?: string; body?: string | object; contentType?: string } = {},
) {
  const body =
    options.body === undefined || typeof options.body === 'string'
      ? options.body
      : JSON.stringify(options.body);
  const response = await fetch(
    `${runtime.url}/${route.startsWith('/') ? route.slice(1) : `api/2.0/${route}`}`,
    {
      method,
      headers: {
        ...(options.authorization ? { authorization: options.authorization } : {}),
        ...(body === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' }),
      },
      body,
    },
  );
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered.
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}

const bearer = (token: string) => `Bearer ${token}`;
const basic = (user: string, token: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;

/** Runs the real `runway` CLI against the runtime, with the admin token file as its credential. */
const runway = (args: string[]) =>
  runRunwayCli([...args, '--url', runtime.url, '--data-dir', dataDir], {
    RUNWAY_TOKEN: '',
    MLFLOW_TRACKING_TOKEN: '',
  });

/** `runway tokens create`: the token is the one line of stdout, said once, and never on stderr. */
async function createWithCli(user: string, extra: string[] = []): Promise<string> {
  const created = await runway(['tokens', 'create', '--user', user, ...extra]);
  expect(created.code).toBe(0);
  const token = created.stdout.trim();
  expect(token).toMatch(/^rwy_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  expect(created.stdout).toBe(`${token}\n`);
  expect(created.stderr).not.toContain(token.slice(21));
  expect(created.stderr).toContain(`token ${token.slice(4, 20)} for ${user}`);
  remember(token, user);
  return token;
}

/** A SigV4 Authorization header as the AWS SDK would sign a request (the key is made up). */
function sigv4Header(): string {
  const signature = createHmac('sha256', randomBytes(32)).update('string to sign').digest('hex');
  secrets.add(signature);
  const header =
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/execute-api/aws4_request, ' +
    `SignedHeaders=host;x-amz-date, Signature=${signature}`;
  secrets.add(header);
  return header;
}

describe('nothing secret in logs', () => {
  let ana: string;
  let expiring: string;
  let revoked: string;

  it('runway tokens create prints a token once, to stdout; list and revoke never print one', async () => {
    ana = await createWithCli('ana', ['--description', 'for the log test']);
    expiring = await createWithCli('temp', ['--expires-in', '1']);
    revoked = await createWithCli('gone');
    const listed = await runway(['tokens', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${ana.slice(4, 20)}\tana\t`);
    expect(listed.stdout + listed.stderr).not.toContain('rwy_');
    const revoking = await runway(['tokens', 'revoke', revoked.slice(4, 20)]);
    expect(revoking.code).toBe(0);
    expect(revoking.stdout + revoking.stderr).not.toContain('rwy_');
  }, 120_000);

  it('uses, refuses and quotes credentials everywhere, and no log line holds one', async () => {
    const search = 'mlflow/experiments/search?max_results=5';

    // Good credentials, both ways MLflow clients send them.
    expect((await api('GET', search, { authorization: bearer(ana) })).status).toBe(200);
    expect((await api('GET', search, { authorization: basic('ana', ana) })).status).toBe(200);
    // Refused with MLflow 401s (the authorizer passes the refusal on and the function answers, so
    // both log it): wrong secret, wrong Basic user, revoked, expired, garbage, SigV4 on the token API.
    const wrong = `${ana.slice(0, 21)}${'x'.repeat(43)}`;
    remember(wrong, 'ana');
    expect((await api('GET', search, { authorization: bearer(wrong) })).status).toBe(401);
    expect((await api('GET', search, { authorization: basic('ana', wrong) })).status).toBe(401);
    expect((await api('GET', search, { authorization: basic('bob', ana) })).status).toBe(401);
    secrets.add(Buffer.from(`bob:${ana}`).toString('base64'));
    expect((await api('GET', search, { authorization: bearer(revoked) })).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await api('GET', search, { authorization: basic('temp', expiring) })).status).toBe(401);
    expect((await api('GET', search, { authorization: 'Bearer not-a-token-at-all-0123456789' })).status).toBe(
      401,
    );
    secrets.add('not-a-token-at-all-0123456789');
    expect((await api('GET', search, { authorization: sigv4Header() })).status).toBe(401);

    // Token-looking values in query strings and bodies, answered with the functions' 4xx errors that
    // quote what they were sent.
    const auth = { authorization: bearer(ana) };
    // A non-numeric id is 400 (MLflow 3.11), and the message quotes it.
    expect((await api('GET', `mlflow/experiments/get?experiment_id=${ana}`, auth)).status).toBe(400);
    expect((await api('GET', `mlflow/experiments/search?max_results=${wrong}`, auth)).status).toBe(400);
    const basicValue = Buffer.from(`ana:${ana}`).toString('base64');
    expect((await api('GET', `mlflow/runs/get?run_id=${basicValue}`, auth)).status).toBeGreaterThanOrEqual(
      400,
    );
    const quoted = await api('POST', 'mlflow/experiments/create', {
      ...auth,
      body: { name: { token: ana } },
    });
    expect(quoted.status).toBe(400);
    expect(
      await api('POST', 'mlflow/experiments/create', { ...auth, body: { name: 5, secret: wrong } }),
    ).toMatchObject({ status: 400 });
    expect(
      (
        await api('POST', 'mlflow/experiments/create', {
          ...auth,
          body: `token=${ana}`,
          contentType: 'text/plain',
        })
      ).status,
    ).toBe(400);
    // Unknown route, wrong method, and a body over the route's limit that carries a token.
    expect((await api('GET', `mlflow/no-such-thing/${ana}`, auth)).status).toBe(404);
    expect((await api('GET', 'mlflow/experiments/create', auth)).status).toBe(405);
    const oversized = await api('POST', 'mlflow/experiments/create', {
      ...auth,
      body: JSON.stringify({ name: ana, pad: 'x'.repeat(1024 * 1024) }),
    });
    expect(oversized.status).toBe(413);

    // A webhook's signing secret (admins only), accepted once and refused once (the refusal quotes
    // the bad field, never the secret).
    const webhookSecret = `whsec-${randomBytes(24).toString('hex')}`;
    secrets.add(webhookSecret);
    const hook = {
      name: `hook-${Date.now()}`,
      url: 'https://hooks.example.com/runway',
      events: [{ entity: 'MODEL_VERSION', action: 'CREATED' }],
      secret: webhookSecret,
    };
    const admin = { authorization: bearer(adminToken) };
    expect((await api('POST', 'mlflow/webhooks', { ...admin, body: hook })).status).toBe(200);
    const badHook = await api('POST', 'mlflow/webhooks', {
      ...admin,
      body: { ...hook, events: [{ entity: 'NOTHING', action: 'CREATED' }] },
    });
    expect(badHook.status).toBe(400);

    // Presigned URLs (signatures in query strings) handed out, used, and sent back in a body.
    const experiment = await api('POST', 'mlflow/experiments/create', {
      ...auth,
      body: { name: `logs-${Date.now()}` },
    });
    const run = await api('POST', 'mlflow/runs/create', {
      ...auth,
      body: { experiment_id: experiment.json.experiment_id },
    });
    const artifactDir = `${experiment.json.experiment_id}/${run.json.run.info.run_id}/artifacts`;
    const mpu = await api('POST', `mlflow-artifacts/mpu/create/${artifactDir}`, {
      ...auth,
      body: { path: 'model.bin', num_parts: 1 },
    });
    expect(mpu.status).toBe(200);
    const partUrl: string = mpu.json.credentials[0].url;
    const partSignature = new URL(partUrl).searchParams.get('X-Amz-Signature');
    expect(partSignature).toMatch(/^[0-9a-f]{64}$/);
    secrets.add(partSignature as string);
    const part = await fetch(partUrl, { method: 'PUT', body: 'weights' });
    expect(part.status).toBe(200);
    const completed = await api('POST', `mlflow-artifacts/mpu/complete/${artifactDir}`, {
      ...auth,
      body: {
        path: 'model.bin',
        upload_id: mpu.json.upload_id,
        parts: [{ part_number: 1, etag: part.headers.get('etag'), url: partUrl }],
      },
    });
    expect(completed.status).toBe(200);
    // A bad completion is answered 400 with S3's reason, with the URLs still in the body.
    const refused = await api('POST', `mlflow-artifacts/mpu/complete/${artifactDir}`, {
      ...auth,
      body: { path: 'model.bin', upload_id: ana, parts: [{ part_number: 1, etag: '"x"', url: partUrl }] },
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);

    // A handler error (500) for an event carrying credentials: a body API Gateway would never send.
    const trackingArn = runtime.gateway.match('POST', '/api/2.0/mlflow/experiments/create')?.functionArn;
    const tracking = runtime.functions.get(trackingArn as string);
    const failed = (await tracking?.invoke({
      version: '2.0',
      routeKey: 'ANY /api/2.0/mlflow/{proxy+}',
      rawPath: '/api/2.0/mlflow/experiments/create',
      rawQueryString: `token=${ana}`,
      headers: {
        authorization: bearer(ana),
        'x-amz-security-token': ana,
        'content-type': 'application/json',
      },
      requestContext: {
        requestId: 'handler-error',
        http: { method: 'POST', path: '/api/2.0/mlflow/experiments/create' },
        authorizer: { lambda: { user: 'ana', kind: 'token', admin: 'true' } },
      },
      body: { name: ana },
      isBase64Encoded: false,
    })) as { statusCode: number } | undefined;
    expect(failed?.statusCode).toBe(500);

    // Functions flush their output asynchronously: wait until the last request's line is in.
    await waitFor(() =>
      lines.some((line) => line.includes('handler-error') && line.includes('request failed')),
    );

    // What was captured is the real thing: every kind of line above was logged...
    const text = lines.join('\n');
    expect(text).toContain('credential refused');
    for (const reason of ['unknown', 'wrong-user', 'revoked', 'expired', 'malformed']) {
      expect(text, reason).toContain(`"reason":"${reason}"`);
    }
    expect(text).toContain('"message":"client error"');
    expect(text).toContain('"status":413');
    expect(text).toContain('"message":"unhandled error"');
    // ...with the public id of a refused token, which support needs...
    expect(text).toContain(`"tokenId":"${revoked.slice(4, 20)}"`);
    // ...and not one credential.
    expect(secrets.size).toBeGreaterThan(20);
    const leaks = lines.flatMap((line) =>
      [...secrets]
        .filter((secret) => line.includes(secret))
        .map((secret) => `${secret.slice(0, 12)}… in ${line.slice(0, 200)}`),
    );
    expect(leaks).toEqual([]);
    expect(text).not.toMatch(/rwy_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/);
    expect(text).not.toMatch(/Signature=[0-9a-f]{64}/i);
    expect(text).not.toMatch(/authorization"?\s*[:=]\s*"?(Bearer|Basic|AWS4-HMAC-SHA256) [^[]/i);
  }, 120_000);
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the log lines');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
