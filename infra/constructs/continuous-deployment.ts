import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IEventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import {
  type IManagedPolicy,
  Policy,
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
import { deploymentKeys } from '../../shared/deployments/keys.ts';
import {
  ModelVersionAliasSet,
  ModelVersionStageTransitioned,
  REGISTRY_EVENT_SOURCE,
} from '../../shared/registry/events/index.ts';
import { registryKeys } from '../../shared/registry/keys.ts';
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
  /** SageMaker endpoints' model reads (`StatefulStack.sageMakerModelPolicy`). */
  sageMakerModelPolicy: IManagedPolicy;
  /** What SageMaker endpoints may cost, with the ECR repositories (by name) their images come from. */
  sagemaker: SageMakerSettings;
  /** How often the reconciler compares the registry with the endpoints. @default 5 minutes */
  reconcileEvery?: Duration;
}

/** The deployer's SageMaker spend bounds (`-c sagemakerInstanceTypes=... -c sagemakerMaxInstances=...`). */
export interface SageMakerSettings {
  instanceTypes: readonly string[];
  maxInstances: number;
  /** ECR repository names of this account and region that serving images may come from. */
  imageRepositoryNames: readonly string[];
}

/** What a deployments table grant names: endpoint partitions, and the two listings' partitions. */
export const ENDPOINT_KEYS = {
  leadingKeys: [deploymentKeys.partition('*')],
  indexes: {
    gsi1: [deploymentKeys.endpointsPartition, deploymentKeys.deletingPartition],
    gsi2: [deploymentKeys.modelPartition('*')],
  },
} as const;

/**
 * The environment of a function that checks or sweeps SageMaker endpoints: the spend bounds, the
 * image repositories as URIs, and the ARN prefix `ListTags` names resources with.
 */
export function sageMakerEnvironment(scope: Construct, settings: SageMakerSettings): Record<string, string> {
  const { account, region, urlSuffix } = Stack.of(scope);
  return {
    SAGEMAKER_INSTANCE_TYPES: settings.instanceTypes.join(','),
    SAGEMAKER_MAX_INSTANCES: String(settings.maxInstances),
    SAGEMAKER_IMAGE_REPOSITORIES: settings.imageRepositoryNames
      .map((name) => `${account}.dkr.ecr.${region}.${urlSuffix}/${name}`)
      .join(','),
    SAGEMAKER_ARN_PREFIX: sageMakerArnPrefix(scope),
  };
}

/** `arn:<partition>:sagemaker:<region>:<account>:` of the stack. */
function sageMakerArnPrefix(scope: Construct): string {
  const { partition, region, account } = Stack.of(scope);
  return `arn:${partition}:sagemaker:${region}:${account}:`;
}

/**
 * Lets `fn` sweep Runway's SageMaker resources: list them (the List APIs have no resource-level
 * permissions), read their tags, delete `runway-*` models, endpoint configs, endpoints and their
 * canary alarms. What the teardown of a deleted endpoint, pruning and the orphan sweep call.
 */
