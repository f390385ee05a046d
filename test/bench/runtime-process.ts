import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../infra/repo-root.ts';

export interface RuntimeProcess {
  url: string;
  /** Milliseconds from spawning `runway start` to the first 200 from `/health`. */
  readyMs: number;
  /**
   * Settles when `runway start` says every function is warm: a benchmark of the steady state waits
   * for it, or the background cold starts share the CPU with what it measures. Its value: the
   * milliseconds from spawning to that line.
   */
  warm: Promise<number>;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `runway start` as a user would (a separate process), on a free port, and waits for /health. */
export async function startRuntimeProcess(
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-bench-')),
  /** More `runway start` options, e.g. `--auth`. */
  extraArgs: readonly string[] = [],
): Promise<RuntimeProcess> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, 'infra/local/bin/runway.js'),
      'start',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--quiet',
      ...extraArgs,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  let onWarm: () => void = () => undefined;
  const warm = new Promise<number>((resolve) => {
    onWarm = () => resolve(performance.now() - started);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
      if (/functions warm \(/.test(output)) onWarm();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`runway exited with ${code}: ${output}`)));
  });
  for (;;) {
    const health = await fetch(`${url}/health`).catch(() => undefined);
    if (health?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const readyMs = performance.now() - started;
  return {
    url,
    readyMs,
    warm,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
