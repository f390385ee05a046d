/**
 * `npm run bench -- artifacts`: artifacts up and down as MLflow's client moves them, checked by
 * sha256 end to end, in MB/s (1 MB = 10^6 bytes).
 *
 * - At the client's default settings: one PUT of the whole file and one streamed GET, at 20 MB,
 *   300 MB and 1 GiB, with the request shapes MLflow 3.11.1 sends (test/fixtures/mlflow/).
 * - With multipart upload enabled: 1 GiB in presigned parts, then one streamed GET.
 * - With `MLFLOW_CLIENT=<python with mlflow>` (e.g. `/work/tools/mlflow311`): the real client at its
 *   defaults, `log_artifact` and `download_artifacts` of 20 MB and 300 MB, against this Runway and
 *   against MLflow's own server (`mlflow server --serve-artifacts`, started here) in the same run,
 *   so the two sets of figures come from the same client, workload and machine.
 *
 * Bodies are generated and hashed as they stream: no file is ever held in memory whole.
 */

import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomFill } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../infra/repo-root.ts';
import { startRuntimeProcess } from './runtime-process.ts';
import { printTable } from './stats.ts';

const MiB = 1024 * 1024;
const fill = promisify(randomFill);

export interface ArtifactBenchOptions {
  /** A running Runway; without one, `runway start` is started (and stopped) for the run. */
  baseUrl?: string;
  /** @default 1 GiB */
  sizeBytes?: number;
  /** Part size of the multipart upload (S3 needs at least 5 MiB but for the last). @default 16 MiB */
  partBytes?: number;
  /** Parts in flight at once. @default 4 */
  concurrency?: number;
}

interface Credential {
  url: string;
  part_number: number;
  headers: Record<string, string>;
}

/** Every artifact benchmark against one `runway start` (and MLflow's server with `MLFLOW_CLIENT`). */
export async function artifactsBench(): Promise<void> {
  const runtime = await startRuntimeProcess();
  await runtime.warm;
  try {
    // The real client first: after the gigabytes below, the disk's write-back of them slows every
    // flush for a while, and the two servers' small-file figures would measure that instead.
    const client = process.env.MLFLOW_CLIENT;
    if (client) await realClient(client, runtime.url);
    await defaultSettings(runtime.url);
    await artifacts1GB({ baseUrl: runtime.url });
    if (!client)
      process.stdout.write(
        "\n(set MLFLOW_CLIENT=<python with mlflow> to add the real client beside MLflow's server)\n",
      );
  } finally {
    await runtime.stop();
  }
}

