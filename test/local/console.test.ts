import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../infra/constructs/console-hosting.ts';
import { ADMIN_TOKEN_FILE } from '../../infra/local/admin-token.ts';
import { LocalRuntime } from '../../infra/local/runtime.ts';

/**
 * The console as the local distribution's default behaviour on `runway start --auth` (a stand-in
 * bundle in a temporary folder as the console bucket's content): the page for browser loads of
 * client routes, its files with the headers the upload stores them with, the console's response
 * headers policy, and never a path the API serves; and the pipelines API's refusals, as MLflow errors.
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
  writeFileSync(path.join(bundle, 'assets', 'app-1234.js.map'), '{}');
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

/** A GET with the path exactly as written (`fetch` would resolve `.` and `..` segments first). */
function rawGet(rawPath: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(runtime.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path: rawPath, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

const page = (pathname: string, init: RequestInit = {}) =>
  fetch(`${runtime.url}${pathname}`, { ...init, headers: { accept: 'text/html,*/*', ...init.headers } });

describe('serving the console', () => {
  it('answers a browser load of / and of client routes with index.html and its headers, without a token', async () => {
    for (const pathname of ['/', '/experiments/1/runs/abc', '/endpoints/fraud', '/pipelines/x?tab=1']) {
      const response = await page(pathname);
      expect(response.status, pathname).toBe(200);
      expect(await response.text()).toBe('<!doctype html><title>console</title>');
      expect(response.headers.get('content-type')).toBe('text/html');
      expect(response.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('cache-control')).toBe('no-cache');
    }
    expect((await page('/', { method: 'HEAD' })).status).toBe(200);
    // A rebuilt bundle shows at the next load; an unchanged page revalidates to 304.
    const first = await page('/');
    const again = await page('/', { headers: { 'if-none-match': first.headers.get('etag') ?? '' } });
    expect(again.status).toBe(304);
    writeFileSync(path.join(bundle, 'index.html'), '<!doctype html><title>rebuilt</title>');
    expect(await (await page('/')).text()).toContain('rebuilt');
    writeFileSync(path.join(bundle, 'index.html'), '<!doctype html><title>console</title>');
  });

  it('serves hashed assets for a year; nothing the upload leaves out, nothing outside the bundle', async () => {
    const asset = await fetch(`${runtime.url}/assets/app-1234.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // As the bucket answers a key it does not hold (CloudFront may read, not list): 403.
    expect((await fetch(`${runtime.url}/assets/missing.js`)).status).toBe(403);
    expect((await fetch(`${runtime.url}/assets/app-1234.js.map`)).status).toBe(403);
    for (const sneaky of [
      '/assets/..%2f..%2fpackage.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/../../package.json',
      '/assets/.%2fapp-1234.js',
    ]) {
      const traversal = await rawGet(sneaky);
      expect(traversal.status, sneaky).toBe(403);
      expect(traversal.text).not.toContain('"name"');
    }
  });

  it('never shadows the API: its routes answer as before, even to a browser; other requests get its JSON 404', async () => {
    const health = await page('/health');
    expect(await health.json()).toEqual({ status: 'OK' });
    const search = await page('/api/2.0/mlflow/experiments/search?max_results=1');
    expect(search.status).toBe(401);
    expect(((await search.json()) as { error_code: string }).error_code).toBe('UNAUTHENTICATED');
    const invocation = await page('/endpoints/fraud/invocations', { method: 'POST', body: '{}' });
    expect(invocation.status).toBe(401);
    const ajax = await page('/ajax-api/2.0/nothing-here');
    expect(((await ajax.json()) as { error_code: string }).error_code).toBe('UNAUTHENTICATED');
    // A client that does not ask for HTML (the MLflow client, curl), or sends anything but GET or HEAD,
    // gets the API's own 404 on any path the API does not serve.
    for (const [method, pathname, accept] of [
      ['GET', '/experiments', 'application/json'],
      ['POST', '/experiments/1', 'text/html'],
      ['PUT', '/assets/app-1234.js', '*/*'],
    ] as const) {
      const answer = await fetch(`${runtime.url}${pathname}`, { method, headers: { accept } });
      expect(answer.status, `${method} ${pathname}`).toBe(404);
      expect(await answer.json()).toEqual({
        error_code: 'ENDPOINT_NOT_FOUND',
        message: `No API endpoint matches ${method} ${pathname}`,
      });
    }
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
