import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type AttributeValue,
  DynamoDBClient,
  ListTablesCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { LOCAL_REGION, LocalRuntime } from '../../infra/local/runtime.ts';
import { runKeys, TRACKING_INDEXES } from '../../shared/tracking/keys.ts';
import { jsonClient } from './http-client.ts';
import { printTable, requestsPerCall, summarize } from './stats.ts';

/**
 * The tracking workload of the tracking issue, over HTTP against the local runtime (in this
 * process, so the emulators' request counters can be read): latency, and the DynamoDB and S3
 * requests each operation made. Its client is a Node client in this process, not MLflow's: set
 * beside MLflow, figures come from `npm run bench -- vs-mlflow`, where one Python client drives both.
 */
export async function trackingBench(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-bench-tracking-'));
  const runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    functionLogs: 'silent',
    log: () => undefined,
  });
  // Measure the steady state a user meets, not the minute after start-up: every function's
  // container starts in the background and, on 2 cores, would share the CPU with the workload.
  const warmUpStarted = performance.now();
  await runtime.warmedUp;
  console.log(`(waited ${Math.round(performance.now() - warmUpStarted)} ms for the functions to warm up)`);
  const client = jsonClient(runtime.url);
  const api = async (method: string, endpoint: string, body?: unknown) => {
    const { status, json } = await client.call(method, `/api/2.0/mlflow/${endpoint}`, body);
    if (status !== 200) throw new Error(`${endpoint} answered ${status}: ${JSON.stringify(json)}`);
    // biome-ignore lint/suspicious/noExplicitAny: the benchmark reads whatever JSON the API answered.
    return json as Record<string, any>;
  };
  const rows: Array<Array<string | number>> = [];
  /** Times `n` sequential calls and counts the emulator requests they made, per call. */
  const measure = async (name: string, n: number, call: (i: number) => Promise<unknown>) => {
    await call(-1); // warm
    const dynamoBefore = { ...runtime.emulatorRequests.dynamodb };
    const s3Before = { ...runtime.emulatorRequests.s3 };
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      await call(i);
      samples.push(performance.now() - started);
    }
    const stats = summarize(samples);
    rows.push([
      name,
      n,
      stats.p50,
      stats.p99,
      requestsPerCall(runtime.emulatorRequests.dynamodb, dynamoBefore, n).text,
      requestsPerCall(runtime.emulatorRequests.s3, s3Before, n).text,
    ]);
  };

  try {
    const experimentId = (await api('POST', 'experiments/create', { name: `bench-${Date.now()}` }))
      .experiment_id as string;
    const runId = (await api('POST', 'runs/create', { experiment_id: experimentId, start_time: Date.now() }))
      .run.info.run_id;

    await measure('log_metric', 300, (i) =>
      api('POST', 'runs/log-metric', {
        run_id: runId,
        key: 'loss',
        value: Math.random(),
        timestamp: Date.now(),
        step: i + 1,
      }),
    );
    let batch = 0;
    await measure('log_batch (1000 metrics)', 20, () => {
      batch++;
      return api('POST', 'runs/log-batch', {
        run_id: runId,
        metrics: Array.from({ length: 1000 }, (_, i) => ({
          key: `m${i % 10}`,
          value: Math.random(),
          timestamp: Date.now(),
          step: batch * 100 + Math.floor(i / 10),
        })),
      });
    });
    await measure('get run', 100, () => api('GET', `runs/get?run_id=${runId}`));

    // 500 runs, each with 3 metrics, 2 params and 2 tags; 120 of them match the filter below.
    const searchExperiment = (await api('POST', 'experiments/create', { name: `bench-search-${Date.now()}` }))
      .experiment_id;
    for (let i = 0; i < 500; i += 25) {
      await Promise.all(
        Array.from({ length: 25 }, async (_, j) => {
          const n = i + j;
          const id = (
            await api('POST', 'runs/create', { experiment_id: searchExperiment, start_time: 1_000_000 + n })
          ).run.info.run_id;
          await api('POST', 'runs/log-batch', {
            run_id: id,
            metrics: ['acc', 'loss', 'f1'].map((key) => ({
              key,
              value: (n % 97) / 97,
              timestamp: 1,
              step: 0,
            })),
            params: [
              { key: 'lr', value: n < 120 ? '0.01' : '0.1' },
              { key: 'depth', value: String(n % 8) },
            ],
            tags: [
              { key: 'team', value: 'bench' },
              { key: 'batch', value: String(n % 5) },
            ],
          });
        }),
      );
    }
    const search = (body: Record<string, unknown>) =>
      api('POST', 'runs/search', { experiment_ids: [searchExperiment], ...body });
    await countItems(runtime, runKeys.experimentRuns(searchExperiment));
    const all = await search({ max_results: 1000 });
    if (all.runs.length !== 500) throw new Error(`search found ${all.runs.length} runs, expected 500`);
    const filtered = await search({ filter: "params.lr = '0.01'" });
    if (filtered.runs.length !== 120)
      throw new Error(`filter found ${filtered.runs.length} runs, expected 120`);

    await measure('search_runs: all 500', 10, () => search({ max_results: 1000 }));
    await measure('search_runs: filter -> 120', 10, () => search({ filter: "params.lr = '0.01'" }));
    await measure('search_runs: top 10 by metric', 10, () =>
      search({ order_by: ['metrics.acc DESC'], max_results: 10 }),
    );
  } finally {
    client.close();
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  printTable(
    'tracking over HTTP against the local runtime (ms; requests per call; client: node:http in the runtime process; beside MLflow: npm run bench -- vs-mlflow)',
    ['operation', 'calls', 'p50', 'p99', 'DynamoDB requests', 'S3 requests'],
    rows,
  );
  if (itemsRead !== undefined) {
    process.stdout.write(`  each search_runs reads ${itemsRead} items (500 runs) in its Query\n`);
  }
}

let itemsRead: number | undefined;

/** The items a search of the experiment reads: its GSI1 partition, counted with Select COUNT. */
async function countItems(runtime: LocalRuntime, partition: string): Promise<number> {
  const client = new DynamoDBClient({
    endpoint: runtime.environment.AWS_ENDPOINT_URL_DYNAMODB,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const tables = (await client.send(new ListTablesCommand({}))).TableNames ?? [];
    const table = tables.find((name) => name.includes('TrackingTable'));
    if (!table) throw new Error(`no tracking table among ${tables.join(', ')}`);
    let count = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          TableName: table,
          IndexName: TRACKING_INDEXES.gsi1,
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: partition } },
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        }),
      );
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    itemsRead = count;
    return count;
  } finally {
    client.destroy();
  }
}
