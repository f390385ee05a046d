import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { LocalRuntime } from '../../infra/local/runtime.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    /** True when the suite drives a deployment it did not start (LocalStack or AWS). */
    external: boolean;
    /**
     * The artifact bucket's name, for tests of `s3://<bucket>/...` artifact roots: the local
     * runtime's, or `E2E_ARTIFACT_BUCKET` for a deployment ('' when unknown).
     */
    artifactBucket: string;
  }
}

/**
 * The end-to-end suite drives HTTP at `E2E_BASE_URL` when it is set (a deployment on AWS or
 * LocalStack; see the README), and otherwise starts the local runtime itself on a random port with
 * a fresh data directory.
 */
export default async function setup(project: TestProject) {
  const external = process.env.E2E_BASE_URL;
  if (external) {
    project.provide('baseUrl', external.replace(/\/+$/, ''));
    project.provide('external', true);
    project.provide('artifactBucket', process.env.E2E_ARTIFACT_BUCKET ?? '');
    return;
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-e2e-'));
  const runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    functionLogs: 'silent',
    log: () => undefined,
  });
  project.provide('baseUrl', runtime.url);
  project.provide('external', false);
  const artifacts = [...runtime.functions.values()].find((fn) => fn.spec.environment.ARTIFACT_BUCKET_NAME);
  project.provide('artifactBucket', artifacts?.spec.environment.ARTIFACT_BUCKET_NAME ?? '');
  return async () => {
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
