import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../infra/repo-root.ts';
import { startRuntimeProcess } from './runtime-process.ts';
import { printTable, summarize } from './stats.ts';

/** Where Runway must be, as a share of MLflow's time (issue 17). */
const TARGET_RATIO = 0.5;

interface DriverOutput {
  client: string;
  samples: Record<string, Record<string, number[]>>;
  /** The client's own time per call, each server's answer replayed without a server (the driver). */
  client_alone: Record<string, Record<string, number[]>>;
}

/**
 * `npm run bench -- vs-mlflow`: Runway (`runway start`, a process of its own) beside the real MLflow
 * 2.22.4 server under gunicorn (SQLite, its default 4 workers), both driven by the official MLflow
 * Python client in one process (`mlflow_client_driver.py`), with the same workload, in interleaved
 * rounds on this machine, in one run. A second table splits each call into the client's own time
 * (the same call answered at once with that server's answer, replayed in the driver) and the rest,
 * the server's and the loopback's, beside what the 0.5 target leaves Runway's side. Needs the
 * user's MLflow: `MLFLOW_PYTHON` is a python command that imports it (e.g. `/work/tools/mlflow222`,
 * or `.venv/bin/python`); it also runs the server.
 */
export async function vsMlflowBench(): Promise<void> {
  const python = process.env.MLFLOW_PYTHON;
  if (!python) {
    process.stdout.write(
      '\nvs-mlflow: skipped. Set MLFLOW_PYTHON to a python command that imports the MLflow you have installed\n' +
        '  (its client drives both servers, and `python -m mlflow server` is the MLflow side), e.g.\n' +
        '  MLFLOW_PYTHON=/path/to/venv/bin/python npm run bench -- vs-mlflow\n',
    );
    return;
  }
  const rounds = Number(process.env.VS_MLFLOW_ROUNDS ?? 5);
  const dir = mkdtempSync(path.join(tmpdir(), 'runway-vs-mlflow-'));
  const loadBefore = loadavg();
  const mlflow = await startMlflowServer(python, dir);
  const runway = await startRuntimeProcess(path.join(dir, 'runway'));
  try {
    await runway.warm; // the steady state: every function's container started
    const output = await runDriver(python, [
      '--target',
      `mlflow=${mlflow.url}`,
      '--target',
      `runway=${runway.url}`,
      '--rounds',
      String(rounds),
    ]);
    const loadAfter = loadavg();
    const rows: Array<Array<string | number>> = [];
    const mlflowSamples = output.samples.mlflow ?? {};
    const runwaySamples = output.samples.runway ?? {};
    for (const [operation, samples] of Object.entries(mlflowSamples)) {
      const ours = runwaySamples[operation];
      if (!ours) continue;
      const theirs = summarize(samples).p50;
      const mine = summarize(ours).p50;
      const ratio = mine / theirs;
      const isDiagnostic = operation.includes('(raw');
      rows.push([
        operation,
        String(samples.length),
        theirs,
        mine,
        ratio.toFixed(2),
        isDiagnostic ? '(diagnostic)' : ratio <= TARGET_RATIO ? 'meets' : 'MISSES',
      ]);
    }
    printTable(
      `tracking as the MLflow Python client sees it: median ms, one run, interleaved rounds (client: ${output.client}; both servers on this machine)`,
      [
        'operation',
        'calls each',
        'MLflow 2.22.4 server (gunicorn, SQLite)',
        'Runway (runway start)',
        'Runway / MLflow',
        `target <= ${TARGET_RATIO}`,
      ],
      rows,
    );
    printTable(
      'where the time goes: the client alone (the same call answered at once with the answer the server gave it, replayed inside `requests`), and the rest, which is the server and the loopback; median ms',
      [
        'operation',
        'client alone, MLflow answer',
        'MLflow server + loopback',
        'client alone, Runway answer',
        'Runway server + loopback',
        'Runway server + loopback at 0.5',
      ],
      whereTheTimeGoes(output),
    );
    process.stdout.write(
      `  load average (1 min) ${loadBefore[0]?.toFixed(1)} before, ${loadAfter[0]?.toFixed(1)} after; ${rounds} rounds\n`,
    );
  } finally {
    await runway.stop();
    await mlflow.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Each client operation split into the client's own time and the rest. The last column is what the
 * target leaves Runway's server and the loopback: half MLflow's whole time, less the client's own
 * time on Runway's answer (negative: no server could meet it).
 */
function whereTheTimeGoes(output: DriverOutput): Array<Array<string | number>> {
  const p50 = (samples: number[] | undefined) => (samples?.length ? summarize(samples).p50 : Number.NaN);
  const rows: Array<Array<string | number>> = [];
  for (const [operation, mlflowAlone] of Object.entries(output.client_alone.mlflow ?? {})) {
    const mlflowTotal = p50(output.samples.mlflow?.[operation]);
    const runwayTotal = p50(output.samples.runway?.[operation]);
    const runwayAlone = p50(output.client_alone.runway?.[operation]);
    const theirs = p50(mlflowAlone);
    rows.push([
      operation,
      theirs,
      mlflowTotal - theirs,
      runwayAlone,
      runwayTotal - runwayAlone,
      TARGET_RATIO * mlflowTotal - runwayAlone,
    ]);
  }
  return rows;
}

/** The MLflow server as its docs start it, in a process group of its own (gunicorn forks workers). */
async function startMlflowServer(
  python: string,
  dir: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    python,
    [
      '-m',
      'mlflow',
      'server',
      '--backend-store-uri',
      `sqlite:///${path.join(dir, 'mlflow.db')}`,
      '--serve-artifacts',
      '--artifacts-destination',
      path.join(dir, 'mlflow-artifacts'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: process.env },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopGroup(child);
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the MLflow server exited: ${stderr}`);
    const health = await fetch(`${url}/health`).catch(() => undefined);
    if (health?.status === 200) return { url, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the MLflow server did not answer /health within 180 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Stops a detached child and everything it forked (its process group), by its own pid. */
function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
    }, 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      // gunicorn's workers are in the same group; make sure none outlives the bench.
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // the group is empty
      }
      resolve();
    });
    process.kill(-(child.pid as number), 'SIGTERM');
  });
}

function runDriver(python: string, args: string[]): Promise<DriverOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [path.join(REPO_ROOT, 'test/bench/mlflow_client_driver.py'), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...userEnvironment(), MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' },
    });
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the MLflow client driver exited with ${code}`));
      try {
        resolve(JSON.parse(stdout) as DriverOutput);
      } catch (error) {
        reject(error);
      }
    });
  });
}

/**
 * The environment a user's script has: this process's, without the variables `npm run` adds (some
 * 35 `npm_*` names). `requests` reads the whole environment on every call (its proxy settings), so
 * npm's variables would add the same few tenths of a millisecond to every call to either server.
 */
function userEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
