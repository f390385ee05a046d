import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  type IChainable,
  IntegrationPattern,
  JsonPath,
  LogLevel,
  Pass,
  Result,
  type RetryProps,
  StateMachine,
  Succeed,
  TaskInput,
  type TaskStateBase,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { CallAwsService, LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/** Lambda's own transient failures and the deploy steps' `DeployTransientError` (see `shared/deployments/deploy/errors.ts`). */
const LAMBDA_TRANSIENT = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.Unknown',
  'Sandbox.Timedout',
  'DeployTransientError',
  // DynamoDB, EventBridge and Step Functions throttling after the SDK's own five attempts.
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
];
/** Throttling and service-side errors of the SageMaker and CloudWatch APIs as Step Functions names them. */
const AWS_TRANSIENT = [
  'SageMaker.ThrottlingException',
  'SageMaker.InternalFailureException',
  'SageMaker.ServiceUnavailableException',
  'CloudWatch.ThrottlingException',
  'CloudWatch.InternalServiceFaultException',
];
const RETRY: Omit<RetryProps, 'errors'> = {
  interval: Duration.seconds(1),
  maxAttempts: 4,
  backoffRate: 2,
  maxDelay: Duration.seconds(20),
};

/** The longest a deploy may run: ten steps of an hour's bake at most, and room for SageMaker. */
export const DEPLOY_TIMEOUT = Duration.hours(12);

export interface DeployStateMachineProps {
  /** The function that runs the light deploy steps (`functions/deploy-steps.ts`). */
  stepsFunction: IFunction;
  /** The function that loads models for CheckModel and SmokeTest (`functions/deploy-model-checks.ts`). */
  modelChecksFunction: IFunction;
  /** The role SageMaker assumes to pull the image and read the model (passed to CreateModel). */
  sageMakerExecutionRole: IRole;
  /** The only instance types an endpoint config may name (IAM refuses others). */
  sageMakerInstanceTypes: readonly string[];
  /** @default DEPLOY_TIMEOUT */
  timeout?: Duration;
  /**
   * Seconds between two DescribeEndpoint calls once SageMaker took longer than expected (the first
   * call waits for the plan's `expectedSeconds`). @default 60
   */
  sageMakerPollSeconds?: number;
}

/**
 * The deploy state machine (Amazon States Language, JSONPath: the local runtime runs the same
 * definition). Resolve -> CheckModel -> SmokeTest, then by target:
 * - lambda: for each traffic step, ShiftTraffic -> Bake (the policy's seconds) -> CheckCanary, then
 *   Promote; an unhealthy canary or a failing step rolls back to the previous version;
 * - sagemaker: alarms, model, endpoint config, CreateEndpoint or a blue/green UpdateEndpoint with
 *   auto-rollback on those alarms, then a Wait/DescribeEndpoint loop until SageMaker is done.
 * Every task retries transient errors and catches everything else: before traffic moved to
 * RecordFailure (`deployment.failed`), after to RollBack (`deployment.rolled-back`). The Fail state
 * an execution ends in names the step that failed and why.
 */
export class DeployStateMachine extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: DeployStateMachineProps) {
    super(scope, id);
    const step = (
      name: string,
      payload: Record<string, unknown>,
      resultPath: string | undefined,
      fn: IFunction = props.stepsFunction,
    ) =>
      new LambdaInvoke(this, name, {
        lambdaFunction: fn,
        payload: TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        resultPath: resultPath ?? JsonPath.DISCARD,
      }).addRetry({ errors: LAMBDA_TRANSIENT, ...RETRY });
    const withState = (name: string) => ({ step: name, state: JsonPath.entirePayload });
    const deploy = { deploy: JsonPath.objectAt('$.deploy') };

    // The end states: each says which step ended the deploy and why.
    const deployed = new Succeed(this, 'Deployed');
    const nothingToDeploy = new Succeed(this, 'NothingToDeploy', {
      comment: 'The registry no longer names this version, or the endpoint serves it already',
    });
    const rolledBack = new Fail(this, 'RolledBack', {
      error: 'Deploy.RolledBack',
      causePath: '$.outcome.reason',
    });
    const failed = new Fail(this, 'DeployFailed', { error: 'Deploy.Failed', causePath: '$.outcome.reason' });
    const rollbackFailed = new Fail(this, 'RollbackFailed', {
      error: 'Deploy.RollbackFailed',
      causePath: '$.recordError.Cause',
    });
    const recordFailed = new Fail(this, 'RecordFailureFailed', {
      error: 'Deploy.RecordFailureFailed',
      causePath: '$.recordError.Cause',
    });

