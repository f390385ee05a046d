import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { CfnFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  JsonPath,
  LogLevel,
  Pass,
  Result,
  type RetryProps,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  type TaskStateBase,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/** Lambda's own transient failures, the steps' `MonitorTransientError`, and AWS throttling after the SDK's retries. */
const TRANSIENT = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.Unknown',
  'Sandbox.Timedout',
  'MonitorTransientError',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
];
const RETRY: Omit<RetryProps, 'errors'> = {
  interval: Duration.seconds(2),
  maxAttempts: 4,
  backoffRate: 2,
  maxDelay: Duration.seconds(30),
};

export interface MonitorStateMachineProps {
  /** The function that runs every step (`functions/monitor-steps.ts`). */
  stepsFunction: IFunction;
  /** @default 30 minutes (two analyses of the longest Lambda run) */
  timeout?: Duration;
  /** @default a name CloudFormation generates */
  stateMachineName?: string;
}

/**
 * A monitor run (Amazon States Language, JSONPath: the local runtime runs the same definition):
 * Prepare (claim the window, open the MLflow run; a duplicate start of a window ends in
 * `AlreadyRan`) -> Analyze (stream the window, compare, report) -> Publish (events, metrics, close).
 * Every task retries transient errors and catches everything else into RecordFailure, which marks the
 * run and its MLflow run failed; the execution then fails naming the step and the reason.
 */
export class MonitorStateMachine extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: MonitorStateMachineProps) {
    super(scope, id);
    const step = (name: string, payload: Record<string, unknown>, resultPath: string) =>
      new LambdaInvoke(this, name, {
        lambdaFunction: props.stepsFunction,
        payload: TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        resultPath,
      }).addRetry({ errors: TRANSIENT, ...RETRY });

    const failed = new Fail(this, 'RunFailed', {
      comment: 'A step failed: Error is its error, Cause names the step and the reason',
      errorPath: '$.outcome.error',
      causePath: '$.outcome.cause',
    });
    const failedUnrecorded = new Fail(this, 'RunFailedUnrecorded', {
      comment: 'A step failed and so did recording it',
      errorPath: '$.failure.Error',
      causePath: '$.failure.Cause',
    });
    const recordFailure = step(
      'RecordFailure',
      {
        step: 'fail',
        'failedStep.$': '$.failedStep',
        'error.$': '$.failure.Error',
        'cause.$': '$.failure.Cause',
        'request.$': '$.request',
        'plan.$': '$.prepared.plan',
      },
      '$.outcome',
    );
    recordFailure.addCatch(failedUnrecorded, { resultPath: '$.recordError' }).next(failed);
    // Before Prepare there is no plan: the failure is recorded without one.
    const recordEarlyFailure = step(
      'RecordEarlyFailure',
      {
        step: 'fail',
        'failedStep.$': '$.failedStep',
        'error.$': '$.failure.Error',
        'cause.$': '$.failure.Cause',
        'request.$': '$.request',
      },
      '$.outcome',
    );
    recordEarlyFailure.addCatch(failedUnrecorded, { resultPath: '$.recordError' }).next(failed);

    const onFailure = (task: TaskStateBase, handler: TaskStateBase) => {
      const named = new Pass(this, `${task.id}Failed`, {
        result: Result.fromString(task.id),
        resultPath: '$.failedStep',
      });
      named.next(handler);
      task.addCatch(named, { errors: ['States.ALL'], resultPath: '$.failure' });
      return task;
    };

    const start = new Pass(this, 'Start', { parameters: { request: JsonPath.entirePayload } });
    const prepare = onFailure(
      step(
        'Prepare',
        { step: 'prepare', 'request.$': '$.request', 'executionArn.$': '$$.Execution.Id' },
        '$.prepared',
      ),
      recordEarlyFailure,
    );
    const analyze = onFailure(
      step('Analyze', { step: 'analyze', 'plan.$': '$.prepared.plan' }, '$.analysis'),
      recordFailure,
    );
    const publish = onFailure(
      step(
        'Publish',
        { step: 'publish', 'plan.$': '$.prepared.plan', 'outcome.$': '$.analysis' },
        '$.findings',
      ),
      recordFailure,
    );
    const done = new Succeed(this, 'Done', { outputPath: '$.findings' });
    const skipped = new Succeed(this, 'AlreadyRan', {
      comment: 'The monitor is gone or disabled, or another execution has this window',
      outputPath: '$.prepared',
    });
    const definition = start
      .next(prepare)
      .next(
        new Choice(this, 'Window claimed?')
          .when(Condition.booleanEquals('$.prepared.skip', true), skipped)
          .otherwise(analyze.next(publish).next(done)),
      );

    const logs = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(definition),
      timeout: props.timeout ?? Duration.minutes(30),
      tracingEnabled: true,
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
      comment: 'Runway monitor run: read a window of captured invocations, compare with the baseline, report',
    });
    const stepsFunction = Stack.of(this).getLogicalId(props.stepsFunction.node.defaultChild as CfnFunction);
    Validations.of(this.stateMachine).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${stepsFunction}.Arn>:*]`,
        reason: "The Lambda invoke grant covers the steps function's versions",
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray and CloudWatch Logs delivery have no resource-level permissions',
      },
    );
  }
}
