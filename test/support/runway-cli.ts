import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../infra/repo-root.ts';

/**
 * Runs the real `runway` CLI (`infra/local/bin/runway.js`) as a user would from a shell, with
 * `env` added to this process's environment. Asynchronous, so that a runtime started by the test in
 * this process keeps serving while the CLI talks to it.
 */
export function runRunwayCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'infra/local/bin/runway.js'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
