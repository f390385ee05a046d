import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { REPO_ROOT } from '../repo-root.ts';
import { defineRunwayApp } from '../runway-app.ts';
import { LOCAL_IAM_PRINCIPAL } from '../stacks/api.stack.ts';
import { ensureAdminToken } from './admin-token.ts';
import { LocalApiGateway } from './api-gateway.ts';
import { LocalAwsEndpoint } from './aws-api-server.ts';
import { createAwsSdkCaller } from './aws-sdk-call.ts';
import { CloudTemplate } from './cloud-template.ts';
import { LocalCloudFront } from './cloudfront.ts';
import { type DynamoEmulator, startDynamoEmulator } from './emulators/dynamodb.ts';
import { type S3Emulator, startS3Emulator } from './emulators/s3.ts';
import { LocalEventBus } from './events/local-event-bus.ts';
import { LocalScheduler } from './events/local-scheduler.ts';
import { FunctionError, LocalFunction, type LocalFunctionSpec } from './lambda/local-function.ts';
import { provisionBuckets, provisionTables } from './provision.ts';
import { LocalStepFunctions } from './stepfunctions/local-step-functions.ts';
import type { TaskEnvironment } from './stepfunctions/types.ts';
import { type AppDefinition, synthesize } from './synth.ts';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

export interface LocalRuntimeOptions {
  /** @default 5000; 0 picks a free port */
  port?: number;
  /** @default 127.0.0.1: the local runtime never listens beyond loopback, with or without `auth` */
  host?: string;
  /**
   * Serve the token API: every request runs the app's Lambda authorizer (with API Gateway's cache),
   * and a first admin token is written to `<dataDir>/admin-token`. Without it, requests are served
   * as an admin IAM caller, unchecked. @default false
   */
  auth?: boolean;
  /** Where every emulator keeps its data. */
  dataDir: string;
  /** The CDK app to run. @default Runway's own app */
  define?: AppDefinition;
  /** Function log lines: printed with the function's name (default), dropped, or given to a callback. */
  functionLogs?: 'inherit' | 'silent' | ((functionName: string, line: string) => void);
  /** The runtime's own messages. @default stderr */
  log?: (line: string) => void;
  /** Multiplies every Wait state's duration (0 skips waits). @default 1 */
  waitTimeScale?: number;
  /**
   * Count the DynamoDB read and write request units of what functions send, as DynamoDB bills them
   * (`emulatorRequests.dynamodbCapacity`): the benchmarks' cost figures. @default false
   */
  meterCapacity?: boolean;
  /**
   * Runs `.sync` job tasks (e.g. `sagemaker:createTrainingJob.sync`), which nothing emulates here:
   * tests bind a fake. @default none: such tasks fail naming the unsupported resource
   */
  runJob?: TaskEnvironment['runJob'];
  /** Stops a job `runJob` runs, when its execution is stopped or times out. @default none */
  stopJob?: TaskEnvironment['stopJob'];
  /**
   * The console's built bundle: the content of the console bucket, which the distribution serves at
   * `/` (Runway's app only; `define` gives its own). @default `console/dist`
   */
  consoleDir?: string;
}

/** A start-up failure the user can act on; its message is one line. */
export class RuntimeStartError extends Error {}

/**
 * The local runtime: synthesizes the CDK app in this process and runs what it describes on one
 * machine (DESIGN.md, "One code path"): tables and buckets on embedded emulators with data kept under
 * `dataDir`; every HTTP API route on 127.0.0.1 with API Gateway's event shape; every function in its
 * own worker thread; every state machine from its definition; every rule and schedule on the bus.
 */
