import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import { LocalRuntime } from '../../infra/local/runtime.ts';
import { REPO_ROOT } from '../../infra/repo-root.ts';
import { defineRunwayApp } from '../../infra/runway-app.ts';
import { Api, type Seeded, seed } from './seed.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    consoleUrl: string;
    seeded: Seeded;
  }
}

/**
 * The console tests run against the local runtime as `npm start` runs it (random port, fresh data
 * directory), serving the console bundle built from the current source, with data seeded through the
 * public API (`seed.ts`).
 */
export default async function setup(project: TestProject) {
  await build({ configFile: path.join(REPO_ROOT, 'console/vite.config.ts'), logLevel: 'warn' });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-browser-'));
  const runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    functionLogs: 'silent',
    log: () => undefined,
    // Capture is written at most a second old (default a minute), so a monitor run sees the seeded traffic.
    define: (app, env) => defineRunwayApp(app, { env, captureFlushSeconds: 1 }),
  });
  try {
    const seeded = await seed(new Api(runtime.url));
    project.provide('consoleUrl', runtime.url);
    project.provide('seeded', seeded);
  } catch (error) {
    await runtime.stop();
    throw error;
  }
  return async () => {
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
