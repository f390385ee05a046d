import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalStepFunctions } from '../../infra/local/stepfunctions/local-step-functions.ts';
import { SFN_JSON_CONTENT_TYPE, sfnActionFromTarget } from '../../infra/local/stepfunctions/sfn-api.ts';
import type { LocalStepFunctionsOptions, TaskEnvironment } from '../../infra/local/stepfunctions/types.ts';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const machineArn = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;
const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

type Json = Record<string, unknown>;

/** A promise the test opens when it wants a blocked Lambda to return. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

class ValidationError extends Error {
  override readonly name = 'ValidationError';
}

/** Real async functions standing in for the app's Lambda handlers, with a log of what each received. */
function lambdas() {
  const calls: { fn: string; payload: unknown }[] = [];
  const attempts = new Map<string, number>();
  const hold = gate();
  const table: Record<string, (event: Json) => Promise<unknown>> = {
    double: async ({ value, ...rest }) => ({ ...rest, value: Number(value) * 2 }),
    echo: async (event) => event,
    flaky: async (event) => {
      const attempt = (attempts.get('flaky') ?? 0) + 1;
      attempts.set('flaky', attempt);
      if (attempt === 1) throw Object.assign(new Error('try again'), { name: 'TransientError' });
      return { ...event, attempt };
    },
    validate: async ({ value }) => {
      if (Number(value) <= 0) throw new ValidationError('value must be positive');
      return { valid: true };
    },
    throttled: async () => {
      const attempt = (attempts.get('throttled') ?? 0) + 1;
      attempts.set('throttled', attempt);
      if (attempt === 1)
        throw Object.assign(new Error('Rate exceeded'), { name: 'Lambda.TooManyRequestsException' });
      return { attempt };
    },
    blocked: async (event) => {
      await hold.opened;
      return event;
    },
  };
  const env: TaskEnvironment = {
    async invokeLambda(nameOrArn, payload) {
      const fn = nameOrArn.includes(':function:')
        ? (nameOrArn.split(':function:')[1]?.split(':')[0] ?? '')
        : nameOrArn;
      calls.push({ fn, payload });
      const handler = table[fn];
      if (!handler)
        throw Object.assign(new Error(`Function not found: ${nameOrArn}`), {
          name: 'Lambda.ResourceNotFoundException',
        });
      return handler(payload as Json);
    },
  };
  return {
    env,
    calls,
    release: hold.open,
    payloadsOf: (fn: string) => calls.filter((c) => c.fn === fn).map((c) => c.payload),
  };
}

/** The CDK `LambdaInvoke` rendering: Invoke API parameters, result wrapped in the Invoke response. */
const lambdaInvoke = (fn: string, fields: Json = {}): Json => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: functionArn(fn), 'Payload.$': '$' },
  ...fields,
});

const instances: LocalStepFunctions[] = [];
const directories: string[] = [];
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(instances.splice(0).map((instance) => instance.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  await Promise.all(directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

function localSfn(
  env: TaskEnvironment,
  options: Partial<LocalStepFunctionsOptions> = {},
): LocalStepFunctions {
  const instance = new LocalStepFunctions({
    region: REGION,
    accountId: ACCOUNT,
    env,
    waitTimeScale: 0,
    ...options,
  });
  instances.push(instance);
  return instance;
}

async function dataDirectory(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'runway-sfn-'));
  directories.push(dir);
  return dir;
}

async function run(instance: LocalStepFunctions, name: string, input: unknown, executionName?: string) {
  const { executionArn } = await instance.startExecution({
    stateMachineArn: machineArn(name),
    input: JSON.stringify(input),
    ...(executionName ? { name: executionName } : {}),
  });
  const description = await instance.waitForExecution(executionArn, 10_000);
  const { events = [] } = await instance.getExecutionHistory({ executionArn, maxResults: 1000 });
  return {
    executionArn,
    description,
    events,
    output: description.output ? JSON.parse(description.output) : undefined,
  };
}

const types = (events: readonly HistoryEvent[]) => events.map((event) => event.type);
const PIPELINE = {
  Comment: 'CDK-style pipeline: every kind of state',
  StartAt: 'Prepare',
  States: {
    Prepare: { Type: 'Pass', Result: { threshold: 5 }, ResultPath: '$.config', Next: 'Double' },
    Double: lambdaInvoke('double', {
      Parameters: { FunctionName: functionArn('double'), Payload: { 'value.$': '$.value' } },
      ResultSelector: { 'value.$': '$.Payload.value' },
      ResultPath: '$.doubled',
      Next: 'Big enough?',
    }),
    'Big enough?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.doubled.value', NumericGreaterThanPath: '$.config.threshold', Next: 'Pause' }],
      Default: 'TooSmall',
    },
    TooSmall: { Type: 'Fail', Error: 'TooSmall', Cause: 'the doubled value is below the threshold' },
    Pause: { Type: 'Wait', Seconds: 3600, Next: 'Each item' },
    'Each item': {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemSelector: { 'value.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Double item',
        States: { 'Double item': lambdaInvoke('double', { OutputPath: '$.Payload', End: true }) },
      },
      ResultPath: '$.mapped',
      Next: 'Both',
    },
    Both: {
      Type: 'Parallel',
      ResultPath: '$.parallel',
      Next: 'Done',
      Branches: [
        { StartAt: 'Echo', States: { Echo: { Type: 'Task', Resource: functionArn('echo'), End: true } } },
        { StartAt: 'Constant', States: { Constant: { Type: 'Pass', Result: 'b', End: true } } },
      ],
    },
    Done: { Type: 'Succeed' },
  },
};

