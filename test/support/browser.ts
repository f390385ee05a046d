import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { REPO_ROOT } from '../../infra/repo-root.ts';

/** Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it): never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where tests leave their screenshots (gitignored). */
export const SCREENSHOTS = path.join(REPO_ROOT, 'test-results', 'browser');

/**
 * Chromium headless with a fresh user data directory, and no traffic of its own (this machine's
 * network is closed: background networking and component updates would only fail and slow it).
 */
export async function launchBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'runway-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    viewport: { width: 1440, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A page that records every console error and uncaught exception, for tests to assert there are none. */
export async function watchedPage(context: BrowserContext): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * How many pixels of the canvas are not its background (white or transparent): a chart that drew.
 * Code that runs in the page is passed as text: this Node program has no DOM types.
 */
export function drawnPixels(page: Page, selector: string): Promise<number> {
  return page.evaluate<number>(`(() => {
    const canvas = document.querySelector(${JSON.stringify(selector)});
    const data = canvas?.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
    if (!data) return 0;
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const white = data[i] > 245 && data[i + 1] > 245 && data[i + 2] > 245;
      if (data[i + 3] > 0 && !white) count++;
    }
    return count;
  })()`);
}

/**
 * A browser for the calling test file (launched before its tests, closed after them) and a function
 * that opens `base + path` in a new page watched for console errors.
 */
export function browserPages(base: string): (path: string) => Promise<{ page: Page; errors: string[] }> {
  let context: BrowserContext | undefined;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ context, close } = await launchBrowser());
  });
  afterAll(async () => {
    await close?.();
  });
  return async (path) => {
    if (!context)
      throw new Error('browserPages: the browser is not launched (call it at the top of a test file)');
    const watched = await watchedPage(context);
    await watched.page.goto(`${base}${path}`);
    return watched;
  };
}
