import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { LocalRuntime } from '../../infra/local/runtime.ts';
import { LocalDeployDriver } from '../support/local-deploy.ts';
import { printTable, summarize } from './stats.ts';

const RUNS = 10;
/** The holder's bake per traffic step in the queued-deploy run (two steps: 50 and 100). */
const HOLD_BAKE_SECONDS = 17;

/**
 * `npm run bench -- deploy`, on the local runtime in this process:
 * - the time from setting an alias (the registry call answering) to 100% of an endpoint's traffic on
 *   the new version, bake 0: the event on the bus, the trigger, the deploy state machine (Resolve,
 *   CheckModel, SmokeTest, two traffic steps, Promote) and the endpoint read back, polled every 5 ms.
 *   The first deploy is the first invocation of the trigger and the step functions (their containers
 *   start in the background when the runtime starts, as the local runtime does). Each run deploys a
 *   new version of the ONNX logreg fixture;
 * - what one deploy costs on AWS's meters, read from each execution's history: state transitions
 *   (states entered; Step Functions bills each) and Lambda invocations, by the memory of the function
 *   invoked;
 * - the same for a deploy that queues behind another one holding the endpoint for two bakes of
 *   `HOLD_BAKE_SECONDS`, and how long after the holder ended the queued deploy took the endpoint.
 */
export async function deployBench(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-bench-deploy-'));
  const runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    functionLogs: 'silent',
    log: () => undefined,
  });
  const driver = new LocalDeployDriver(runtime);
  try {
    const endpoint = 'bench-api';
    const model = 'bench-model';
    const versions: string[] = [];
    for (let i = 0; i <= RUNS; i++)
      versions.push(await driver.createVersion(model, await driver.uploadModel(`bench${i}`)));
    await driver.ok('POST', 'runway/endpoints', {
      name: endpoint,
      model_name: model,
      follows: { alias: 'production' },
      rollout_policy: { traffic_steps: [10, 50, 100], bake_seconds: 0 },
    });
    const samples: number[] = [];
    const meters: Meters[] = [];
    for (const version of versions) {
      const started = performance.now();
      await driver.setAlias(model, 'production', version);
      await driver.waitForPrimary(endpoint, version, 60_000, 5);
      samples.push(performance.now() - started);
      const [execution] = await driver.executions(`${endpoint}-v${version}-`);
      if (execution?.executionArn) meters.push(await metersOf(runtime, execution.executionArn));
    }
    const [cold = 0, ...warm] = samples;
    const stats = summarize(warm);
    printTable(
      'alias set -> 100% of traffic on the new version, bake 0, steps 10/50/100 (ms; target < 5000)',
      ['', 'runs', 'p50', 'p99', 'max'],
      [
        ['first deploy (first invocations of the functions)', '1', Math.round(cold), '', ''],
        [
          'next deploys',
          String(warm.length),
          Math.round(stats.p50),
          Math.round(stats.p99),
          Math.round(stats.max),
        ],
      ],
    );

    const queued = await queuedDeploy(driver, versions);
    printTable(
      'what one deploy costs on AWS (from the execution history; Lambda invocations by function memory)',
      ['deploy', 'state transitions', 'Lambda invocations', 'by memory'],
      [
        meterRow(`uncontended, steps 10/50/100 (median of ${meters.length})`, median(meters)),
        meterRow(
          `queued behind a deploy holding the endpoint ${queued.heldSeconds.toFixed(0)} s`,
          queued.waiter,
        ),
      ],
    );
    process.stdout.write(
      `  the queued deploy took the endpoint ${Math.round(queued.resumeMs)} ms after the holder's execution ended\n\n`,
    );
  } finally {
    driver.close();
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Meters {
  transitions: number;
  /** Lambda invocations by the invoked function's memory (MB). */
  invocations: Map<number, number>;
}

/** State transitions and Lambda invocations of one execution, from its history. */
export async function metersOf(runtime: LocalRuntime, executionArn: string): Promise<Meters> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await runtime.stepFunctions.getExecutionHistory({ executionArn, nextToken });
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const invocations = new Map<number, number>();
  for (const event of events) {
    const resource =
      event.type === 'LambdaFunctionScheduled'
        ? event.lambdaFunctionScheduledEventDetails?.resource
        : event.type === 'TaskScheduled' && event.taskScheduledEventDetails?.resourceType === 'lambda'
          ? JSON.parse(event.taskScheduledEventDetails.parameters ?? '{}').FunctionName
          : undefined;
    if (!resource) continue;
    const memory = runtime.functions.get(resource)?.spec.memorySize ?? 0;
    invocations.set(memory, (invocations.get(memory) ?? 0) + 1);
  }
  return {
    transitions: events.filter((event) => event.type?.endsWith('StateEntered')).length,
    invocations,
  };
}

function median(all: Meters[]): Meters {
  const sorted = [...all].sort((a, b) => a.transitions - b.transitions);
  return sorted[Math.floor(sorted.length / 2)] ?? { transitions: 0, invocations: new Map() };
}

function meterRow(label: string, meters: Meters): Array<string | number> {
  const total = [...meters.invocations.values()].reduce((sum, n) => sum + n, 0);
  const byMemory = [...meters.invocations.entries()]
    .sort(([a], [b]) => a - b)
    .map(([memory, n]) => `${n} x ${memory} MB`)
    .join(', ');
  return [label, String(meters.transitions), String(total), byMemory];
}

/**
 * One deploy holds an endpoint (two traffic steps, each baked `HOLD_BAKE_SECONDS`) while a manual
 * deploy of another version waits for it; returns the waiting execution's meters.
 */
async function queuedDeploy(driver: LocalDeployDriver, versions: string[]) {
  const endpoint = 'bench-queue';
  const model = 'bench-model';
  const [first = '1', second = '2'] = versions;
  await driver.ok('POST', 'runway/endpoints', {
    name: endpoint,
    model_name: model,
    follows: { alias: 'production' },
    rollout_policy: { traffic_steps: [50, 100], bake_seconds: HOLD_BAKE_SECONDS },
  });
  const deploy = async (version: string) => {
    const started = await driver.http('POST', `runway/endpoints/${endpoint}/deploy`, { version });
    if (started.status !== 202) throw new Error(`deploy: ${started.status} ${JSON.stringify(started.json)}`);
    return started.json as { execution_arn: string };
  };
  const holder = await deploy(first);
  // The holder has the endpoint once its first traffic step is live.
  await driver.waitFor(
    async () => ((await driver.endpoint(endpoint)).traffic.canary ? true : undefined),
    60_000,
  );
  const waiter = await deploy(second);
  await driver.waitForPrimary(endpoint, second, 5 * 60_000, 50);
  const sfn = driver.runtime.stepFunctions;
  const held = await sfn.describeExecution(holder.execution_arn);
  const waited = await sfn.describeExecution(waiter.execution_arn);
  const history = await sfn.getExecutionHistory({ executionArn: waiter.execution_arn, maxResults: 1000 });
  const checkModel = history.events?.find(
    (event) => event.type === 'TaskStateEntered' && event.stateEnteredEventDetails?.name === 'CheckModel',
  );
  return {
    waiter: await metersOf(driver.runtime, waiter.execution_arn),
    heldSeconds:
      ((held.stopDate?.getTime() ?? 0) -
        Math.max(held.startDate?.getTime() ?? 0, waited.startDate?.getTime() ?? 0)) /
      1000,
    resumeMs: (checkModel?.timestamp?.getTime() ?? 0) - (held.stopDate?.getTime() ?? 0),
  };
}
