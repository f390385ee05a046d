/**
 * Task states bound to local code: what each `Resource` means, what the callee receives, what the state gets
 * back, and how failures are named — all as AWS Step Functions does it, so that `Retry`/`Catch` rules and
 * `ResultSelector`/`ResultPath` written for AWS behave the same locally.
 *
 * The runner calls a handler with the state's effective input (after `InputPath` and `Parameters`) and
 * applies `ResultSelector`, `ResultPath` and `OutputPath` to what it returns; an Error it throws fails the
 * state with `Error` = the error's `name` and `Cause` = its `message`.
 */
import { randomUUID } from 'node:crypto';
import type { DescribeExecutionOutput } from '@aws-sdk/client-sfn';
import type { TaskStateInfo } from './definition.ts';
import { type HistoryRecorder, jsonText, type TaskEventResource } from './history.ts';
import { type JsonValue, SfnApiError, type StartExecutionRequest, type TaskEnvironment } from './types.ts';

/** What a Task state's `Resource` asks for. */
export type ParsedResource =
  /** `arn:aws:states:::lambda:invoke`: Invoke API parameters in, Invoke API response out. */
  | { kind: 'lambdaInvoke' }
  /**
   * `arn:aws:states:::lambda:invoke.waitForTaskToken`: the function gets `$$.Task.Token` in its
   * payload; the task ends when someone calls SendTaskSuccess or SendTaskFailure with it.
   */
  | { kind: 'lambdaInvokeCallback' }
  /** A Lambda ARN in `Resource` (CDK `payloadResponseOnly`): the input in, the handler's result out. */
  | { kind: 'lambdaFunction' }
  /** `arn:aws:states:::states:startExecution[.sync|.sync:2]`. */
  | { kind: 'startExecution'; pattern: 'none' | 'sync' | 'sync:2' }
  /** `arn:aws:states:::aws-sdk:<service>:<action>` (sdk) or an optimised integration such as `dynamodb:putItem`. */
  | { kind: 'awsApi'; service: string; action: string; sdk: boolean }
  /** An optimised integration's job-run pattern (`sagemaker:createTrainingJob.sync`): runs until the job ends. */
  | { kind: 'awsJob'; service: string; action: string }
  | { kind: 'unsupported'; reason: string };

/** A Task state with everything needed to run it. */
export interface TaskBinding {
  stateName: string;
  resource: string;
  parsed: ParsedResource;
  event: TaskEventResource;
  timeoutSeconds?: number;
}

/** The few Step Functions operations `states:startExecution` tasks need from the runtime. */
export interface ChildExecutions {
  start(request: StartExecutionRequest): Promise<{ executionArn: string; startDate: Date }>;
  /** Resolves with the description of the execution once it has ended. */
  wait(executionArn: string): Promise<DescribeExecutionOutput>;
  stop(executionArn: string, error: string, cause: string): Promise<void>;
}

/**
 * Task tokens of callback tasks (`.waitForTaskToken`): issued when such a task starts, settled by the
 * Step Functions API's SendTaskSuccess / SendTaskFailure.
 */
export interface TaskTokens {
  /** A new token, and the task's outcome once someone settles it. */
  issue(executionArn: string): { token: string; outcome: Promise<unknown> };
  /** Forgets the token (its task ended otherwise: timed out, or its execution ended). */
  discard(token: string): void;
}

/** What `$$.Task.Token` reads locally: each callback task puts a token of its own in its place. */
export const TASK_TOKEN_PLACEHOLDER = '$$runway-local-task-token$$';

/** What Task handlers of one execution share. */
export interface TaskRunContext {
  env: TaskEnvironment;
  region: string;
  /** Aborted when the execution ends or is stopped: handlers stop waiting and stop recording. */
  signal: AbortSignal;
  history: HistoryRecorder;
  children: ChildExecutions;
  tokens: TaskTokens;
  executionArn: string;
  log: (line: string) => void;
}

/** A Task handler in the shape the runner's `taskResourceLocalHandlers` expects. */
export type TaskHandler = (input: JsonValue) => Promise<JsonValue>;