/** Uploads and downloads 1 GiB by multipart upload and one GET, and prints MB/s (1 MB = 10^6 bytes). */
export async function artifacts1GB(options: ArtifactBenchOptions = {}): Promise<void> {
  const size = options.sizeBytes ?? 1024 * MiB;
  const partBytes = options.partBytes ?? 16 * MiB;
  const concurrency = options.concurrency ?? 4;
  const runtime = options.baseUrl ? undefined : await startRuntimeProcess();
  await runtime?.warm; // the steady state, not the background cold starts after start-up
  const baseUrl = (options.baseUrl ?? runtime?.url ?? '').replace(/\/+$/, '');
  try {
    const api = (path: string, init?: RequestInit) => fetch(`${baseUrl}${path}`, init);
    const post = async (path: string, body: unknown) => {
      const response = await api(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await response.json()) as Record<string, unknown>;
      if (response.status !== 200)
        throw new Error(`POST ${path} answered ${response.status}: ${JSON.stringify(json)}`);
      return json;
    };

    const experiment = await post('/api/2.0/mlflow/experiments/create', {
      name: `bench-artifacts-${Date.now()}`,
    });
    const directory = `${experiment.experiment_id}/${randomBytes(16).toString('hex')}/artifacts/model`;
    const localPath = '/tmp/bench/weights-1GiB.bin';
    const numParts = Math.ceil(size / partBytes);

    // Upload: create, then generate, hash and PUT the parts in order with `concurrency` in flight.
    const uploadStarted = performance.now();
    const created = await post(`/api/2.0/mlflow-artifacts/mpu/create/${directory}`, {
      path: localPath,
      num_parts: numParts,
    });
    const credentials = created.credentials as Credential[];
    const sent = createHash('sha256');
    const parts: Array<{ part_number: number; etag: string }> = [];
    const inFlight = new Set<Promise<void>>();
    for (const credential of credentials) {
      const start = (credential.part_number - 1) * partBytes;
      const part = Buffer.allocUnsafe(Math.min(partBytes, size - start));
      await fill(part);
      sent.update(part);
      const upload = putPart(credential, part).then((etag) => {
        parts.push({ part_number: credential.part_number, etag });
      });
      const tracked = upload.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await post(`/api/2.0/mlflow-artifacts/mpu/complete/${directory}`, {
      path: localPath,
      upload_id: created.upload_id,
      parts: parts.sort((a, b) => a.part_number - b.part_number),
    });
    const uploadSeconds = (performance.now() - uploadStarted) / 1000;

    // Download: one GET at Runway's URL, streamed from storage and hashed as it comes.
    const downloadStarted = performance.now();
    const download = await streamRequest(
      `${baseUrl}/api/2.0/mlflow-artifacts/artifacts/${directory}/weights-1GiB.bin`,
      'GET',
      CLIENT.download.headers,
    );
    if (download.status !== 200) throw new Error(`download answered ${download.status}`);
    const receivedBytes = download.size;
    const downloadSeconds = (performance.now() - downloadStarted) / 1000;

    const sentHash = sent.digest('hex');
    const receivedHash = download.sha256;
    await api(`/api/2.0/mlflow-artifacts/artifacts/${directory}`, { method: 'DELETE' });
    if (receivedBytes !== size || receivedHash !== sentHash) {
      throw new Error(
        `download differs: ${receivedBytes} bytes, sha256 ${receivedHash}; sent ${size}, ${sentHash}`,
      );
    }
    const mb = size / 1e6;
    printTable(
      `artifact of ${(size / MiB).toFixed(0)} MiB, ${numParts} parts of ${(partBytes / MiB).toFixed(0)} MiB, ${concurrency} in flight (sha256 ${sentHash.slice(0, 12)}... identical)`,
      ['direction', 'seconds', 'MB/s'],
      [
        ['upload (multipart, presigned parts)', uploadSeconds, mb / uploadSeconds],
        ['download (one streamed GET)', downloadSeconds, mb / downloadSeconds],
      ],
    );
  } finally {
    await runtime?.stop();
  }
}

async function putPart(credential: Credential, body: Buffer): Promise<string> {
  const response = await fetch(credential.url, { method: 'PUT', headers: credential.headers, body });
  await response.arrayBuffer();
  const etag = response.headers.get('etag');
  if (response.status !== 200 || !etag) throw new Error(`part ${credential.part_number}: ${response.status}`);
  return etag;
}

/** MLflow 3.11.1's request shapes at its default settings (recorded; test/fixtures/mlflow/). */
const CLIENT = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'test/fixtures/mlflow/artifact-requests-3.11.1.json'), 'utf8'),
) as Record<'upload' | 'download', { headers: Record<string, string> }>;

/**
 * One PUT of the whole file, its length declared, and one streamed GET: what MLflow's client sends
 * by default. The median of `repeats` runs per size.
 */
