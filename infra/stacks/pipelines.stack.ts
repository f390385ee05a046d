import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DEFAULT_PIPELINE_NAME } from '../../shared/pipelines/model.ts';
import { type Alarms, notifyOnFailedExecutions } from '../constructs/alarms.ts';
import { TrainingPipeline } from '../constructs/training-pipeline.ts';

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
}

export { DEFAULT_PIPELINE_NAME };

/**
 * The ready training pipeline: one instance of {@link TrainingPipeline} for tabular models trained
 * by the built-in trainer on datasets in the artifact bucket. Teams add their own instances (other
 * dataset buckets, names, timeouts) in stacks of their own.
 */
export class PipelinesStack extends Stack {
  readonly training: TrainingPipeline;

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
    new CfnOutput(this, 'TrainingPipelineArn', {
      value: this.training.stateMachine.stateMachineArn,
      description: 'Start with `runway pipelines start` or StartExecution (input: see docs/pipelines.md)',
    });
  }
}
