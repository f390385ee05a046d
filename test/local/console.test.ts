import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE } from '../../infra/local/admin-token.ts';
import { CONSOLE_CSP } from '../../infra/local/console-assets.ts';
import { LocalRuntime } from '../../infra/local/runtime.ts';

/**
 * The console beside the API on `runway start --auth` (a stand-in bundle in a temporary folder): the
 * page for browser loads of client routes, its files, and never a path the API serves; and the
 * pipelines API's refusals, as MLflow errors.
 */

let runtime: LocalRuntime;
let dataDir: string;
let bundle: string;
let adminToken: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-console-'));
  bundle = mkdtempSync(path.join(tmpdir(), 'runway-console-bundle-'));
  mkdirSync(path.join(bundle, 'assets'));
  writeFileSync(path.join(bundle, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(path.join(bundle, 'assets', 'app-1234.js'), 'console.log(1)');
  runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    auth: true,
    consoleDir: bundle,
    functionLogs: 'silent',
    log: () => undefined,
  });
  adminToken = readFileSync(path.join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(bundle, { recursive: true, force: true });
});

const page = (pathname: string, init: RequestInit = {}) =>
  fetch(`${runtime.url}${pathname}`, { ...init, headers: { accept: 'text/html,*/*', ...init.headers } });

describe('serving the console', () => {
  it('answers a browser load of / and of client routes with index.html and its CSP, without a token', async () => {
    for (const pathname of ['/', '/experiments/1/runs/abc', '/endpoints/fraud', '/pipelines/x?tab=1']) {
      const response = await page(pathname);
      expect(response.status, pathname).toBe(200);
      expect(await response.text()).toBe('<!doctype html><title>console</title>');
      expect(response.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(response.headers.get('cache-control')).toBe('no-cache');
    }
    expect((await page('/', { method: 'HEAD' })).status).toBe(200);
  });

  it('serves hashed assets for a year and config.json naming this origin; nothing outside the bundle', async () => {
    const asset = await fetch(`${runtime.url}/assets/app-1234.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(await (await fetch(`${runtime.url}/config.json`)).json()).toEqual({ apiUrl: '' });
    expect((await fetch(`${runtime.url}/assets/missing.js`)).status).toBe(404);
    const traversal = await fetch(`${runtime.url}/assets/..%2f..%2fpackage.json`);
    expect(traversal.status).toBe(404);
    expect(await traversal.text()).not.toContain('"name"');
  });

  it('never shadows the API: its routes answer as before, even to a browser', async () => {
    const health = await page('/health');
    expect(await health.json()).toEqual({ status: 'OK' });
    const search = await page('/api/2.0/mlflow/experiments/search?max_results=1');
    expect(search.status).toBe(401);
    expect(((await search.json()) as { error_code: string }).error_code).toBe('UNAUTHENTICATED');
    const invocation = await page('/endpoints/fraud/invocations', { method: 'POST', body: '{}' });
    expect(invocation.status).toBe(401);
    const ajax = await page('/ajax-api/2.0/nothing-here');
    expect(((await ajax.json()) as { error_code: string }).error_code).toBe('UNAUTHENTICATED');
    // A client that does not ask for HTML (the MLflow client, curl) gets the API's answer on any path.
    const api = await fetch(`${runtime.url}/experiments`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error_code: string }).error_code).toBe('ENDPOINT_NOT_FOUND');
  });
});

describe('pipelines API', () => {
  const call = async (token: string, method: string, pathname: string, body?: unknown) => {
    const response = await fetch(`${runtime.url}/api/2.0/${pathname}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered.
    return { status: response.status, json: (await response.json()) as any };
  };
  const input = {
    datasetUri: 'mlflow-artifacts:/datasets/iris.csv',
    targetColumn: 'species',
    modelType: 'logistic_regression',
    modelName: 'console-pipeline-model',
    threshold: 0.5,
  };

  it('refuses bad input naming the field, an unknown execution, and a user without EDIT on the model', async () => {
    const bad = await call(adminToken, 'POST', 'runway/pipelines/executions', {
      input: { ...input, threshold: 'x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringContaining('input.threshold'),
    });
    const extra = await call(adminToken, 'POST', 'runway/pipelines/executions', { input, colour: 'red' });
    expect(extra.status).toBe(400);
    const missing = await call(adminToken, 'GET', 'runway/pipelines/executions/no-such-run');
    expect(missing).toEqual({
      status: 404,
      json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: "No pipeline execution named 'no-such-run'" },
    });
    expect((await call(adminToken, 'GET', 'runway/pipelines/executions/bad%20name')).status).toBe(400);

    await call(adminToken, 'POST', 'mlflow/registered-models/create', { name: input.modelName });
    const created = await call(adminToken, 'POST', 'runway/tokens/create', { user: 'ana' });
    const ana = created.json.token as string;
    expect((await call(ana, 'GET', 'runway/whoami')).json).toMatchObject({
      user: 'ana',
      kind: 'token',
      admin: false,
    });
    const denied = await call(ana, 'POST', 'runway/pipelines/executions', { input });
    expect(denied.status).toBe(403);
    expect(denied.json).toEqual({
      error_code: 'PERMISSION_DENIED',
      message: `Permission denied: 'ana' may not update registered model '${input.modelName}'`,
    });
    expect((await call(ana, 'GET', 'runway/pipelines/executions')).status).toBe(200);
  });
});
