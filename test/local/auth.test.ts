import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../infra/local/runtime.ts';
import { runRunwayCli } from '../support/runway-cli.ts';
import { LOGREG_EXPECTED, seedEndpoint } from '../support/serving-seed.ts';

/**
 * `runway start --auth` tried as a new user would: Runway's own app on the local runtime, the token
 * API's routes, the same authorizer function as on AWS in front of every request (no identity source,
 * no API Gateway cache: it runs for every request, with or without a header), and MLflow's errors
 * from the functions for every refusal: 401 UNAUTHENTICATED saying why, 403 PERMISSION_DENIED.
 */

let dataDir: string;
let runtime: LocalRuntime;
let adminToken: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-auth-'));
  runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    auth: true,
    functionLogs: 'silent',
    log: () => undefined,
  });
  adminToken = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function api(
  method: string,
  route: string,
  options: { token?: string; authorization?: string; body?: unknown } = {},
) {
  const authorization = options.authorization ?? (options.token ? `Bearer ${options.token}` : undefined);
  const response = await fetch(`${runtime.url}/api/2.0/${route}`, {
    method,
    headers: {
      ...(authorization ? { authorization } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return {
    status: response.status,
    // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered.
    json: (await response.json()) as any,
    challenge: response.headers.get('www-authenticate'),
  };
}

const CHALLENGE = 'Bearer realm="runway", Basic realm="runway"';

/** MLflow's 401 with the challenge its client answers, saying `message`. */
const unauthenticated = (message: string | RegExp) => ({
  status: 401,
  json: {
    error_code: 'UNAUTHENTICATED',
    message: typeof message === 'string' ? message : expect.stringMatching(message),
  },
  challenge: CHALLENGE,
});

/** Runs `runway tokens` against the runtime. */
const cli = (args: string[], env: Record<string, string> = {}) => runway(['tokens', ...args], env);

/** Runs the real CLI against the runtime, without any token this process's environment holds. */
function runway(args: string[], env: Record<string, string> = {}) {
  return runRunwayCli(args, { RUNWAY_TOKEN: '', MLFLOW_TRACKING_TOKEN: '', ...env });
}

const createToken = async (body: Record<string, unknown>) => {
  const created = await api('POST', 'runway/tokens/create', { token: adminToken, body });
  expect(created.status).toBe(200);
  return created.json.token as string;
};

describe('runway start --auth', () => {
  it('writes the first admin token to a file only its owner can read', () => {
    expect(adminToken).toMatch(/^rwy_[0-9a-f]{16}_/);
    expect(statSync(path.join(dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
  });

  it('answers /health without credentials', async () => {
    expect((await api('GET', '../../health')).status).toBe(200);
  });

  it('refuses a request without a token and with a wrong token: 401 UNAUTHENTICATED saying why', async () => {
    const search = 'mlflow/experiments/search?max_results=10';
    expect(await api('GET', search)).toEqual(
      unauthenticated(/^No credentials: send a Runway token as Bearer/),
    );
    const forged = `${adminToken.slice(0, 21)}${'x'.repeat(43)}`;
    const wrong = await api('GET', search, { token: forged });
    expect(wrong).toEqual(unauthenticated(/^The token is not valid/));
    expect(JSON.stringify(wrong)).not.toContain(forged.slice(21));
    expect(await api('GET', search, { authorization: 'Bearer nope' })).toEqual(
      unauthenticated(/is not a Runway token/),
    );
    // Nothing is created by a refused write.
    const name = `refused-${Date.now()}`;
    expect(await api('POST', 'mlflow/experiments/create', { body: { name } })).toEqual(
      unauthenticated(/^No credentials/),
    );
    const found = await api('GET', `mlflow/experiments/get-by-name?experiment_name=${name}`, {
      token: adminToken,
    });
    expect(found.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('refuses an expired token', async () => {
    const token = await createToken({ user: 'temp', expires_in_seconds: 1 });
    // Accepted (and cached by the authorizer) while valid: the cache never outlives the expiry.
    expect((await api('GET', 'mlflow/experiments/search?max_results=10', { token })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await api('GET', 'mlflow/experiments/search?max_results=10', { token })).toEqual(
      unauthenticated('The token has expired'),
    );
  });

  it('refuses a revoked token (revocation reaches cached tokens within the cache TTL)', async () => {
    const token = await createToken({ user: 'gone' });
    const id = token.slice(4, 20);
    expect(
      (await api('POST', 'runway/tokens/revoke', { token: adminToken, body: { token_id: id } })).status,
    ).toBe(200);
    expect(await api('GET', 'mlflow/experiments/search?max_results=10', { token })).toEqual(
      unauthenticated('The token was revoked'),
    );
  });

  it('refuses Basic credentials whose user is not the token’s', async () => {
    const token = await createToken({ user: 'carol' });
    const basic = (user: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
    expect(
      await api('GET', 'mlflow/experiments/search?max_results=10', { authorization: basic('mallory') }),
    ).toEqual(unauthenticated("The Basic user name is not the token's user"));
    expect(
      (await api('GET', 'mlflow/experiments/search?max_results=10', { authorization: basic('carol') }))
        .status,
    ).toBe(200);
  });

  it('lets a read-only token read but answers its writes 403 PERMISSION_DENIED, as MLflow', async () => {
    const created = await cli([
      'create',
      '--user',
      'viewer',
      '--read-only',
      '--expires-in',
      '1h',
      '--url',
      runtime.url,
      '--data-dir',
      dataDir,
    ]);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(created.stderr).toContain('(read-only)');
    const read = await api('GET', 'mlflow/experiments/get?experiment_id=0', { token });
    expect(read.status).toBe(200);
    const write = await api('POST', 'mlflow/experiments/create', { token, body: { name: 'not-allowed' } });
    expect(write).toEqual({
      status: 403,
      json: { error_code: 'PERMISSION_DENIED', message: "Permission denied: 'viewer' may not create this" },
      challenge: null,
    });
    const log = await api('POST', 'mlflow/runs/create', { token, body: { experiment_id: '0' } });
    expect(log.json.error_code).toBe('PERMISSION_DENIED');
  });

  it('serves a user token as MLflow clients send it (Bearer or Basic user:token), and the creator manages', async () => {
    const token = await createToken({ user: 'ana' });
    const created = await api('POST', 'mlflow/experiments/create', {
      authorization: `Basic ${Buffer.from(`ana:${token}`).toString('base64')}`,
      body: { name: `auth-${Date.now()}` },
    });
    expect(created.status).toBe(200);
    const id = created.json.experiment_id;
    const grant = await api('GET', `mlflow/experiments/permissions/get?experiment_id=${id}&username=ana`, {
      token,
    });
    expect(grant.json.experiment_permission.permission).toBe('MANAGE');
    const bob = await createToken({ user: 'bob' });
    const denied = await api('POST', 'mlflow/experiments/delete', {
      token: bob,
      body: { experiment_id: id },
    });
    expect(denied.json.error_code).toBe('PERMISSION_DENIED');
  });

  it('lists and revokes with the CLI, using the admin token file', async () => {
    const listed = await cli(['list', '--url', runtime.url, '--data-dir', dataDir]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('viewer\tread-only');
    expect(listed.stdout).not.toMatch(/rwy_/);
    const id =
      listed.stdout
        .split('\n')
        .find((line) => line.includes('\tviewer\t'))
        ?.split('\t')[0] ?? '';
    const revoked = await cli(['revoke', id, '--url', runtime.url, '--data-dir', dataDir]);
    expect({ code: revoked.code, out: revoked.stdout.trim() }).toEqual({ code: 0, out: `revoked ${id}` });
    const unauthorized = await cli(['list', '--url', runtime.url], { RUNWAY_TOKEN: 'Bearer-less-garbage' });
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toContain('UNAUTHENTICATED: The Authorization header is not a Runway token');
  });
});

describe('runway start --auth: endpoints and invocations', () => {
  const invoke = (name: string, token?: string) =>
    fetch(`${runtime.url}/endpoints/${name}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ inputs: LOGREG_EXPECTED.x }),
    });

  it('serves the endpoints API and the model server on the token API, behind its authorizer', () => {
    for (const [method, path] of [
      ['GET', '/api/2.0/runway/endpoints'],
      ['DELETE', '/ajax-api/2.0/runway/endpoints/churn'],
      ['POST', '/endpoints/churn/invocations'],
    ] as const) {
      const route = runtime.gateway.match(method, path);
      expect({
        path,
        type: route?.authorizationType,
        authorizer: route?.authorizer?.functionArn,
        // As synthesized: called for every request, header or not, and never cached by the gateway.
        identityHeaders: route?.authorizer?.identityHeaders,
        ttlSeconds: route?.authorizer?.ttlSeconds,
      }).toEqual({
        path,
        type: 'CUSTOM',
        authorizer: expect.stringMatching(/AuthorizerFunction/),
        identityHeaders: [],
        ttlSeconds: 0,
      });
    }
  });

  it('refuses endpoints requests without a token, and writes with a read-only token, as the rules say', async () => {
    const owner = await createToken({ user: 'endpoint-owner' });
    const model = `auth-ep-model-${Date.now()}`;
    expect(
      (await api('POST', 'mlflow/registered-models/create', { token: owner, body: { name: model } })).status,
    ).toBe(200);
    const name = `auth-ep-${Date.now()}`;
    const body = { name, model_name: model, follows: { alias: 'production' } };
    expect(await api('GET', 'runway/endpoints')).toEqual(unauthenticated(/^No credentials/));
    expect(await api('POST', 'runway/endpoints', { body })).toEqual(unauthenticated(/^No credentials/));
    const created = await api('POST', 'runway/endpoints', { token: owner, body });
    expect(created.status, JSON.stringify(created.json)).toBe(200);

    const reader = await createToken({ user: 'endpoint-reader', read_only: true });
    expect((await api('GET', `runway/endpoints/${name}`, { token: reader })).status).toBe(200);
    const listed = await api('GET', `runway/endpoints?model_name=${model}`, { token: reader });
    expect(listed.json.endpoints.map((e: { name: string }) => e.name)).toEqual([name]);
    for (const [method, route, payload] of [
      ['POST', 'runway/endpoints', { ...body, name: `${name}-2` }],
      ['PATCH', `runway/endpoints/${name}`, { description: 'changed' }],
      ['POST', `runway/endpoints/${name}/deploy`, {}],
      ['DELETE', `runway/endpoints/${name}`, undefined],
    ] as const) {
      const refused = await api(method, route, { token: reader, body: payload });
      expect({ route: `${method} ${route}`, refused: refused.json }).toEqual({
        route: `${method} ${route}`,
        refused: { error_code: 'PERMISSION_DENIED', message: expect.stringContaining('endpoint-reader') },
      });
    }
    // Deleting needs MANAGE on the model: a user with EDIT may change the endpoint but not delete it.
    const editor = await createToken({ user: 'endpoint-editor' });
    await api('POST', 'mlflow/registered-models/permissions/create', {
      token: owner,
      body: { name: model, username: 'endpoint-editor', permission: 'EDIT' },
    });
    expect(
      (await api('PATCH', `runway/endpoints/${name}`, { token: editor, body: { description: 'x' } })).status,
    ).toBe(200);
    expect((await api('DELETE', `runway/endpoints/${name}`, { token: editor })).status).toBe(403);
    // `runway endpoints` sends RUNWAY_TOKEN.
    const fromCli = await runway(['endpoints', 'get', name, '--url', runtime.url], { RUNWAY_TOKEN: reader });
    expect({ code: fromCli.code, name: JSON.parse(fromCli.stdout || '{}').endpoint?.name }).toEqual({
      code: 0,
      name,
    });
    const anonymous = await runway(['endpoints', 'get', name, '--url', runtime.url]);
    expect(anonymous.code).toBe(1);
    expect((await api('DELETE', `runway/endpoints/${name}`, { token: owner })).status).toBe(200);
  });

  it('answers invocations to token callers with READ on the endpoint’s model, and no one else', async () => {
    const owner = await createToken({ user: 'serving-owner' });
    const name = `auth-serving-${Date.now()}`;
    // The seeded endpoint serves the registered model of its own name.
    expect(
      (await api('POST', 'mlflow/registered-models/create', { token: owner, body: { name } })).status,
    ).toBe(200);
    await seedEndpoint(runtime, name, { version: '3' });
    const stranger = await createToken({ user: 'serving-stranger' });
    await api('POST', 'mlflow/registered-models/permissions/create', {
      token: owner,
      body: { name, username: 'serving-stranger', permission: 'NO_PERMISSIONS' },
    });

    const none = await invoke(name);
    expect({
      status: none.status,
      json: await none.json(),
      challenge: none.headers.get('www-authenticate'),
    }).toEqual(unauthenticated(/^No credentials/));
    const revokedToken = await createToken({ user: 'serving-revoked' });
    await api('POST', 'runway/tokens/revoke', {
      token: adminToken,
      body: { token_id: revokedToken.slice(4, 20) },
    });
    const revoked = await invoke(name, revokedToken);
    expect({ status: revoked.status, json: await revoked.json() }).toEqual({
      status: 401,
      json: { error_code: 'UNAUTHENTICATED', message: 'The token was revoked' },
    });
    const served = await invoke(name, owner);
    expect(served.status).toBe(200);
    expect(served.headers.get('x-runway-model-version')).toBe('3');
    // Reading is enough: a read-only token of a user with the default permission (READ) may invoke.
    const reader = await createToken({ user: 'serving-reader', read_only: true });
    expect((await invoke(name, reader)).status).toBe(200);
    const denied = await invoke(name, stranger);
    expect({ status: denied.status, json: await denied.json() }).toEqual({
      status: 403,
      json: {
        error_code: 'PERMISSION_DENIED',
        message: expect.stringContaining(`registered model '${name}'`),
      },
    });
    // An endpoint that does not exist is 404 to an authenticated caller.
    expect((await invoke(`${name}-ghost`, owner)).status).toBe(404);
  });
});
