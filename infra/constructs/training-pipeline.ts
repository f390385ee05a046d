import { ArnFormat, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { type IManagedPolicy, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  Choice,
  Condition,
  CustomState,
  DefinitionBody,
  Fail,
  LogLevel,
  Pass,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { REGISTRY_LISTINGS, registryKeys } from '../../shared/registry/keys.ts';
import { experimentKeys, runKeys } from '../../shared/tracking/keys.ts';
import { sageMakerPrincipal } from './continuous-deployment.ts';
import { nagArn } from './deploy-state-machine.ts';
import { RunwayFunction } from './runway-function.ts';

export interface TrainingPipelineProps {
  trackingTable: ITable;
  registryTable: ITable;
  artifactBucket: IBucket;
  /**
   * The data steps' access to the artifact bucket: read any object, write run artifacts, delete
   * nothing (`StatefulStack.pipelineArtifactPolicy`).
   */
  artifactPolicy: IManagedPolicy;
  /** The training job's S3 access (`StatefulStack.trainingJobDataPolicy`). */
  trainingJobDataPolicy: IManagedPolicy;
  /**
   * ECR repositories (names, this account and region) SageMaker training images may come from: the
   * training job's role pulls from these only, and Prepare refuses other images. @default none
   */
  trainingImageRepositories?: readonly string[];
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
  /** What the state machine's role needs for the training job task (added once the machine exists). */
  private trainingJobStatements: PolicyStatement[] = [];

  constructor(scope: Construct, id: string, props: TrainingPipelineProps) {
    super(scope, id);
    const functions: Record<string, RunwayFunction> = {};
    const dataMemory = props.dataStepMemorySize ?? 2048;
    // The run's items and its metrics' histories; Prepare also finds or creates the experiment.
    const runItems = [runKeys.partition('*'), runKeys.history('*', '').replace(/#\*#$/, '#*')];
    const step = (
      name: string,
      entry: string,
      description: string,
      access: {
        registry?: 'read' | 'readWrite';
        artifacts?: boolean;
        events?: boolean;
        data?: boolean;
        experiments?: boolean;
      },
    ) => {
      const fn = new RunwayFunction(this, `${name}Function`, {
        entry,
        description: `Training pipeline: ${description}`,
        ...(access.data ? { memorySize: dataMemory, timeout: Duration.minutes(5) } : { memorySize: 512 }),
      }).bindTable(props.trackingTable, {
        accessMode: 'readWrite',
        envName: 'TRACKING_TABLE_NAME',
        leadingKeys: access.experiments
          ? [
              experimentKeys.item('*').pk,
              `${experimentKeys.nameClaim('').pk.split('#')[0]}#*`,
              experimentKeys.counter.pk,
              runKeys.partition('*'),
            ]
          : runItems,
      });
      // Every step reaches the run's artifacts by key under the bucket (finish and failure only log).
      fn.addEnvironment('ARTIFACT_BUCKET_NAME', props.artifactBucket.bucketName);
      if (access.artifacts) fn.bindPolicy(props.artifactPolicy);
      if (access.registry) {
        fn.bindTable(props.registryTable, {
          accessMode: access.registry,
          envName: 'REGISTRY_TABLE_NAME',
          leadingKeys: [registryKeys.partition('*')],
          indexes: { gsi1: REGISTRY_LISTINGS },
        });
      }
      if (access.events) fn.bindEventBus(props.eventBus, { envName: 'EVENT_BUS_NAME' });
      functions[name] = fn;
      return fn;
    };

    const prepare = step('Prepare', 'functions/pipeline-prepare.ts', 'validate the input, start the run', {
      experiments: true,
    });
    const timeout = props.timeout ?? Duration.hours(2);
    const stack = Stack.of(this);
    const repositories = (props.trainingImageRepositories ?? []).map((name) => ({
      uri: `${stack.account}.dkr.ecr.${stack.region}.${stack.urlSuffix}/${name}`,
      arn: stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: name }),
    }));
    prepare.addEnvironment('TRAINING_IMAGE_REPOSITORIES', repositories.map((r) => r.uri).join(','));
    // A training job ends (SageMaker stops it) a quarter of an hour before the execution would time out.
    prepare.addEnvironment('TRAINING_MAX_RUNTIME_SECONDS', String(Math.max(60, timeout.toSeconds() - 900)));
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
    const onFailure = <T extends LambdaInvoke | CustomState>(task: T, withRun: boolean): T => {
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
            onFailure(
              this.sageMakerTraining(
                props,
                repositories.map((r) => r.arn),
              ),
              true,
            ).next(stepTask('ImportModel', importModel, '$.training')),
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
      timeout,
      tracingEnabled: true,
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: true },
    });
    this.functions = functions;
    // CDK grants lambda:InvokeFunction on each function and `<function>:*` (its versions and aliases),
    // and X-Ray writes, which have no resource-level permissions.
    const role = this.stateMachine.role;
    for (const statement of this.trainingJobStatements) this.stateMachine.addToRolePolicy(statement);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords and log delivery support no resource-level permissions',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(this, 'sagemaker', 'training-job/runway-*')}]`,
      reason: 'The .sync integration creates, describes and stops the training jobs named runway-<run id>',
    });
    for (const fn of Object.values(functions)) {
      const logicalId = stack.getLogicalId(fn.node.defaultChild as CfnFunction);
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason: 'Step Functions may invoke the step function by qualified ARN (its versions), as CDK grants',
      });
    }
  }

  /**
   * The SageMaker trainer: a training job (`.sync`: the task waits for it, and Step Functions stops it
   * when the execution is stopped or times out) running the input's container on the split's `train`
   * and `test` channels with the input's instance type and count, volume size and run time limit
   * (SageMaker stops it then), writing its model under the run's artifacts. A Task state written
   * out (`CustomState`), so that nothing grants more than it says: the job's role reads the split's
   * CSV files and writes the job's output under the run's artifacts, pulls from the allowed
   * repositories, writes its logs; the container runs without network access.
   */
  private sageMakerTraining(props: TrainingPipelineProps, repositoryArns: string[]): CustomState {
    const stack = Stack.of(this);
    const role = new Role(this, 'TrainingJobRole', {
      assumedBy: sageMakerPrincipal(this),
      description: 'Runs user training containers of the Runway training pipeline',
      // The split's CSV files and the job's output, under the run's artifacts (reviewed beside the bucket).
      managedPolicies: [props.trainingJobDataPolicy],
    });
    role.addToPolicy(new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
    if (repositoryArns.length > 0) {
      role.addToPolicy(
        new PolicyStatement({
          actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
          resources: repositoryArns,
        }),
      );
    }
    const logGroups = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: '/aws/sagemaker/TrainingJobs:*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroups],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/TrainingJobs' } },
      }),
    );
    const where = (token: string, placeholder: string) => (Token.isUnresolved(token) ? placeholder : token);
    const region = where(stack.region, '<AWS::Region>');
    const account = where(stack.account, '<AWS::AccountId>');
    const partition = where(stack.partition, '<AWS::Partition>');
    const acknowledge = (resource: string, reason: string) =>
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
    acknowledge(
      '*',
      'ecr:GetAuthorizationToken has no resource-level permissions; cloudwatch:PutMetricData is bound to its namespace',
    );
    acknowledge(
      `arn:${partition}:logs:${region}:${account}:log-group:/aws/sagemaker/TrainingJobs:*`,
      'SageMaker writes training job logs to streams it names in this log group',
    );

    const jobs = stack.formatArn({
      service: 'sagemaker',
      resource: 'training-job',
      resourceName: 'runway-*',
    });
    this.trainingJobStatements = [
      new PolicyStatement({
        actions: [
          'sagemaker:CreateTrainingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:AddTags',
        ],
        resources: [jobs],
      }),
      // As AWS's policy for the .sync integration names it (read only).
      new PolicyStatement({ actions: ['sagemaker:ListTags'], resources: ['*'] }),
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
      // The managed rule through which Step Functions learns that the job ended.
      new PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [
          stack.formatArn({
            service: 'events',
            resource: 'rule',
            resourceName: 'StepFunctionsGetEventsForSageMakerTrainingJobsRule',
          }),
        ],
      }),
    ];
    const channel = (name: string, path: string) => ({
      ChannelName: name,
      ContentType: 'text/csv',
      DataSource: { S3DataSource: { 'S3Uri.$': path, S3DataType: 'S3Prefix' } },
    });
    const task = new CustomState(this, 'TrainInSageMaker', {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${stack.partition}:states:::sagemaker:createTrainingJob.sync`,
        Parameters: {
          'TrainingJobName.$': "States.Format('runway-{}', $.run.runId)",
          RoleArn: role.roleArn,
          AlgorithmSpecification: { 'TrainingImage.$': '$.config.trainer.image', TrainingInputMode: 'File' },
          InputDataConfig: [channel('train', '$.split.trainS3Uri'), channel('test', '$.split.testS3Uri')],
          OutputDataConfig: { 'S3OutputPath.$': '$.split.outputS3Uri' },
          ResourceConfig: {
            'InstanceCount.$': '$.config.trainer.instanceCount',
            'InstanceType.$': '$.config.trainer.instanceType',
            'VolumeSizeInGB.$': '$.config.trainer.volumeSizeGb',
          },
          StoppingCondition: { 'MaxRuntimeInSeconds.$': '$.config.trainer.maxRuntimeSeconds' },
          HyperParameters: {
            'target_column.$': '$.config.targetColumn',
            'model_type.$': '$.config.modelType',
          },
          EnableNetworkIsolation: true,
          Tags: [{ Key: 'runway:pipeline', Value: 'training' }],
        },
        ResultSelector: {
          'trainingJobName.$': '$.TrainingJobName',
          'modelArtifacts.$': '$.ModelArtifacts.S3ModelArtifacts',
        },
        ResultPath: '$.sagemaker',
      },
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
    const stack = Stack.of(fn);
    for (const bucket of buckets) {
      Validations.of(fn.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResource(stack, bucket.arnForObjects('*'))}]`,
        reason:
          'Datasets are objects under arbitrary keys of the buckets the pipeline was given; only GetObject',
      });
    }
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

/** A resource as cdk-nag prints it in a finding's id (`<LogicalId.Arn>/*`, literal ARNs as they are). */
function nagResource(stack: Stack, resource: string): string {
  const resolved = stack.resolve(resource) as unknown;
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const value = part as Record<string, unknown>;
    if (value['Fn::GetAtt']) return `<${(value['Fn::GetAtt'] as string[]).join('.')}>`;
    if (value.Ref) return `<${String(value.Ref)}>`;
    if (value['Fn::Join']) return ((value['Fn::Join'] as [string, unknown[]])[1] ?? []).map(render).join('');
    return JSON.stringify(part);
  };
  return render(resolved);
}