describe('LocalStepFunctions: running definitions', () => {
  it('runs a CDK-style pipeline (Pass, LambdaInvoke, Choice, Wait, Map, Parallel) as AWS would', async () => {
    const { env, payloadsOf } = lambdas();
    const local = localSfn(env);
    local.register({ arn: machineArn('pipeline'), name: 'pipeline', definition: PIPELINE });

    const { description, output, events } = await run(local, 'pipeline', { value: 3, items: [1, 2, 3] });

    expect(description.status).toBe('SUCCEEDED');
    const beforeParallel = {
      value: 3,
      items: [1, 2, 3],
      config: { threshold: 5 },
      doubled: { value: 6 },
      mapped: [
        { index: 0, value: 2 },
        { index: 1, value: 4 },
        { index: 2, value: 6 },
      ],
    };
    expect(output).toEqual({ ...beforeParallel, parallel: [beforeParallel, 'b'] });
    // lambda:invoke sends Parameters.Payload; a Lambda ARN resource sends the state input itself.
    expect(payloadsOf('double')[0]).toEqual({ value: 3 });
    expect(payloadsOf('double').slice(1)).toEqual(
      expect.arrayContaining([
        { value: 1, index: 0 },
        { value: 2, index: 1 },
        { value: 3, index: 2 },
      ]),
    );
    expect(payloadsOf('echo')).toEqual([beforeParallel]);

    expect(types(events).slice(0, 8)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
    ]);
    expect(events.map((event) => event.id)).toEqual(events.map((_, i) => i + 1));
    const scheduled = events[4]?.taskScheduledEventDetails;
    expect(scheduled).toMatchObject({ resourceType: 'lambda', resource: 'invoke', region: REGION });
    expect(JSON.parse(scheduled?.parameters ?? '')).toEqual({
      FunctionName: functionArn('double'),
      Payload: { value: 3 },
    });
    // The Task result is the Invoke API response, which ResultSelector then picks from.
    expect(JSON.parse(events[6]?.taskSucceededEventDetails?.output ?? '')).toMatchObject({
      ExecutedVersion: '$LATEST',
      Payload: { value: 6 },
      StatusCode: 200,
    });
    for (const type of [
      'ChoiceStateEntered',
      'WaitStateEntered',
      'MapStateEntered',
      'MapStateSucceeded',
    ] as const) {
      expect(types(events)).toContain(type);
    }
    expect(types(events).filter((type) => type === 'MapIterationSucceeded')).toHaveLength(3);
    expect(types(events)).toEqual(
      expect.arrayContaining([
        'LambdaFunctionScheduled',
        'LambdaFunctionSucceeded',
        'ParallelStateSucceeded',
      ]),
    );
    expect(types(events).at(-1)).toBe('ExecutionSucceeded');
  });

  it('follows the Choice default to a Fail state', async () => {
    const { env } = lambdas();
    const local = localSfn(env);
    local.register({ arn: machineArn('pipeline'), name: 'pipeline', definition: PIPELINE });

    const { description, events } = await run(local, 'pipeline', { value: 1, items: [] });

    expect(description).toMatchObject({
      status: 'FAILED',
      error: 'TooSmall',
      cause: 'the doubled value is below the threshold',
    });
    expect(types(events).slice(-2)).toEqual(['FailStateEntered', 'ExecutionFailed']);
    expect(events.at(-1)?.executionFailedEventDetails).toEqual({
      error: 'TooSmall',
      cause: 'the doubled value is below the threshold',
    });
  });

  it('retries with back-off (scaled) and succeeds on the second attempt', async () => {
    const { env, payloadsOf } = lambdas();
    const local = localSfn(env, { waitTimeScale: 0.01 });
    local.register({
      arn: machineArn('retry'),
      name: 'retry',
      definition: {
        StartAt: 'Flaky',
        States: {
          Flaky: lambdaInvoke('flaky', {
            OutputPath: '$.Payload',
            Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 3 }],
            End: true,
          }),
        },
      },
    });

    const { description, output, events } = await run(local, 'retry', { job: 7 });

    expect(description.status).toBe('SUCCEEDED');
    expect(output).toEqual({ job: 7, attempt: 2 });
    expect(payloadsOf('flaky')).toEqual([{ job: 7 }, { job: 7 }]);
    expect(types(events)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    const failed = events[4];
    expect(failed?.taskFailedEventDetails?.error).toBe('TransientError');
    expect(JSON.parse(failed?.taskFailedEventDetails?.cause ?? '')).toMatchObject({
      errorType: 'TransientError',
      errorMessage: 'try again',
      trace: expect.any(Array),
    });
    // IntervalSeconds 2 scaled by 0.01: a 20 ms pause before the second attempt.
    const pause = (events[5]?.timestamp?.getTime() ?? 0) - (failed?.timestamp?.getTime() ?? 0);
    expect(pause).toBeGreaterThanOrEqual(15);
  });

  it('catches a Lambda error by its error type and fails with the Lambda error envelope as cause', async () => {
    const { env } = lambdas();
    const local = localSfn(env);
    local.register({
      arn: machineArn('validate'),
      name: 'validate',
      definition: {
        StartAt: 'Validate',
        States: {
          Validate: lambdaInvoke('validate', {
            ResultPath: null,
            Catch: [{ ErrorEquals: ['ValidationError'], ResultPath: '$.failure', Next: 'Rejected' }],
            Next: 'Accepted',
          }),
          Accepted: { Type: 'Succeed' },
          Rejected: { Type: 'Fail', Error: 'Rejected', CausePath: '$.failure.Cause' },
        },
      },
    });

    const accepted = await run(local, 'validate', { value: 2 });
    const rejected = await run(local, 'validate', { value: -1 });

    expect(accepted.description.status).toBe('SUCCEEDED');
    expect(accepted.output).toEqual({ value: 2 });
    expect(rejected.description).toMatchObject({ status: 'FAILED', error: 'Rejected' });
    expect(JSON.parse(rejected.description.cause ?? '')).toMatchObject({
      errorType: 'ValidationError',
      errorMessage: 'value must be positive',
    });
    expect(types(rejected.events)).toEqual(
      expect.arrayContaining(['TaskFailed', 'TaskStateExited', 'FailStateEntered', 'ExecutionFailed']),
    );
  });

  it('matches States.ALL, States.TaskFailed and Lambda.* service error names in Retry and Catch', async () => {
    const { env } = lambdas();
    const local = localSfn(env);
    const catchTo = (errors: string[], next: string) => [
      { ErrorEquals: errors, ResultPath: '$.caught', Next: next },
    ];
    local.register({
      arn: machineArn('names'),
      name: 'names',
      definition: {
        StartAt: 'Throttled',
        States: {
          Throttled: lambdaInvoke('throttled', {
            Retry: [{ ErrorEquals: ['Lambda.TooManyRequestsException'], IntervalSeconds: 1, MaxAttempts: 2 }],
            ResultSelector: { 'attempt.$': '$.Payload.attempt' },
            ResultPath: '$.throttled',
            Next: 'Invalid',
          }),
          Invalid: lambdaInvoke('validate', {
            Catch: catchTo(['States.TaskFailed'], 'Handled'),
            Next: 'Handled',
          }),
          Handled: { Type: 'Pass', ResultPath: '$.handled', Next: 'Missing' },
          Missing: lambdaInvoke('no-such-function', { Catch: catchTo(['States.ALL'], 'End'), Next: 'End' }),
          End: { Type: 'Succeed' },
        },
      },
    });

    const { description, output } = await run(local, 'names', { value: 0 });

    expect(description.status).toBe('SUCCEEDED');
    expect(output.throttled).toEqual({ attempt: 2 });
    expect(output.handled).toMatchObject({ caught: { Error: 'ValidationError' } });
    expect(output.caught).toEqual({
      Error: 'Lambda.ResourceNotFoundException',
      Cause: expect.stringContaining('no-such-function'),
    });
  });

  it('stops a .sync job when the execution times out or its task does, as Step Functions does', async () => {
    const { env } = lambdas();
    const stopped: string[] = [];
    const local = localSfn(
      {
        ...env,
        // A job that never ends by itself.
        runJob: () => new Promise(() => undefined),
        stopJob: async (_service, _action, params) => {
          stopped.push(String(params.TrainingJobName));
        },
      },
      { waitTimeScale: 1 },
    );
    const machine = (name: string, timeouts: Record<string, number>, taskTimeout?: number) =>
      local.register({
        arn: machineArn(name),
        name,
        definition: {
          ...timeouts,
          StartAt: 'Train',
          States: {
            Train: {
              Type: 'Task',
              Resource: 'arn:aws:states:::sagemaker:createTrainingJob.sync',
              Parameters: { TrainingJobName: name },
              ...(taskTimeout ? { TimeoutSeconds: taskTimeout } : {}),
              End: true,
            },
          },
        },
      });
    machine('job-execution-timeout', { TimeoutSeconds: 1 });
    machine('job-task-timeout', {}, 1);
    const execution = await run(local, 'job-execution-timeout', {});
    expect(execution.description.status).toBe('TIMED_OUT');
    const task = await run(local, 'job-task-timeout', {});
    expect(task.description).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped.sort()).toEqual(['job-execution-timeout', 'job-task-timeout']);
  });

  it('fails a Task with an unsupported resource cleanly, naming the resource', async () => {
    const { env } = lambdas();
    const lines: string[] = [];
    const local = localSfn(env, { log: (line) => lines.push(line) });
    local.register({
      arn: machineArn('callback'),
      name: 'callback',
      definition: {
        StartAt: 'Callback',
        States: {
          Callback: {
            Type: 'Task',
            Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
            Parameters: { QueueUrl: 'q', MessageBody: { 'token.$': '$$.Task.Token' } },
            End: true,
          },
        },
      },
    });

    const { description } = await run(local, 'callback', {});

    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('States.TaskFailed');
    expect(description.cause).toContain('arn:aws:states:::sqs:sendMessage.waitForTaskToken');
    expect(lines.some((line) => line.includes('Callback') && line.includes('waitForTaskToken'))).toBe(true);
  });

  it('runs lambda:invoke.waitForTaskToken: a token per task, settled by SendTaskSuccess or SendTaskFailure, or a timeout', async () => {
    const tokens: string[] = [];
    let local!: LocalStepFunctions;
    local = localSfn(
      {
        invokeLambda: async (_name, payload) => {
          const { token, outcome } = payload as { token: string; outcome: string };
          tokens.push(token);
          // Someone else settles the task later, through the Step Functions API.
          setTimeout(() => {
            const body =
              outcome === 'succeed'
                ? ['SendTaskSuccess', { taskToken: token, output: JSON.stringify({ resumed: true }) }]
                : outcome === 'fail'
                  ? ['SendTaskFailure', { taskToken: token, error: 'Held.Elsewhere', cause: 'no' }]
                  : undefined;
            if (body) void local.handleApiRequest(body[0] as string, body[1]);
          }, 20);
          return { ignored: true };
        },
      },
      { waitTimeScale: 1 },
    );
    local.register({
      arn: machineArn('wait-for-token'),
      name: 'wait-for-token',
      definition: {
        StartAt: 'Wait',
        States: {
          Wait: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: {
              FunctionName: 'queue',
              Payload: { 'token.$': '$$.Task.Token', 'outcome.$': '$.outcome' },
            },
            TimeoutSeconds: 1,
            Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.timedOut', Next: 'TimedOut' }],
            End: true,
          },
          TimedOut: { Type: 'Pass', End: true },
        },
      },
    });
    const succeeded = await run(local, 'wait-for-token', { outcome: 'succeed' });
    expect(succeeded.output).toEqual({ resumed: true });
    const failed = await run(local, 'wait-for-token', { outcome: 'fail' });
    expect(failed.description).toMatchObject({ status: 'FAILED', error: 'Held.Elsewhere', cause: 'no' });
    const timedOut = await run(local, 'wait-for-token', { outcome: 'never' });
    expect(timedOut.output).toMatchObject({ timedOut: { Error: 'States.Timeout' } });
    // One token per task; a settled (or forgotten) token cannot be used again.
    expect(new Set(tokens).size).toBe(3);
    expect(
      await local.handleApiRequest('SendTaskSuccess', { taskToken: tokens[0], output: '{}' }),
    ).toMatchObject({
      status: 400,
      body: { __type: 'TaskDoesNotExist' },
    });
  });

  it('calls AWS APIs for aws-sdk and optimised integrations, naming errors as Step Functions does', async () => {
    const { env } = lambdas();
    const apiCalls: unknown[] = [];
    const local = localSfn({
      ...env,
      async callAws(service, action, params) {
        apiCalls.push({ service, action, params });
        if (params.TableName === 'locked') {
          throw Object.assign(new Error('The conditional request failed'), {
            name: 'ConditionalCheckFailedException',
          });
        }
        return { Entries: [{ EventId: 'e-1' }], FailedEntryCount: 0 };
      },
    });
    local.register({
      arn: machineArn('sdk'),
      name: 'sdk',
      definition: {
        StartAt: 'Put',
        States: {
          Put: {
            Type: 'Task',
            Resource: 'arn:aws:states:::aws-sdk:dynamodb:putItem',
            Parameters: { 'TableName.$': '$.table', Item: { pk: { S: 'run-1' } } },
            ResultPath: null,
            Catch: [
              {
                ErrorEquals: ['DynamoDb.ConditionalCheckFailedException'],
                ResultPath: '$.error',
                Next: 'Notify',
              },
            ],
            Next: 'Notify',
          },
          Notify: {
            Type: 'Task',
            Resource: 'arn:aws:states:::events:putEvents',
            Parameters: { Entries: [{ Source: 'runway', DetailType: 'done', 'Detail.$': '$' }] },
            ResultSelector: { 'count.$': '$.FailedEntryCount' },
            ResultPath: '$.notified',
            End: true,
          },
        },
      },
    });

    const ok = await run(local, 'sdk', { table: 'runs' });
    const locked = await run(local, 'sdk', { table: 'locked' });

    expect(ok.output).toEqual({ table: 'runs', notified: { count: 0 } });
    expect(locked.output.error.Error).toBe('DynamoDb.ConditionalCheckFailedException');
    expect(apiCalls[0]).toEqual({
      service: 'dynamodb',
      action: 'putItem',
      params: { TableName: 'runs', Item: { pk: { S: 'run-1' } } },
    });
    expect(apiCalls[1]).toMatchObject({ service: 'events', action: 'putEvents' });
    expect(
      ok.events.find((event) => event.type === 'TaskScheduled')?.taskScheduledEventDetails,
    ).toMatchObject({
      resourceType: 'aws-sdk:dynamodb',
      resource: 'putItem',
    });
  });

  it('starts nested executions: fire-and-forget, .sync (JSON text) and .sync:2 (JSON), and fails on a failed child', async () => {
    const { env } = lambdas();
    const local = localSfn(env);
    local.register({
      arn: machineArn('child'),
      name: 'child',
      definition: {
        StartAt: 'Check',
        States: {
          Check: lambdaInvoke('validate', { ResultPath: null, Next: 'Double' }),
          Double: lambdaInvoke('double', { OutputPath: '$.Payload', End: true }),
        },
      },
    });
    const start = (suffix: string, fields: Json) => ({
      Type: 'Task',
      Resource: `arn:aws:states:::states:startExecution${suffix}`,
      Parameters: { StateMachineArn: machineArn('child'), Input: { 'value.$': '$.value' } },
      ...fields,
    });
    local.register({
      arn: machineArn('parent'),
      name: 'parent',
      definition: {
        StartAt: 'Async',
        States: {
          Async: start('', { ResultPath: '$.async', Next: 'Sync' }),
          Sync: start('.sync', {
            ResultSelector: { 'output.$': '$.Output' },
            ResultPath: '$.sync',
            Next: 'Sync2',
          }),
          Sync2: start('.sync:2', {
            ResultSelector: { 'output.$': '$.Output' },
            ResultPath: '$.sync2',
            End: true,
          }),
        },
      },
    });

    const ok = await run(local, 'parent', { value: 4 });
    const failed = await run(local, 'parent', { value: -4 });

    expect(ok.description.status).toBe('SUCCEEDED');
    expect(ok.output.async).toEqual({
      ExecutionArn: expect.stringContaining(':execution:child:'),
      StartDate: expect.any(Number),
    });
    expect(ok.output.sync).toEqual({ output: JSON.stringify({ value: 8 }) });
    expect(ok.output.sync2).toEqual({ output: { value: 8 } });
    expect(types(ok.events)).toContain('TaskSubmitted');
    expect(failed.description.error).toBe('States.TaskFailed');
    expect(JSON.parse(failed.description.cause ?? '')).toMatchObject({
      Status: 'FAILED',
      Error: 'ValidationError',
    });
    const children = await local.listExecutions({ stateMachineArn: machineArn('child') });
    // 3 children for the first run; the second stops at its failed .sync child.
    expect(children.executions).toHaveLength(5);
  });

  it('times out a Task after its TimeoutSeconds: States.Timeout, not matched by States.TaskFailed', async () => {
    const { env, release } = lambdas();
    const local = localSfn(env);
    local.register({
      arn: machineArn('timeout'),
      name: 'timeout',
      definition: {
        StartAt: 'Slow',
        States: {
          Slow: lambdaInvoke('blocked', {
            TimeoutSeconds: 1,
            Retry: [{ ErrorEquals: ['States.TaskFailed'], MaxAttempts: 3 }],
            Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.caught', Next: 'Timed out' }],
            End: true,
          }),
          'Timed out': { Type: 'Pass', End: true },
        },
      },
    });

    const { output, executionArn } = await run(local, 'timeout', {});
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { events = [] } = await local.getExecutionHistory({ executionArn });

    expect(output.caught.Error).toBe('States.Timeout');
    expect(types(events)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskTimedOut',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('honours Wait states with real timers, scaled by waitTimeScale', async () => {
    const { env } = lambdas();
    const local = localSfn(env, { waitTimeScale: 0.05 });
    local.register({
      arn: machineArn('wait'),
      name: 'wait',
      definition: { StartAt: 'Pause', States: { Pause: { Type: 'Wait', Seconds: 2, End: true } } },
    });

    const started = Date.now();
    const { description } = await run(local, 'wait', { a: 1 });

    expect(description.status).toBe('SUCCEEDED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('refuses definitions it cannot run faithfully', () => {
    const local = localSfn(lambdas().env);
    const register = (definition: unknown) => () =>
      local.register({ arn: machineArn('bad'), name: 'bad', definition });

    expect(register({ QueryLanguage: 'JSONata', StartAt: 'A', States: { A: { Type: 'Succeed' } } })).toThrow(
      /JSONata/,
    );
    expect(
      register({
        StartAt: 'A',
        States: {
          A: {
            Type: 'Parallel',
            Branches: [{ StartAt: 'B', States: { B: { Type: 'Succeed' } } }],
            Next: 'B',
          },
          B: { Type: 'Succeed' },
        },
      }),
    ).toThrow(/"B" is used more than once/);
    expect(register({ StartAt: 'Missing', States: { A: { Type: 'Succeed' } } })).toThrow(/invalid/);
    // The ASL validator crashes on a state named like a field it searches for; that must not block the machine.
    expect(
      register({ StartAt: 'Branches', States: { Branches: { Type: 'Parallel', Branches: [], End: true } } }),
    ).not.toThrow();
  });
});

