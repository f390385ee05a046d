import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { batcher, type EmulatorAnswer, type EmulatorCall } from './emulator-transport.ts';

const WORKER_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.mjs');

/** How a function is defined in the template, resolved for local use. */
export interface LocalFunctionSpec {
  /** Physical name (what `Ref` gives). */
  name: string;
  arn: string;
  /** Absolute path of the source entry file. */
  entry: string;
  /** The exported handler's name. */
  handlerName: string;
  /** The function's environment variables from the template, every intrinsic resolved. */
  environment: Record<string, string>;
  timeoutSeconds: number;
  memorySize: number;
}

/** An error thrown by a function, carrying Lambda's `errorType`. */
export class FunctionError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    readonly trace: string[] = [],
  ) {
    super(message);
    this.name = errorType;
  }
}

type Pending = { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout };

/**
 * One function of the app running locally in a worker thread: its own `process.env` (only what the
 * template gives it, plus Lambda's runtime variables), its own module graph and cold start. As on
 * Lambda, a timeout or a crash discards the container and the next invocation starts a fresh one.
 */
/** An emulator that functions reach without HTTP: its endpoint, and how to serve one request. */
export interface LocalEmulatorLink {
  endpoint: string;
  dispatch(target: string, body: string): Promise<{ statusCode: number; body: string }>;
}

/** What a function's invocations cost its containers so far (the cost model reads it). */
export interface FunctionUsage {
  invocations: number;
  /** Milliseconds the container's thread was busy (not waiting) during invocations. */
  activeMs: number;
  /** Round trips to the DynamoDB emulator (requests sent while none was out). */
  roundTrips: number;
}

export class LocalFunction {
  readonly usage: FunctionUsage = { invocations: 0, activeMs: 0, roundTrips: 0 };
  private worker: Worker | undefined;
  private emulatorPort: MessagePort | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<string, Pending>();
  private stopped = false;

  constructor(
    readonly spec: LocalFunctionSpec,
    private readonly runtimeEnv: Record<string, string>,
    private readonly onLog: (functionName: string, line: string) => void,
    /** The DynamoDB emulator, reached over a message port (`emulator-transport.ts`). */
    private readonly dynamodb?: LocalEmulatorLink,
  ) {}

  /** Starts the container (cold start) unless it is running. */
  start(): Promise<void> {
    // A stopped runtime starts no container again (a late retry must not keep the process alive).
    if (this.stopped)
      return Promise.reject(new FunctionError('Runtime.Stopped', `${this.spec.name} is stopped`));
    this.ready ??= this.boot();
    return this.ready;
  }