/** A failure of a Task: `name` becomes the state's `Error`, `message` its `Cause`. */
export class TaskFailure extends Error {
  constructor(errorName: string, cause: string) {
    super(cause);
    this.name = errorName;
  }
}

/**
 * Thrown into the runner when the execution was stopped under a running task. The runner reads
 * `isRetryable`/`isCatchable` (as on its own runtime errors) so that no `Retry` or `Catch` re-runs the state.
 */
class TaskAborted extends Error {
  override readonly name = 'States.Runtime';
  readonly isRetryable = false;
  readonly isCatchable = false;

  constructor() {
    super('The execution was stopped while this task was running');
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const STATES_INTEGRATION = /^arn:[\w-]+:states:::(.+)$/;
const LAMBDA_FUNCTION_ARN = /^arn:[\w-]+:lambda:[\w-]*:\d*:function:[\w-]+(:[\w$-]+)?$/;
const SDK_INTEGRATION = /^aws-sdk:([a-z0-9-]+):([A-Za-z0-9]+)(?:\.(sync(?::2)?|waitForTaskToken))?$/;
const OPTIMISED_INTEGRATION = /^([a-z0-9-]+):([A-Za-z0-9]+)(?:\.(sync(?::2)?|waitForTaskToken))?$/;

function parseIntegration(integration: string): ParsedResource {
  const sdk = SDK_INTEGRATION.exec(integration);
  const match = sdk ?? OPTIMISED_INTEGRATION.exec(integration);
  if (!match) return { kind: 'unsupported', reason: 'unrecognised service integration' };
  const [, service = '', action = '', pattern] = match;
  if (!sdk && service === 'lambda' && action === 'invoke' && pattern === undefined)
    return { kind: 'lambdaInvoke' };
  if (!sdk && service === 'lambda' && action === 'invoke' && pattern === 'waitForTaskToken')
    return { kind: 'lambdaInvokeCallback' };
  if (!sdk && service === 'states' && action === 'startExecution' && pattern !== 'waitForTaskToken') {
    return { kind: 'startExecution', pattern: pattern === 'sync' || pattern === 'sync:2' ? pattern : 'none' };
  }
  if (!sdk && (pattern === 'sync' || pattern === 'sync:2')) return { kind: 'awsJob', service, action };
  if (pattern !== undefined) {
    // Callback and job-run patterns need the task-token API or per-service polling, neither of which exists here.
    return { kind: 'unsupported', reason: `the .${pattern} integration pattern is not supported locally` };
  }
  return { kind: 'awsApi', service, action, sdk: sdk !== null };
}

/** Classify a Task state's `Resource`. */
export function parseTaskResource(resource: string): ParsedResource {
  if (LAMBDA_FUNCTION_ARN.test(resource)) return { kind: 'lambdaFunction' };
  const integration = STATES_INTEGRATION.exec(resource)?.[1];
  if (integration === undefined)
    return { kind: 'unsupported', reason: 'only Lambda ARNs and service integrations' };
  return parseIntegration(integration);
}

/** How a resource is named in Task* history events (`lambda` / `invoke`, `aws-sdk:dynamodb` / `putItem`). */
export function describeTaskResource(resource: string): TaskEventResource {
  if (LAMBDA_FUNCTION_ARN.test(resource)) return { resourceType: 'lambda', resource, directLambda: true };
  const integration = STATES_INTEGRATION.exec(resource)?.[1];
  if (integration === undefined) return { resourceType: 'unsupported', resource, directLambda: false };
  const sdk = integration.startsWith('aws-sdk:');
  const parts = (sdk ? integration.slice('aws-sdk:'.length) : integration).split(':');
  const [service = '', ...rest] = parts;
  return {
    resourceType: sdk ? `aws-sdk:${service}` : service,
    resource: rest.join(':'),
    directLambda: false,
  };
}

/** Bind every Task state of a definition; unsupported resources are bound too, to a failing handler. */
export function bindTaskStates(tasks: readonly TaskStateInfo[]): Map<string, TaskBinding> {
  const bindings = new Map<string, TaskBinding>();
  for (const task of tasks) {
    bindings.set(task.name, {
      stateName: task.name,
      resource: task.resource,
      parsed: parseTaskResource(task.resource),
      event: describeTaskResource(task.resource),
      ...(task.timeoutSeconds === undefined ? {} : { timeoutSeconds: task.timeoutSeconds }),
    });
  }
  return bindings;
}

/** Data crosses a service boundary as JSON: what the callee gets and what the state gets back are copies. */
function throughJson(value: unknown): JsonValue {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/**
 * A Lambda failure as Step Functions reports it: `Error` = the function's error type, `Cause` = the
 * Lambda error payload (`{"errorType","errorMessage","trace"}`) as JSON text. Service-side failures
 * (`Lambda.*`, `Sandbox.*`) carry their message as the cause.
 */
export function lambdaFailure(thrown: unknown): TaskFailure {
  const error = asError(thrown);
  // Lambda emulators may carry the handler's own error type and trace (from another thread or process).
  const { errorType: reportedType, trace: reportedTrace } = error as { errorType?: unknown; trace?: unknown };
  const errorType = typeof reportedType === 'string' && reportedType ? reportedType : error.name || 'Error';
  if (/^(Lambda|Sandbox)\./.test(errorType)) return new TaskFailure(errorType, error.message);
  const trace = Array.isArray(reportedTrace) ? reportedTrace.map(String) : (error.stack?.split('\n') ?? []);
  return new TaskFailure(errorType, JSON.stringify({ errorType, errorMessage: error.message, trace }));
}

/** Error-name prefixes Step Functions uses per service (PascalCase; not derivable from the lowercase id). */
const SDK_ERROR_PREFIX: Record<string, string> = {
  dynamodb: 'DynamoDb',
  eventbridge: 'EventBridge',
  sagemaker: 'SageMaker',
  sfn: 'Sfn',
  s3: 'S3',
  sqs: 'Sqs',
  sns: 'Sns',
};
const OPTIMISED_ERROR_PREFIX: Record<string, string> = {
  dynamodb: 'DynamoDB',
  events: 'EventBridge',
  sagemaker: 'SageMaker',
  sqs: 'SQS',
  sns: 'SNS',
};

/** `ConditionalCheckFailedException` from `aws-sdk:dynamodb:putItem` → `DynamoDb.ConditionalCheckFailedException`. */
export function awsErrorName(service: string, errorName: string, sdk: boolean): string {
  if (errorName.includes('.')) return errorName;
  const table = sdk ? SDK_ERROR_PREFIX : OPTIMISED_ERROR_PREFIX;
  const prefix = table[service] ?? service.charAt(0).toUpperCase() + service.slice(1);
  const name = errorName && errorName !== 'Error' ? errorName : 'Unknown';
  return `${prefix}.${name.endsWith('Exception') ? name : `${name}Exception`}`;
}

function unsupported(binding: TaskBinding, reason: string): TaskFailure {
  return new TaskFailure(
    'States.TaskFailed',
    `Task state "${binding.stateName}": resource ${binding.resource} is not supported by the local Step Functions runtime (${reason})`,
  );
}

/** The Invoke API response Step Functions returns for a synchronous `lambda:invoke`. */
function invokeResponse(payload: unknown, statusCode: number): Record<string, unknown> {
  const requestId = randomUUID();
  const headers = {
    'Content-Type': 'application/json',
    'X-Amz-Executed-Version': '$LATEST',
    'x-amzn-RequestId': requestId,
  };
  const allHeaders = Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, [value]]));
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload,
    SdkHttpMetadata: { AllHttpHeaders: allHeaders, HttpHeaders: headers, HttpStatusCode: statusCode },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: statusCode,
  };
}

