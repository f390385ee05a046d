import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dispatchingRequestHandler } from '../../infra/local/lambda/emulator-transport.ts';
import { LOCAL_REGION, LocalRuntime } from '../../infra/local/runtime.ts';
import { DynamoExperimentRepository } from '../../shared/tracking/adapters/experiment.dynamodb-repository.ts';
import { DynamoRunRepository } from '../../shared/tracking/adapters/run.dynamodb-repository.ts';
import { ExperimentService } from '../../shared/tracking/experiment.service.ts';
import { runKeys, TRACKING_INDEXES } from '../../shared/tracking/keys.ts';
import { RunService } from '../../shared/tracking/run.service.ts';
import { jsonClient } from './http-client.ts';
import { pool, printTable, requestsPerCall, summarize } from './stats.ts';

/** The sizes of the curve; `SEARCH_SCALE_SIZES=1000,10000` for a shorter run. */
const SIZES = (process.env.SEARCH_SCALE_SIZES ?? '1000,10000,100000').split(',').map(Number);
/** Every query has the same hits at every size: 10 runs (the run name: 1). */
const HITS = 10;
const CALLS = 15;

/**
 * `npm run bench -- search-scale`: what a selective search costs as an experiment grows, over HTTP
 * against the local runtime (in this process, to read the emulator's request and capacity
 * counters): the median time, the DynamoDB requests and the read request units of each search (as
 * DynamoDB bills them, from the item sizes), and what reading every run would have cost instead.
 * Runs are written through the tracking service, with its index entries, 64 at a time.
 */