export class LocalRuntime {
  private constructor(
    readonly url: string,
    readonly awsEndpoint: string,
    readonly template: CloudTemplate,
    readonly gateway: LocalApiGateway,
    readonly functions: ReadonlyMap<string, LocalFunction>,
    readonly eventBus: LocalEventBus,
    readonly stepFunctions: LocalStepFunctions,
    /** EventBridge Scheduler: the app's schedule groups and the schedules functions create in them. */
    readonly scheduler: LocalScheduler,
    readonly environment: Record<string, string>,
    /** Requests the emulators served, by operation: the benchmarks report what each call costs. */
    readonly emulatorRequests: {
      dynamodb: Readonly<Record<string, number>>;
      s3: Readonly<Record<string, number>>;
      /** How DynamoDB requests arrived: functions send theirs without HTTP (`emulator-transport.ts`). */
      dynamodbTransport: Readonly<{ http: number; direct: number }>;
      /** Request units of functions' DynamoDB requests, with `meterCapacity`. */
      dynamodbCapacity: Readonly<{ read: number; write: number }> | undefined;
    },
    /** The DynamoDB emulator itself (its `dispatch` serves a request without HTTP). */
    readonly dynamodb: DynamoEmulator,
    private readonly closers: Array<() => Promise<void> | void>,
    /**
     * Settles once every function's container has started (or failed to): benchmarks wait for it
     * so that the background warm-up does not share the CPU with what they measure.
     */
    readonly warmedUp: Promise<void>,
  ) {}

  static async start(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const closers: Array<() => Promise<void> | void> = [];
    const stopAll = async () => {
      for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
    };
    try {
      return await LocalRuntime.boot(options, closers);
    } catch (error) {
      await stopAll();
      throw error;
    }
  }

