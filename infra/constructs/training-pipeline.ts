import { ArnFormat, Duration, Size, Stack, Token, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { InstanceType } from 'aws-cdk-lib/aws-ec2';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { type IManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  IntegrationPattern,
  JsonPath,
  LogLevel,
  Pass,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import {
  DockerImage,
  InputMode,
  LambdaInvoke,
  S3Location,
  SageMakerCreateTrainingJob,
} from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { RunwayFunction } from './runway-function.ts';

export interface TrainingPipelineProps {
  trackingTable: ITable;
  registryTable: ITable;
  artifactBucket: IBucket;
  /** Object access to the artifact bucket (the stateful stack's reviewed policy). */
  artifactAccessPolicy: IManagedPolicy;
  /** Where registry events go: setting an alias is what continuous deployment listens for. */
  eventBus: IEventBus;
  /** @default a name CloudFormation generates */
  stateMachineName?: string;
  /** Buckets whose `s3://` datasets the pipeline may read, besides the artifact bucket. @default none */
  datasetBuckets?: readonly IBucket[];
  /** @default 2 hours */
  timeout?: Duration;
  /** Memory of the data steps (validate, split, train, evaluate, gate): more memory is more CPU. @default 2048 MB */
  dataStepMemorySize?: number;
}

/** Retried by every task: Lambda's own transient failures (not the handler's errors, which are final). */
const TRANSIENT_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/**
 * A training pipeline: a Step Functions state machine (JSONPath) that validates the input and starts
 * an MLflow run, validates the dataset against the last accepted schema, splits it, trains the
 * built-in linear or logistic model, evaluates it on the held-out rows, gates it against a threshold
 * and the model under the target alias, registers it and, when asked, moves the alias (which
 * continuous deployment follows). Every task retries Lambda's transient errors and catches the rest
 * into one failure path that marks the run FAILED and fails the execution naming the step and reason.
 *
 * Each step is its own function with only the grants it needs. Instantiate it once per model family
 * (or share one: the model is named in the input).
 */
export class TrainingPipeline extends Construct {
  readonly stateMachine: StateMachine;
  /** Step functions by state name (e.g. `ValidateData`). */
  readonly functions: Readonly<Record<string, RunwayFunction>>;
  private sageMakerJobArnFinding: string | undefined;

  constructor(scope: Construct, id: string, props: TrainingPipelineProps) {
    super(scope, id);
    const functions: Record<string, RunwayFunction> = {};
    const dataMemory = props.dataStepMemorySize ?? 2048;
    const step = (
      name: string,
      entry: string,
      description: string,
      access: { registry?: 'read' | 'readWrite'; artifacts?: boolean; events?: boolean; data?: boolean },
    ) => {
      const fn = new RunwayFunction(this, `${name}Function`, {
        entry,
        description: `Training pipeline: ${description}`,
        ...(access.data ? { memorySize: dataMemory, timeout: Duration.minutes(5) } : { memorySize: 512 }),
      }).bindTable(props.trackingTable, { accessMode: 'readWrite', envName: 'TRACKING_TABLE_NAME' });
      // Every step reaches the run's artifacts by key under the bucket (finish and failure only log).
      fn.addEnvironment('ARTIFACT_BUCKET_NAME', props.artifactBucket.bucketName);
      if (access.artifacts) fn.bindPolicy(props.artifactAccessPolicy);
      if (access.registry) {
        fn.bindTable(props.registryTable, {
          accessMode: access.registry,
          envName: 'REGISTRY_TABLE_NAME',
          indexes: ['gsi1'],
        });
      }
      if (access.events) fn.bindEventBus(props.eventBus, { envName: 'EVENT_BUS_NAME' });
      functions[name] = fn;
      return fn;
    };

    const prepare = step('Prepare', 'functions/pipeline-prepare.ts', 'validate the input, start the run', {});
    const validate = step(
      'ValidateData',
      'functions/pipeline-validate-data.ts',
      'validate the dataset against the last accepted schema',
      { artifacts: true, registry: 'read', data: true },
    );
    const datasetReaders: RunwayFunction[] = [validate];
    const split = step('Split', 'functions/pipeline-split.ts', 'split training and held-out rows', {
      artifacts: true,
      data: true,
    });
    datasetReaders.push(split);
    for (const fn of datasetReaders) this.grantDatasetBuckets(fn, props.datasetBuckets ?? []);
    const train = step('Train', 'functions/pipeline-train.ts', 'train the built-in model', {
      artifacts: true,
      data: true,
    });
    const importModel = step(
      'ImportModel',
      'functions/pipeline-import-model.ts',
      'import a SageMaker model',
      {
        artifacts: true,
        data: true,
      },
    );
    const evaluate = step('Evaluate', 'functions/pipeline-evaluate.ts', 'score the held-out rows', {
      artifacts: true,
      data: true,
    });
    const gate = step('Gate', 'functions/pipeline-gate.ts', 'compare with the threshold and the champion', {
      artifacts: true,
      registry: 'read',
      data: true,
    });
    const register = step('Register', 'functions/pipeline-register.ts', 'register the model version', {
      registry: 'readWrite',
      events: true,
    });
    const setAlias = step('SetAlias', 'functions/pipeline-set-alias.ts', 'move the alias', {
      registry: 'readWrite',
      events: true,
    });
    const finish = step('Finish', 'functions/pipeline-finish.ts', 'end the run', {});
    const recordFailure = step(
      'RecordFailure',
      'functions/pipeline-record-failure.ts',
      'mark the run failed',
      {},
    );

    // The failure path: the step's name with its error, the run FAILED, the execution failed naming both.
    const failed = new Fail(this, 'PipelineFailed', {
      comment: 'A step failed: Error is its error, Cause names the step and the reason',
      errorPath: '$.outcome.error',
      causePath: '$.outcome.cause',
    });
    const failedUnrecorded = new Fail(this, 'PipelineFailedUnrecorded', {
      comment: 'A step failed and so did recording it on the run',
      errorPath: '$.error',
      causePath: '$.cause',
    });
    const record = this.task('RecordFailure', recordFailure, undefined, '$.outcome');
    record.addCatch(failedUnrecorded, { resultPath: '$.recordError' }).next(failed);
    const onFailure = <T extends LambdaInvoke | SageMakerCreateTrainingJob>(task: T, withRun: boolean): T => {
      const name = task.id;
      const describe = new Pass(this, `${name} failed`, {
        parameters: {
          step: name,
          'error.$': '$.failure.Error',
          'cause.$': '$.failure.Cause',
          ...(withRun ? { 'run.$': '$.run' } : {}),
        },
      }).next(record);
      task.addCatch(describe, { errors: ['States.ALL'], resultPath: '$.failure' });
      return task;
    };

    const prepareTask = onFailure(
      this.task(
        'Prepare',
        prepare,
        TaskInput.fromObject({
          'input.$': '$',
          execution: {
            'executionArn.$': '$$.Execution.Id',
            'executionName.$': '$$.Execution.Name',
            'stateMachineArn.$': '$$.StateMachine.Id',
          },
        }),
        '$',
      ),
      false,
    );
    const stepTask = (name: string, fn: RunwayFunction, resultPath: string) =>
      onFailure(this.task(name, fn, undefined, resultPath), true);
    const finishTask = stepTask('Finish', finish, '$.summary');
    const done = new Succeed(this, 'Done', { outputPath: '$.summary' });
    finishTask.next(done);
    const setAliasTask = stepTask('SetAlias', setAlias, '$.registration').next(finishTask);
    const registerTask = stepTask('Register', register, '$.registration').next(
      new Choice(this, 'Alias requested?')
        .when(Condition.isPresent('$.config.alias'), setAliasTask)
        .otherwise(finishTask),
    );
    const definition = prepareTask
      .next(stepTask('ValidateData', validate, '$.data'))
      .next(stepTask('Split', split, '$.split'))
      .next(
        new Choice(this, 'Which trainer?')
          .when(
            Condition.stringEquals('$.config.trainer.type', 'sagemaker'),
            onFailure(this.sageMakerTraining(props), true).next(
              stepTask('ImportModel', importModel, '$.training'),
            ),
          )
          .otherwise(stepTask('Train', train, '$.training'))
          .afterwards(),
      )
      .next(stepTask('Evaluate', evaluate, '$.evaluation'))
      .next(stepTask('Gate', gate, '$.gate'))
      .next(
        new Choice(this, 'Gate passed?')
          .when(Condition.booleanEquals('$.gate.passed', true), registerTask)
          .otherwise(finishTask),
      );

    const logs = new LogGroup(this, 'ExecutionLogs', { retention: RetentionDays.THREE_MONTHS });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
      stateMachineType: StateMachineType.STANDARD,
      comment: 'Runway training pipeline: validate data, split, train, evaluate, gate, register, set alias',
      definitionBody: DefinitionBody.fromChainable(definition),
      timeout: props.timeout ?? Duration.hours(2),
      tracingEnabled: true,
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: true },
    });
    this.functions = functions;
    // CDK grants lambda:InvokeFunction on each function and `<function>:*` (its versions and aliases),
    // and X-Ray writes, which have no resource-level permissions.
    const role = this.stateMachine.role;
    const stack = Stack.of(this);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords and log delivery support no resource-level permissions',
    });
    if (this.sageMakerJobArnFinding) {
      Validations.of(role).acknowledge({
        id: this.sageMakerJobArnFinding,
        reason:
          'The .sync integration creates, describes and stops training jobs whose names come from each run',
      });
    }
    for (const fn of Object.values(functions)) {
      const logicalId = stack.getLogicalId(fn.node.defaultChild as CfnFunction);
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason: 'Step Functions may invoke the step function by qualified ARN (its versions), as CDK grants',
      });
    }
  }

  /**
   * The SageMaker trainer: a training job (`.sync`: the task waits for it) running the input's
   * container on the split's `train` and `test` channels, writing to the run's artifacts. The job's
   * role may read and write the artifact bucket and pull images; nothing else.
   */
  private sageMakerTraining(props: TrainingPipelineProps): SageMakerCreateTrainingJob {
    const role = new Role(this, 'TrainingJobRole', {
      assumedBy: new ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'Runs user training containers of the Runway training pipeline',
    });
    role.addManagedPolicy(props.artifactAccessPolicy);
    role.addToPolicy(
      new PolicyStatement({
        actions: ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        resources: ['*'],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [
          Stack.of(this).formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '/aws/sagemaker/TrainingJobs*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    const stack = Stack.of(this);
    const where = (token: string, placeholder: string) => (Token.isUnresolved(token) ? placeholder : token);
    const region = where(stack.region, '<AWS::Region>');
    const account = where(stack.account, '<AWS::AccountId>');
    // With a concrete region CDK writes the partition literally (enablePartitionLiterals).
    const partition = where(stack.partition, '<AWS::Partition>');
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The container image is named in each execution input (any repository); GetAuthorizationToken has no resource',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${partition}:logs:${region}:${account}:log-group:/aws/sagemaker/TrainingJobs*]`,
      reason: 'SageMaker writes training job logs to streams it names in this log group',
    });
    this.sageMakerJobArnFinding = `AwsSolutions-IAM5[Resource::arn:${partition}:sagemaker:${region}:${account}:training-job/*]`;
    const channel = (name: string, path: string) => ({
      channelName: name,
      contentType: 'text/csv',
      dataSource: { s3DataSource: { s3Location: S3Location.fromJsonExpression(path) } },
    });
    const task = new SageMakerCreateTrainingJob(this, 'TrainInSageMaker', {
      integrationPattern: IntegrationPattern.RUN_JOB,
      role,
      trainingJobName: JsonPath.format('runway-{}', JsonPath.stringAt('$.run.runId')),
      algorithmSpecification: {
        trainingImage: DockerImage.fromJsonExpression(JsonPath.stringAt('$.config.trainer.image')),
        trainingInputMode: InputMode.FILE,
      },
      inputDataConfig: [channel('train', '$.split.trainS3Uri'), channel('test', '$.split.testS3Uri')],
      outputDataConfig: { s3OutputLocation: S3Location.fromJsonExpression('$.split.outputS3Uri') },
      resourceConfig: {
        instanceCount: JsonPath.numberAt('$.config.trainer.instanceCount'),
        instanceType: new InstanceType(JsonPath.stringAt('$.config.trainer.instanceType')),
        volumeSize: Size.gibibytes(10),
      },
      stoppingCondition: { maxRuntime: Duration.hours(5) },
      hyperparameters: {
        'target_column.$': '$.config.targetColumn',
        'model_type.$': '$.config.modelType',
      },
      resultSelector: {
        'trainingJobName.$': '$.TrainingJobName',
        'modelArtifacts.$': '$.ModelArtifacts.S3ModelArtifacts',
      },
      resultPath: '$.sagemaker',
    });
    task.addRetry({
      errors: ['SageMaker.AmazonSageMakerException'],
      interval: Duration.seconds(10),
      maxAttempts: 3,
      backoffRate: 2,
    });
    return task;
  }

  /** Object reads (and ListBucket, so a missing key is 404, not 403) of the buckets datasets come from. */
  private grantDatasetBuckets(fn: RunwayFunction, buckets: readonly IBucket[]): void {
    if (buckets.length === 0) return;
    fn.allow(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: buckets.map((b) => b.arnForObjects('*')) }),
    );
    fn.allow(new PolicyStatement({ actions: ['s3:ListBucket'], resources: buckets.map((b) => b.bucketArn) }));
    Validations.of(fn.role!).acknowledge({
      id: 'AwsSolutions-IAM5',
      reason:
        'Datasets are objects under arbitrary keys of the buckets the pipeline was given; only GetObject is allowed',
    });
  }

  /**
   * A Lambda task (the function receives `payload`, by default the whole state) whose result is the handler's return value (not the Invoke API envelope), placed at
   * `resultPath`, retrying Lambda's transient errors with back-off.
   */
  private task(
    name: string,
    fn: RunwayFunction,
    payload: TaskInput | undefined,
    resultPath: string,
  ): LambdaInvoke {
    const task = new LambdaInvoke(this, name, {
      lambdaFunction: fn,
      // Without a payload the function receives the whole state.
      ...(payload ? { payload } : {}),
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      ...(resultPath === '$' ? {} : { resultPath }),
    });
    task.addRetry({
      errors: TRANSIENT_ERRORS,
      interval: Duration.seconds(2),
      maxAttempts: 4,
      backoffRate: 2,
    });
    return task;
  }
}
