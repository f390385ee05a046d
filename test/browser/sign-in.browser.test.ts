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