  private static async boot(
    options: LocalRuntimeOptions,
    closers: Array<() => Promise<void> | void>,
  ): Promise<LocalRuntime> {
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const host = options.host ?? '127.0.0.1';
    const dataDir = path.resolve(options.dataDir);
    prepareDataDir(dataDir);
    closers.push(lockDataDir(dataDir));

    // Bind the API port first, so a port in use fails fast; answer 503 until everything is up.
    let gateway: LocalApiGateway | undefined;
    let distribution: LocalCloudFront | undefined;
    // No request timeout (Node's default is 5 minutes): a single PUT of a few GB through the
    // distribution's edge path may take longer on a slow disk, as the S3 emulator allows.
    const server = createServer({ requestTimeout: 0 }, (request, response) => {
      if (!gateway) {
        response.writeHead(503, { 'content-type': 'application/json' });
        response.end('{"message":"Runway is starting"}');
        return;
      }
      (distribution ?? gateway).handle(request, response).catch((error: unknown) => {
        log(`api: ${error instanceof Error ? error.message : String(error)}`);
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
        response.end('{"message":"Internal Server Error"}');
      });
    });
    await listen(server, options.port ?? 5000, host);
    closers.push(() => closeServer(server));
    const url = `http://${host}:${(server.address() as AddressInfo).port}`;

    const env = { account: LOCAL_ACCOUNT, region: LOCAL_REGION };
    const template = new CloudTemplate(
      synthesize(
        options.define ??
          ((app, e) =>
            defineRunwayApp(app, {
              env: e,
              ...(options.consoleDir ? { consoleBundleDir: options.consoleDir } : {}),
            })),
        env,
      ),
      env.region,
      env.account,
    );

    const [dynamo, s3] = await Promise.all([
      startDynamoEmulator({
        dataDir: path.join(dataDir, 'dynamodb'),
        host,
        meterCapacity: options.meterCapacity ?? false,
      }),
      startS3Emulator({ dataDir: path.join(dataDir, 's3'), host }),
    ]);
    closers.push(
      () => dynamo.stop(),
      () => s3.stop(),
    );

    const functions = new Map<string, LocalFunction>();
    // Functions stop after the event bus and the state machines (closers run in reverse), so that
    // deliveries and executions still under way when a stop begins can finish.
    closers.push(async () => {
      await Promise.all([...new Set(functions.values())].map((fn) => fn.stop()));
    });
    const invokeFunction = async (nameOrArn: string, event: unknown, payload?: string) => {
      const fn = functions.get(nameOrArn) ?? functions.get(nameOrArn.split(':').slice(0, 7).join(':'));
      if (!fn) throw new FunctionError('ResourceNotFoundException', `Function not found: ${nameOrArn}`);
      return fn.invoke(event, payload);
    };

    const aws = new LocalAwsEndpoint([], async (name, payload) => {
      try {
        return { status: 200, body: await invokeFunction(name, payload) };
      } catch (error) {
        if (error instanceof FunctionError && error.errorType === 'ResourceNotFoundException') {
          return { status: 404, body: { Type: 'User', Message: error.message } };
        }
        const failure = error as FunctionError;
        return {
          status: 200,
          functionError: 'Unhandled',
          body: {
            errorType: failure.errorType ?? failure.name,
            errorMessage: failure.message,
            trace: failure.trace ?? [],
          },
        };
      }
    });
    const awsEndpoint = await aws.listen(host);
    closers.push(() => aws.close());

    const environment = runtimeEnvironment(dynamo, s3, awsEndpoint);
    const sdkConfig = {
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    };
    const callAws = createAwsSdkCaller(sdkConfig, (packageName) => {
      const service = packageName.replace('@aws-sdk/client-', '').toUpperCase();
      return environment[`AWS_ENDPOINT_URL_${service === 'EVENTBRIDGE' ? 'EVENTBRIDGE' : service}`];
    });
    const stepFunctions = new LocalStepFunctions({
      dataDir: path.join(dataDir, 'stepfunctions'),
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      env: {
        invokeLambda: invokeFunction,
        callAws,
        ...(options.runJob ? { runJob: options.runJob } : {}),
        ...(options.stopJob ? { stopJob: options.stopJob } : {}),
      },
      log,
      waitTimeScale: options.waitTimeScale ?? 1,
    });
    closers.push(() => stepFunctions.close());
    const eventBus = new LocalEventBus(
      template,
      {
        invokeFunction,
        startExecution: (arn, input) => stepFunctions.startExecution({ stateMachineArn: arn, input }),
      },
      { region: LOCAL_REGION, accountId: LOCAL_ACCOUNT, dataDir, log },
    );
    closers.push(() => eventBus.close());
    aws.addService({
      targetPrefix: 'AWSStepFunctions',
      contentType: 'application/x-amz-json-1.0',
      handleApiRequest: (a, b) => stepFunctions.handleApiRequest(a, b),
    });
    aws.addService({
      targetPrefix: 'AWSEvents',
      contentType: 'application/x-amz-json-1.1',
      handleApiRequest: (a, b) => eventBus.handleApiRequest(a, b),
    });
    const scheduler = new LocalScheduler(template, {
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      dataDir,
      log,
      invoke: async (arn, input) => {
        if (arn.split(':')[2] === 'states')
          await stepFunctions.startExecution({ stateMachineArn: arn, input });
        else await invokeFunction(arn, JSON.parse(input));
      },
    });
    closers.push(() => scheduler.close());
    aws.addRestService({
      pathPrefix: '/schedules/',
      handleRestRequest: (method, url, body) => scheduler.handleRestRequest(method, url, body),
    });

    const clientConfig = { ...sdkConfig };
    await provisionAll(template, dynamo, s3, clientConfig);

    const onLog = functionLogSink(options.functionLogs);
    for (const spec of functionSpecs(template)) {
      const fn = new LocalFunction(spec, environment, onLog, dynamo);
      functions.set(spec.arn, fn);
      functions.set(spec.name, fn);
    }

    for (const machine of template.resourcesOfType('AWS::StepFunctions::StateMachine')) {
      stepFunctions.register({
        arn: template.arn(machine),
        name: template.physicalName(machine),
        definition: stateMachineDefinition(template, machine),
        type: machine.properties.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
      });
    }
    eventBus.startSchedules();
    scheduler.start();

    // Without --auth every request is served as an admin: the API's as an IAM admin, the edge
    // functions' (which know callers by token only) with the local admin token.
    const adminToken = await ensureAdminToken(template, environment, dataDir, log);
    const api = new LocalApiGateway(template, invokeFunction, {
      auth: options.auth ?? false,
      iamPrincipal: LOCAL_IAM_PRINCIPAL,
    });
    distribution = LocalCloudFront.fromTemplate(template, {
      s3: (request, response) => s3.handle(request, response),
      api: (request, response) => api.handle(request, response),
      invoke: invokeFunction,
      region: LOCAL_REGION,
      ...(options.auth || !adminToken ? {} : { authorization: `Bearer ${adminToken}` }),
    });
    for (const { directory } of distribution?.missingContent() ?? []) {
      log(`The console is not built (${directory}): run npm run build. The API works regardless.`);
    }
    gateway = api;
    // Containers warm up in the background, a few at a time, once the rest is up: the app has dozens
    // of functions, and starting them all at once starved start-up itself of CPU (40 s instead of 5 on
    // 2 cores). An invocation starts its own function at once, queued or not; a request that reaches
    // a function still starting waits for its cold start, as on Lambda. A function whose init fails
    // says so in the log now, and answers every invocation with its init error, as on Lambda.
    const warmedUp = warmUp(
      [...new Set(functions.values())],
      Math.max(1, Math.min(4, availableParallelism() - 1)),
      log,
    );
    writeFileSync(
      path.join(dataDir, 'runtime.json'),
      JSON.stringify({ url, awsEndpoint, pid: process.pid, startedAt: new Date().toISOString() }, null, 2),
    );
    closers.push(() => rmSync(path.join(dataDir, 'runtime.json'), { force: true }));
    return new LocalRuntime(
      url,
      awsEndpoint,
      template,
      gateway,
      functions,
      eventBus,
      stepFunctions,
      scheduler,
      environment,
      {
        dynamodb: dynamo.requests,
        s3: s3.requests,
        dynamodbTransport: dynamo.transport,
        dynamodbCapacity: dynamo.capacity,
      },
      dynamo,
      closers,
      warmedUp,
    );
  }