export function allowSageMakerSweep(fn: RunwayFunction): void {
  const stack = Stack.of(fn);
  const arn = (type: string) =>
    stack.formatArn({ service: 'sagemaker', resource: type, resourceName: 'runway-*' });
  fn.allow(
    new PolicyStatement({
      actions: ['sagemaker:ListModels', 'sagemaker:ListEndpointConfigs', 'sagemaker:ListEndpoints'],
      resources: ['*'],
    }),
  );
  fn.allow(
    new PolicyStatement({
      actions: [
        'sagemaker:DescribeEndpoint',
        'sagemaker:ListTags',
        'sagemaker:DeleteEndpoint',
        'sagemaker:DeleteEndpointConfig',
        'sagemaker:DeleteModel',
      ],
      resources: [arn('model'), arn('endpoint-config'), arn('endpoint')],
    }),
  );
  fn.allow(
    new PolicyStatement({
      actions: ['cloudwatch:DeleteAlarms'],
      resources: [
        stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: 'runway-*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    }),
  );
  const acknowledge = (resource: string, reason: string) =>
    Validations.of(fn.role ?? fn).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
  acknowledge('*', 'SageMaker List* calls have no resource-level permissions; X-Ray has none either');
  for (const type of ['model', 'endpoint-config', 'endpoint']) {
    acknowledge(
      nagArn(fn, 'sagemaker', `${type}/runway-*`),
      "Runway's SageMaker resources are named runway-<endpoint>...; nothing else",
    );
  }
  acknowledge(
    nagArn(fn, 'cloudwatch', 'alarm:runway-*'),
    "The endpoints' canary alarms are named runway-<endpoint>-canary-*",
  );
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
  readonly modelChecksFunction: RunwayFunction;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: ContinuousDeploymentProps) {
    super(scope, id);

    // The light steps: DynamoDB, EventBridge and SageMaker calls, no model in memory.
    this.stepsFunction = new RunwayFunction(this, 'DeployStepsFunction', {
      entry: 'functions/deploy-steps.ts',
      description: 'Runway deploy state machine steps: resolve, traffic, canary, prune, outcome',
      memorySize: 256,
      timeout: Duration.minutes(1),
      environment: {
        DEPLOY_MAX_DURATION_SECONDS: String(DEPLOY_TIMEOUT.toSeconds()),
        ...sageMakerEnvironment(this, props.sagemaker),
      },
    })
      .bindTable(props.deploymentsTable, {
        accessMode: 'readWrite',
        envName: 'DEPLOYMENTS_TABLE_NAME',
        leadingKeys: ENDPOINT_KEYS.leadingKeys,
        writes: ['PutItem', 'UpdateItem'],
      })
      .bindTable(props.registryTable, {
        accessMode: 'read',
        envName: 'REGISTRY_TABLE_NAME',
        leadingKeys: [registryKeys.partition('*')],
      })
      .bindEventBus(props.eventBus, { envName: 'EVENT_BUS_NAME' });
    this.stepsFunction.addEnvironment('ARTIFACT_BUCKET_NAME', props.artifactBucket.bucketName);
    allowSageMakerSweep(this.stepsFunction);

    // CheckModel and SmokeTest load the model with ONNX Runtime, as the model server does: a model of
    // up to 200 MB from S3, so the memory (and CPU) of the model server. They read model files only.
    this.modelChecksFunction = new RunwayFunction(this, 'DeployModelChecksFunction', {
      entry: 'functions/deploy-model-checks.ts',
      description: 'Runway deploy state machine model checks: load the model, answer its input example',
      memorySize: 2048,
      timeout: Duration.minutes(5),
      externalPackages: ONNX_RUNTIME_FILES,
    }).bindPolicy(props.artifactReadPolicy);

    const deploy = new DeployStateMachine(this, 'Deploy', {
      stepsFunction: this.stepsFunction,
      modelChecksFunction: this.modelChecksFunction,
      sageMakerExecutionRole: this.sageMakerRole(props),
      sageMakerInstanceTypes: props.sagemaker.instanceTypes,
    });
    this.stateMachine = deploy.stateMachine;
    // A releasing deploy resumes the ones queued for the endpoint (SendTaskSuccess). A policy of its
    // own: the function's default policy would make the function depend on the state machine, which
    // depends on the function.
    new Policy(this, 'DeployStepsCallbacks', {
      roles: [this.stepsFunction.role!],
      statements: [
        new PolicyStatement({
          actions: ['states:SendTaskSuccess'],
          resources: [this.stateMachine.stateMachineArn],
        }),
      ],
    });

    const starter = (name: string, entry: string, description: string) => {
      const fn = new RunwayFunction(this, name, {
        entry,
        description,
        memorySize: 512,
        timeout: Duration.minutes(1),
      })
        .bindTable(props.deploymentsTable, {
          accessMode: 'read',
          envName: 'DEPLOYMENTS_TABLE_NAME',
          leadingKeys: ENDPOINT_KEYS.leadingKeys,
          indexes: ENDPOINT_KEYS.indexes,
        })
        .bindTable(props.registryTable, {
          accessMode: 'read',
          envName: 'REGISTRY_TABLE_NAME',
          leadingKeys: [registryKeys.partition('*')],
        });
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
      'Starts the deploys that registry events missed; finishes SageMaker teardowns; removes orphans',
    );
    // It finishes the deletes of SageMaker endpoints (their items go once SageMaker's resources are
    // gone) and removes SageMaker resources no endpoint owns.
    this.reconcilerFunction
      .allow(
        new PolicyStatement({
          actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          resources: [props.deploymentsTable.tableArn],
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...ENDPOINT_KEYS.leadingKeys] },
          },
        }),
      )
      .addEnvironment('SAGEMAKER_ARN_PREFIX', sageMakerArnPrefix(this));
    allowSageMakerSweep(this.reconcilerFunction);

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
   * The role SageMaker assumes for Runway's endpoints (it runs the serving image the endpoint names):
   * read run and logged-model artifacts (`RUN_ARTIFACT_KEYS`) of the artifact bucket, pull from the
   * repositories the deployer allowed, write the endpoint's logs and its instance metrics. Assumable
   * by SageMaker for this account's resources only; only the deploy state machine may pass it.
   */
  private sageMakerRole(props: ContinuousDeploymentProps): Role {
    const stack = Stack.of(this);
    const { account, region, partition } = stack;
    const role = new Role(this, 'SageMakerExecutionRole', {
      assumedBy: sageMakerPrincipal(this),
      description: 'Runway SageMaker endpoints: model files, serving image, logs',
      // Model directories under run artifacts, reviewed beside the bucket.
      managedPolicies: [props.sageMakerModelPolicy],
      inlinePolicies: {
        serve: new PolicyDocument({
          statements: [
            // GetAuthorizationToken has no resource-level permissions.
            new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
            new PolicyStatement({
              actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
              resources: props.sagemaker.imageRepositoryNames.map(
                (name) => `arn:${partition}:ecr:${region}:${account}:repository/${name}`,
              ),
            }),
            new PolicyStatement({
              actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [
                `arn:${partition}:logs:${region}:${account}:log-group:/aws/sagemaker/Endpoints/runway-*`,
              ],
            }),
            // PutMetricData has no resource-level permissions; the namespace condition is its bound.
            new PolicyStatement({
              actions: ['cloudwatch:PutMetricData'],
              resources: ['*'],
              conditions: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/Endpoints' } },
            }),
          ],
        }),
      },
    });
    const acknowledge = (resource: string, reason: string) =>
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
    acknowledge(
      '*',
      'ecr:GetAuthorizationToken has no resource-level permissions; cloudwatch:PutMetricData is bound to its namespace',
    );
    acknowledge(
      nagArn(this, 'logs', 'log-group:/aws/sagemaker/Endpoints/runway-*'),
      "SageMaker writes each endpoint's logs under its name; only Runway's runway-* endpoints",
    );
    return role;
  }
}

/**
 * SageMaker as a role's principal, for resources of this account and region only (`aws:SourceAccount`,
 * `aws:SourceArn`): no other account's SageMaker job can be made to assume the role (confused deputy).
 */
export function sageMakerPrincipal(scope: Construct): ServicePrincipal {
  const stack = Stack.of(scope);
  return new ServicePrincipal('sagemaker.amazonaws.com', {
    conditions: {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:*` },
    },
  });
}