  /**
   * Invokes the handler synchronously (RequestResponse) and returns its result. The event and the
   * result cross to and from the container as JSON text, as Lambda's runtime API carries them (so a
   * handler meets exactly what JSON keeps of a value); `payload` is the event already serialized by
   * a caller that had to measure it.
   */
  async invoke(event: unknown, payload: string = JSON.stringify(event) ?? '{}'): Promise<unknown> {
    await this.start();
    const worker = this.worker;
    if (!worker) throw new FunctionError('Runtime.Unavailable', `${this.spec.name} is not running`);
    const id = randomUUID();
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new FunctionError(
            'Sandbox.Timedout',
            `Task timed out after ${this.spec.timeoutSeconds}.00 seconds`,
          ),
        );
        void this.discard();
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({
        id,
        payload,
        context: {
          awsRequestId: id,
          functionName: this.spec.name,
          functionVersion: '$LATEST',
          invokedFunctionArn: this.spec.arn,
          memoryLimitInMB: String(this.spec.memorySize),
          logGroupName: `/aws/lambda/${this.spec.name}`,
          logStreamName: 'local',
          timeoutMs,
        },
      });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.discard();
  }

  private boot(): Promise<void> {
    const link = this.dynamodb ? this.linkEmulator(this.dynamodb) : undefined;
    const worker = new Worker(WORKER_FILE, {
      workerData: {
        entry: this.spec.entry,
        handlerName: this.spec.handlerName,
        ...(link ? { dynamodb: { port: link, endpoint: this.dynamodb?.endpoint } } : {}),
      },
      transferList: link ? [link] : [],
      resourceLimits: { maxYoungGenerationSizeMb: 48 },
      env: this.environment(),
      stdout: true,
      stderr: true,
    });
    this.worker = worker;
    const stdout = lineSplitter((line) => this.onLog(this.spec.name, line));
    const stderr = lineSplitter((line) => this.onLog(this.spec.name, line));
    const output = (logs: Array<[1 | 2, string]> | undefined) => {
      for (const [stream, text] of logs ?? []) (stream === 1 ? stdout : stderr).push(text);
    };
    // The worker's writes come as messages (worker.mjs); its stdout streams carry only what
    // bypasses them, e.g. output during a crash.
    forward(worker.stdout, stdout);
    forward(worker.stderr, stderr);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        if ('logs' in message) output(message.logs);
        if ('ready' in message) resolve();
        else if ('initError' in message) {
          const { errorType, errorMessage, trace } = message.initError;
          reject(new FunctionError(errorType, `Init failed for ${this.spec.name}: ${errorMessage}`, trace));
          void this.discard();
        } else if ('id' in message) this.settle(message);
      });
      worker.on('error', (error) => {
        reject(error);
        this.failAll(new FunctionError('Runtime.ExitError', `${this.spec.name} crashed: ${error.message}`));
        void this.discard();
      });
      worker.on('exit', () => {
        this.failAll(new FunctionError('Runtime.ExitError', `${this.spec.name} exited`));
        if (this.worker === worker) {
          this.worker = undefined;
          this.ready = undefined;
        }
      });
    });
  }

  private settle(message: {
    id: string;
    result?: string;
    /** The `body` of a result object, when it travels beside `result` (a string, as JSON gives it). */
    body?: string;
    error?: SerializedError;
    usage?: Omit<FunctionUsage, 'invocations'>;
  }): void {
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.usage.invocations++;
    this.usage.activeMs += message.usage?.activeMs ?? 0;
    this.usage.roundTrips += message.usage?.roundTrips ?? 0;
    this.pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.error) {
      pending.reject(
        new FunctionError(message.error.errorType, message.error.errorMessage, message.error.trace),
      );
    } else {
      const result = JSON.parse(message.result ?? 'null');
      // A proxy response's body travels beside the JSON text (worker.mjs `serialize`).
      if (message.body !== undefined) result.body = message.body;
      pending.resolve(result);
    }
  }

  private failAll(error: Error): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(id);
    }
  }

  private async discard(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    this.emulatorPort?.close();
    this.emulatorPort = undefined;
    if (worker) await worker.terminate();
  }

  /** A channel for this container's emulator requests; returns the worker's end. */
  private linkEmulator(emulator: LocalEmulatorLink): MessagePort {
    this.emulatorPort?.close();
    const { port1, port2 } = new MessageChannel();
    this.emulatorPort = port1;
    // Requests arrive in batches (what the function sent in one turn), answers leave in batches
    // (what the emulator finished in one turn): see `batcher`.
    const answer = batcher<EmulatorAnswer>((answers) => port1.postMessage(answers));
    port1.on('message', (calls: EmulatorCall[]) => {
      for (const call of calls) {
        emulator.dispatch(call.target, call.body).then(
          (result) => answer({ id: call.id, ...result }),
          (error: unknown) =>
            answer({
              id: call.id,
              statusCode: 500,
              body: JSON.stringify({
                __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
                message: error instanceof Error ? error.message : String(error),
              }),
            }),
        );
      }
    });
    // Only the worker's own requests keep this end busy; it must not keep the runtime alive.
    port1.unref();
    return port2;
  }

  private environment(): Record<string, string> {
    const inherited: Record<string, string> = {};
    for (const name of ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG']) {
      const value = process.env[name];
      if (value !== undefined) inherited[name] = value;
    }
    return {
      ...inherited,
      ...this.runtimeEnv,
      AWS_LAMBDA_FUNCTION_NAME: this.spec.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.spec.memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${this.spec.name}`,
      ...withoutNodeOptions(this.spec.environment),
    };
  }
}

interface SerializedError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

type WorkerLogs = { logs?: Array<[1 | 2, string]> };
type WorkerMessage =
  | { ready: true }
  | { initError: SerializedError }
  | WorkerLogs
  | (WorkerLogs & {
      id: string;
      result?: string;
      body?: string;
      error?: SerializedError;
      usage?: Omit<FunctionUsage, 'invocations'>;
    });

/** NODE_OPTIONS in the template is for Lambda's node; the worker shares this process's flags. */
function withoutNodeOptions(environment: Record<string, string>): Record<string, string> {
  const { NODE_OPTIONS: _ignored, ...rest } = environment;
  return rest;
}

/** Splits text into lines as it comes, calling `onLine` on each; `end` passes on a last unfinished one. */
function lineSplitter(onLine: (line: string) => void): { push(text: string): void; end(): void } {
  let buffer = '';
  return {
    push(text) {
      buffer += text;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        onLine(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
      }
    },
    end() {
      if (buffer) onLine(buffer);
      buffer = '';
    },
  };
}

function forward(stream: NodeJS.ReadableStream, lines: ReturnType<typeof lineSplitter>): void {
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => lines.push(chunk));
  stream.on('end', () => lines.end());
}