async function invokeLambdaIntegration(binding: TaskBinding, params: JsonValue, ctx: TaskRunContext) {
  const invoke = isRecord(params) ? params : {};
  const functionName = invoke.FunctionName;
  if (typeof functionName !== 'string') {
    throw new TaskFailure(
      'States.TaskFailed',
      `Task state "${binding.stateName}": Parameters.FunctionName is required`,
    );
  }
  // Lambda hands an invocation without payload to the handler as an empty object.
  const payload = throughJson(invoke.Payload ?? {});
  if (invoke.InvocationType === 'DryRun') return { StatusCode: 204, Payload: '' };
  if (invoke.InvocationType === 'Event') {
    // Asynchronous invoke: Lambda accepts the event and the state moves on; the handler runs on its own.
    ctx.env.invokeLambda(functionName, payload).catch((error: unknown) => {
      ctx.log(
        `async invoke of ${functionName} from "${binding.stateName}" failed: ${asError(error).message}`,
      );
    });
    return invokeResponse('', 202);
  }
  try {
    return invokeResponse(throughJson(await ctx.env.invokeLambda(functionName, payload)), 200);
  } catch (error) {
    throw lambdaFailure(error);
  }
}

/** Puts `token` wherever a value is the placeholder `$$.Task.Token` resolved to. */
function withToken(value: JsonValue, token: string): JsonValue {
  if (value === TASK_TOKEN_PLACEHOLDER) return token;
  if (Array.isArray(value)) return value.map((item) => withToken(item, token));
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, withToken(item as JsonValue, token)]),
    );
  }
  return value;
}