describe('LocalStepFunctions: executions', () => {
  const BLOCKING = { StartAt: 'Blocked', States: { Blocked: lambdaInvoke('blocked', { End: true }) } };

  it('is idempotent on a running execution name, and refuses any other reuse of it', async () => {
    const { env, release } = lambdas();
    const local = localSfn(env);
    local.register({ arn: machineArn('blocking'), name: 'blocking', definition: BLOCKING });
    const request = { stateMachineArn: machineArn('blocking'), name: 'nightly-2024-06-01', input: '{"n":1}' };

    const first = await local.startExecution(request);
    const again = await local.startExecution(request);
    await expect(local.startExecution({ ...request, input: '{"n":2}' })).rejects.toMatchObject({
      code: 'ExecutionAlreadyExists',
    });
    release();
    await local.waitForExecution(first.executionArn);

    expect(again).toEqual(first);
    expect(first.executionArn).toBe(
      `arn:aws:states:${REGION}:${ACCOUNT}:execution:blocking:nightly-2024-06-01`,
    );
    await expect(local.startExecution(request)).rejects.toMatchObject({ code: 'ExecutionAlreadyExists' });
  });

  it('rejects unknown state machines, bad names and bad input', async () => {
    const local = localSfn(lambdas().env);
    local.register({ arn: machineArn('blocking'), name: 'blocking', definition: BLOCKING });
    const start = (fields: Json) =>
      local.startExecution({ stateMachineArn: machineArn('blocking'), ...fields });

    await expect(local.startExecution({ stateMachineArn: machineArn('nope') })).rejects.toMatchObject({
      code: 'StateMachineDoesNotExist',
    });
    await expect(local.startExecution({ stateMachineArn: 'not-an-arn' })).rejects.toMatchObject({
      code: 'InvalidArn',
    });
    await expect(start({ name: 'has space' })).rejects.toMatchObject({ code: 'InvalidName' });
    await expect(start({ name: 'x'.repeat(81) })).rejects.toMatchObject({ code: 'InvalidName' });
    await expect(start({ input: '{"unterminated":' })).rejects.toMatchObject({
      code: 'InvalidExecutionInput',
    });
  });

  it('stops a running execution: ABORTED at once, the late Lambda result is ignored', async () => {
    const { env, release } = lambdas();
    const local = localSfn(env);
    local.register({ arn: machineArn('blocking'), name: 'blocking', definition: BLOCKING });
    const { executionArn } = await local.startExecution({ stateMachineArn: machineArn('blocking') });

    const { stopDate } = await local.stopExecution({ executionArn, error: 'Cancelled', cause: 'user asked' });
    const described = await local.describeExecution(executionArn);
    const ended = await local.waitForExecution(executionArn, 5_000);
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { events = [] } = await local.getExecutionHistory({ executionArn });

    expect(described).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'user asked' });
    expect(ended.status).toBe('ABORTED');
    expect(ended.stopDate).toEqual(stopDate);
    expect(types(events).at(-1)).toBe('ExecutionAborted');
    expect(events.at(-1)?.executionAbortedEventDetails).toEqual({ error: 'Cancelled', cause: 'user asked' });
    expect(types(events)).not.toContain('TaskSucceeded');
  });

  it('keeps execution records across restarts; running ones come back ABORTED', async () => {
    const dataDir = await dataDirectory();
    const { env } = lambdas();
    const definition = {
      StartAt: 'Double',
      States: { Double: lambdaInvoke('double', { OutputPath: '$.Payload', End: true }) },
    };
    const first = localSfn(env, { dataDir });
    first.register({ arn: machineArn('double'), name: 'double', definition });
    first.register({ arn: machineArn('blocking'), name: 'blocking', definition: BLOCKING });
    const done = await run(first, 'double', { value: 21 }, 'done');
    const stuck = await first.startExecution({ stateMachineArn: machineArn('blocking'), name: 'stuck' });
    await first.flush();

    // A second runtime on the same directory while the first never shut down: as after a crash.
    const afterCrash = localSfn(env, { dataDir });
    const restored = await afterCrash.describeExecution(done.executionArn);
    const interrupted = await afterCrash.describeExecution(stuck.executionArn);
    const listed = await afterCrash.listExecutions({ stateMachineArn: machineArn('double') });
    const history = await afterCrash.getExecutionHistory({
      executionArn: done.executionArn,
      maxResults: 100,
    });

    expect(restored).toMatchObject({ status: 'SUCCEEDED', output: '{"value":42}', input: '{"value":21}' });
    expect(restored.startDate).toEqual(done.description.startDate);
    expect(interrupted).toMatchObject({ status: 'ABORTED', error: 'Runway.LocalRuntimeStopped' });
    expect(listed.executions?.map((execution) => execution.name)).toEqual(['done']);
    expect(types(history.events ?? [])).toEqual(types(done.events));

    // A clean shutdown records running executions as ABORTED too.
    await afterCrash.flush();
    await first.close();
    const afterShutdown = localSfn(env, { dataDir });
    expect(await afterShutdown.describeExecution(stuck.executionArn)).toMatchObject({
      status: 'ABORTED',
      cause: 'The local Step Functions runtime was shut down',
    });
  });

  it('close() aborts running executions and leaves no timer behind', async () => {
    const { env } = lambdas();
    const activeTimers = () =>
      process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = activeTimers();
    const local = localSfn(env, { waitTimeScale: 1 });
    local.register({
      arn: machineArn('long'),
      name: 'long',
      definition: {
        TimeoutSeconds: 86_400,
        StartAt: 'Branches',
        States: {
          Branches: {
            Type: 'Parallel',
            End: true,
            Branches: [
              { StartAt: 'Sleep', States: { Sleep: { Type: 'Wait', Seconds: 3600, End: true } } },
              { StartAt: 'Blocked', States: { Blocked: lambdaInvoke('blocked', { End: true }) } },
            ],
          },
        },
      },
    });
    const { executionArn } = await local.startExecution({ stateMachineArn: machineArn('long') });
    await new Promise((resolve) => setTimeout(resolve, 20));

    await local.close();

    expect((await local.describeExecution(executionArn)).status).toBe('ABORTED');
    expect(activeTimers()).toBeLessThanOrEqual(before);
    await expect(local.startExecution({ stateMachineArn: machineArn('long') })).rejects.toMatchObject({
      code: 'ServiceUnavailable',
    });
  });
});

