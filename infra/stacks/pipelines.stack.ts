import { ArnFormat, CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { type IManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { CfnStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { DEFAULT_PIPELINE_NAME } from '../../shared/pipelines/model.ts';
import { type Alarms, notifyOnFailedExecutions } from '../constructs/alarms.ts';
import { nagArn } from '../constructs/deploy-state-machine.ts';
import { RunwayFunction } from '../constructs/runway-function.ts';
import { TrainingPipeline } from '../constructs/training-pipeline.ts';
import {
  type AccessSettings,
  API_PREFIXES,
  addApiRoutes,
  bindAccessChecks,
  type RunwayApis,
  routeIdOf,
} from './api.stack.ts';

export interface PipelinesStackProps extends StackProps {
  trackingTable: ITable;
  registryTable: ITable;
  artifactBucket: IBucket;
  /** `StatefulStack.pipelineArtifactPolicy`: read any object, write run artifacts, delete nothing. */
  artifactPolicy: IManagedPolicy;
  /** `StatefulStack.trainingJobDataPolicy`. */
  trainingJobDataPolicy: IManagedPolicy;
  eventBus: IEventBus;
  /** ECR repository names SageMaker training images may come from. */
  trainingImageRepositories: readonly string[];
  /** Where a failed or timed-out training execution is reported. */
  alarms: Alarms;
  /** Runway's HTTP APIs: this stack adds the pipelines API (`runway/pipelines/...`) to both. */
  apis: RunwayApis;
  /** The pipelines API checks access as the other APIs do (an execution's grants are its model's). */
  access: AccessSettings;
}

export { DEFAULT_PIPELINE_NAME };

/**
 * The ready training pipeline: one instance of {@link TrainingPipeline} for tabular models trained
 * by the built-in trainer on datasets in the artifact bucket. Teams add their own instances (other
 * dataset buckets, names, timeouts) in stacks of their own.
 */
export class PipelinesStack extends Stack {
  readonly training: TrainingPipeline;
  readonly pipelinesFunction: RunwayFunction;

  constructor(scope: Construct, id: string, props: PipelinesStackProps) {
    super(scope, id, props);
    this.training = new TrainingPipeline(this, 'Training', {
      trackingTable: props.trackingTable,
      registryTable: props.registryTable,
      artifactBucket: props.artifactBucket,
      artifactPolicy: props.artifactPolicy,
      trainingJobDataPolicy: props.trainingJobDataPolicy,
      eventBus: props.eventBus,
      trainingImageRepositories: props.trainingImageRepositories,
      stateMachineName: `${DEFAULT_PIPELINE_NAME}${id.startsWith('Runway-') ? '' : `-${id}`}`,
    });
    notifyOnFailedExecutions(
      this,
      'TrainingFailedRule',
      this.training.stateMachine,
      props.alarms,
      'training pipeline',
    );
    this.pipelinesFunction = this.definePipelinesApi(props);
    new CfnOutput(this, 'TrainingPipelineArn', {
      value: this.training.stateMachine.stateMachineArn,
      description: 'Start with `runway pipelines start` or StartExecution (input: see docs/pipelines.md)',
    });
  }

  /**
   * The pipelines API: token holders (the console) start, list and describe executions of this
   * pipeline, which they cannot do through Step Functions without AWS credentials. Its role may start
   * and list executions of this state machine and read its own executions only.
   */
  private definePipelinesApi(props: PipelinesStackProps): RunwayFunction {
    const machine = this.training.stateMachine;
    const fn = new RunwayFunction(this, 'PipelinesApiFunction', {
      entry: 'functions/pipelines-api.ts',
      description: 'Runway pipelines API: start, list and describe training pipeline executions',
      memorySize: 512,
    });
    fn.addEnvironment('PIPELINE_STATE_MACHINE_ARN', machine.stateMachineArn);
    fn.allow(
      new PolicyStatement({
        actions: ['states:StartExecution', 'states:ListExecutions', 'states:DescribeStateMachine'],
        resources: [machine.stateMachineArn],
      }),
    );
    fn.allow(
      new PolicyStatement({
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [
          Stack.of(this).formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${machine.stateMachineName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    const machineName = this.getLogicalId(machine.node.defaultChild as CfnStateMachine);
    Validations.of(fn.role ?? fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(this, 'states', `execution:<${machineName}.Name>:*`)}]`,
      reason:
        "Executions of the training pipeline's state machine are named per run: read those, nothing else",
    });
    // Reads grants of registered models (an execution is read as its model is) and lists a caller's.
    bindAccessChecks(fn, props.access, { searches: true });
    const paths = API_PREFIXES.flatMap((prefix) => [
      `${prefix}/runway/pipelines/executions`,
      `${prefix}/runway/pipelines/executions/{name}`,
    ]);
    addApiRoutes(this, props.apis, {
      fn,
      integrationId: 'PipelinesIntegration',
      routes: paths.flatMap((path) => [{ id: `Route${routeIdOf(path)}`, path, method: HttpMethod.ANY }]),
    });
    return fn;
  }
}