export async function searchScaleBench(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-bench-scale-'));
  const runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    functionLogs: 'silent',
    log: () => undefined,
    meterCapacity: true,
  });
  await runtime.warmedUp;
  const client = jsonClient(runtime.url);
  const api = async (method: string, endpoint: string, body?: unknown) => {
    const { status, json } = await client.call(method, `/api/2.0/mlflow/${endpoint}`, body);
    if (status !== 200) throw new Error(`${endpoint} answered ${status}: ${JSON.stringify(json)}`);
    // biome-ignore lint/suspicious/noExplicitAny: the benchmark reads whatever JSON the API answered.
    return json as Record<string, any>;
  };
  const table = tableName(runtime);
  // The runs are written by the tracking service in this process, its requests served without HTTP.
  const dynamo = new DynamoDBClient({
    endpoint: runtime.environment.AWS_ENDPOINT_URL_DYNAMODB,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: dispatchingRequestHandler(runtime.dynamodb.dispatch),
  });
  const documents = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const experiments = new ExperimentService({
    experiments: new DynamoExperimentRepository(table, documents),
    defaultArtifactRoot: 'mlflow-artifacts:/',
  });
  const runs = new RunService(new DynamoRunRepository(table, documents), experiments);

  const queries: Array<[string, Record<string, unknown>]> = [
    ['metrics.rank < 10', { filter: `metrics.rank < ${HITS}` }],
    ['top 10 by rank', { order_by: ['metrics.rank ASC'], max_results: HITS }],
    ["tags.probe = 'yes'", { filter: "tags.probe = 'yes'" }],
    ["params.lr = '0.5'", { filter: "params.lr = '0.5'" }],
    ["run_name = 'r5'", { filter: "attributes.run_name = 'r5'" }],
    ["status = 'RUNNING'", { filter: "attributes.status = 'RUNNING'" }],
  ];
  const results: Record<
    string,
    Record<number, { p50: number; cpuMs: number; units: number; requests: string }>
  > = {};
  const fullRead: Record<number, number> = {};
  const populated: string[] = [];
  try {
    for (const size of SIZES) {
      const started = performance.now();
      const experimentId = (await api('POST', 'experiments/create', { name: `scale-${size}-${Date.now()}` }))
        .experiment_id as string;
      await pool(size, 64, async (i) => {
        // Hits are spread through the experiment, not its first runs.
        const hit = i % Math.floor(size / HITS) === 0;
        const rank = hit ? i / Math.floor(size / HITS) : HITS + i;
        const run = await runs.create({ experimentId, startTime: 1_000_000 + i, runName: `r${i}` });
        await runs.logBatch({
          runId: run.info.runId,
          metrics: [
            { key: 'rank', value: rank, timestamp: 1, step: 0 },
            { key: 'acc', value: (i % 97) / 97, timestamp: 1, step: 0 },
            { key: 'loss', value: 1 - (i % 89) / 89, timestamp: 1, step: 0 },
          ],
          params: [
            { key: 'lr', value: hit ? '0.5' : '0.01' },
            { key: 'depth', value: String(i % 8) },
          ],
          tags: [{ key: 'probe', value: hit ? 'yes' : 'no' }],
        });
        if (!hit) await runs.update({ runId: run.info.runId, status: 'FINISHED', endTime: 2_000_000 });
      });
      populated.push(`${size} runs written in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      fullRead[size] = await fullReadUnits(dynamo, table, runKeys.experimentRuns(experimentId));

      for (const [name, body] of queries) {
        const search = async () => {
          const answer = await api('POST', 'runs/search', { experiment_ids: [experimentId], ...body });
          const found = (answer.runs ?? []).length;
          const expected = name.startsWith('run_name') ? 1 : HITS;
          if (found !== expected)
            throw new Error(`${name} found ${found} runs at ${size}, expected ${expected}`);
        };
        // Warm: this container's first searches of the experiment (and of the query's shape).
        for (let i = 0; i < 5; i++) await search();
        const requests = { ...runtime.emulatorRequests.dynamodb };
        const units = { ...(runtime.emulatorRequests.dynamodbCapacity as { read: number }) };
        const samples: number[] = [];
        const cpu = process.cpuUsage();
        for (let i = 0; i < CALLS; i++) {
          const t = performance.now();
          await search();
          samples.push(performance.now() - t);
        }
        const used = process.cpuUsage(cpu);
        const cpuMs = (used.user + used.system) / 1000 / CALLS;
        const read = (runtime.emulatorRequests.dynamodbCapacity as { read: number }).read - units.read;
        results[name] ??= {};
        (results[name] as Record<number, unknown>)[size] = {
          p50: summarize(samples).p50,
          cpuMs,
          units: read / CALLS,
          requests: requestsPerCall(runtime.emulatorRequests.dynamodb, requests, CALLS).text,
        };
      }
    }
  } finally {
    client.close();
    dynamo.destroy();
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const [smallest] = SIZES;
  const rows = Object.entries(results).map(([name, bySize]) => [
    name,
    ...SIZES.flatMap((size) => {
      const figure = bySize[size];
      if (!figure) return ['-', '-', '-'];
      const base = bySize[smallest as number] ?? figure;
      return [
        `${figure.p50.toFixed(1)} (${(figure.p50 / base.p50).toFixed(2)}x)`,
        `${figure.cpuMs.toFixed(1)} (${(figure.cpuMs / base.cpuMs).toFixed(2)}x)`,
        figure.units.toFixed(1),
      ];
    }),
  ]);
  rows.push([
    '(reading every run: one Query of its partition)',
    ...SIZES.flatMap((size) => ['-', '-', (fullRead[size] ?? 0).toFixed(1)]),
  ]);
  printTable(
    `selective runs/search as the experiment grows: median ms over HTTP (${CALLS} calls), CPU ms of this process per search (all threads; steadier than time on a shared machine), DynamoDB read request units per search (target: within 2x of ${smallest} runs)`,
    [
      'search (10 hits; run name 1)',
      ...SIZES.flatMap((size) => [`${size} runs: ms (vs ${smallest})`, 'CPU ms', 'RRU']),
    ],
    rows,
  );
  for (const [name, bySize] of Object.entries(results)) {
    process.stdout.write(
      `  ${name}: ${SIZES.map((size) => `${size}: ${bySize[size]?.requests}`).join('; ')}\n`,
    );
  }
  process.stdout.write(`  ${populated.join('; ')}\n`);
}

/** The read units of a full read of the experiment's runs: its GSI1 partition, every page. */
async function fullReadUnits(dynamo: DynamoDBClient, table: string, partition: string): Promise<number> {
  let units = 0;
  let startKey: Record<string, never> | undefined;
  do {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: table,
        IndexName: TRACKING_INDEXES.gsi1,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: partition } },
        ExclusiveStartKey: startKey,
        ReturnConsumedCapacity: 'TOTAL',
        Select: 'COUNT',
      }),
    );
    units += page.ConsumedCapacity?.CapacityUnits ?? 0;
    startKey = page.LastEvaluatedKey as typeof startKey;
  } while (startKey);
  return units;
}

function tableName(runtime: LocalRuntime): string {
  const table = runtime.template
    .resourcesOfType('AWS::DynamoDB::Table')
    .find((resource) => resource.logicalId.startsWith('TrackingTable'));
  if (!table) throw new Error('no tracking table in the template');
  return runtime.template.physicalName(table);
}
