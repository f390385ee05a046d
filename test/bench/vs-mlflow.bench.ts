import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../infra/repo-root.ts';
import { startRuntimeProcess } from './runtime-process.ts';
import { format, printTable, summarize } from './stats.ts';

/** Where Runway must be, as a share of MLflow's time (issue 17). */
const TARGET_RATIO = 0.5;

interface DriverOutput {
  client: string;
  samples: Record<string, Record<string, number[]>>;
  /** The client's own time per call, each server's answer replayed without a server (the driver). */
  client_alone: Record<string, Record<string, number[]>>;
  /** Each call answered over the loopback by a Node server that replays that server's answer at once. */
  floor: Record<string, Record<string, number[]>>;
}

/**
 * `npm run bench -- vs-mlflow`: Runway (`runway start`, a process of its own) beside the real MLflow
 * 2.22.4 server under gunicorn (SQLite, its default 4 workers), both driven by the official MLflow
 * Python client in one process (`mlflow_client_driver.py`), with the same workload, in interleaved
 * rounds on this machine, in one run. A second table splits each call: the client's own time (the
 * same call answered at once with that server's answer, replayed in the driver), the floor under any
 * server (the same answer sent at once over the loopback by a bare `node:http` server, `replayServer`),
 * each server's work above that floor, and what the 0.5 target leaves Runway above it. Needs the
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
  const replay = await replayServer();
  try {
    await runway.warm; // the steady state: every function's container started
    const output = await runDriver(python, [
      '--target',
      `mlflow=${mlflow.url}`,
      '--target',
      `runway=${runway.url}`,
      '--rounds',
      String(rounds),
      '--replay',
      replay.url,
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
      "where the time goes, median ms: the client alone (the call answered at once inside `requests` with the answer that server gave it); the floor (the same answer sent at once over the loopback by a bare node:http server, the least any server here can take); each server's own work above the floor; what 0.5 leaves Runway above it",
      [
        'operation',
        'client alone: MLflow / Runway answer',
        'floor: MLflow / Runway answer',
        'MLflow above floor',
        'Runway above floor',
        'Runway above floor at 0.5',
      ],
      whereTheTimeGoes(output),
    );
    process.stdout.write(
      `  load average (1 min) ${loadBefore[0]?.toFixed(1)} before, ${loadAfter[0]?.toFixed(1)} after; ${rounds} rounds\n`,
    );
  } finally {
    await replay.stop();
    await runway.stop();
    await mlflow.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Each client operation split: the client's own time and the floor under any server (each on both
 * servers' answers), then each server's work above the floor (its time less the floor on its own
 * answer). The last column is what the target leaves Runway above the floor: half MLflow's whole
 * time less the floor on Runway's answer (negative: no server on this machine could meet it).
 */
function whereTheTimeGoes(output: DriverOutput): Array<Array<string | number>> {
  const p50 = (samples: number[] | undefined) => (samples?.length ? summarize(samples).p50 : Number.NaN);
  const pair = (a: number, b: number) => `${format(a)} / ${format(b)}`;
  const rows: Array<Array<string | number>> = [];
  for (const operation of Object.keys(output.client_alone.mlflow ?? {})) {
    const total = (name: string) => p50(output.samples[name]?.[operation]);
    const alone = (name: string) => p50(output.client_alone[name]?.[operation]);
    const floor = (name: string) => p50(output.floor[name]?.[operation]);
    rows.push([
      operation,
      pair(alone('mlflow'), alone('runway')),
      pair(floor('mlflow'), floor('runway')),
      total('mlflow') - floor('mlflow'),
      total('runway') - floor('runway'),
      TARGET_RATIO * total('mlflow') - floor('runway'),
    ]);
  }
  return rows;
}

/**
 * A bare `node:http` server on the loopback that answers every request at once with the answer the
 * last `PUT /__replay` set (`{ status, body }`): the floor under any server on this machine, as the
 * client sees it (its own time, the loopback, and Node's HTTP parsing and writing).
 */
async function replayServer(): Promise<{ url: string; stop(): Promise<void> }> {
  let answer = { status: 200, body: '{}' };
  const server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'PUT' && request.url === '/__replay') {
        answer = JSON.parse(Buffer.concat(chunks).toString()) as typeof answer;
      }
      response.writeHead(answer.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(answer.body),
      });
      response.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
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