/**
 * A callback task: the function is invoked with a token of this task in place of `$$.Task.Token`,
 * and the task waits until SendTaskSuccess (its output) or SendTaskFailure (its error) names the
 * token, or its `TimeoutSeconds` passes (the runner fails it with `States.Timeout`).
 */
async function invokeLambdaCallback(binding: TaskBinding, params: JsonValue, ctx: TaskRunContext) {
  const { token, outcome } = ctx.tokens.issue(ctx.executionArn);
  const discard = () => ctx.tokens.discard(token);
  ctx.signal.addEventListener('abort', discard, { once: true });
  try {
    await invokeLambdaIntegration(binding, withToken(params, token), ctx);
    return await outcome;
  } finally {
    ctx.signal.removeEventListener('abort', discard);
    discard();
  }
}

async function invokeLambdaFunction(binding: TaskBinding, input: JsonValue, ctx: TaskRunContext) {
  try {
    return throughJson(await ctx.env.invokeLambda(binding.resource, throughJson(input)));
  } catch (error) {
    throw lambdaFailure(error);
  }
}

async function callAwsApi(
  binding: TaskBinding,
  parsed: ParsedResource & { kind: 'awsApi' },
  params: JsonValue,
  ctx: TaskRunContext,
) {
  if (!ctx.env.callAws) throw unsupported(binding, 'no AWS API caller is configured');
  try {
    return await ctx.env.callAws(parsed.service, parsed.action, isRecord(params) ? params : {});
  } catch (thrown) {
    const error = asError(thrown);
    throw new TaskFailure(awsErrorName(parsed.service, error.name, parsed.sdk), error.message);
  }
}

/**
 * A `.sync` job (a SageMaker training job, ...): no emulator runs these here, so they reach the
 * environment's `runJob`, which tests bind to a fake; without one the task fails naming the resource.
 * As Step Functions does, the job is stopped (`stopJob`) when the execution is stopped or times out,
 * or when the task's own timeout passes while the job runs.
 */
async function runAwsJob(
  binding: TaskBinding,
  parsed: ParsedResource & { kind: 'awsJob' },
  params: JsonValue,
  ctx: TaskRunContext,
) {
  if (!ctx.env.runJob)
    throw unsupported(binding, `no emulator runs ${parsed.service}:${parsed.action}.sync jobs`);
  const request = isRecord(params) ? params : {};
  let settled = false;
  const stop = () => {
    if (settled || !ctx.env.stopJob) return;
    settled = true;
    ctx.env.stopJob(parsed.service, parsed.action, request).catch((error: unknown) => {
      ctx.log(
        `stopping the ${parsed.service}:${parsed.action} job of "${binding.stateName}" failed: ${asError(error).message}`,
      );
    });
  };
  ctx.signal.addEventListener('abort', stop, { once: true });
  const timer =
    binding.timeoutSeconds === undefined ? undefined : setTimeout(stop, binding.timeoutSeconds * 1000);
  try {
    return await ctx.env.runJob(parsed.service, parsed.action, request);
  } catch (thrown) {
    const error = asError(thrown);
    throw new TaskFailure(awsErrorName(parsed.service, error.name, false), error.message);
  } finally {
    settled = true;
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', stop);
  }
}

const epochMillis = (date: Date | undefined): number | undefined => date?.getTime();

