import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/repo-root.ts';

const BIN = path.join(REPO_ROOT, 'infra/local/bin/runway.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });

describe('runway CLI', () => {
  it('prints help that names its commands and options', () => {
    const result = run('--help');
    expect(result.status).toBe(0);
    for (const word of ['start', '--port', '--data-dir', '--quiet', 'MLFLOW_TRACKING_URI']) {
      expect(result.stdout).toContain(word);
    }
  });

  it('prints the package version', () => {
    expect(run('--version').stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses unknown commands and bad options with one line and a usage exit code', () => {
    const unknown = run('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    const badPort = run('start', '--port', 'abc');
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toContain("--port must be an integer from 0 to 65535, got 'abc'");
    expect(run('start', '--colour').status).toBe(2);
  });

  it('starts, prints what it serves, answers /health, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-cli-'));
    const child = spawn(process.execPath, [BIN, 'start', '--port', '0', '--data-dir', dataDir, '--quiet'], {
      cwd: REPO_ROOT,
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start line in: ${stdout}`)), 30_000);
        child.stdout.on('data', () => {
          const match = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
      });
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect(stdout).toContain('ANY /api/2.0/mlflow/{proxy+}');
      expect(stdout).toContain(`data directory: ${dataDir}`);
      // Work that outlives its request (an event delivered to a rule's target) must not keep it alive.
      const created = await fetch(`${url}/api/2.0/mlflow/registered-models/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `cli-${Date.now()}` }),
      });
      expect(created.status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stdout).toContain('SIGTERM received, stopping');
      await expect(fetch(`${url}/health`)).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
