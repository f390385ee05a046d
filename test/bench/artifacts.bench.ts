/**
 * `artifacts1GB`: a 1 GiB artifact up and down as MLflow's client moves it (multipart upload with
 * each part PUT straight to storage at a presigned URL; download by following the redirect to a
 * presigned GET), checked by sha256 end to end, with the throughput of each direction. The file is
 * generated part by part and hashed as it goes, so at most `concurrency` parts are ever in memory.
 */

import { createHash, randomBytes, randomFill } from 'node:crypto';
import { promisify } from 'node:util';
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

/** Uploads and downloads 1 GiB through the artifact API and prints MB/s (1 MB = 10^6 bytes). */
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

    // Download: the API answers a redirect; the bytes come from storage, hashed as they stream.
    const downloadStarted = performance.now();
    const redirect = await api(`/api/2.0/mlflow-artifacts/artifacts/${directory}/weights-1GiB.bin`, {
      redirect: 'manual',
    });
    const location = redirect.headers.get('location');
    if (redirect.status !== 302 || !location)
      throw new Error(`download answered ${redirect.status}, not 302`);
    const download = await fetch(location);
    const received = createHash('sha256');
    let receivedBytes = 0;
    const reader = download.body?.getReader();
    for (;;) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      received.update(chunk.value);
      receivedBytes += chunk.value.byteLength;
    }
    const downloadSeconds = (performance.now() - downloadStarted) / 1000;

    const sentHash = sent.digest('hex');
    const receivedHash = received.digest('hex');
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
        ['download (redirect to presigned GET)', downloadSeconds, mb / downloadSeconds],
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
