/**
 * Step Functions on one machine: state machines synthesized by CDK run from their definitions with
 * `aws-local-stepfunctions`, Task states bound to the same Lambda handlers that run on AWS, and the
 * Step Functions API in front (see `sfn-api.ts`) so that handlers and the CLI use a plain `SFNClient`.
 *
 * Supported Task resources: `lambda:invoke`, `lambda:invoke.waitForTaskToken` (the runner has no task
 * tokens: each callback task puts a token of its own where `$$.Task.Token` resolved to a placeholder,
 * and SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat settle it), Lambda function ARNs,
 * `states:startExecution[.sync|.sync:2]`, `aws-sdk:<service>:<action>` and request/response optimised
 * integrations (through `TaskEnvironment.callAws`), `.sync` jobs through `TaskEnvironment.runJob`.
 * Not supported: other callbacks (activities, `.waitForTaskToken` of other services), JSONata, and the
 * context-object fields the runner does not provide (`$$.State.*`). A token whose task timed out is
 * forgotten when its execution ends, not at once (AWS answers it `TaskTimedOut` at once).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type {
  DescribeExecutionOutput,
  DescribeStateMachineOutput,
  GetExecutionHistoryOutput,
  HistoryEvent,
  ListExecutionsOutput,
  ListStateMachinesOutput,
  StartSyncExecutionOutput,
  StateMachineType,
  StopExecutionOutput,
} from '@aws-sdk/client-sfn';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import {
  type AslStateMachine,
  asStateMachine,
  assertRunnable,
  collectTaskStates,
  prepareForRunner,
} from './definition.ts';
import { type ExecutionSnapshot, ExecutionStore } from './execution-store.ts';
import { HistoryRecorder, type RunnerEvent, type TranslationState, translateRunnerEvent } from './history.ts';
import { paginate, routeSfnApiRequest, type SfnApi, type SfnApiResponse } from './sfn-api.ts';
import {
  bindTaskStates,
  type ChildExecutions,
  createTaskHandlers,
  TASK_TOKEN_PLACEHOLDER,
  type TaskBinding,
  TaskFailure,
  type TaskTokens,
} from './task-bindings.ts';
import {
  type ExecutionRecord,
  type GetExecutionHistoryRequest,
  type ListExecutionsRequest,
  type ListStateMachinesRequest,
  type LocalStepFunctionsOptions,
  SfnApiError,
  type StartExecutionRequest,
  type StateMachineSpec,
  type StopExecutionRequest,
  type TaskEnvironment,
} from './types.ts';

type WithResolvers = <T>() => {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
};

/** `aws-local-stepfunctions` calls `Promise.withResolvers` (Node 22+) for every Task; Node 20 lacks it. */
function installPromiseWithResolvers(): void {
  const promise = Promise as PromiseConstructor & { withResolvers?: WithResolvers };
  if (typeof promise.withResolvers === 'function') return;
  const withResolvers: WithResolvers = <T>() => {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const created = new Promise<T>((onResolve, onReject) => {
      resolve = onResolve;
      reject = onReject;
    });
    return { promise: created, resolve, reject };
  };
  Object.defineProperty(Promise, 'withResolvers', {
    value: withResolvers,
    configurable: true,
    writable: true,
  });
}

installPromiseWithResolvers();

/** What `StartExecution` returns. */
export interface StartedExecution {
  executionArn: string;
  startDate: Date;
}

/** What `DescribeExecution` returns. */
export type ExecutionDescription = DescribeExecutionOutput;

type RunnerInput = Parameters<StateMachine['run']>[0];
type RunnerOptions = NonNullable<Parameters<StateMachine['run']>[1]>;
type RunnerHandlers = NonNullable<NonNullable<RunnerOptions['overrides']>['taskResourceLocalHandlers']>;

interface RegisteredMachine {
  arn: string;
  name: string;
  type: StateMachineType;
  roleArn: string;
  definition: AslStateMachine;
  runner: StateMachine;
  waitTimeOverrides: Record<string, number>;
  bindings: Map<string, TaskBinding>;
  creationDate: Date;
}