async function defaultSettings(baseUrl: string): Promise<void> {
  const experiment = (await (
    await fetch(`${baseUrl}/api/2.0/mlflow/experiments/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `bench-default-${Date.now()}` }),
    })
  ).json()) as { experiment_id: string };
  const rows: Array<Array<string | number>> = [];
  for (const [label, size, repeats] of [
    ['20 MB', 20e6, 5],
    ['300 MB', 300e6, 3],
    ['1 GiB', 1024 * MiB, 1],
  ] as const) {
    const up: number[] = [];
    const down: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const url = `${baseUrl}/api/2.0/mlflow-artifacts/artifacts/${experiment.experiment_id}/${randomBytes(16).toString('hex')}/artifacts/file.bin`;
      const body = await generated(size);
      let started = performance.now();
      const put = await streamRequest(url, 'PUT', CLIENT.upload.headers, body);
      up.push((performance.now() - started) / 1000);
      if (put.status !== 200) throw new Error(`PUT answered ${put.status}`);
      started = performance.now();
      const got = await streamRequest(url, 'GET', CLIENT.download.headers);
      down.push((performance.now() - started) / 1000);
      if (got.size !== size || got.sha256 !== body.sha256)
        throw new Error(`GET of ${label} differs from what was sent`);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] as number;
    rows.push([`${label} up (one PUT)`, repeats, median(up), size / 1e6 / median(up)]);
    rows.push([`${label} down (one GET)`, repeats, median(down), size / 1e6 / median(down)]);
  }
  printTable(
    "MLflow's default settings at Runway's URL (requests as MLflow 3.11.1 sends them, from Node; sha256 checked)",
    ['transfer', 'runs', 'median s', 'MB/s'],
    rows,
  );
}

/** A generated body: random 8 MiB blocks, hashed as made, handed out again as chunks. */
async function generated(
  size: number,
): Promise<{ length: number; chunks: () => AsyncIterable<Buffer>; sha256: string }> {
  const block = Buffer.allocUnsafe(8 * MiB);
  await fill(block);
  const chunks = async function* () {
    for (let offset = 0; offset < size; offset += block.length) {
      // A copy per chunk (a socket may still hold the last one), each stamped with its index so no
      // two parts of the file are alike.
      const chunk = Buffer.from(block.subarray(0, Math.min(block.length, size - offset)));
      chunk.writeUInt32BE(offset / block.length, 0);
      yield chunk;
    }
  };
  const hash = createHash('sha256');
  for await (const chunk of chunks()) hash.update(chunk);
  return { length: size, chunks, sha256: hash.digest('hex') };
}

/** A request with a declared-length streamed body, answered as a stream: size and sha256 of the answer. */
function streamRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: { length: number; chunks: () => AsyncIterable<Buffer> },
): Promise<{ status: number; size: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      // A connection per request: a kept-alive one may be closed by the server's idle timeout just
      // as the next request starts (urllib3 retries that; this measures transfers, not retries).
      {
        method,
        agent: false,
        headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      },
      (response) => {
        const hash = createHash('sha256');
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          size += chunk.length;
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, size, sha256: hash.digest('hex') }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    void (async () => {
      if (body) {
        for await (const chunk of body.chunks()) {
          if (!outgoing.write(chunk)) await new Promise((drained) => outgoing.once('drain', drained));
        }
      }
      outgoing.end();
    })().catch(reject);
  });
}

/**
 * The real MLflow client at its default settings, against this Runway and against MLflow's own server
 * started here with the same machine and files: `log_artifact` and `download_artifacts`, sha256 checked.
 *
 * Runway is measured before MLflow's server starts: MLflow 3.11.1's `mlflow server` answers /health
 * while its job runner is still starting six huey consumer processes, which take the machine's two
 * cores for 20 to 30 s (measured: 7 CPU-seconds in the first 10 s after /health, then about 1%). A
 * client timed in that window measured the other server's start-up, not Runway (issue 18: 27 MB/s
 * up in the bench, 100 to 200 MB/s alone). MLflow's own figures are taken once its processes are
 * quiet, so each server is timed on an otherwise idle bench.
 */
async function realClient(python: string, runwayUrl: string): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'runway-bench-mlflow-'));
  const driver = path.join(work, 'driver.py');
  writeFileSync(driver, REAL_CLIENT_DRIVER);
  const rows: Array<Array<string | number>> = [];
  const measure = (server: string, url: string) => {
    const result = spawnSync(python, [driver, url, '20000000', '300000000'], {
      encoding: 'utf8',
      env: { ...process.env, MLFLOW_TRACKING_URI: url },
      maxBuffer: 1 << 20,
    });
    if (result.status !== 0) throw new Error(`the MLflow client failed against ${server}: ${result.stderr}`);
    // The client prints its own lines too ("View run ..."); the driver's are JSON objects.
    for (const line of result.stdout.split('\n').filter((text) => text.startsWith('{'))) {
      const figure = JSON.parse(line) as { size: number; up: number; down: number; intact: boolean };
      if (!figure.intact) throw new Error(`${server}: the downloaded file differs`);
      rows.push([
        server,
        `${figure.size / 1e6} MB`,
        figure.size / 1e6 / figure.up,
        figure.size / 1e6 / figure.down,
      ]);
    }
  };
  let server: ReturnType<typeof spawn> | undefined;
  try {
    measure('Runway', runwayUrl);
    const port = await freePort();
    server = spawn(
      python,
      [
        '-m',
        'mlflow',
        'server',
        '--backend-store-uri',
        `sqlite:///${path.join(work, 'mlflow.db')}`,
        '--artifacts-destination',
        path.join(work, 'artifacts'),
        '--serve-artifacts',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--workers',
        '1',
      ],
      { cwd: work, stdio: 'ignore' },
    );
    const mlflowUrl = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if ((await fetch(`${mlflowUrl}/health`).catch(() => undefined))?.status === 200) break;
      if (i > 600) throw new Error("MLflow's server did not start within 60 s");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (server.pid !== undefined) await untilQuiet(server.pid);
    measure("MLflow's server", mlflowUrl);
    printTable(
      `The real MLflow client (${python}) at its default settings: log_artifact and download_artifacts, same machine, same run`,
      ['server', 'file', 'up MB/s', 'down MB/s'],
      rows,
    );
  } finally {
    server?.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

/** CPU time (user + system, in clock ticks) of a process and all its descendants, from Linux's /proc. */
function treeCpuTicks(pid: number): number {
  let ticks = 0;
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    try {
      const stat = readFileSync(`/proc/${next}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      for (const task of readdirSync(`/proc/${next}/task`))
        pending.push(
          ...readFileSync(`/proc/${next}/task/${task}/children`, 'utf8')
            .split(' ')
            .filter(Boolean)
            .map(Number),
        );
    } catch {
      // The process ended while we read it, or this is not Linux: nothing more to count.
    }
  }
  return ticks;
}

/**
 * Waits until a process tree uses under 5% of one core over a second (at most 90 s), so that what is
 * timed next does not share the CPU with that server's start-up.
 */
async function untilQuiet(pid: number): Promise<void> {
  const deadline = performance.now() + 90_000;
  let before = treeCpuTicks(pid);
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = treeCpuTicks(pid);
    if (now - before < 5) return; // Linux counts 100 ticks a second
    before = now;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

/**
 * The client side, in the client's language: after one untimed call (module loading, the session),
 * the median of 5 runs per size up to 50 MB (1 above), timings of the two calls only.
 */
const REAL_CLIENT_DRIVER = `
import hashlib, json, os, statistics, sys, tempfile, time
import mlflow
mlflow.set_experiment("bench-real-client")
def make(size):
    local = os.path.join(tempfile.mkdtemp(), "weights.bin")
    digest = hashlib.sha256()
    with open(local, "wb") as f:
        left = size
        while left:
            block = os.urandom(min(left, 8 << 20)); digest.update(block); f.write(block); left -= len(block)
    return local, digest.hexdigest()
with mlflow.start_run():  # the client's first artifact call loads modules and opens its session: not timed
    mlflow.log_artifact(make(1024)[0])
for size in map(int, sys.argv[2:]):
    local, digest = make(size)
    ups, downs, intact = [], [], True
    for _ in range(5 if size <= 50_000_000 else 1):
        with mlflow.start_run() as run:
            started = time.perf_counter(); mlflow.log_artifact(local); ups.append(time.perf_counter() - started)
            started = time.perf_counter()
            got = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="weights.bin", dst_path=tempfile.mkdtemp())
            downs.append(time.perf_counter() - started)
        check = hashlib.sha256()
        with open(got, "rb") as f:
            for block in iter(lambda: f.read(8 << 20), b""): check.update(block)
        intact = intact and check.hexdigest() == digest
    print(json.dumps({"size": size, "up": statistics.median(ups), "down": statistics.median(downs), "intact": intact}), flush=True)
`;