const parseJsonText = (text: string | undefined): unknown =>
  text === undefined ? undefined : JSON.parse(text);

/** The `.sync` / `.sync:2` task output: DescribeExecution in PascalCase, data parsed for `.sync:2`. */
function syncOutput(execution: DescribeExecutionOutput, pattern: 'sync' | 'sync:2'): Record<string, unknown> {
  const data = pattern === 'sync:2' ? parseJsonText : (text: string | undefined) => text;
  return {
    ExecutionArn: execution.executionArn,
    Input: data(execution.input),
    InputDetails: { Included: true },
    Name: execution.name,
    Output: data(execution.output),
    OutputDetails: { Included: true },
    RedriveCount: 0,
    RedriveStatus: 'NOT_REDRIVABLE',
    StartDate: epochMillis(execution.startDate),
    StateMachineArn: execution.stateMachineArn,
    Status: execution.status,
    StopDate: epochMillis(execution.stopDate),
    ...(execution.error === undefined ? {} : { Error: execution.error }),
    ...(execution.cause === undefined ? {} : { Cause: execution.cause }),
  };
}

function startRequest(binding: TaskBinding, params: JsonValue): StartExecutionRequest {
  const start = isRecord(params) ? params : {};
  if (typeof start.StateMachineArn !== 'string') {
    throw new TaskFailure(
      'States.TaskFailed',
      `Task state "${binding.stateName}": Parameters.StateMachineArn is required`,
    );
  }
  const input =
    start.Input === undefined ? '{}' : typeof start.Input === 'string' ? start.Input : jsonText(start.Input);
  return {
    stateMachineArn: start.StateMachineArn,
    input,
    ...(typeof start.Name === 'string' ? { name: start.Name } : {}),
  };
}

/** Wait for a child execution; if the parent is stopped meanwhile, stop the child too, as AWS does for `.sync`. */
async function waitForChild(executionArn: string, ctx: TaskRunContext): Promise<DescribeExecutionOutput> {
  try {
    return await raceAbort(ctx.children.wait(executionArn), ctx.signal);
  } catch (error) {
    if (ctx.signal.aborted) {
      await ctx.children
        .stop(executionArn, 'States.Aborted', 'The parent execution was stopped')
        .catch(() => {});
    }
    throw error;
  }
}

async function startExecution(
  binding: TaskBinding,
  pattern: 'none' | 'sync' | 'sync:2',
  params: JsonValue,
  ctx: TaskRunContext,
) {
  let started: { executionArn: string; startDate: Date };
  try {
    started = await ctx.children.start(startRequest(binding, params));
  } catch (error) {
    if (!(error instanceof SfnApiError)) throw error;
    // As the Step Functions integration names them: StepFunctions.ExecutionAlreadyExistsException, …
    throw new TaskFailure(`StepFunctions.${error.code.replace(/(Exception)?$/, 'Exception')}`, error.message);
  }
  const submitted = { ExecutionArn: started.executionArn, StartDate: started.startDate.getTime() };
  if (pattern === 'none') return submitted;
  const { resourceType, resource } = binding.event;
  ctx.history.append('TaskSubmitted', {
    taskSubmittedEventDetails: {
      resourceType,
      resource,
      output: jsonText(submitted),
      outputDetails: { truncated: false },
    },
  });
  const child = await waitForChild(started.executionArn, ctx);
  const output = syncOutput(child, pattern);
  // A child that did not succeed fails the task with its description as the cause, as AWS reports it.
  if (child.status !== 'SUCCEEDED') throw new TaskFailure('States.TaskFailed', jsonText(output));
  return output;
}

function runTask(binding: TaskBinding, input: JsonValue, ctx: TaskRunContext): Promise<unknown> {
  const { parsed } = binding;
  switch (parsed.kind) {
    case 'lambdaInvoke':
      return invokeLambdaIntegration(binding, input, ctx);
    case 'lambdaInvokeCallback':
      return invokeLambdaCallback(binding, input, ctx);
    case 'lambdaFunction':
      return invokeLambdaFunction(binding, input, ctx);
    case 'startExecution':
      return startExecution(binding, parsed.pattern, input, ctx);
    case 'awsApi':
      return callAwsApi(binding, parsed, input, ctx);
    case 'awsJob':
      return runAwsJob(binding, parsed, input, ctx);
    case 'unsupported':
      return Promise.reject(unsupported(binding, parsed.reason));
  }
}