  /** Invokes a function by name or ARN, as Lambda's Invoke API does. */
  invoke(nameOrArn: string, event: unknown): Promise<unknown> {
    const fn = this.functions.get(nameOrArn);
    if (!fn) throw new Error(`No function ${nameOrArn}`);
    return fn.invoke(event);
  }

  /** Stops everything it started, in reverse order. */
  async stop(): Promise<void> {
    const closers = this.closers.splice(0).reverse();
    for (const close of closers) await Promise.resolve(close()).catch(() => undefined);
  }
}

function prepareDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
    const probe = path.join(dataDir, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new RuntimeStartError(`Cannot write to the data directory ${dataDir} (${code})`);
  }
}

/** Data directories locked by runtimes of this process (the pid file cannot tell them apart). */
const lockedHere = new Set<string>();

/** One runtime per data directory: the emulators' stores are not safe for two writers. */
function lockDataDir(dataDir: string): () => void {
  if (lockedHere.has(dataDir)) {
    throw new RuntimeStartError(
      `The data directory ${dataDir} is in use by another Runway (pid ${process.pid})`,
    );
  }
  const lockFile = path.join(dataDir, 'runway.pid');
  try {
    const pid = Number(readFileSync(lockFile, 'utf8'));
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new RuntimeStartError(`The data directory ${dataDir} is in use by another Runway (pid ${pid})`);
    }
  } catch (error) {
    if (error instanceof RuntimeStartError) throw error;
  }
  writeFileSync(lockFile, String(process.pid));
  lockedHere.add(dataDir);
  return () => {
    lockedHere.delete(dataDir);
    rmSync(lockFile, { force: true });
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function listen(server: Server, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new RuntimeStartError(`Port ${port} on ${host} is in use; choose another with --port`)
          : error.code === 'EACCES'
            ? new RuntimeStartError(`Not allowed to listen on ${host}:${port}; choose another with --port`)
            : error,
      );
    });
    server.listen(port, host, () => resolve());
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** What every local function sees besides its own variables: Lambda's, and the local endpoints. */
function runtimeEnvironment(
  dynamo: DynamoEmulator,
  s3: S3Emulator,
  awsEndpoint: string,
): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_SFN: awsEndpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: awsEndpoint,
    AWS_ENDPOINT_URL_LAMBDA: awsEndpoint,
    AWS_ENDPOINT_URL_SCHEDULER: awsEndpoint,
    // Lambda runs Node 24; only local development runs on Node 20, where the SDK would warn.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

