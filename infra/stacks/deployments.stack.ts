import { Stack, type StackProps } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { registryKeys } from '../../shared/registry/keys.ts';
import { type Alarms, alarmOnDeadLetters, notifyOnFailedExecutions } from '../constructs/alarms.ts';
import {
  allowSageMakerSweep,
  ContinuousDeployment,
  ENDPOINT_KEYS,
  type SageMakerSettings,
  sageMakerEnvironment,
} from '../constructs/continuous-deployment.ts';
import { RunwayFunction } from '../constructs/runway-function.ts';
import {
  type AccessSettings,
  API_PREFIXES,
  addApiRoutes,
  bindAccessChecks,
  LOCAL_CONTEXT,
  type RunwayApis,
  routeIdOf,
} from './api.stack.ts';

export interface DeploymentsStackProps extends StackProps {
  /** Runway's HTTP APIs (`ApiStack.apis`); this stack adds the endpoints routes to both. */
  apis: RunwayApis;
  /** The endpoints API checks access as the MLflow APIs do: an endpoint's grants are its model's. */
  access: AccessSettings;
  deploymentsTable: ITable;
  /** Read only: an endpoint must follow a registered model that exists. */
  registryTable: ITable;
  /** Registry promotions come from it; deployments events go to it. */
  eventBus: IEventBus;
  /** Model files, which deploys check and SageMaker reads. */
  artifactBucket: IBucket;
  /** Read-only access to the artifact bucket (`StatefulStack.artifactReadPolicy`). */
  artifactReadPolicy: IManagedPolicy;
  /** `StatefulStack.sageMakerModelPolicy`: SageMaker endpoints' model reads. */
  sageMakerModelPolicy: IManagedPolicy;
  /** What SageMaker endpoints may cost, and where their images come from. */
  sagemaker: SageMakerSettings;
  /** Where the dead-letter and failed-deploy alarms go. */
  alarms: Alarms;
}

/**
 * Continuous deployment: the endpoints resource (its API function and routes on both Runway HTTP APIs)
 * and, with the deploy context, the deploy state machine. Stateless: the tables come from the
 * stateful stack, the API from the API stack, so this stack can be replaced without losing anything.
 */
export class DeploymentsStack extends Stack {
  readonly deploymentsFunction: RunwayFunction;
  readonly continuousDeployment: ContinuousDeployment;

  constructor(scope: Construct, id: string, props: DeploymentsStackProps) {
    super(scope, id, props);
    const local = [true, 'true'].includes(this.node.tryGetContext(LOCAL_CONTEXT));

    this.deploymentsFunction = new RunwayFunction(this, 'DeploymentsFunction', {
      entry: 'functions/deployments-api.ts',
      description: 'Runway endpoints API: endpoints, their rollout policy and deployment history',
      memorySize: 512,
      // The local runtime has no SageMaker: endpoints with target sagemaker are refused there, with
      // a message that says so. Unset on AWS (the function's default: enabled).
      environment: {
        ...(local ? { SAGEMAKER_TARGET_ENABLED: 'false' } : {}),
        ...sageMakerEnvironment(this, props.sagemaker),
      },
    })
      // Endpoint partitions and the two listings; the registry's models (it checks the model exists).
      .bindTable(props.deploymentsTable, {
        accessMode: 'readWrite',
        envName: 'DEPLOYMENTS_TABLE_NAME',
        leadingKeys: ENDPOINT_KEYS.leadingKeys,
        indexes: ENDPOINT_KEYS.indexes,
        writes: ['PutItem', 'UpdateItem', 'DeleteItem'],
      })
      .bindTable(props.registryTable, {
        accessMode: 'read',
        envName: 'REGISTRY_TABLE_NAME',
        leadingKeys: [registryKeys.partition('*')],
      });
    // A deleted SageMaker endpoint's first teardown pass runs in the DELETE itself (billing stops then).
    allowSageMakerSweep(this.deploymentsFunction);

    this.continuousDeployment = new ContinuousDeployment(this, 'ContinuousDeployment', {
      deploymentsTable: props.deploymentsTable,
      registryTable: props.registryTable,
      eventBus: props.eventBus,
      artifactBucket: props.artifactBucket,
      artifactReadPolicy: props.artifactReadPolicy,
      sageMakerModelPolicy: props.sageMakerModelPolicy,
      sagemaker: props.sagemaker,
    });
    alarmOnDeadLetters(
      this,
      'DeployTriggerDeadLetterAlarm',
      this.continuousDeployment.deadLetterQueue,
      props.alarms,
      'A promotion event the deploy trigger',
    );
    notifyOnFailedExecutions(
      this,
      'DeployFailedRule',
      this.continuousDeployment.stateMachine,
      props.alarms,
      'deploy',
    );
    // Manual deploys (`POST .../deploy`) start the same state machine.
    const deployMachine = this.continuousDeployment.stateMachine;
    this.deploymentsFunction.addEnvironment('DEPLOY_STATE_MACHINE_ARN', deployMachine.stateMachineArn);
    deployMachine.grantStartExecution(this.deploymentsFunction);

    // The list filters to the caller's readable models (a grants Query), the rest read one grant.
    bindAccessChecks(this.deploymentsFunction, props.access, { searches: true });

    // `{proxy+}` needs at least one segment: create and list are `runway/endpoints` itself.
    const paths = API_PREFIXES.flatMap((prefix) => [
      `${prefix}/runway/endpoints`,
      `${prefix}/runway/endpoints/{proxy+}`,
    ]);
    addApiRoutes(this, props.apis, {
      fn: this.deploymentsFunction,
      integrationId: 'DeploymentsIntegration',
      routes: paths.map((path) => ({ id: `Route${routeIdOf(path)}`, path, method: HttpMethod.ANY })),
    });
  }
}
