import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startRuntimeProcess } from './runtime-process.ts';
import { printTable, summarize } from './stats.ts';

const REQUESTS = 300;

/**
 * What authentication costs a request on the local runtime: `experiments/get` without `--auth`, and
 * with it. With `--auth` the token authorizer runs on every request (no identity source, no API
 * Gateway cache, as deployed); it answers from its in-container cache when it has seen the
 * `Authorization` header within 60 s (one token, reused: no DynamoDB read), and reads the token's
 * item when it has not (a new token each request). A user's request also reads the user's grant on
 * the experiment in the function; an admin's does not. A request without credentials is refused 401
 * by the function. Sequential requests, so the figures are latencies, not contention.
 */
export async function authBench(): Promise<void> {
  const securedDir = mkdtempSync(path.join(tmpdir(), 'runway-bench-auth-'));
  const plain = await startRuntimeProcess();
  const secured = await startRuntimeProcess(securedDir, ['--auth']);
  // The steady state: both runtimes' functions started, so no cold start shares the CPU.
  await Promise.all([plain.warm, secured.warm]);
  try {
    const admin = readFileSync(path.join(securedDir, 'admin-token'), 'utf8').trim();
    const get = async (url: string, token?: string, expected = 200) => {
      const started = performance.now();
      const response = await fetch(`${url}/api/2.0/mlflow/experiments/get?experiment_id=0`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      await response.arrayBuffer();
      if (response.status !== expected) throw new Error(`experiments/get answered ${response.status}`);
      return performance.now() - started;
    };
    const series = async (call: (i: number) => Promise<number>) => {
      for (let i = 0; i < 10; i++) await call(-1);
      const samples: number[] = [];
      for (let i = 0; i < REQUESTS; i++) samples.push(await call(i));
      return summarize(samples);
    };
    const tokens: string[] = [];
    for (let i = 0; i < REQUESTS + 11; i++) {
      const response = await fetch(`${secured.url}/api/2.0/runway/tokens/create`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user: `bench-${i}` }),
      });
      tokens.push(((await response.json()) as { token: string }).token);
    }
    let fresh = 0;
    const none = await series(() => get(plain.url));
    const user = tokens.pop() as string;
    const adminHit = await series(() => get(secured.url, admin));
    const hit = await series(() => get(secured.url, user));
    const miss = await series(() => get(secured.url, tokens[fresh++]));
    const refused = await series(() => get(secured.url, undefined, 401));
    const rows = [
      ['no --auth', none.n, none.p50, none.p99, '-'],
      [
        '--auth, admin token, authorizer cache hit (no read at all)',
        adminHit.n,
        adminHit.p50,
        adminHit.p99,
        adminHit.p50 - none.p50,
      ],
      ['--auth, user token, cache hit (+1 grant read)', hit.n, hit.p50, hit.p99, hit.p50 - none.p50],
      ['--auth, user token, cache miss (+1 token read)', miss.n, miss.p50, miss.p99, miss.p50 - none.p50],
      [
        '--auth, no credentials (401 from the function)',
        refused.n,
        refused.p50,
        refused.p99,
        refused.p50 - none.p50,
      ],
    ];
    printTable(
      'authorizer overhead: GET experiments/get against runway start (ms)',
      ['mode', 'requests', 'p50', 'p99', 'p50 overhead'],
      rows,
    );
  } finally {
    await Promise.all([plain.stop(), secured.stop()]);
    rmSync(securedDir, { recursive: true, force: true });
  }
}
