import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import {
  billedMilliseconds,
  type OperationCost,
  type OperationUsage,
  operationCost,
} from '../../infra/cost/cost-model.ts';
import { idleCharges, type SynthesizedStack } from '../../infra/cost/idle-resources.ts';
import { HOURS_PER_MONTH, PRICES } from '../../infra/cost/prices.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, LocalRuntime } from '../../infra/local/runtime.ts';
import { defineRunwayApp } from '../../infra/runway-app.ts';
import { DEFAULT_PIPELINE_NAME } from '../../shared/pipelines/model.ts';
import { iris } from '../support/iris.ts';
import { LocalDeployDriver } from '../support/local-deploy.ts';
import { metersOf } from './deploy.bench.ts';
import { jsonClient } from './http-client.ts';
import { deployTrainedModel, generateCapture, ENDPOINT as MONITORED_ENDPOINT } from './monitoring.bench.ts';
import { printTable } from './stats.ts';

/** Captured rows in the hour a monitor run reads (one a model invocation). */
const MONITOR_ROWS = 10_000;

/** S3 requests billed at the write tier (PUT, COPY, POST, LIST); the rest but DELETE at the read tier. */
const S3_WRITES = /^(Put|Copy|Post|List|CreateMultipartUpload|UploadPart|CompleteMultipartUpload)/;

/**
 * `npm run bench -- cost`: what Runway costs on AWS, from what the code does. Each operation runs
 * against the local runtime in this process, which counts its DynamoDB request units (as DynamoDB
 * bills them, from the items' sizes), its S3 requests, the functions it invokes (their memory from
 * the template, their busy time and round trips), the bytes they log, the events put on the bus
 * and the state transitions of the executions it starts; `infra/cost/cost-model.ts` prices them at
 * list prices (`infra/cost/prices.ts`). The idle month is read off the synthesized templates, plus
 * what each schedule's runs cost, measured the same way. `docs/cost.md` explains the figures.
 */
