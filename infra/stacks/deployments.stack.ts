import { Stack, type StackProps } from 'aws-cdk-lib';
import { HttpMethod, HttpRoute, HttpRouteKey, type IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DEPLOYMENT_INDEXES } from '../../shared/deployments/keys.ts';
import { ContinuousDeployment } from '../constructs/continuous-deployment.ts';
import { RunwayFunction } from '../constructs/runway-function.ts';
import { API_PREFIXES, LOCAL_CONTEXT } from './api.stack.ts';

export interface DeploymentsStackProps extends StackProps {
  /** The Runway HTTP API (`ApiStack.api`); this stack adds the endpoints routes to it. */
  api: IHttpApi;
  deploymentsTable: ITable;
  /** Read only: an endpoint must follow a registered model that exists. */
  registryTable: ITable;
  /** Registry promotions come from it; deployments events go to it. */
  eventBus: IEventBus;
  /** Model files, which deploys check and SageMaker reads. */
  artifactBucket: IBucket;
  /** Read-only access to the artifact bucket (`StatefulStack.artifactReadPolicy`). */
  artifactReadPolicy: IManagedPolicy;
}

/**
 * Continuous deployment: the endpoints resource (its API function and routes on the Runway HTTP API)
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
      environment: local ? { SAGEMAKER_TARGET_ENABLED: 'false' } : {},
    })
      .bindTable(props.deploymentsTable, {
        accessMode: 'readWrite',
        envName: 'DEPLOYMENTS_TABLE_NAME',
        indexes: Object.values(DEPLOYMENT_INDEXES),
      })
      .bindTable(props.registryTable, { accessMode: 'read', envName: 'REGISTRY_TABLE_NAME' });

    this.continuousDeployment = new ContinuousDeployment(this, 'ContinuousDeployment', {
      deploymentsTable: props.deploymentsTable,
      registryTable: props.registryTable,
      eventBus: props.eventBus,
      artifactBucket: props.artifactBucket,
      artifactReadPolicy: props.artifactReadPolicy,
    });
    // Manual deploys (`POST .../deploy`) start the same state machine.
    const deployMachine = this.continuousDeployment.stateMachine;
    this.deploymentsFunction.addEnvironment('DEPLOY_STATE_MACHINE_ARN', deployMachine.stateMachineArn);
    deployMachine.grantStartExecution(this.deploymentsFunction);

    // Routes are added here, in this stack, with the API's IAM authorizer (routes created outside the
    // API's own stack do not inherit its default authorizer), so the API stack never depends on this one.
    const integration = new HttpLambdaIntegration('DeploymentsIntegration', this.deploymentsFunction);
    const authorizer = new HttpIamAuthorizer();
    for (const prefix of API_PREFIXES) {
      // `{proxy+}` needs at least one segment: create and list are `runway/endpoints` itself.
      for (const path of [`${prefix}/runway/endpoints`, `${prefix}/runway/endpoints/{proxy+}`]) {
        new HttpRoute(this, `Route${routeId(path)}`, {
          httpApi: props.api,
          routeKey: HttpRouteKey.with(path, HttpMethod.ANY),
          integration,
          authorizer,
        });
      }
    }
  }
}

/** A construct id from a route path: `/ajax-api/2.0/runway/endpoints/{proxy+}` -> `AjaxApi20RunwayEndpointsProxy`. */
function routeId(path: string): string {
  return path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