    const recordFailure = step('RecordFailure', withState('fail'), '$.outcome');
    recordFailure.addCatch(recordFailed, { resultPath: '$.recordError' }).next(failed);
    const rollBack = step('RollBack', withState('roll-back'), '$.outcome');
    rollBack.addCatch(rollbackFailed, { resultPath: '$.recordError' }).next(rolledBack);

    /** Catch everything into `$.error`, name the failed step in `$.failedStep`, go to `handler`. */
    const catchInto = <T extends TaskStateBase>(task: T, handler: IChainable): T => {
      const named = new Pass(this, `${task.id}Failed`, {
        result: Result.fromString(task.id),
        resultPath: '$.failedStep',
      });
      named.next(handler);
      task.addCatch(named, { resultPath: '$.error' });
      return task;
    };

    const start = new Pass(this, 'Start', {
      parameters: {
        request: JsonPath.entirePayload,
        execution: {
          name: JsonPath.stringAt('$$.Execution.Name'),
          arn: JsonPath.stringAt('$$.Execution.Id'),
          startTime: JsonPath.stringAt('$$.Execution.StartTime'),
        },
      },
    });
    const resolve = catchInto(
      step(
        'Resolve',
        {
          step: 'resolve',
          request: JsonPath.objectAt('$.request'),
          execution: JsonPath.objectAt('$.execution'),
        },
        '$.deploy',
      ),
      recordFailure,
    );
    const checkModel = catchInto(
      step('CheckModel', { step: 'check-model', ...deploy }, undefined, props.modelChecksFunction),
      recordFailure,
    );
    const smokeTest = catchInto(
      step('SmokeTest', { step: 'smoke-test', ...deploy }, undefined, props.modelChecksFunction),
      recordFailure,
    );
    // Another deploy holds the endpoint: queue for it (a callback task), and ask again when its
    // release resumes this one, or after 5 minutes (a holder stopped without letting go), whichever
    // comes first. No Lambda runs and no state changes meanwhile.
    const waitForEndpoint = new LambdaInvoke(this, 'WaitForEndpoint', {
      lambdaFunction: props.stepsFunction,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: TaskInput.fromObject({ step: 'queue', ...deploy, taskToken: JsonPath.taskToken }),
      taskTimeout: Timeout.duration(Duration.minutes(5)),
      retryOnServiceExceptions: false,
      resultPath: JsonPath.DISCARD,
      comment: 'Queued behind the deploy that holds the endpoint; its release (or 5 minutes) resumes this',
    }).addRetry({ errors: LAMBDA_TRANSIENT, ...RETRY });

    // --- lambda target: traffic steps --------------------------------------------------------
    const firstStep = new Pass(this, 'FirstTrafficStep', {
      result: Result.fromObject({
        stepIndex: 0,
        weight: 0,
        since: 0,
        healthy: true,
        reason: null,
        done: false,
      }),
      resultPath: '$.rollout',
    });
    const rollout = { ...deploy, rollout: JsonPath.objectAt('$.rollout') };
    const shiftTraffic = catchInto(
      step('ShiftTraffic', { step: 'shift-traffic', ...rollout }, '$.rollout'),
      rollBack,
    );
    const bake = new Wait(this, 'Bake', { time: WaitTime.secondsPath('$.deploy.policy.bakeSeconds') });
    const checkCanary = catchInto(
      step('CheckCanary', { step: 'check-canary', ...rollout }, '$.rollout'),
      rollBack,
    );
    const promote = catchInto(step('Promote', { step: 'promote', ...deploy }, '$.outcome'), rollBack).next(
      deployed,
    );
    const canaryVerdict = new Choice(this, 'CanaryHealthy?')
      .when(Condition.booleanEquals('$.rollout.healthy', false), rollBack)
      .when(Condition.booleanEquals('$.rollout.done', true), promote)
      .otherwise(shiftTraffic);
    firstStep.next(shiftTraffic);
    shiftTraffic.next(bake);
    bake.next(checkCanary);
    checkCanary.next(canaryVerdict);

