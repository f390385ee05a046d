import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DEFAULT_PIPELINE_NAME } from '../../shared/pipelines/model.ts';
import { TrainingPipeline } from '../constructs/training-pipeline.ts';

export interface PipelinesStackProps extends StackProps {
  trackingTable: ITable;
  registryTable: ITable;
  artifactBucket: IBucket;
  artifactAccessPolicy: IManagedPolicy;
  eventBus: IEventBus;
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
      artifactAccessPolicy: props.artifactAccessPolicy,
      eventBus: props.eventBus,
      stateMachineName: `${DEFAULT_PIPELINE_NAME}${id.startsWith('Runway-') ? '' : `-${id}`}`,
    });
    new CfnOutput(this, 'TrainingPipelineArn', {
      value: this.training.stateMachine.stateMachineArn,
      description: 'Start with `runway pipelines start` or StartExecution (input: see docs/pipelines.md)',
    });
  }
}
