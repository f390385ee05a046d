import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PRICES } from '../../infra/cost/prices.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, LocalRuntime } from '../../infra/local/runtime.ts';
import { REPO_ROOT } from '../../infra/repo-root.ts';
import { formatCsv } from '../../shared/pipelines/dataset/csv.ts';
import { DEFAULT_PIPELINE_NAME } from '../../shared/pipelines/model.ts';
import { hourPath } from '../../shared/serving/capture.ts';
import { newInferenceId } from '../../shared/serving/inference-id.ts';
import { LocalDeployDriver } from '../support/local-deploy.ts';
import { normals, seededRandom } from '../support/random.ts';
import { printTable } from './stats.ts';

const FEATURES = Array.from({ length: 10 }, (_, i) => `f${i}`);
const TRAINING_ROWS = 20_000;
const ROWS = 1_000_000;
/** Capture objects as the model server writes them: at most 5 MiB each. */
const OBJECT_BYTES = 5 * 1024 * 1024;
export const ENDPOINT = 'bench-monitored';
const MODEL = 'bench-monitored-model';

/**
 * The list prices the cost figures use: `infra/cost/prices.ts`, the one price list (`docs/cost.md`
 * says where each comes from and which were confirmed when). Model Monitor's schedules run as
 * SageMaker Processing jobs on ml.m5.xlarge, its default instance, billed per second.
 */
const PRICE = {
  lambdaGbSecond: PRICES.lambda.armPerGbSecond,
  lambdaRequest: PRICES.lambda.perMillionRequests / 1e6,
  stateTransition: PRICES.stepFunctions.perThousandTransitions / 1000,
  s3Get: PRICES.s3.perThousandReads / 1000,
  s3PutOrList: PRICES.s3.perThousandWrites / 1000,
  dynamoRead: PRICES.dynamodb.perMillionReadUnits / 1e6,
  dynamoWrite: PRICES.dynamodb.perMillionWriteUnits / 1e6,
  schedulerInvocation: PRICES.scheduler.perMillionInvocations / 1e6,
  event: PRICES.eventBridge.perMillionEvents / 1e6,
  metricMonth: PRICES.cloudWatch.customMetricMonth,
  alarmMonth: PRICES.cloudWatch.alarmMetricMonth,
  logsGb: PRICES.cloudWatch.logsIngestedPerGb,
  sageMakerMlM5XlargeHour: PRICES.sagemakerProcessing.mlM5XlargeHour,
};
/** Lambda memory of the steps function (`infra/stacks/monitoring.stack.ts`). */
const STEPS_MEMORY_GB = 1;

interface ChildResult {
  analyzeMs: number;
  maxRssMb: number;
  peakHeapMb: number;
  rows: number;
}

/**
 * A monitor run over 1,000,000 captured rows: the window is generated as the model server would have
 * captured it (JSON lines in 5 MiB objects under the endpoint's hour), with feedback for a tenth of
 * the invocations, for an endpoint the training pipeline deployed (10 numeric features). Two shapes:
 * one row per invocation (the worst case: a million records to parse) and ten rows per invocation.
 *
 * Measured: the whole run as the local runtime executes it (state machine, all steps), and the
 * Analyze step alone in a fresh Node process, as one Lambda invocation in a cold container would
 * run it: its wall time, peak RSS, peak V8 heap, and the S3 and DynamoDB requests it made (counted
 * by the emulators). Then the AWS cost of one run and of a month of hourly runs, beside SageMaker
 * Model Monitor's instance hours for the same schedule.
 */