export async function costBench(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-bench-cost-'));
  const logBytes = new Map<string, number>();
  const runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    meterCapacity: true,
    functionLogs: (name, line) => logBytes.set(name, (logBytes.get(name) ?? 0) + Buffer.byteLength(line) + 1),
    log: () => undefined,
  });
  await runtime.warmedUp;
  let events = 0;
  const putEvents = runtime.eventBus.putEvents.bind(runtime.eventBus);
  runtime.eventBus.putEvents = (entries) => {
    events += entries.length;
    return putEvents(entries);
  };
  const client = jsonClient(runtime.url);
  const api = async (method: string, endpoint: string, body?: unknown) => {
    const { status, json } = await client.call(method, `/api/2.0/mlflow/${endpoint}`, body);
    if (status !== 200) throw new Error(`${endpoint} answered ${status}: ${JSON.stringify(json)}`);
    // biome-ignore lint/suspicious/noExplicitAny: the benchmark reads whatever JSON the API answered.
    return json as Record<string, any>;
  };
  const accessLogBytes = accessLogLineBytes(runtime);

  /** Counters of everything an operation can cost, as a snapshot. */
  const snapshot = () => ({
    capacity: { ...(runtime.emulatorRequests.dynamodbCapacity as { read: number; write: number }) },
    s3: { ...runtime.emulatorRequests.s3 },
    usage: new Map(
      [...new Set(runtime.functions.values())].map((fn) => [fn.spec.name, { ...fn.usage }] as const),
    ),
    logs: new Map(logBytes),
    events,
  });
  type Snapshot = ReturnType<typeof snapshot>;
  const usageBetween = (
    before: Snapshot,
    after: Snapshot,
    n: number,
    request: { apiRequests: number; requestBytes: number; stateTransitions?: number },
  ): OperationUsage => {
    const s3 = { writes: 0, reads: 0 };
    for (const [operation, count] of Object.entries(after.s3)) {
      const delta = (count - (before.s3[operation] ?? 0)) / n;
      if (operation.startsWith('Delete')) continue;
      if (S3_WRITES.test(operation)) s3.writes += delta;
      else s3.reads += delta;
    }
    const functions = [...new Set(runtime.functions.values())].flatMap((fn) => {
      const start = before.usage.get(fn.spec.name);
      const end = after.usage.get(fn.spec.name);
      if (!start || !end || end.invocations === start.invocations) return [];
      const invocations = end.invocations - start.invocations;
      return [
        {
          name: fn.spec.name,
          memoryMb: fn.spec.memorySize,
          invocations: invocations / n,
          activeMs: (end.activeMs - start.activeMs) / invocations,
          roundTrips: (end.roundTrips - start.roundTrips) / invocations,
          logBytes:
            ((after.logs.get(fn.spec.name) ?? 0) - (before.logs.get(fn.spec.name) ?? 0)) / invocations,
        },
      ];
    });
    return {
      functions,
      apiRequests: request.apiRequests,
      requestBytes: request.requestBytes,
      accessLogBytes,
      dynamodb: {
        readUnits: (after.capacity.read - before.capacity.read) / n,
        writeUnits: (after.capacity.write - before.capacity.write) / n,
      },
      s3,
      stateTransitions: request.stateTransitions ?? 0,
      events: (after.events - before.events) / n,
    };
  };
  const measured: Array<{ name: string; usage: OperationUsage; cost: OperationCost }> = [];
  /** Runs `call` n times (after one unmeasured call) and records what one call cost. */
  const measure = async (name: string, n: number, body: unknown, call: (i: number) => Promise<unknown>) => {
    await call(-1);
    const before = snapshot();
    for (let i = 0; i < n; i++) await call(i);
    const requestBytes = body === undefined ? 0 : Buffer.byteLength(JSON.stringify(body));
    const usage = usageBetween(before, snapshot(), n, { apiRequests: 1, requestBytes });
    measured.push({ name, usage, cost: operationCost(usage) });
  };

  let idle: Array<[string, string, number | undefined]> = [];
  const perRun: Record<string, { usage: OperationUsage; cost: OperationCost }> = {};
  try {
    // Tracking, as the MLflow client calls it (the IAM API: no authorizer; see the token row below).
    const experimentId = (await api('POST', 'experiments/create', { name: `cost-${Date.now()}` }))
      .experiment_id as string;
    const runIds: string[] = [];
    const newRun = (i: number) =>
      api('POST', 'runs/create', {
        experiment_id: experimentId,
        start_time: 1_000_000 + i,
        run_name: `r${i}`,
        tags: [
          { key: 'mlflow.user', value: 'ana' },
          { key: 'mlflow.source.name', value: 'train.py' },
          { key: 'mlflow.source.type', value: 'LOCAL' },
        ],
      });
    await measure('create run (3 tags)', 20, { experiment_id: '1', start_time: 1, tags: [] }, async (i) => {
      runIds.push((await newRun(i)).run.info.run_id);
    });
    const runId = runIds[0] as string;
    let step = 0;
    const metric = () => ({
      run_id: runId,
      key: 'loss',
      value: Math.random(),
      timestamp: Date.now(),
      step: ++step,
    });
    await measure('log_metric', 100, metric(), () => api('POST', 'runs/log-metric', metric()));
    const batch = (size: number, keys: number) => {
      step += 1;
      return {
        run_id: runId,
        metrics: Array.from({ length: size }, (_, i) => ({
          key: `m${i % keys}`,
          value: Math.random(),
          timestamp: Date.now(),
          step: step * 1000 + Math.floor(i / keys),
        })),
      };
    };
    await measure('log_batch, 10 metrics (an epoch of autolog)', 50, batch(10, 10), () =>
      api('POST', 'runs/log-batch', batch(10, 10)),
    );
    await measure('log_batch, 1,000 metrics (10 keys)', 10, batch(1000, 10), () =>
      api('POST', 'runs/log-batch', batch(1000, 10)),
    );
    await measure('log_param', 20, { run_id: runId, key: 'p', value: 'v' }, (i) =>
      api('POST', 'runs/log-parameter', { run_id: runId, key: `p${i + 1}`, value: '0.01' }),
    );
    await measure('set_tag', 20, { run_id: runId, key: 't', value: 'v' }, (i) =>
      api('POST', 'runs/set-tag', { run_id: runId, key: 'stage', value: `s${i}` }),
    );
    await measure('get run', 50, undefined, () => api('GET', `runs/get?run_id=${runId}`));
    // A 200-run experiment, as the vs-mlflow bench's.
    const searched = (await api('POST', 'experiments/create', { name: `cost-search-${Date.now()}` }))
      .experiment_id as string;
    for (let i = 0; i < 200; i++) {
      const id = (await api('POST', 'runs/create', { experiment_id: searched, start_time: i })).run.info
        .run_id;
      await api('POST', 'runs/log-batch', {
        run_id: id,
        metrics: [
          { key: 'rank', value: i, timestamp: 1, step: 0 },
          { key: 'acc', value: (i % 97) / 97, timestamp: 1, step: 0 },
        ],
        params: [{ key: 'lr', value: i % 25 < 6 ? '0.01' : '0.1' }],
      });
    }
    const search = (body: Record<string, unknown>) =>
      api('POST', 'runs/search', { experiment_ids: [searched], ...body });
    await measure('search_runs: top 10 by a metric (of 200)', 20, {}, () =>
      search({ order_by: ['metrics.rank DESC'], max_results: 10 }),
    );
    await measure("search_runs: params.lr = '0.01' (48 of 200)", 20, {}, () =>
      search({ filter: "params.lr = '0.01'" }),
    );
    await measure('search_runs: all 200', 10, {}, () => search({ max_results: 1000 }));
    const oneMiB = Buffer.alloc(1024 * 1024, 7);
    await measure('artifact upload, 1 MiB', 5, undefined, async (i) => {
      const { status } = await client.raw(
        'PUT',
        `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/f${i}.bin`,
        oneMiB,
      );
      if (status !== 200) throw new Error(`artifact upload answered ${status}`);
    });
    const last = measured.at(-1);
    if (last) {
      last.usage.requestBytes = oneMiB.length;
      last.cost = operationCost(last.usage);
    }

    // The token API runs its authorizer on every request (no cache at API Gateway, by design: a
    // refusal is MLflow's 401). Its cost per request: an unknown token (one GetItem), the worst case.
    const authorizer = [...new Set(runtime.functions.values())].find((fn) =>
      fn.spec.name.includes('Authorizer'),
    );
    if (authorizer) {
      const before = snapshot();
      for (let i = 0; i < 20; i++) {
        await runtime.invoke(
          authorizer.spec.name,
          authorizerEvent(`rwy_${'0'.repeat(16)}_${'x'.repeat(43)}`),
        );
      }
      const usage = usageBetween(before, snapshot(), 20, { apiRequests: 0, requestBytes: 0 });
      measured.push({
        name: '+ token API authorizer, per request (a token not in its cache)',
        usage,
        cost: operationCost(usage),
      });
    }

    // A deploy: alias set -> 100% of traffic on the new version, steps 10/50/100, bake 0.
    const driver = new LocalDeployDriver(runtime);
    try {
      const model = 'cost-model';
      const versions = [
        await driver.createVersion(model, await driver.uploadModel('cost0')),
        await driver.createVersion(model, await driver.uploadModel('cost1')),
      ];
      await driver.ok('POST', 'runway/endpoints', {
        name: 'cost-endpoint',
        model_name: model,
        follows: { alias: 'production' },
        rollout_policy: { traffic_steps: [10, 50, 100], bake_seconds: 0 },
      });
      await driver.setAlias(model, 'production', versions[0] as string);
      await driver.waitForPrimary('cost-endpoint', versions[0] as string, 60_000, 5);
      const before = snapshot();
      await driver.setAlias(model, 'production', versions[1] as string);
      await driver.waitForPrimary('cost-endpoint', versions[1] as string, 60_000, 5);
      await new Promise((resolve) => setTimeout(resolve, 500)); // the execution's last steps
      const [execution] = await driver.executions(`cost-endpoint-v${versions[1]}-`);
      const transitions = execution?.executionArn
        ? (await metersOf(runtime, execution.executionArn)).transitions
        : 0;
      const usage = usageBetween(before, snapshot(), 1, {
        apiRequests: 1,
        requestBytes: 100,
        stateTransitions: transitions,
      });
      perRun['deploy (alias set -> 100% traffic, Lambda target, steps 10/50/100)'] = {
        usage,
        cost: operationCost(usage),
      };
    } finally {
      driver.close();
    }

    // A training pipeline run on Iris (150 rows).
    const upload = await client.raw(
      'PUT',
      '/api/2.0/mlflow-artifacts/artifacts/datasets/iris.csv',
      Buffer.from(iris().text),
    );
    if (upload.status !== 200) throw new Error(`dataset upload answered ${upload.status}`);
    const stateMachineArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${DEFAULT_PIPELINE_NAME}`;
    const input = JSON.stringify({
      datasetUri: 'mlflow-artifacts:/datasets/iris.csv',
      targetColumn: 'species',
      positiveClass: 'virginica',
      modelType: 'logistic_regression',
      hyperparameters: { l2: 0.1 },
      modelName: 'iris-cost',
      threshold: 0,
    });
    for (const measured of [false, true]) {
      const before = snapshot();
      const { executionArn } = await runtime.stepFunctions.startExecution({ stateMachineArn, input });
      const result = await runtime.stepFunctions.waitForExecution(executionArn, 120_000);
      if (result.status !== 'SUCCEEDED') throw new Error(`pipeline: ${result.status} ${result.cause}`);
      if (!measured) continue;
      const transitions = (await metersOf(runtime, executionArn)).transitions;
      const usage = usageBetween(before, snapshot(), 1, {
        apiRequests: 0,
        requestBytes: 0,
        stateTransitions: transitions,
      });
      perRun['training pipeline run (Iris, logistic regression, registers a version)'] = {
        usage,
        cost: operationCost(usage),
      };
    }
    // A monitor run over an hour of captured traffic, on an endpoint the training pipeline deployed.
    // Started through the API here; a scheduled run is started by EventBridge Scheduler instead.
    const monitorDriver = new LocalDeployDriver(runtime);
    try {
      await deployTrainedModel(runtime, monitorDriver);
      const hour = Date.now() - (Date.now() % 3_600_000) - 3_600_000;
      await generateCapture(runtime, monitorDriver, hour, 1, MONITOR_ROWS);
      await monitorDriver.ok('POST', 'runway/monitors', {
        name: 'cost-monitor',
        endpoint_name: MONITORED_ENDPOINT,
        quality: { limits: { accuracy: 0.5 } },
      });
      for (const measured of [false, true]) {
        const before = snapshot();
        const body = { window_start: hour, window_end: hour + 3_600_000 };
        const started = await monitorDriver.http('POST', 'runway/monitors/cost-monitor/run', body);
        if (started.status !== 202) throw new Error(`monitor run: ${started.status}`);
        const executionArn = started.json.execution_arn as string;
        const result = await runtime.stepFunctions.waitForExecution(executionArn, 300_000);
        if (result.status !== 'SUCCEEDED') throw new Error(`monitor run: ${result.status} ${result.cause}`);
        if (!measured) continue;
        const usage = usageBetween(before, snapshot(), 1, {
          apiRequests: 1,
          requestBytes: Buffer.byteLength(JSON.stringify(body)),
          stateTransitions: (await metersOf(runtime, executionArn)).transitions,
        });
        perRun[
          `monitor run (an hour of ${MONITOR_ROWS.toLocaleString('en')} captured rows, feedback for a tenth)`
        ] = { usage, cost: operationCost(usage) };
      }
    } finally {
      monitorDriver.close();
    }

    // Idle: what the templates bill by the hour or the month, and each schedule's runs.
    idle = idleCharges(synthesizedStacks()).map((charge) => [
      `${charge.stackName}/${charge.logicalId.replace(/[0-9A-F]{8}$/, '')}`,
      charge.what,
      charge.monthly,
    ]);
    for (const schedule of schedules(runtime)) {
      const fn = runtime.functions.get(schedule.target);
      if (!fn) continue;
      await runtime.invoke(fn.spec.name, scheduledEvent());
      const before = snapshot();
      for (let i = 0; i < 5; i++) await runtime.invoke(fn.spec.name, scheduledEvent());
      const usage = usageBetween(before, snapshot(), 5, { apiRequests: 0, requestBytes: 0 });
      const cost = operationCost(usage);
      idle.push([
        `${schedule.name} (${schedule.expression}, ${Math.round(schedule.runsPerMonth)} runs)`,
        `each run: ${describe(usage, cost)}`,
        cost.total * schedule.runsPerMonth,
      ]);
    }
  } finally {
    client.close();
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  printOperations(measured);
  printScenarios(measured);
  printTable(
    'per deploy, per pipeline run, per monitor run (USD)',
    ['run', 'state transitions', 'Lambda invocations', 'DynamoDB RRU / WRU', 'S3 requests', 'events', 'USD'],
    Object.entries(perRun).map(([name, { usage, cost }]) => [
      name,
      String(usage.stateTransitions),
      usage.functions.reduce((sum, f) => sum + f.invocations, 0).toFixed(0),
      `${usage.dynamodb.readUnits.toFixed(1)} / ${usage.dynamodb.writeUnits.toFixed(1)}`,
      (usage.s3.reads + usage.s3.writes).toFixed(0),
      usage.events.toFixed(0),
      cost.total.toFixed(6),
    ]),
  );
  const fixed = idle.reduce((sum, [, , monthly]) => sum + (monthly ?? 0), 0);
  printTable(
    `a deployed Runway that nobody uses: every resource that bills while idle (synthesized templates; USD a month, list prices ${PRICES.region} ${PRICES.asOf}, before free tiers)`,
    ['resource', 'what bills', 'USD a month'],
    [
      ...idle.map(([name, what, monthly]) => [
        name,
        what,
        monthly === undefined ? 'by size' : monthly.toFixed(3),
      ]),
      ['total', '', fixed.toFixed(2)],
    ],
  );
  process.stdout.write(
    '  Tables, the bucket, functions, state machines, APIs and queues bill per request and per GB stored: $0 while empty.\n',
  );
}

/** The operations table: what each does and costs, per call and per million calls. */
function printOperations(
  measured: Array<{ name: string; usage: OperationUsage; cost: OperationCost }>,
): void {
  printTable(
    `cost per operation on AWS (list prices ${PRICES.region} ${PRICES.asOf}, before free tiers; IAM API, arm64)`,
    [
      'operation',
      'Lambda ms billed (MB)',
      'DynamoDB RRU',
      'WRU',
      'S3 req',
      'log bytes',
      'USD per call',
      'USD per 1M calls',
      'largest part',
    ],
    measured.map(({ name, usage, cost }) => [
      name,
      usage.functions.map((f) => `${billedMilliseconds(f)} (${f.memoryMb})`).join(' + ') || '-',
      usage.dynamodb.readUnits.toFixed(1),
      usage.dynamodb.writeUnits.toFixed(1),
      (usage.s3.reads + usage.s3.writes).toFixed(1),
      Math.round(logBytesOf(usage)).toString(),
      cost.total.toExponential(2),
      (cost.total * 1e6).toFixed(2),
      largestPart(cost),
    ]),
  );
}

/** 10 million logged metrics a month, three ways the MLflow client can send them. */
function printScenarios(measured: Array<{ name: string; cost: OperationCost }>): void {
  const cost = (prefix: string) => measured.find((m) => m.name.startsWith(prefix))?.cost;
  const rows: Array<[string, number, OperationCost | undefined]> = [
    ['one log_metric per value (10,000,000 calls)', 10_000_000, cost('log_metric')],
    ['log_batch of 10 (1,000,000 calls: autolog, an epoch a call)', 1_000_000, cost('log_batch, 10 ')],
    ['log_batch of 1,000 (10,000 calls: async logging, the bench batch)', 10_000, cost('log_batch, 1,000')],
  ];
  printTable(
    '10 million logged metrics a month (target < $5), USD',
    ['how the client sends them', 'API Gateway', 'Lambda', 'DynamoDB', 'logs', 'X-Ray', 'total'],
    rows.map(([name, calls, c]) =>
      c
        ? [
            name,
            (c.apiGateway * calls).toFixed(2),
            (c.lambda * calls).toFixed(2),
            (c.dynamodb * calls).toFixed(2),
            (c.logs * calls).toFixed(2),
            (c.xray * calls).toFixed(2),
            (c.total * calls).toFixed(2),
          ]
        : [name, '-', '-', '-', '-', '-', '-'],
    ),
  );
  process.stdout.write(
    `  Storage grows with the history kept: a point is about 30 bytes in a batch's item, ${PRICES.dynamodb.storagePerGbMonth} USD per GB-month (and ${PRICES.dynamodb.pointInTimeRecoveryPerGbMonth} for point-in-time recovery).\n`,
  );
}

