import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE } from '../../infra/local/admin-token.ts';
import { LocalRuntime } from '../../infra/local/runtime.ts';
import { launchBrowser, screenshot, watchedPage } from '../support/browser.ts';

/**
 * `runway start --auth`: the console's files are served to anyone, but every API call needs a token,
 * so the first 401 shows the sign-in; a refused token is shown as the API words it; an accepted one
 * is kept in sessionStorage only, for this browser session.
 */

let runtime: LocalRuntime;
let dataDir: string;
let context: BrowserContext;
let close: () => Promise<void>;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-browser-auth-'));
  runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    auth: true,
    functionLogs: 'silent',
    log: () => undefined,
  });
  ({ context, close } = await launchBrowser());
});
afterAll(async () => {
  await close?.();
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('a 401 shows the sign-in; a refused token shows the API message; a good one signs in for the session', async () => {
  const { page, errors } = await watchedPage(context);
  await page.goto(`${runtime.url}/experiments`);
  await page.waitForSelector('form input[name=token]');
  await screenshot(page, 'sign-in');

  const wrong = `rwy_${'0'.repeat(16)}_${'x'.repeat(43)}`;
  const refusal = await fetch(`${runtime.url}/api/2.0/runway/whoami`, {
    headers: { authorization: `Bearer ${wrong}` },
  }).then((response) => response.json() as Promise<{ error_code: string; message: string }>);
  expect(refusal.error_code).toBe('UNAUTHENTICATED');
  await page.fill('input[name=token]', wrong);
  await page.click('button[type=submit]');
  const shown = await page.waitForSelector('form .error');
  expect(await shown.textContent()).toBe(`${refusal.error_code} ${refusal.message}`);

  const token = readFileSync(path.join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('h1:has-text("Experiments")');
  expect(await page.evaluate("sessionStorage.getItem('runway.token')")).toBe(token);
  expect(await page.evaluate('localStorage.length')).toBe(0);
  expect(await page.evaluate('document.cookie')).toBe('');

  // The token API's admin sees itself on the Access page.
  await page.click('a:has-text("Access")');
  await page.waitForSelector('text=signed in with');
  expect(await page.textContent('.card')).toContain('token');

  // sessionStorage belongs to the tab: another tab starts signed out.
  const other = await context.newPage();
  await other.goto(`${runtime.url}/models`);
  await other.waitForSelector('form input[name=token]');
  await other.close();
  // The browser logs each refused request (401); nothing else went wrong.
  expect(errors.length).toBeGreaterThan(0);
  expect(errors.every((line) => line.includes('401'))).toBe(true);
  await page.close();
});

it('a user without EDIT on the monitored model sees the monitor, and its refusals as the API words them', async () => {
  const admin = readFileSync(path.join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
  const call = async (token: string, method: string, route: string, body?: unknown) => {
    const response = await fetch(`${runtime.url}/api/2.0/${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the test reads whatever JSON the API answered.
    return { status: response.status, json: (await response.json()) as any };
  };
  // The admin makes a model, an endpoint following it and a monitor; ana has the default READ.
  await call(admin, 'POST', 'mlflow/registered-models/create', { name: 'watched' });
  expect(
    (
      await call(admin, 'POST', 'runway/endpoints', {
        name: 'watched-live',
        model_name: 'watched',
        follows: { alias: 'production' },
      })
    ).status,
  ).toBe(200);
  expect(
    (await call(admin, 'POST', 'runway/monitors', { name: 'watched-drift', endpoint_name: 'watched-live' }))
      .status,
  ).toBe(200);
  const ana = (await call(admin, 'POST', 'runway/tokens/create', { user: 'ana' })).json.token as string;

  const { page, errors } = await watchedPage(context);
  await page.goto(`${runtime.url}/monitors/watched-drift`);
  await page.waitForSelector('form input[name=token]');
  await page.fill('input[name=token]', ana);
  await page.click('button[type=submit]');
  await page.waitForSelector("text=the served version's training statistics");
  await page.click('.page-head button:has-text("Delete")');
  await page.click('[role=dialog] button.primary');
  const shown = await page.waitForSelector('.error');
  const refusal = (await call(ana, 'DELETE', 'runway/monitors/watched-drift')).json;
  expect(refusal.error_code).toBe('PERMISSION_DENIED');
  expect(await shown.textContent()).toBe(`${refusal.error_code} ${refusal.message}`);
  expect((await call(admin, 'GET', 'runway/monitors/watched-drift')).status).toBe(200);
  await screenshot(page, 'monitor-permission-denied');
  // The browser logs the 401 before sign-in and the refused delete (403); nothing else went wrong.
  expect(errors.every((line) => /status of (401|403)/.test(line))).toBe(true);
  await page.close();
});