describe('LocalStepFunctions: the Step Functions API through SFNClient', () => {
  async function serve(local: LocalStepFunctions): Promise<string> {
    const server = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const action = sfnActionFromTarget(request.headers['x-amz-target'] as string | undefined) ?? '';
      const { status, body } = await local.handleApiRequest(action, text ? JSON.parse(text) : {});
      response.writeHead(status, { 'content-type': SFN_JSON_CONTENT_TYPE }).end(JSON.stringify(body));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('serves StartExecution, Describe/List/History/Stop, state machines and StartSyncExecution', async () => {
    const { env, release } = lambdas();
    const local = localSfn(env);
    local.register({
      arn: machineArn('double'),
      name: 'double',
      definition: {
        StartAt: 'Double',
        States: { Double: lambdaInvoke('double', { OutputPath: '$.Payload', End: true }) },
      },
    });
    local.register({
      arn: machineArn('blocking'),
      name: 'blocking',
      definition: { StartAt: 'Blocked', States: { Blocked: lambdaInvoke('blocked', { End: true }) } },
    });
    local.register({
      arn: machineArn('express'),
      name: 'express',
      type: 'EXPRESS',
      definition: {
        StartAt: 'Echo',
        States: { Echo: { Type: 'Task', Resource: functionArn('echo'), End: true } },
      },
    });
    const endpoint = await serve(local);
    // StartSyncExecution is sent to a `sync-` host prefix on AWS; a local endpoint needs the prefix off.
    const client = new SFNClient({
      endpoint,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      disableHostPrefix: true,
    });

    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: machineArn('double'),
        name: 'first',
        input: '{"value":5}',
      }),
    );
    await local.waitForExecution(started.executionArn ?? '');
    await client.send(
      new StartExecutionCommand({
        stateMachineArn: machineArn('double'),
        name: 'second',
        input: '{"value":1}',
      }),
    );
    await local.waitForExecution(`arn:aws:states:${REGION}:${ACCOUNT}:execution:double:second`);
    const described = await client.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    const page1 = await client.send(
      new ListExecutionsCommand({ stateMachineArn: machineArn('double'), maxResults: 1 }),
    );
    const page2 = await client.send(
      new ListExecutionsCommand({
        stateMachineArn: machineArn('double'),
        maxResults: 1,
        nextToken: page1.nextToken,
      }),
    );
    const reversed = await client.send(
      new GetExecutionHistoryCommand({
        executionArn: started.executionArn,
        reverseOrder: true,
        maxResults: 2,
      }),
    );
    const blocked = await client.send(new StartExecutionCommand({ stateMachineArn: machineArn('blocking') }));
    const running = await client.send(
      new ListExecutionsCommand({ stateMachineArn: machineArn('blocking'), statusFilter: 'RUNNING' }),
    );
    const stopped = await client.send(
      new StopExecutionCommand({ executionArn: blocked.executionArn, cause: 'test' }),
    );
    release();
    const machine = await client.send(
      new DescribeStateMachineCommand({ stateMachineArn: machineArn('double') }),
    );
    const machines = await client.send(new ListStateMachinesCommand({}));
    const sync = await client.send(
      new StartSyncExecutionCommand({ stateMachineArn: machineArn('express'), input: '{"hello":"world"}' }),
    );

    expect(started.startDate).toBeInstanceOf(Date);
    expect(described).toMatchObject({
      status: 'SUCCEEDED',
      name: 'first',
      output: '{"value":10}',
      input: '{"value":5}',
    });
    expect(described.stopDate?.getTime()).toBeGreaterThanOrEqual(described.startDate?.getTime() ?? Infinity);
    expect(page1.executions?.map((execution) => execution.name)).toEqual(['second']);
    expect(page2.executions?.map((execution) => execution.name)).toEqual(['first']);
    expect(page2.nextToken).toBeUndefined();
    expect(reversed.events?.map((event) => event.type)).toEqual(['ExecutionSucceeded', 'TaskStateExited']);
    expect(reversed.nextToken).toBeDefined();
    expect(running.executions?.map((execution) => execution.executionArn)).toEqual([blocked.executionArn]);
    expect(stopped.stopDate).toBeInstanceOf(Date);
    expect(machine).toMatchObject({ name: 'double', status: 'ACTIVE', type: 'STANDARD' });
    expect(JSON.parse(machine.definition ?? '')).toMatchObject({ StartAt: 'Double' });
    expect(machines.stateMachines?.map((listed) => listed.name)).toEqual(['blocking', 'double', 'express']);
    expect(sync).toMatchObject({ status: 'SUCCEEDED', output: '{"hello":"world"}' });
  });

  it('returns AWS errors the SDK maps to its exception classes', async () => {
    const { env } = lambdas();
    const local = localSfn(env);
    local.register({
      arn: machineArn('echo'),
      name: 'echo',
      definition: {
        StartAt: 'Echo',
        States: { Echo: { Type: 'Task', Resource: functionArn('echo'), End: true } },
      },
    });
    const endpoint = await serve(local);
    const client = new SFNClient({
      endpoint,
      region: REGION,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    const start = (stateMachineArn: string) =>
      client.send(new StartExecutionCommand({ stateMachineArn, name: 'once' }));

    const { executionArn } = await start(machineArn('echo'));
    await local.waitForExecution(executionArn ?? '');

    await expect(start(machineArn('echo'))).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    await expect(start(machineArn('missing'))).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    const unknown = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': SFN_JSON_CONTENT_TYPE, 'x-amz-target': 'AWSStepFunctions.CreateActivity' },
      body: '{}',
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});

describe('LocalStepFunctions: CDK output runs unchanged', () => {
  /** Resolve the intrinsics CDK puts in a DefinitionString, as the local runtime does from the template. */
  function resolve(value: unknown, arnOf: (logicalId: string) => string): unknown {
    if (typeof value === 'string') return value;
    const intrinsic = value as Json;
    if (Array.isArray(intrinsic['Fn::Join'])) {
      const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
      return parts.map((part) => resolve(part, arnOf)).join(separator);
    }
    if (Array.isArray(intrinsic['Fn::GetAtt'])) {
      const [logicalId, attribute] = intrinsic['Fn::GetAtt'] as [string, string];
      if (attribute === 'Arn') return arnOf(logicalId);
    }
    if (intrinsic.Ref === 'AWS::Partition') return 'aws';
    if (intrinsic.Ref === 'AWS::Region') return REGION;
    if (intrinsic.Ref === 'AWS::AccountId') return ACCOUNT;
    throw new Error(`unresolved intrinsic ${JSON.stringify(value)}`);
  }

  it('runs a synthesized LambdaInvoke state machine', async () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Pipeline', { env: { account: ACCOUNT, region: REGION } });
    const fn = new lambda.Function(stack, 'Scorer', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async (event) => event;'),
    });
    new sfn.StateMachine(stack, 'Train', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        new tasks.LambdaInvoke(stack, 'Score model', {
          lambdaFunction: fn,
          payload: sfn.TaskInput.fromObject({ 'runId.$': '$.runId', 'execution.$': '$$.Execution.Name' }),
          outputPath: '$.Payload',
        }),
      ),
    });
    const template = app.synth().getStackByName(stack.stackName).template as {
      Resources: Record<string, { Type: string; Properties: Json }>;
    };
    const [functionId] =
      Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function') ?? [];
    const machine = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine',
    );
    const definition = JSON.parse(
      resolve(machine?.Properties.DefinitionString, (id) =>
        functionArn(id === functionId ? 'scorer' : id),
      ) as string,
    );

    const received: unknown[] = [];
    const local = localSfn({
      async invokeLambda(nameOrArn, payload) {
        expect(nameOrArn).toBe(functionArn('scorer'));
        received.push(payload);
        return { score: 0.93, ...(payload as Json) };
      },
    });
    local.register({ arn: machineArn('train'), name: 'train', definition });
    const { description, output } = await run(local, 'train', { runId: 'r-1', ignored: true }, 'nightly');

    expect(definition.States['Score model'].Resource).toBe('arn:aws:states:::lambda:invoke');
    expect(description.status).toBe('SUCCEEDED');
    expect(received).toEqual([{ runId: 'r-1', execution: 'nightly' }]);
    expect(output).toEqual({ score: 0.93, runId: 'r-1', execution: 'nightly' });
  });
});
