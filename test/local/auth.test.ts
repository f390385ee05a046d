import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../infra/local/runtime.ts';
import { REPO_ROOT } from '../../infra/repo-root.ts';

/**
 * `runway start --auth` tried as a new user would: Runway's own app on the local runtime, the token
 * API's routes, the same authorizer function as on AWS in front of every request (with API Gateway's
 * 401 for a missing header, 403 for a refused token), and MLflow's errors from the functions.
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
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered.
  return { status: response.status, json: (await response.json()) as any };
}

/** Runs the real CLI against the runtime (asynchronously: the runtime lives in this process). */
function cli(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'infra/local/bin/runway.js'), 'tokens', ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, RUNWAY_TOKEN: '', MLFLOW_TRACKING_TOKEN: '', ...env },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
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

  it('refuses a request without a token (401) and with a wrong token (403), before any function runs', async () => {
    const none = await api('GET', 'mlflow/experiments/search?max_results=10');
    expect(none).toEqual({ status: 401, json: { message: 'Unauthorized' } });
    const wrong = await api('GET', 'mlflow/experiments/search?max_results=10', {
      token: `${adminToken.slice(0, 21)}${'x'.repeat(43)}`,
    });
    expect(wrong).toEqual({ status: 403, json: { message: 'Forbidden' } });
    const garbage = await api('GET', 'mlflow/experiments/search?max_results=10', {
      authorization: 'Bearer nope',
    });
    expect(garbage.status).toBe(403);
  });

  it('refuses an expired token', async () => {
    const token = await createToken({ user: 'temp', expires_in_seconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await api('GET', 'mlflow/experiments/search?max_results=10', { token })).status).toBe(403);
  });

  it('refuses a revoked token (revocation reaches cached tokens within the cache TTL)', async () => {
    const token = await createToken({ user: 'gone' });
    const id = token.slice(4, 20);
    expect(
      (await api('POST', 'runway/tokens/revoke', { token: adminToken, body: { token_id: id } })).status,
    ).toBe(200);
    expect((await api('GET', 'mlflow/experiments/search?max_results=10', { token })).status).toBe(403);
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
    expect(write.status).toBe(403);
    expect(write.json).toEqual({
      error_code: 'PERMISSION_DENIED',
      message: expect.stringContaining('viewer'),
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
    expect(unauthorized.stderr).toContain('HTTP 403');
  });
});
