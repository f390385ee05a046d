import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/repo-root.ts';

const BIN = path.join(REPO_ROOT, 'infra/local/bin/runway.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });

/** `runway start` on a free port; resolves with its URL once it prints it. */
function startCli(dataDir: string, nodeFlags: string[] = []) {
  const child = spawn(
    process.execPath,
    [...nodeFlags, BIN, 'start', '--port', '0', '--data-dir', dataDir, '--quiet'],
    {
      cwd: REPO_ROOT,
    },
  );
  const output = { stdout: '' };
  child.stdout.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line in: ${output.stdout}`)), 30_000);
    child.stdout.on('data', () => {
      const match = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(output.stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return { child, output, url };
}

/** The processes `parent` started, with their command lines (Linux's /proc). */
function childrenOf(parent: ChildProcessWithoutNullStreams): Array<{ pid: number; args: string[] }> {
  const children: Array<{ pid: number; args: string[] }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent.pid) continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      children.push({ pid: Number(entry), args });
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

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
    const { child, output, url: started } = startCli(dataDir);
    try {
      const url = await started;
      const stdout = () => output.stdout;
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect(stdout()).toContain('ANY /api/2.0/mlflow/{proxy+}');
      expect(stdout()).toContain(`data directory: ${dataDir}`);
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
      expect(stdout()).toContain('SIGTERM received, stopping');
      await expect(fetch(`${url}/health`)).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('runs the runtime with a V8 pool that leaves a core to requests, and stops it when killed outright', async () => {
    const expected = Math.max(1, Math.min(4, availableParallelism() - 1));
    const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-cli-'));
    const { child, url: started } = startCli(dataDir);
    const runtimes = () =>
      childrenOf(child).filter(({ args }) => args.some((arg) => arg.endsWith('runway.js')));
    try {
      const url = await started;
      if (expected === 4) {
        // Node's default pool already: the launching process is the runtime.
        expect(runtimes()).toEqual([]);
        return;
      }
      const [runtime, ...others] = runtimes();
      expect(others).toEqual([]);
      expect(runtime?.args).toContain(`--v8-pool-size=${expected}`);
      child.kill('SIGKILL');
      const deadline = Date.now() + 30_000;
      while (isAlive(runtime?.pid as number) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(isAlive(runtime?.pid as number)).toBe(false);
      await expect(fetch(`${url}/health`)).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
      for (const { pid } of runtimes()) process.kill(pid, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('keeps a V8 pool size the user gave and then serves from its own process', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-cli-'));
    const { child, url: started } = startCli(dataDir, ['--v8-pool-size=2']);
    try {
      const url = await started;
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect(childrenOf(child).filter(({ args }) => args.some((arg) => arg.endsWith('runway.js')))).toEqual(
        [],
      );
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