/** Settle with `work`, or reject as soon as `signal` aborts; `work`'s own outcome is then ignored safely. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(new TaskAborted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TaskAborted());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The runner emits its events synchronously but they are read asynchronously; yielding one macrotask lets
 * the reader record the state's `…StateEntered` before the handler records `TaskScheduled`.
 */
const yieldToEventLog = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function recordStart(binding: TaskBinding, params: JsonValue, ctx: TaskRunContext): void {
  const { resourceType, resource, directLambda } = binding.event;
  const timeout = binding.timeoutSeconds === undefined ? {} : { timeoutInSeconds: binding.timeoutSeconds };
  if (directLambda) {
    const input = jsonText(params);
    ctx.history.append('LambdaFunctionScheduled', {
      lambdaFunctionScheduledEventDetails: {
        resource,
        input,
        inputDetails: { truncated: false },
        ...timeout,
      },
    });
    ctx.history.append('LambdaFunctionStarted');
    return;
  }
  const parameters = jsonText(params);
  ctx.history.append('TaskScheduled', {
    taskScheduledEventDetails: { resourceType, resource, region: ctx.region, parameters, ...timeout },
  });
  ctx.history.append('TaskStarted', { taskStartedEventDetails: { resourceType, resource } });
}

function recordSuccess(binding: TaskBinding, output: JsonValue, ctx: TaskRunContext): void {
  const { resourceType, resource, directLambda } = binding.event;
  const details = { output: jsonText(output), outputDetails: { truncated: false } };
  if (directLambda)
    ctx.history.append('LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: details });
  else
    ctx.history.append('TaskSucceeded', {
      taskSucceededEventDetails: { resourceType, resource, ...details },
    });
}

function recordFailure(binding: TaskBinding, failure: Error, ctx: TaskRunContext): void {
  const { resourceType, resource, directLambda } = binding.event;
  const details = { error: failure.name, cause: failure.message };
  if (directLambda) ctx.history.append('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: details });
  else ctx.history.append('TaskFailed', { taskFailedEventDetails: { resourceType, resource, ...details } });
}

/**
 * The handler the runner calls for one Task state of one execution. It records the Task events, runs the
 * resource, and turns any failure into a {@link TaskFailure}. When the state's `TimeoutSeconds` elapsed
 * first, the runner has already failed the state with `States.Timeout`, so a late outcome is not recorded.
 */
export function createTaskHandler(binding: TaskBinding, ctx: TaskRunContext): TaskHandler {
  const handle = async (input: JsonValue): Promise<JsonValue> => {
    await yieldToEventLog();
    if (ctx.signal.aborted) throw new TaskAborted();
    const deadline =
      binding.timeoutSeconds === undefined ? Infinity : Date.now() + binding.timeoutSeconds * 1000;
    recordStart(binding, input, ctx);
    try {
      const output = throughJson(await raceAbort(runTask(binding, input, ctx), ctx.signal));
      if (Date.now() < deadline) recordSuccess(binding, output, ctx);
      return output;
    } catch (thrown) {
      if (thrown instanceof TaskAborted) throw thrown;
      const failure =
        thrown instanceof TaskFailure
          ? thrown
          : new TaskFailure('States.TaskFailed', asError(thrown).message);
      if (Date.now() < deadline) recordFailure(binding, failure, ctx);
      throw failure;
    }
  };
  return (input) => {
    const outcome = handle(input);
    // The runner stops awaiting a task that timed out or whose execution ended (a callback task
    // still waiting for its token, say): its late failure must not become an unhandled rejection.
    outcome.catch(() => undefined);
    return outcome;
  };
}

/** Handlers for every bound Task state, keyed by state name as the runner's overrides are. */
export function createTaskHandlers(
  bindings: ReadonlyMap<string, TaskBinding>,
  ctx: TaskRunContext,
): Record<string, TaskHandler> {
  return Object.fromEntries([...bindings].map(([name, binding]) => [name, createTaskHandler(binding, ctx)]));
}