async function provisionAll(
  template: CloudTemplate,
  dynamo: DynamoEmulator,
  s3: S3Emulator,
  config: Record<string, unknown>,
): Promise<void> {
  const dynamoClient = new DynamoDBClient({ ...config, endpoint: dynamo.endpoint });
  const s3Client = new S3Client({ ...config, endpoint: s3.endpoint, forcePathStyle: true });
  try {
    await Promise.all([provisionTables(template, dynamoClient), provisionBuckets(template, s3Client)]);
  } finally {
    dynamoClient.destroy();
    s3Client.destroy();
  }
}

/** Functions that carry `runway:entry` metadata run their source locally. */
function functionSpecs(template: CloudTemplate): LocalFunctionSpec[] {
  return template.resourcesOfType('AWS::Lambda::Function').flatMap((fn) => {
    const entry = fn.metadata['runway:entry'];
    if (typeof entry !== 'string') return [];
    const props = template.resolve(fn.stackName, fn.properties) as {
      Handler?: string;
      Environment?: { Variables?: Record<string, unknown> };
      Timeout?: number;
      MemorySize?: number;
    };
    const variables = Object.fromEntries(
      Object.entries(props.Environment?.Variables ?? {}).map(([key, value]) => [key, String(value)]),
    );
    return [
      {
        name: template.physicalName(fn),
        arn: template.arn(fn),
        entry: path.resolve(REPO_ROOT, entry),
        handlerName: (props.Handler ?? 'index.handler').split('.').pop() ?? 'handler',
        environment: variables,
        timeoutSeconds: props.Timeout ?? 3,
        memorySize: props.MemorySize ?? 128,
      },
    ];
  });
}

/** A state machine's definition from the template, its substitutions applied. */
export function stateMachineDefinition(
  template: CloudTemplate,
  machine: ReturnType<CloudTemplate['resourcesOfType']>[number],
): unknown {
  const { DefinitionString, Definition, DefinitionSubstitutions } = machine.properties;
  if (Definition !== undefined) return template.resolve(machine.stackName, Definition);
  let text = String(template.resolve(machine.stackName, DefinitionString));
  const substitutions = template.resolve(machine.stackName, DefinitionSubstitutions ?? {}) as Record<
    string,
    unknown
  >;
  for (const [key, value] of Object.entries(substitutions))
    text = text.split(`\${${key}}`).join(String(value));
  return JSON.parse(text);
}

function functionLogSink(setting: LocalRuntimeOptions['functionLogs']): (name: string, line: string) => void {
  if (typeof setting === 'function') return setting;
  if (setting === 'silent') return () => undefined;
  return (name, line) => process.stdout.write(`[${name}] ${line}\n`);
}

/** Starts every function in the background, `concurrency` at a time (each start is idempotent). */
function warmUp(functions: LocalFunction[], concurrency: number, log: (line: string) => void): Promise<void> {
  const queue = [...functions];
  const next = (): Promise<void> | undefined => {
    const fn = queue.shift();
    if (!fn) return undefined;
    return fn
      .start()
      .catch((error: unknown) => {
        // A stop during warm-up is not a failure to report.
        if ((error as { errorType?: string }).errorType === 'Runtime.Stopped') return;
        log(`function ${fn.spec.name} failed to start: ${(error as Error).message}`);
      })
      .then(next);
  };
  return Promise.all(Array.from({ length: concurrency }, () => next())).then(() => undefined);
}