/** An execution running in this process. */
interface LiveExecution {
  controller: AbortController;
  abortRunner: () => void;
  stopRequest?: { error?: string; cause?: string };
  /** Resolves once the outcome is recorded. Never rejects. */
  ended: Promise<void>;
}

interface ExecutionEntry {
  record: ExecutionRecord;
  history: HistoryRecorder;
  live?: LiveExecution;
}

type Outcome =
  | { status: 'SUCCEEDED'; output: unknown }
  | { status: 'FAILED'; error: string; cause: string }
  | { status: 'TIMED_OUT' }
  | { status: 'ABORTED' };

/** Error recorded on executions cut short by the runtime itself (shutdown or crash). */
const RUNTIME_STOPPED = 'Runway.LocalRuntimeStopped';

const STATE_MACHINE_ARN = /^arn:[\w-]+:states:[\w-]+:\d+:stateMachine:[^:]+$/;
const EXECUTION_ARN = /^arn:[\w-]+:states:[\w-]+:\d+:(execution|express):[^:]+:[^:]+(:[^:]+)?$/;
const NAME_FORBIDDEN = new Set([...' <>{}[]?*"#%\\^|~`$&,;:/']);

/** AWS execution names: 1–80 characters, no whitespace, brackets, wildcards, listed specials or control codes. */
function isValidName(name: string): boolean {
  if (name.length < 1 || name.length > 80) return false;
  return [...name].every((char) => {
    const code = char.codePointAt(0) ?? 0;
    const control = code <= 0x1f || (code >= 0x7f && code <= 0x9f);
    return !control && !NAME_FORBIDDEN.has(char) && !/\s/.test(char);
  });
}

