import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { LocalRuntime } from '../../infra/local/runtime.ts';
import { apiEvent, lambdaContext } from '../support/api-event.ts';
import { randomMlp } from '../support/onnx-models.ts';
import { LOGREG_EXPECTED, seedEndpoint } from '../support/serving-seed.ts';
import { pool, printTable, summarize } from './stats.ts';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: typeof lambdaContext,
) => Promise<{ statusCode: number }>;

/**
 * The model server on the local runtime (in this process, like the registry benchmark), with the
 * shared logreg fixture (its ONNX graph rebuilt with the 10 features its signature has) and a wider
 * MLP. Endpoints are written straight into the deployments table as the deploy state machine leaves
 * them (`test/support/serving-seed.ts`), since the endpoints API is another branch's.
 *
 * Figures: invocation p50/p99 and throughput over HTTP at concurrency 1 and 16; where the time of
 * one invocation goes (model only, the handler called in this thread, the handler through the local
 * runtime's worker-thread hop, then HTTP + API Gateway emulation on top); cold model load (first
 * invocation of a version: S3 download + ONNX Runtime session). Nothing is asserted.
 */
export async function servingBench(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-bench-serving-'));
  const runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    functionLogs: 'silent',
    log: () => undefined,
  });
  const body = JSON.stringify({ inputs: LOGREG_EXPECTED.x });
  const invoke = async (name: string, payload = body) => {
    const response = await fetch(`${runtime.url}/endpoints/${name}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: payload,
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`invocation answered ${response.status}`);
  };
  try {
    await seedEndpoint(runtime, 'bench-logreg');
    await seedEndpoint(runtime, 'bench-mlp', { onnx: randomMlp(10, [256, 256], 7) });
    await invoke('bench-logreg'); // container and model warm
    await invoke('bench-mlp');

    // --- over HTTP: p50/p99 and throughput at concurrency 1 and 16 ---------------------------------
    const rows: Array<Array<string | number>> = [];
    for (const [name, label] of [
      ['bench-logreg', 'logreg 10 -> 1 (3 rows)'],
      ['bench-mlp', 'MLP 10 -> 256 -> 256 -> 1 (3 rows)'],
    ] as const) {
      for (const concurrency of [1, 16]) {
        const total = concurrency === 1 ? 2000 : 8000;
        await pool(200, concurrency, () => invoke(name));
        const { latencies, throughput } = await pool(total, concurrency, () => invoke(name));
        const stats = summarize(latencies);
        rows.push([label, String(concurrency), String(total), stats.p50, stats.p99, throughput]);
      }
    }
    printTable(
      "POST /endpoints/{name}/invocations over HTTP on the local runtime (ms; target p50 < 3 at c1; MLflow's server: a few thousand req/s per process)",
      ['model', 'concurrency', 'n', 'p50', 'p99', 'req/s'],
      rows,
    );

    // --- where one invocation's time goes (logreg, concurrency 1) -----------------------------------
    const fn = [...runtime.functions.values()].find((f) => f.spec.name.includes('ModelServer'));
    if (!fn) throw new Error('no model server function in the app');
    const event = () => {
      const e = apiEvent('POST', '/endpoints/bench-logreg/invocations', body);
      e.pathParameters = { name: 'bench-logreg' };
      return e;
    };
    Object.assign(process.env, fn.spec.environment, {
      AWS_ENDPOINT_URL_DYNAMODB: runtime.environment.AWS_ENDPOINT_URL_DYNAMODB,
      AWS_ENDPOINT_URL_S3: runtime.environment.AWS_ENDPOINT_URL_S3,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      LOG_LEVEL: 'error',
    });
    const { handler } = (await import('../../functions/model-server.ts')) as unknown as { handler: Handler };
    const { loadModel, predict } = await import('../../shared/serving/model-check.ts');
    const seeded = await seedEndpoint(runtime, 'bench-logreg-local', { version: '2' });
    const model = await loadModel(seeded.storageLocation);
    const timeN = async (n: number, call: () => Promise<unknown>) => {
      for (let i = 0; i < 200; i++) await call();
      const samples: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await call();
        samples.push(performance.now() - t);
      }
      return summarize(samples);
    };
    const breakdown: Array<Array<string | number>> = [];
    const add = (label: string, stats: ReturnType<typeof summarize>) =>
      breakdown.push([label, stats.p50, stats.p99]);
    add(
      'model only: parse + fit + ONNX Runtime + JSON (predict)',
      await timeN(2000, () => predict(model, body)),
    );
    add(
      'handler in this thread (middy, routing, stats, capture)',
      await timeN(2000, () => handler(event(), lambdaContext)),
    );
    add(
      'handler through the worker-thread hop (LocalFunction.invoke)',
      await timeN(2000, () => fn.invoke(event())),
    );
    add(
      'HTTP + API Gateway emulation + worker hop + handler',
      await timeN(2000, () => invoke('bench-logreg')),
    );
    await model.release();
    printTable('Where the time goes, logreg at concurrency 1 (ms)', ['layer', 'p50', 'p99'], breakdown);

    // --- cold model load: the first invocation of a version this container has not loaded ----------
    const cold: Array<Array<string | number>> = [];
    for (const [label, onnx] of [
      ['logreg (183 B fixture graph, rebuilt)', undefined],
      ['MLP 10 -> 256 -> 256 -> 1 (272 KB)', randomMlp(10, [256, 256], 11)],
      ['MLP 10 -> 1024 -> 1024 -> 1 (4.2 MB)', randomMlp(10, [1024, 1024], 13)],
    ] as const) {
      const samples: number[] = [];
      const loads: number[] = [];
      for (let i = 0; i < 5; i++) {
        const name = `bench-cold-${cold.length}-${i}`;
        const served = await seedEndpoint(runtime, name, { version: String(10 + i), onnx });
        const loaded = await loadModel(served.storageLocation);
        loads.push(loaded.loadMs);
        await loaded.release();
        const t = performance.now();
        await invoke(name);
        samples.push(performance.now() - t);
      }
      const first = summarize(samples);
      const load = summarize(loads);
      cold.push([label, first.p50, first.max, load.p50]);
    }
    printTable(
      'Cold model load: first invocation of a new version over HTTP, and loadModel alone (S3 GET + session) (ms, 5 each)',
      ['model', 'first invocation p50', 'max', 'loadModel p50'],
      cold,
    );
  } finally {
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