export async function monitoringBench(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-bench-monitoring-'));
  const runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    functionLogs: 'silent',
    log: () => undefined,
  });
  const driver = new LocalDeployDriver(runtime);
  try {
    await runtime.warmedUp;
    await deployTrainedModel(runtime, driver);
    const rows: Array<Array<string | number>> = [];
    const costs: Array<Array<string | number>> = [];
    const thisHour = Date.now() - (Date.now() % 3600_000);
    for (const [index, rowsPerInvocation] of [1, 10].entries()) {
      // Each shape in an hour of its own, both in the past: one window is one hour's prefix.
      const windowStart = thisHour - (2 - index) * 3600_000;
      const windowEnd = windowStart + 3600_000;
      const generated = await generateCapture(runtime, driver, windowStart, rowsPerInvocation);
      const monitor = `bench-${rowsPerInvocation}`;
      await driver.ok('POST', 'runway/monitors', {
        name: monitor,
        endpoint_name: ENDPOINT,
        quality: { limits: { accuracy: 0.5 } },
      });
      // The whole run, as the state machine executes it in the local runtime.
      const started = performance.now();
      const started202 = await driver.http('POST', `runway/monitors/${monitor}/run`, {
        window_start: windowStart,
        window_end: windowEnd,
      });
      if (started202.status !== 202)
        throw new Error(`run: ${started202.status} ${JSON.stringify(started202.json)}`);
      const run = started202.json;
      const execution = await runtime.stepFunctions.waitForExecution(run.execution_arn, 600_000);
      const wholeMs = performance.now() - started;
      if (execution.status !== 'SUCCEEDED') throw new Error(`run failed: ${execution.cause}`);
      const { events = [] } = await runtime.stepFunctions.getExecutionHistory({
        executionArn: run.execution_arn,
        maxResults: 1000,
      });
      const transitions = events.filter((event) => event.type?.endsWith('StateEntered')).length;
      const report = (await driver.ok('GET', `runway/monitors/${monitor}/reports/${run.run_id}`)).run;
      if (report.rows !== ROWS) throw new Error(`the run read ${report.rows} rows, not ${ROWS}`);

      // Analyze alone, in a process of its own (a cold Lambda container), against the same emulators.
      const dynamoBefore = { ...runtime.emulatorRequests.dynamodb };
      const s3Before = { ...runtime.emulatorRequests.s3 };
      const child = await analyzeInChild(runtime, monitor, windowStart, windowEnd);
      const dynamo = delta(dynamoBefore, runtime.emulatorRequests.dynamodb);
      const s3 = delta(s3Before, runtime.emulatorRequests.s3);
      // The emulator counts by HTTP method: GETs are objects and listings; a one-hour window lists two
      // prefixes (its capture and its feedback), one page each under 1000 objects.
      const lists = 2;
      const gets = (s3.GET ?? 0) - lists;
      const puts = s3.PUT ?? 0;
      const reads = (dynamo.GetItem ?? 0) + (dynamo.Query ?? 0) + (dynamo.BatchGetItem ?? 0);
      const writes = (dynamo.PutItem ?? 0) + (dynamo.UpdateItem ?? 0) + (dynamo.BatchWriteItem ?? 0);
      rows.push([
        `${ROWS.toLocaleString('en')} rows, ${rowsPerInvocation} per invocation (${generated.records.toLocaleString('en')} records, ${generated.objects} objects, ${Math.round(generated.bytes / 1e6)} MB)`,
        Math.round(wholeMs),
        Math.round(child.analyzeMs),
        Math.round(child.maxRssMb),
        Math.round(child.peakHeapMb),
        `${gets} GET, ${lists} LIST, ${puts} PUT`,
        `${reads} reads, ${writes} writes (${Object.entries(dynamo)
          .map(([op, n]) => `${op} ${n}`)
          .join(', ')})`,
      ]);

      // AWS cost of one run: the Analyze seconds measured here (Lambda's arm64 CPU differs: an estimate),
      // plus ~1 s for the other three invocations; request counts as measured.
      const lambdaSeconds = child.analyzeMs / 1000 + 1;
      const perRun = {
        lambda: lambdaSeconds * STEPS_MEMORY_GB * PRICE.lambdaGbSecond + 4 * PRICE.lambdaRequest,
        stepFunctions: transitions * PRICE.stateTransition,
        s3: gets * PRICE.s3Get + (lists + puts + 2) * PRICE.s3PutOrList,
        // On demand, an item read of up to 4 KB strongly consistent is one RRU, a write of up to 1 KB one WRU;
        // the run's writes (run item, MLflow run and its metrics) are a few KB each.
        dynamo: (reads + 20) * PRICE.dynamoRead * 2 + (writes + 20) * PRICE.dynamoWrite * 4,
        scheduler: PRICE.schedulerInvocation,
        logs: (20 * 1024 * PRICE.logsGb) / 1024 ** 3,
      };
      const runCost = Object.values(perRun).reduce((sum, value) => sum + value, 0);
      const hourly = 24 * 30;
      // Per monitor: 4 metrics with its dimensions; per Runway: 3 without, and 4 alarms.
      const fixedMonthly = 4 * PRICE.metricMonth;
      const sageMaker = (minutes: number) => hourly * (minutes / 60) * PRICE.sageMakerMlM5XlargeHour;
      costs.push([
        `${rowsPerInvocation} row(s) per invocation`,
        `$${runCost.toFixed(5)}`,
        `$${(runCost * hourly).toFixed(2)} + $${fixedMonthly.toFixed(2)} metrics`,
        `${((hourly * 5) / 60).toFixed(0)} to ${((hourly * 10) / 60).toFixed(0)} h: $${sageMaker(5).toFixed(2)} to $${sageMaker(10).toFixed(2)}`,
      ]);
      process.stdout.write(
        `  (${rowsPerInvocation} per invocation) one run: Lambda $${perRun.lambda.toFixed(5)}, Step Functions $${perRun.stepFunctions.toFixed(5)} (${transitions} transitions), S3 $${perRun.s3.toFixed(5)}, DynamoDB $${perRun.dynamo.toFixed(6)}, Scheduler $${perRun.scheduler.toFixed(6)}, logs $${perRun.logs.toFixed(6)}\n`,
      );
      await driver.ok('DELETE', `runway/monitors/${monitor}`);
    }
    printTable(
      'Monitor run over 1,000,000 captured rows, 10 numeric features, local runtime (target: < 60 s and < 512 MB in one Lambda invocation)',
      [
        'window',
        'whole run (ms)',
        'Analyze alone (ms)',
        'peak RSS (MB)',
        'peak heap (MB)',
        'S3 requests',
        'DynamoDB requests',
      ],
      rows,
    );
    printTable(
      'AWS cost (us-east-1 list prices, see monitoring.bench.ts): Runway per run and per month of hourly runs, beside SageMaker Model Monitor (ml.m5.xlarge processing job per run, 5 to 10 billed minutes each)',
      ['', 'Runway, one run', 'Runway, 720 hourly runs', 'Model Monitor instance hours, 720 runs'],
      costs,
    );
    process.stdout.write(
      `  Fixed per Runway on AWS, monitors or not: 4 alarms $${(4 * PRICE.alarmMonth).toFixed(2)}/month (and the 3 alarm metrics, $${(3 * PRICE.metricMonth).toFixed(2)}/month, only in months a run publishes them). Between runs nothing runs: a waiting EventBridge Scheduler schedule is free.\n`,
    );
  } finally {
    driver.close();
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Trains a 10-feature classifier with the pipeline on 20,000 rows and waits for the endpoint to serve it. */
export async function deployTrainedModel(runtime: LocalRuntime, driver: LocalDeployDriver): Promise<void> {
  const columns = FEATURES.map((_, i) => normals(i + 1, TRAINING_ROWS, i, 1 + i / 10));
  const table = {
    columns: [...FEATURES, 'label'],
    rows: Array.from({ length: TRAINING_ROWS }, (_, r) => {
      const x = columns.map((column) => column[r] as number);
      const score = (x[0] as number) - ((x[1] as number) - 1) + 0.5 * ((x[2] as number) - 2);
      return [...x.map((v) => v.toFixed(4)), score > 0 ? '1' : '0'];
    }),
  };
  const upload = await fetch(`${runtime.url}/api/2.0/mlflow-artifacts/artifacts/datasets/bench.csv`, {
    method: 'PUT',
    body: formatCsv(table),
  });
  if (!upload.ok) throw new Error(`upload failed: ${upload.status}`);
  await driver.ok('POST', 'mlflow/registered-models/create', { name: MODEL });
  await driver.ok('POST', 'runway/endpoints', {
    name: ENDPOINT,
    model_name: MODEL,
    follows: { alias: 'production' },
    rollout_policy: { traffic_steps: [100], bake_seconds: 0 },
  });
  const { executionArn } = await runtime.stepFunctions.startExecution({
    stateMachineArn: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${DEFAULT_PIPELINE_NAME}`,
    input: JSON.stringify({
      datasetUri: 'mlflow-artifacts:/datasets/bench.csv',
      targetColumn: 'label',
      modelType: 'logistic_regression',
      modelName: MODEL,
      threshold: 0.5,
      alias: 'production',
    }),
  });
  const trained = await runtime.stepFunctions.waitForExecution(executionArn, 300_000);
  if (trained.status !== 'SUCCEEDED') throw new Error(`training failed: ${trained.cause}`);
  await driver.waitForPrimary(ENDPOINT, '1', 120_000, 250);
}

/** Writes a window of capture (and feedback for a tenth of it) as the model server and the API would. */
export async function generateCapture(
  runtime: LocalRuntime,
  driver: LocalDeployDriver,
  windowStart: number,
  rowsPerInvocation: number,
  rows = ROWS,
): Promise<{ records: number; objects: number; bytes: number }> {
  const bucket = driver.resourceName('AWS::S3::Bucket', 'ArtifactBucket');
  const random = seededRandom(rowsPerInvocation);
  const records = rows / rowsPerInvocation;
  const hour = hourPath(windowStart);
  let lines: string[] = [];
  let size = 0;
  let objects = 0;
  let bytes = 0;
  const feedback: string[] = [];
  const flush = async () => {
    if (lines.length === 0) return;
    const body = `${lines.join('\n')}\n`;
    await driver.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `serving-capture/${ENDPOINT}/${hour}/${windowStart + objects}-bench-${objects}.jsonl`,
        Body: body,
      }),
    );
    objects++;
    bytes += body.length;
    lines = [];
    size = 0;
  };
  for (let i = 0; i < records; i++) {
    const at = windowStart + Math.floor((i / records) * 3_500_000);
    const id = newInferenceId(at);
    const x = Array.from({ length: rowsPerInvocation }, () =>
      FEATURES.map((_, f) => Number((f + (1 + f / 10) * gaussian(random)).toFixed(4))),
    );
    const p = x.map((row) =>
      Number((1 / (1 + Math.exp(-(row[0] as number) + (row[1] as number) - 1))).toFixed(6)),
    );
    const line = `{"capturedAt":"${new Date(at).toISOString()}","requestId":"r${i}","inferenceId":"${id}","endpoint":"${ENDPOINT}","version":"1","variant":"primary","status":200,"latencyMs":1.234,"contentType":"application/json","request":${JSON.stringify({ inputs: x })},"response":${JSON.stringify({ predictions: { output: p.map((v) => [v]) } })}}`;
    lines.push(line);
    size += line.length + 1;
    if (i % 10 === 0) {
      feedback.push(
        JSON.stringify({
          inferenceId: id,
          groundTruth: p.map((v) => (v > 0.5 ? 1 : 0)),
          receivedAt: at + 60_000,
        }),
      );
    }
    if (size >= OBJECT_BYTES) await flush();
  }
  await flush();
  for (let i = 0; i < feedback.length; i += 10_000) {
    await driver.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `serving-feedback/${ENDPOINT}/${hour}/${windowStart + i}-bench-${i}.jsonl`,
        Body: `${feedback.slice(i, i + 10_000).join('\n')}\n`,
      }),
    );
  }
  void runtime;
  return { records, objects, bytes };
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
}

/** Prepare and Analyze of a run in a fresh Node process with the steps function's environment; Analyze measured. */
function analyzeInChild(
  runtime: LocalRuntime,
  monitor: string,
  windowStart: number,
  windowEnd: number,
): Promise<ChildResult> {
  const steps = [...runtime.functions.values()].find((fn) =>
    fn.spec.entry.endsWith('functions/monitor-steps.ts'),
  );
  if (!steps) throw new Error('no monitor steps function in the app');
  const env = { ...process.env, ...runtime.environment, ...steps.spec.environment, LOG_LEVEL: 'error' };
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(REPO_ROOT, 'test/bench/monitoring-analyze.child.ts'),
        monitor,
        String(windowStart),
        String(windowEnd),
      ],
      { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`analyze child exited ${code}: ${err.slice(-2000)}`));
      else resolve(JSON.parse(last) as ChildResult);
    });
  });
}

function delta(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>) {
  return Object.fromEntries(
    Object.entries(after)
      .map(([op, n]) => [op, n - (before[op] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
}
