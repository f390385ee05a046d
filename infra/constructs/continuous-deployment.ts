import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IEventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import {
  type IManagedPolicy,
  PolicyDocument,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DEPLOYMENT_INDEXES } from '../../shared/deployments/keys.ts';
import {
  ModelVersionAliasSet,
  ModelVersionStageTransitioned,
  REGISTRY_EVENT_SOURCE,
} from '../../shared/registry/events/index.ts';
import { ONNX_RUNTIME_FILES } from '../stacks/serving.stack.ts';
import { DEPLOY_TIMEOUT, DeployStateMachine, nagArn } from './deploy-state-machine.ts';
import { RunwayFunction } from './runway-function.ts';

export interface ContinuousDeploymentProps {
  deploymentsTable: ITable;
  /** Read only: what the registry names for the aliases and stages endpoints follow. */
  registryTable: ITable;
  /** Registry events come from it; deployments events go to it. */
  eventBus: IEventBus;
  /** Model files: the deploy steps and SageMaker read them. */
  artifactBucket: IBucket;
  /** Read-only access to the artifact bucket (`StatefulStack.artifactReadPolicy`). */
  artifactReadPolicy: IManagedPolicy;
  /** How often the reconciler compares the registry with the endpoints. @default 5 minutes */
  reconcileEvery?: Duration;
}

/**
 * Continuous deployment: a rule on the Runway bus sends promotion events (alias set, stage
 * transitioned) to the trigger function, which starts the deploy state machine for every endpoint
 * that follows the alias or stage; a schedule runs the reconciler, which starts the deploys events
 * missed. Executions are named after the registry change, so duplicates start nothing twice.
 */
export class ContinuousDeployment extends Construct {
  readonly stateMachine: StateMachine;
  readonly triggerFunction: RunwayFunction;
  readonly reconcilerFunction: RunwayFunction;
  readonly stepsFunction: RunwayFunction;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: ContinuousDeploymentProps) {
    super(scope, id);
    const indexes = Object.values(DEPLOYMENT_INDEXES);

    this.stepsFunction = new RunwayFunction(this, 'DeployStepsFunction', {
      entry: 'functions/deploy-steps.ts',
      description: 'Runway deploy state machine steps: resolve, check, smoke-test, traffic, canary, outcome',
      memorySize: 2048,
      // Loading and smoke-testing a model of up to 200 MB from S3.
      timeout: Duration.minutes(5),
      // CheckModel loads the model with ONNX Runtime, as the model server does.
      externalPackages: ONNX_RUNTIME_FILES,
      environment: { DEPLOY_MAX_DURATION_SECONDS: String(DEPLOY_TIMEOUT.toSeconds()) },
    })
      .bindTable(props.deploymentsTable, { accessMode: 'readWrite', envName: 'DEPLOYMENTS_TABLE_NAME' })
      .bindTable(props.registryTable, { accessMode: 'read', envName: 'REGISTRY_TABLE_NAME' })
      .bindEventBus(props.eventBus, { envName: 'EVENT_BUS_NAME' })
      .bindPolicy(props.artifactReadPolicy, {
        envName: 'ARTIFACT_BUCKET_NAME',
        value: props.artifactBucket.bucketName,
      });

    const deploy = new DeployStateMachine(this, 'Deploy', {
      stepsFunction: this.stepsFunction,
      sageMakerExecutionRole: this.sageMakerRole(props.artifactReadPolicy),
    });
    this.stateMachine = deploy.stateMachine;

    const starter = (name: string, entry: string, description: string) => {
      const fn = new RunwayFunction(this, name, {
        entry,
        description,
        memorySize: 512,
        timeout: Duration.minutes(1),
      })
        .bindTable(props.deploymentsTable, { accessMode: 'read', envName: 'DEPLOYMENTS_TABLE_NAME', indexes })
        .bindTable(props.registryTable, { accessMode: 'read', envName: 'REGISTRY_TABLE_NAME' });
      fn.addEnvironment('DEPLOY_STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
      this.stateMachine.grantStartExecution(fn);
      return fn;
    };
    this.triggerFunction = starter(
      'DeployTriggerFunction',
      'functions/deploy-trigger.ts',
      'Starts deploys for registry promotion events (alias set, stage transitioned)',
    );
    this.reconcilerFunction = starter(
      'DeployReconcilerFunction',
      'functions/deploy-reconciler.ts',
      'Starts the deploys that registry events missed',
    );

    this.deadLetterQueue = new Queue(this, 'DeployTriggerDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of the deploy trigger; the reconciler repairs what lands here',
    });
    this.triggerFunction.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    // Every alias and stage event of every model: which ones endpoints follow is data (the endpoints
    // table), not configuration, so the trigger filters.
    new Rule(this, 'PromotionRule', {
      eventBus: props.eventBus,
      description: 'Registry promotions that may move what an endpoint serves',
      eventPattern: {
        source: [REGISTRY_EVENT_SOURCE],
        detailType: [ModelVersionAliasSet.name, ModelVersionStageTransitioned.name],
      },
      targets: [
        new LambdaFunction(this.triggerFunction, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
    new Rule(this, 'ReconcileSchedule', {
      description: 'Compares what the registry names with what endpoints serve',
      schedule: Schedule.rate(props.reconcileEvery ?? Duration.minutes(5)),
      targets: [new LambdaFunction(this.reconcilerFunction, { retryAttempts: 0 })],
    });
  }

  /**
   * The role SageMaker assumes for Runway's endpoints: read model files, pull the serving image from
   * this account's ECR, write the endpoint's logs. Only the deploy state machine may pass it.
   */
  private sageMakerRole(artifactReadPolicy: IManagedPolicy): Role {
    const { account, region, partition } = Stack.of(this);
    const role = new Role(this, 'SageMakerExecutionRole', {
      assumedBy: new ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'Runway SageMaker endpoints: model files, serving image, logs',
      managedPolicies: [artifactReadPolicy],
      inlinePolicies: {
        serve: new PolicyDocument({
          statements: [
            // GetAuthorizationToken has no resource-level permissions.
            new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
            new PolicyStatement({
              actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
              resources: [`arn:${partition}:ecr:${region}:${account}:repository/*`],
            }),
            new PolicyStatement({
              actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [
                `arn:${partition}:logs:${region}:${account}:log-group:/aws/sagemaker/Endpoints/runway-*`,
              ],
            }),
            new PolicyStatement({ actions: ['cloudwatch:PutMetricData'], resources: ['*'] }),
          ],
        }),
      },
    });
    const acknowledge = (resource: string, reason: string) =>
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
    acknowledge(
      '*',
      'ecr:GetAuthorizationToken and cloudwatch:PutMetricData have no resource-level permissions',
    );
    acknowledge(
      nagArn(this, 'ecr', 'repository/*'),
      'The serving image is in a repository of this account that the endpoint names; only pull actions',
    );
    acknowledge(
      nagArn(this, 'logs', 'log-group:/aws/sagemaker/Endpoints/runway-*'),
      "SageMaker writes each endpoint's logs under its name; only Runway's runway-* endpoints",
    );
    return role;
  }
}