function classifyFailure(thrown: unknown): Outcome {
  if (thrown instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  if (thrown instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT' };
  // The runner wraps the failing state's error; its name and message are the state's Error and Cause.
  const inner = thrown instanceof ExecutionError && thrown.cause instanceof Error ? thrown.cause : thrown;
  const error = inner instanceof Error ? inner : new Error(String(inner));
  return { status: 'FAILED', error: error.name, cause: error.message };
}

async function consumeRunnerEvents(
  events: AsyncGenerator<RunnerEvent>,
  history: HistoryRecorder,
  state: TranslationState,
  log: (line: string) => void,
): Promise<void> {
  try {
    for await (const event of events) translateRunnerEvent(history, event, state);
  } catch (error) {
    log(`execution history is incomplete: ${(error as Error).message}`);
  }
}

/** Run `work` for at most `timeoutMs`; the timer never outlives the wait. */
async function withTimeout<T>(work: Promise<T>, timeoutMs: number | undefined, what: string): Promise<T> {
  if (timeoutMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not end within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function withoutExecutionData(event: HistoryEvent): HistoryEvent {
  return Object.fromEntries(
    Object.entries(event).map(([key, value]) => {
      if (!key.endsWith('EventDetails') || typeof value !== 'object' || value === null) return [key, value];
      const { input: _input, output: _output, ...rest } = value as Record<string, unknown>;
      return [key, rest];
    }),
  ) as HistoryEvent;
}

/**
 * The local Step Functions service: a registry of state machines, their executions (persisted under
 * `dataDir`), and the Step Functions JSON API over both.
 */
export class LocalStepFunctions implements SfnApi {
  readonly #region: string;
  readonly #accountId: string;
  readonly #env: TaskEnvironment;
  readonly #log: (line: string) => void;
  readonly #waitTimeScale: number;
  readonly #store: ExecutionStore | undefined;
  readonly #machines = new Map<string, RegisteredMachine>();
  readonly #executions = new Map<string, ExecutionEntry>();
  readonly #children: ChildExecutions;
  /** Callback tasks waiting for SendTaskSuccess / SendTaskFailure, by token. */
  readonly #pendingTokens = new Map<
    string,
    { executionArn: string; resolve: (output: unknown) => void; reject: (error: Error) => void }
  >();
  readonly #tokens: TaskTokens = {
    issue: (executionArn) => {
      const token = Buffer.from(JSON.stringify({ e: executionArn, n: randomUUID() })).toString('base64url');
      const outcome = new Promise<unknown>((resolve, reject) => {
        this.#pendingTokens.set(token, { executionArn, resolve, reject });
      });
      return { token, outcome };
    },
    discard: (token) => {
      this.#pendingTokens.delete(token);
    },
  };
  #closing: Promise<void> | undefined;

  constructor(options: LocalStepFunctionsOptions) {
    this.#region = options.region;
    this.#accountId = options.accountId;
    this.#env = options.env;
    this.#log = options.log ?? (() => {});
    this.#waitTimeScale = Math.max(0, options.waitTimeScale ?? 1);
    this.#store = options.dataDir
      ? new ExecutionStore(join(options.dataDir, 'executions'), this.#log)
      : undefined;
    this.#children = {
      start: (request) => this.startExecution(request),
      wait: (executionArn) => this.waitForExecution(executionArn),
      stop: async (executionArn, error, cause) => {
        await this.stopExecution({ executionArn, error, cause });
      },
    };
    for (const snapshot of this.#store?.loadAll() ?? []) this.#restore(snapshot);
  }

  /**
   * Make a state machine runnable, replacing any previous one with the same ARN (running executions keep
   * the definition they started with). Throws when the definition is invalid or uses JSONata.
   */
  register(spec: StateMachineSpec): void {
    if (!STATE_MACHINE_ARN.test(spec.arn)) throw new Error(`register: invalid state machine ARN ${spec.arn}`);
    const definition = asStateMachine(spec.definition, `state machine ${spec.name}`);
    assertRunnable(definition);
    this.#validate(definition, spec.name);
    const prepared = prepareForRunner(definition, this.#waitTimeScale);
    const runner = new StateMachine(prepared.definition as unknown as StateMachineDefinition, {
      validationOptions: { noValidate: true },
    });
    const bindings = bindTaskStates(collectTaskStates(definition));
    for (const binding of bindings.values()) {
      if (binding.parsed.kind === 'unsupported') {
        this.#log(
          `${spec.name}: Task "${binding.stateName}" (${binding.resource}) will fail: ${binding.parsed.reason}`,
        );
      }
    }
    this.#machines.set(spec.arn, {
      arn: spec.arn,
      name: spec.name,
      type: spec.type ?? 'STANDARD',
      roleArn: spec.roleArn ?? `arn:aws:iam::${this.#accountId}:role/runway-local-${spec.name}`,
      definition,
      runner,
      waitTimeOverrides: prepared.waitTimeOverrides,
      bindings,
      creationDate: this.#machines.get(spec.arn)?.creationDate ?? new Date(),
    });
  }

  /**
   * `StartExecution`. Starting again with the name of an execution that is still RUNNING with the same
   * input returns that execution (AWS idempotency); any other reuse of a name is `ExecutionAlreadyExists`.
   */
  async startExecution(request: StartExecutionRequest): Promise<StartedExecution> {
    if (this.#closing)
      throw new SfnApiError('ServiceUnavailable', 'The local Step Functions runtime is closed', 503);
    const machine = this.#machine(request.stateMachineArn);
    const name = request.name ?? randomUUID();
    if (!isValidName(name)) throw new SfnApiError('InvalidName', `Invalid Name: '${name}'`);
    const inputText = request.input ?? '{}';
    let input: unknown;
    try {
      input = JSON.parse(inputText);
    } catch (error) {
      throw new SfnApiError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: '${(error as Error).message}'`,
      );
    }
    const executionArn = this.#executionArn(machine, name);
    const existing = this.#executions.get(executionArn);
    if (existing) {
      if (existing.record.status === 'RUNNING' && existing.record.input === inputText) {
        return { executionArn, startDate: existing.record.startDate };
      }
      throw new SfnApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const entry = this.#launch(machine, executionArn, name, inputText, input);
    return { executionArn, startDate: entry.record.startDate };
  }

  /** `StartSyncExecution`: EXPRESS state machines only; resolves when the execution has ended. */
  async startSyncExecution(request: StartExecutionRequest): Promise<StartSyncExecutionOutput> {
    const machine = this.#machine(request.stateMachineArn);
    if (machine.type !== 'EXPRESS') {
      throw new SfnApiError(
        'StateMachineTypeNotSupported',
        'This operation is not supported by this type of state machine',
      );
    }
    const { executionArn } = await this.startExecution(request);
    const ended = await this.waitForExecution(executionArn);
    return {
      executionArn,
      stateMachineArn: ended.stateMachineArn,
      name: ended.name,
      startDate: ended.startDate,
      stopDate: ended.stopDate,
      // A synchronous execution is only ever SUCCEEDED, FAILED or TIMED_OUT; a stopped one failed.
      status: ended.status === 'SUCCEEDED' || ended.status === 'TIMED_OUT' ? ended.status : 'FAILED',
      error: ended.error,
      cause: ended.cause,
      input: ended.input,
      inputDetails: { included: true },
      output: ended.output,
      outputDetails: { included: true },
      billingDetails: {
        billedMemoryUsedInMB: 64,
        billedDurationInMilliseconds: (ended.stopDate?.getTime() ?? 0) - (ended.startDate?.getTime() ?? 0),
      },
    };
  }

  /** `DescribeExecution`. */
  async describeExecution(executionArn: string): Promise<ExecutionDescription> {
    return this.#describe(this.#execution(executionArn));
  }

  /** `ListExecutions`: newest first, optionally filtered by status, paginated. */
  async listExecutions(request: ListExecutionsRequest): Promise<ListExecutionsOutput> {
    const { stateMachineArn, statusFilter } = request;
    if (!STATE_MACHINE_ARN.test(stateMachineArn))
      throw new SfnApiError('InvalidArn', `Invalid Arn: '${stateMachineArn}'`);
    const all = [...this.#executions.values()].filter(
      (entry) => entry.record.stateMachineArn === stateMachineArn,
    );
    if (all.length === 0 && !this.#machines.has(stateMachineArn)) {
      throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    }
    const matching = all
      .filter((entry) => statusFilter === undefined || entry.record.status === statusFilter)
      .map((entry, order) => ({ record: entry.record, order }))
      .sort((a, b) => b.record.startDate.getTime() - a.record.startDate.getTime() || b.order - a.order);
    const scope = `executions:${stateMachineArn}:${statusFilter ?? ''}`;
    const page = paginate(matching, scope, request.maxResults, request.nextToken);
    return {
      executions: page.items.map(({ record }) => ({
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: record.startDate,
        stopDate: record.stopDate,
      })),
      nextToken: page.nextToken,
    };
  }

  /** `GetExecutionHistory`: oldest first unless `reverseOrder`, paginated. */
  async getExecutionHistory(request: GetExecutionHistoryRequest): Promise<GetExecutionHistoryOutput> {
    const entry = this.#execution(request.executionArn);
    const ordered = request.reverseOrder ? [...entry.history.events].reverse() : [...entry.history.events];
    const events = request.includeExecutionData === false ? ordered.map(withoutExecutionData) : ordered;
    const scope = `history:${request.executionArn}:${request.reverseOrder === true}`;
    const page = paginate(events, scope, request.maxResults, request.nextToken);
    return { events: page.items, nextToken: page.nextToken };
  }

  /**
   * `StopExecution`: the execution is ABORTED at once (its running Task is abandoned, `.sync` children are
   * stopped too). Stopping an execution that has already ended changes nothing.
   */
  async stopExecution(request: StopExecutionRequest): Promise<StopExecutionOutput> {
    const entry = this.#execution(request.executionArn);
    this.#stop(entry, request.error, request.cause);
    return { stopDate: entry.record.stopDate ?? new Date() };
  }

  /** `SendTaskSuccess`: the callback task of `taskToken` succeeds with `output` (JSON text). */
  async sendTaskSuccess(taskToken: string, output: string): Promise<Record<string, never>> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch (error) {
      throw new SfnApiError('InvalidOutput', `Invalid output: ${(error as Error).message}`);
    }
    this.#settle(taskToken).resolve(parsed);
    return {};
  }

  /** `SendTaskFailure`: the callback task of `taskToken` fails with `error` and `cause`. */
  async sendTaskFailure(taskToken: string, error?: string, cause?: string): Promise<Record<string, never>> {
    this.#settle(taskToken).reject(new TaskFailure(error ?? 'States.TaskFailed', cause ?? ''));
    return {};
  }

  /** `SendTaskHeartbeat`: the task is still worked on (no heartbeat timeouts run locally). */
  async sendTaskHeartbeat(taskToken: string): Promise<Record<string, never>> {
    this.#pendingFor(taskToken);
    return {};
  }

  #pendingFor(taskToken: string) {
    const pending = this.#pendingTokens.get(taskToken);
    if (!pending) throw new SfnApiError('TaskDoesNotExist', 'Task Does Not Exist');
    return pending;
  }

  #settle(taskToken: string) {
    const pending = this.#pendingFor(taskToken);
    this.#pendingTokens.delete(taskToken);
    return pending;
  }

  /** `DescribeStateMachine`; `definition` is the registered (resolved) definition. */
  async describeStateMachine(stateMachineArn: string): Promise<DescribeStateMachineOutput> {
    const machine = this.#machine(stateMachineArn);
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE',
      definition: JSON.stringify(machine.definition),
      roleArn: machine.roleArn,
      type: machine.type,
      creationDate: machine.creationDate,
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }

  /** `ListStateMachines`, by name. */
  async listStateMachines(request: ListStateMachinesRequest = {}): Promise<ListStateMachinesOutput> {
    const machines = [...this.#machines.values()].sort((a, b) => a.name.localeCompare(b.name));
    const page = paginate(machines, 'stateMachines', request.maxResults, request.nextToken);
    return {
      stateMachines: page.items.map((machine) => ({
        stateMachineArn: machine.arn,
        name: machine.name,
        type: machine.type,
        creationDate: machine.creationDate,
      })),
      nextToken: page.nextToken,
    };
  }

  /**
   * The runner's ASL validator reports every problem of a definition; the copy it runs skips validation.
   * The validator itself can crash on valid input (it looks fields up with `$..Branches`, so a state named
   * "Branches" breaks it): such a crash must not keep a valid state machine from running.
   */
  #validate(definition: AslStateMachine, name: string): void {
    try {
      new StateMachine(definition as unknown as StateMachineDefinition);
    } catch (error) {
      const message = (error as Error).message;
      if (message.startsWith('State machine definition is invalid')) throw new Error(`${name}: ${message}`);
      this.#log(`${name}: the ASL validator failed (${message}); running the definition unvalidated`);
    }
  }

  /** Names of the registered state machines, sorted (for start-up summaries). */
  listStateMachineNames(): string[] {
    return [...this.#machines.values()].map((machine) => machine.name).sort();
  }

  /**
   * Resolves with the description of the execution once it has ended (immediately if it has). Rejects when
   * `timeoutMs` elapses first; the execution itself carries on.
   */
  async waitForExecution(executionArn: string, timeoutMs?: number): Promise<ExecutionDescription> {
    const entry = this.#execution(executionArn);
    if (entry.live) await withTimeout(entry.live.ended, timeoutMs, `execution ${executionArn}`);
    return this.#describe(entry);
  }

  /**
   * The Step Functions JSON API: route one request (the action of `X-Amz-Target: AWSStepFunctions.<Action>`
   * and the parsed JSON body) and get the HTTP status and JSON body to answer with. Never rejects.
   */
  handleApiRequest(action: string, body: unknown): Promise<SfnApiResponse> {
    return routeSfnApiRequest(this, action, body);
  }

  /** Resolves once every execution record changed so far is on disk (no-op without `dataDir`). */
  async flush(): Promise<void> {
    await this.#store?.flush();
  }

  /**
   * Stop every running execution (recorded as ABORTED), wait for their outcome to be recorded and for the
   * records to reach the disk. Further starts are refused. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    const running = [...this.#executions.values()].flatMap((entry) => (entry.live ? [entry.live.ended] : []));
    for (const entry of this.#executions.values()) {
      this.#stop(entry, RUNTIME_STOPPED, 'The local Step Functions runtime was shut down');
    }
    await Promise.all(running);
    await this.#store?.flush();
  }

  #machine(stateMachineArn: string): RegisteredMachine {
    if (!STATE_MACHINE_ARN.test(stateMachineArn))
      throw new SfnApiError('InvalidArn', `Invalid Arn: '${stateMachineArn}'`);
    const machine = this.#machines.get(stateMachineArn);
    if (!machine)
      throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    return machine;
  }

  #execution(executionArn: string): ExecutionEntry {
    if (!EXECUTION_ARN.test(executionArn))
      throw new SfnApiError('InvalidArn', `Invalid Arn: '${executionArn}'`);
    const entry = this.#executions.get(executionArn);
    if (!entry) throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return entry;
  }

  /** STANDARD names are unique per state machine; EXPRESS ones are not, so their ARN gets a unique suffix. */
  #executionArn(machine: RegisteredMachine, name: string): string {
    const [prefix] = machine.arn.split(':stateMachine:');
    return machine.type === 'EXPRESS'
      ? `${prefix}:express:${machine.name}:${name}:${randomUUID()}`
      : `${prefix}:execution:${machine.name}:${name}`;
  }

  #describe({ record }: ExecutionEntry): ExecutionDescription {
    return {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: record.startDate,
      stopDate: record.stopDate,
      input: record.input,
      inputDetails: { included: true },
      output: record.output,
      outputDetails: record.output === undefined ? undefined : { included: true },
      error: record.error,
      cause: record.cause,
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
    };
  }

  #launch(
    machine: RegisteredMachine,
    executionArn: string,
    name: string,
    inputText: string,
    input: unknown,
  ): ExecutionEntry {
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      status: 'RUNNING',
      startDate: new Date(),
      input: inputText,
    };
    const history = new HistoryRecorder();
    history.append('ExecutionStarted', {
      executionStartedEventDetails: {
        input: inputText,
        inputDetails: { truncated: false },
        roleArn: machine.roleArn,
      },
    });
    const controller = new AbortController();
    const handlers = createTaskHandlers(machine.bindings, {
      env: this.#env,
      region: this.#region,
      signal: controller.signal,
      history,
      children: this.#children,
      tokens: this.#tokens,
      executionArn,
      log: this.#log,
    });
    const run = machine.runner.run(input as RunnerInput, {
      overrides: {
        taskResourceLocalHandlers: handlers as RunnerHandlers,
        waitTimeOverrides: machine.waitTimeOverrides,
      },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: machine.roleArn, RedriveCount: 0 },
        StateMachine: { Id: machine.arn, Name: machine.name },
        // Only callback (`.waitForTaskToken`) tasks may read `$$.Task.Token`; with a value there, they reach
        // their handler and fail naming the unsupported resource instead of failing on the path.
        Task: { Token: TASK_TOKEN_PLACEHOLDER },
      },
    });
    const translation: TranslationState = {
      failedStates: new Set(),
      taskResource: (stateName) => machine.bindings.get(stateName)?.event,
    };
    const consumed = consumeRunnerEvents(run.eventLogs, history, translation, this.#log);
    const outcome = run.result.then(
      (output): Outcome => ({ status: 'SUCCEEDED', output }),
      (error: unknown) => classifyFailure(error),
    );
    const entry: ExecutionEntry = { record, history };
    const live: LiveExecution = {
      controller,
      abortRunner: run.abort,
      // The outcome is recorded only once the event log is drained, so the terminal event comes last.
      ended: Promise.all([outcome, consumed]).then(([settled]) => this.#finish(entry, settled)),
    };
    entry.live = live;
    this.#executions.set(executionArn, entry);
    this.#persist(entry);
    this.#log(`${machine.name}: execution ${name} started`);
    return entry;
  }

  #finish(entry: ExecutionEntry, outcome: Outcome): void {
    const { record, history, live } = entry;
    if (!live) return;
    delete entry.live;
    // Release anything a Task handler still waits on (a `.sync` child, an abandoned invocation).
    live.controller.abort();
    record.stopDate ??= new Date();
    this.#recordOutcome(
      record,
      history,
      live.stopRequest ? { status: 'ABORTED' } : outcome,
      live.stopRequest,
    );
    this.#persist(entry);
    const detail = record.error ? ` (${record.error}${record.cause ? `: ${record.cause}` : ''})` : '';
    this.#log(`${record.name}: execution ${record.status}${detail}`);
  }

  #recordOutcome(
    record: ExecutionRecord,
    history: HistoryRecorder,
    outcome: Outcome,
    stopRequest: LiveExecution['stopRequest'],
  ): void {
    switch (outcome.status) {
      case 'SUCCEEDED':
        record.status = 'SUCCEEDED';
        record.output = JSON.stringify(outcome.output ?? null);
        history.seal('ExecutionSucceeded', {
          executionSucceededEventDetails: { output: record.output, outputDetails: { truncated: false } },
        });
        return;
      case 'FAILED':
        Object.assign(record, { status: 'FAILED', error: outcome.error, cause: outcome.cause });
        history.seal('ExecutionFailed', {
          executionFailedEventDetails: { error: outcome.error, cause: outcome.cause },
        });
        return;
      case 'TIMED_OUT':
        Object.assign(record, { status: 'TIMED_OUT', error: 'States.Timeout' });
        history.seal('ExecutionTimedOut', { executionTimedOutEventDetails: { error: 'States.Timeout' } });
        return;
      case 'ABORTED':
        // The record was updated when the stop was requested.
        history.seal('ExecutionAborted', { executionAbortedEventDetails: stopRequest ?? {} });
        return;
    }
  }

  #stop(entry: ExecutionEntry, error: string | undefined, cause: string | undefined): void {
    const { record, live } = entry;
    if (!live || record.status !== 'RUNNING') return;
    live.stopRequest = {
      ...(error === undefined ? {} : { error }),
      ...(cause === undefined ? {} : { cause }),
    };
    Object.assign(record, { status: 'ABORTED', stopDate: new Date(), error, cause });
    live.abortRunner();
    live.controller.abort();
  }

  /** An execution read back from disk; one that was RUNNING when the runtime died ends as ABORTED. */
  #restore(snapshot: ExecutionSnapshot): void {
    const entry: ExecutionEntry = {
      record: snapshot.execution,
      history: new HistoryRecorder(snapshot.history),
    };
    this.#executions.set(entry.record.executionArn, entry);
    if (entry.record.status !== 'RUNNING') return;
    const cause = 'The local Step Functions runtime stopped while this execution was running';
    Object.assign(entry.record, { status: 'ABORTED', stopDate: new Date(), error: RUNTIME_STOPPED, cause });
    entry.history.seal('ExecutionAborted', {
      executionAbortedEventDetails: { error: RUNTIME_STOPPED, cause },
    });
    this.#persist(entry);
  }

  #persist(entry: ExecutionEntry): void {
    this.#store?.save({ execution: entry.record, history: [...entry.history.events] });
  }
}