function logBytesOf(usage: OperationUsage): number {
  return (
    usage.apiRequests * usage.accessLogBytes +
    usage.functions.reduce((sum, f) => sum + f.invocations * (f.logBytes + 420), 0)
  );
}

function largestPart(cost: OperationCost): string {
  const parts: Array<[string, number]> = [
    ['API Gateway', cost.apiGateway],
    ['Lambda', cost.lambda],
    ['DynamoDB', cost.dynamodb],
    ['S3', cost.s3],
    ['logs', cost.logs],
    ['X-Ray', cost.xray],
    ['Step Functions', cost.stepFunctions],
  ];
  const [name, value] = parts.sort((a, b) => b[1] - a[1])[0] as [string, number];
  return `${name} ${Math.round((100 * value) / cost.total)}%`;
}

function describe(usage: OperationUsage, cost: OperationCost): string {
  const ms = usage.functions.map((f) => `${billedMilliseconds(f)} ms at ${f.memoryMb} MB`).join(', ');
  return `${ms}, ${usage.dynamodb.readUnits.toFixed(1)} RRU, ${Math.round(logBytesOf(usage))} log bytes = $${cost.total.toExponential(2)}`;
}

/** The app's stacks as `cdk synth` writes them (without bundling: only the templates count here). */
function synthesizedStacks(): SynthesizedStack[] {
  const app = new App({ builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
  defineRunwayApp(app, { env: { account: '123456789012', region: 'us-east-1' } });
  return app.synth().stacks.map((stack) => ({ stackName: stack.stackName, template: stack.template }));
}

/** Scheduled rules of the app with the function each invokes and its runs a month. */
function schedules(runtime: LocalRuntime) {
  return runtime.template.resourcesOfType('AWS::Events::Rule').flatMap((rule) => {
    const props = runtime.template.resolve(rule.stackName, rule.properties) as {
      ScheduleExpression?: string;
      Targets?: Array<{ Arn: string }>;
    };
    const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(props.ScheduleExpression ?? '');
    if (!rate) return [];
    const minutes =
      Number(rate[1]) * (rate[2]?.startsWith('hour') ? 60 : rate[2]?.startsWith('day') ? 1440 : 1);
    return (props.Targets ?? []).map((target) => ({
      name: `${rule.stackName}/${rule.logicalId.replace(/[0-9A-F]{8}$/, '')}`,
      expression: props.ScheduleExpression as string,
      target: target.Arn,
      runsPerMonth: (HOURS_PER_MONTH * 60) / minutes,
    }));
  });
}

/** The bytes of one access log line of the API stage, its `$context` fields filled with typical values. */
function accessLogLineBytes(runtime: LocalRuntime): number {
  const stage = runtime.template.resourcesOfType('AWS::ApiGatewayV2::Stage')[0];
  const format = String(
    (
      runtime.template.resolve(stage?.stackName ?? '', stage?.properties ?? {}) as {
        AccessLogSettings?: { Format?: string };
      }
    ).AccessLogSettings?.Format ?? '',
  );
  const typical: Record<string, string> = {
    'identity.sourceIp': '203.0.113.10',
    requestTime: '07/Dec/2026:12:00:00 +0000',
    httpMethod: 'POST',
    resourcePath: '/api/2.0/mlflow/{proxy+}',
    routeKey: 'ANY /api/2.0/mlflow/{proxy+}',
    protocol: 'HTTP/1.1',
    status: '200',
    responseLength: '1234',
    requestId: 'dGVzdC1yZXF1ZXN0LWlk=',
  };
  return (
    Buffer.byteLength(format.replace(/\$context\.([\w.]+)/g, (_, key: string) => typical[key] ?? '-')) + 1
  );
}

function authorizerEvent(token: string) {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:us-east-1:000000000000:api/$default/POST/api/2.0/mlflow/runs/log-metric',
    identitySource: [],
    routeKey: 'ANY /api/2.0/mlflow/{proxy+}',
    rawPath: '/api/2.0/mlflow/runs/log-metric',
    rawQueryString: '',
    headers: { authorization: `Bearer ${token}` },
    requestContext: {
      accountId: '000000000000',
      apiId: 'api',
      http: {
        method: 'POST',
        path: '/api/2.0/mlflow/runs/log-metric',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'bench',
      },
      requestId: 'cost-bench',
      routeKey: 'ANY /api/2.0/mlflow/{proxy+}',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

function scheduledEvent() {
  return {
    version: '0',
    id: 'cost-bench',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {},
  };
}