    const prune = step('PruneSageMaker', { step: 'prune', ...deploy }, '$.pruned').addCatch(promote, {
      resultPath: '$.pruneError',
    });
    prune.next(promote);
    const sageMaker = this.sageMakerBranch(props, { recordFailure, rollBack, promote: prune, catchInto });

    waitForEndpoint.addCatch(resolve, { errors: ['States.Timeout'], resultPath: JsonPath.DISCARD });
    catchInto(waitForEndpoint, recordFailure);
    start.next(resolve);
    resolve.next(
      new Choice(this, 'Ready?')
        .when(Condition.stringEquals('$.deploy.outcome', 'skip'), nothingToDeploy)
        .when(Condition.stringEquals('$.deploy.outcome', 'wait'), waitForEndpoint.next(resolve))
        .otherwise(checkModel),
    );
    checkModel.next(smokeTest);
    smokeTest.next(
      new Choice(this, 'Target?')
        .when(Condition.stringEquals('$.deploy.target', 'sagemaker'), sageMaker)
        .otherwise(firstStep),
    );

    const logs = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromChainable(start),
      timeout: props.timeout ?? DEPLOY_TIMEOUT,
      tracingEnabled: true,
      // Every state transition, without data: execution data holds endpoint and model details.
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
      comment: 'Runway: deploy a model version to an endpoint by canary, with rollback',
    });
    const acknowledge = (resource: string, reason: string) =>
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason,
      });
    for (const fn of [props.stepsFunction, props.modelChecksFunction]) {
      const logicalId = Stack.of(this).getLogicalId(fn.node.defaultChild as CfnFunction);
      acknowledge(`<${logicalId}.Arn>:*`, "The Lambda invoke grant covers the step function's versions");
    }
    acknowledge('*', 'X-Ray and CloudWatch Logs delivery have no resource-level permissions');
    for (const type of ['model', 'endpoint-config', 'endpoint']) {
      acknowledge(
        nagArn(this, 'sagemaker', `${type}/runway-*`),
        'SageMaker resources are created per deploy under Runway names (runway-<endpoint>...); nothing else',
      );
    }
    acknowledge(
      nagArn(this, 'cloudwatch', 'alarm:runway-*'),
      'The canary alarms are created per endpoint under Runway names; nothing else',
    );
  }

  /** CreateModel, CreateEndpointConfig, CreateEndpoint or UpdateEndpoint, and the wait for SageMaker. */
  private sageMakerBranch(
    props: DeployStateMachineProps,
    paths: {
      recordFailure: IChainable;
      rollBack: IChainable;
      promote: IChainable;
      catchInto: <T extends TaskStateBase>(task: T, handler: IChainable) => T;
    },
  ): IChainable {
    const { account, region, partition } = Stack.of(this);
    const arn = (type: string) => `arn:${partition}:sagemaker:${region}:${account}:${type}/runway-*`;
    const plan = (field: string) => JsonPath.stringAt(`$.deploy.sagemaker.${field}`);
    const sdk = (
      id: string,
      service: 'sagemaker' | 'cloudwatch',
      action: string,
      parameters: Record<string, unknown>,
      iamResources: string[],
      extra: { iamAction?: string; additionalIamStatements?: PolicyStatement[]; resultPath?: string } = {},
    ) =>
      new CallAwsService(this, id, {
        service,
        action,
        parameters,
        iamResources,
        ...(extra.iamAction ? { iamAction: extra.iamAction } : {}),
        ...(extra.additionalIamStatements ? { additionalIamStatements: extra.additionalIamStatements } : {}),
        resultPath: extra.resultPath ?? JsonPath.DISCARD,
      }).addRetry({ errors: AWS_TRANSIENT, ...RETRY });

    // Alarms first: UpdateEndpoint's auto-rollback names them, and PutMetricAlarm overwrites (idempotent).
    const alarmArn = `arn:${partition}:cloudwatch:${region}:${account}:alarm:runway-*`;
    const variantMetric = (id: string, metricName: string, stat: string, returnData: boolean) => ({
      Id: id,
      ReturnData: returnData,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/SageMaker',
          MetricName: metricName,
          Dimensions: [
            { Name: 'EndpointName', Value: plan('endpointName') },
            { Name: 'VariantName', Value: 'AllTraffic' },
          ],
        },
        Period: JsonPath.numberAt('$.deploy.sagemaker.alarmPeriodSeconds'),
        Stat: stat,
      },
    });
    const errorAlarm = sdk(
      'PutErrorAlarm',
      'cloudwatch',
      'putMetricAlarm',
      {
        AlarmName: plan('alarms.errors'),
        AlarmDescription: 'Runway: the new variant fails more invocations than the rollout policy allows',
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        Threshold: JsonPath.numberAt('$.deploy.sagemaker.maxErrorRate'),
        TreatMissingData: 'notBreaching',
        Metrics: [
          variantMetric('errors', 'Invocation5XXErrors', 'Sum', false),
          variantMetric('invocations', 'Invocations', 'Sum', false),
          { Id: 'rate', Expression: 'IF(invocations > 0, errors / invocations, 0)', ReturnData: true },
        ],
      },
      [alarmArn],
    );
    const latencyAlarm = sdk(
      'PutLatencyAlarm',
      'cloudwatch',
      'putMetricAlarm',
      {
        AlarmName: plan('alarms.latency'),
        AlarmDescription: "Runway: the new variant's p99 model latency is above the rollout policy's limit",
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        Threshold: JsonPath.numberAt('$.deploy.sagemaker.maxLatencyMicros'),
        TreatMissingData: 'notBreaching',
        Namespace: 'AWS/SageMaker',
        MetricName: 'ModelLatency',
        Dimensions: [
          { Name: 'EndpointName', Value: plan('endpointName') },
          { Name: 'VariantName', Value: 'AllTraffic' },
        ],
        ExtendedStatistic: 'p99',
        Period: JsonPath.numberAt('$.deploy.sagemaker.alarmPeriodSeconds'),
      },
      [alarmArn],
    );
    const createModel = sdk(
      'CreateModel',
      'sagemaker',
      'createModel',
      {
        ModelName: plan('modelName'),
        ExecutionRoleArn: props.sageMakerExecutionRole.roleArn,
        PrimaryContainer: {
          Image: plan('image'),
          // The MLflow model directory as it is: no model.tar.gz to build.
          ModelDataSource: {
            S3DataSource: { S3Uri: plan('modelDataUrl'), S3DataType: 'S3Prefix', CompressionType: 'None' },
          },
          Environment: { MLFLOW_DEPLOYMENT_FLAVOR_NAME: 'python_function' },
        },
        Tags: JsonPath.listAt('$.deploy.sagemaker.tags'),
      },
      [arn('model')],
      {
        additionalIamStatements: [
          new PolicyStatement({
            effect: Effect.ALLOW,
            actions: ['iam:PassRole'],
            resources: [props.sageMakerExecutionRole.roleArn],
            conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
          }),
          new PolicyStatement({ actions: ['sagemaker:AddTags'], resources: [arn('model')] }),
        ],
      },
    );
    const createConfig = sdk(
      'CreateEndpointConfig',
      'sagemaker',
      'createEndpointConfig',
      {
        EndpointConfigName: plan('endpointConfigName'),
        ProductionVariants: [
          {
            VariantName: 'AllTraffic',
            ModelName: plan('modelName'),
            InstanceType: plan('instanceType'),
            InitialInstanceCount: JsonPath.numberAt('$.deploy.sagemaker.initialInstanceCount'),
            InitialVariantWeight: 1,
          },
        ],
        Tags: JsonPath.listAt('$.deploy.sagemaker.tags'),
      },
      [arn('endpoint-config')],
      {
        additionalIamStatements: [
          new PolicyStatement({ actions: ['sagemaker:AddTags'], resources: [arn('endpoint-config')] }),
          // Spend bounds: no endpoint config on an instance type the deployer did not allow, nor one
          // that names none (serverless). The endpoints API and Resolve refuse them first, with a reason.
          new PolicyStatement({
            effect: Effect.DENY,
            actions: ['sagemaker:CreateEndpointConfig'],
            resources: ['*'],
            conditions: {
              'ForAnyValue:StringNotEquals': { 'sagemaker:InstanceTypes': [...props.sageMakerInstanceTypes] },
            },
          }),
          new PolicyStatement({
            effect: Effect.DENY,
            actions: ['sagemaker:CreateEndpointConfig'],
            resources: ['*'],
            conditions: { Null: { 'sagemaker:InstanceTypes': 'true' } },
          }),
        ],
      },
    );
    const createEndpoint = sdk(
      'CreateEndpoint',
      'sagemaker',
      'createEndpoint',
      {
        EndpointName: plan('endpointName'),
        EndpointConfigName: plan('endpointConfigName'),
        Tags: JsonPath.listAt('$.deploy.sagemaker.tags'),
      },
      [arn('endpoint'), arn('endpoint-config')],
      {
        additionalIamStatements: [
          new PolicyStatement({ actions: ['sagemaker:AddTags'], resources: [arn('endpoint')] }),
        ],
      },
    );
    const updateEndpoint = sdk(
      'UpdateEndpoint',
      'sagemaker',
      'updateEndpoint',
      {
        EndpointName: plan('endpointName'),
        EndpointConfigName: plan('endpointConfigName'),
        DeploymentConfig: JsonPath.objectAt('$.deploy.sagemaker.deploymentConfig'),
      },
      [arn('endpoint'), arn('endpoint-config')],
    );
    const describe = sdk(
      'DescribeEndpoint',
      'sagemaker',
      'describeEndpoint',
      { EndpointName: plan('endpointName') },
      [arn('endpoint')],
      { resultPath: '$.endpointStatus' },
    );
    for (const task of [
      errorAlarm,
      latencyAlarm,
      createModel,
      createConfig,
      createEndpoint,
      updateEndpoint,
    ]) {
      paths.catchInto(task, paths.recordFailure);
    }
    // Once UpdateEndpoint went through SageMaker may shift traffic: failures from here roll back.
    paths.catchInto(describe, paths.rollBack);

    // First for as long as SageMaker should take (instances starting, each traffic step's wait),
    // then a poll a minute: a few dozen transitions per deploy, and no Lambda.
    const firstWait = new Wait(this, 'WaitForSageMaker', {
      comment: "As long as SageMaker should take: the plan's expectedSeconds",
      time: WaitTime.secondsPath('$.deploy.sagemaker.expectedSeconds'),
    });
    const pollWait = new Wait(this, 'PollSageMaker', {
      time: WaitTime.duration(Duration.seconds(props.sageMakerPollSeconds ?? 60)),
    });
    const status = '$.endpointStatus.EndpointStatus';
    const verdict = new Choice(this, 'SageMakerDone?')
      .when(
        Condition.and(
          Condition.stringEquals(status, 'InService'),
          Condition.stringEqualsJsonPath(
            '$.endpointStatus.EndpointConfigName',
            '$.deploy.sagemaker.endpointConfigName',
          ),
        ),
        paths.promote,
      )
      // In service on another config: SageMaker's auto-rollback put the old one back.
      .when(Condition.stringEquals(status, 'InService'), paths.rollBack)
      .when(
        Condition.and(
          Condition.stringEquals(status, 'Failed'),
          Condition.booleanEquals('$.deploy.sagemaker.create', true),
        ),
        paths.recordFailure,
      )
      .when(
        Condition.or(
          Condition.stringEquals(status, 'Failed'),
          Condition.stringEquals(status, 'UpdateRollbackFailed'),
        ),
        paths.rollBack,
      )
      .otherwise(pollWait);
    firstWait.next(describe).next(verdict);
    pollWait.next(describe);
    return errorAlarm
      .next(latencyAlarm)
      .next(createModel)
      .next(createConfig)
      .next(
        new Choice(this, 'NewSageMakerEndpoint?')
          .when(Condition.booleanEquals('$.deploy.sagemaker.create', true), createEndpoint.next(firstWait))
          .otherwise(updateEndpoint.next(firstWait)),
      );
  }
}

/** An ARN in this stack's account and region as cdk-nag prints it in a finding's id. */
export function nagArn(scope: Construct, service: string, resource: string): string {
  const { partition, region, account } = Stack.of(scope);
  const part = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
  return `arn:${part(partition, 'AWS::Partition')}:${service}:${part(region, 'AWS::Region')}:${part(account, 'AWS::AccountId')}:${resource}`;
}
