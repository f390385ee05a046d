import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IManagedPolicy } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { RunwayFunction } from '../constructs/runway-function.ts';

/** The MLflow API prefixes; every MLflow route is served under both, as MLflow's server does. */
export const API_PREFIXES = ['/api/2.0', '/ajax-api/2.0'] as const;

/** The MLflow resources of the registry function; every other `mlflow/...` path is the tracking function's. */
const REGISTRY_RESOURCES = ['registered-models', 'model-versions'] as const;

export interface ApiStackProps extends StackProps {
  trackingTable: ITable;
  registryTable: ITable;
  artifactBucket: IBucket;
  artifactAccessPolicy: IManagedPolicy;
  eventBus: IEventBus;
  /** Requests per second the API accepts before answering 429. @default 500 */
  rateLimit?: number;
  /** @default 1000 */
  burstLimit?: number;
}

/**
 * The HTTP API and the functions behind it. Every route requires IAM (SigV4) authorization: a
 * deployed Runway is never open. Routes are grouped per resource with `{proxy+}`, each group served
 * by its context's function, whose router answers the exact MLflow paths; anything else falls to
 * `$default`, which answers MLflow-style JSON 404s.
 */
export class ApiStack extends Stack {
  readonly api: HttpApi;
  readonly trackingFunction: RunwayFunction;
  readonly registryFunction: RunwayFunction;
  readonly artifactsFunction: RunwayFunction;
  readonly platformFunction: RunwayFunction;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const authorizer = new HttpIamAuthorizer();

    this.platformFunction = new RunwayFunction(this, 'PlatformFunction', {
      entry: 'functions/platform-api.ts',
      description: 'Runway /health, /version and the JSON 404 for unknown routes',
      memorySize: 256,
    });
    this.trackingFunction = new RunwayFunction(this, 'TrackingFunction', {
      entry: 'functions/tracking-api.ts',
      description: 'MLflow tracking API: experiments, runs, metrics, logged models',
    }).bindTable(props.trackingTable, {
      accessMode: 'readWrite',
      envName: 'TRACKING_TABLE_NAME',
      indexes: ['gsi1'],
    });
    this.registryFunction = new RunwayFunction(this, 'RegistryFunction', {
      entry: 'functions/registry-api.ts',
      description: 'MLflow model registry API; publishes registry events',
    })
      .bindTable(props.registryTable, {
        accessMode: 'readWrite',
        envName: 'REGISTRY_TABLE_NAME',
        indexes: ['gsi1'],
      })
      .bindTable(props.trackingTable, { accessMode: 'read', envName: 'TRACKING_TABLE_NAME' })
      .bindEventBus(props.eventBus, { envName: 'EVENT_BUS_NAME' });
    this.artifactsFunction = new RunwayFunction(this, 'ArtifactsFunction', {
      entry: 'functions/artifacts-api.ts',
      description: 'MLflow artifact proxy; large files go by presigned S3 URLs',
    })
      .bindPolicy(props.artifactAccessPolicy, {
        envName: 'ARTIFACT_BUCKET_NAME',
        value: props.artifactBucket.bucketName,
      })
      .bindTable(props.trackingTable, { accessMode: 'read', envName: 'TRACKING_TABLE_NAME' });

    this.api = new HttpApi(this, 'HttpApi', {
      description: 'Runway: MLflow-compatible tracking and registry API',
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
      defaultIntegration: new HttpLambdaIntegration('DefaultIntegration', this.platformFunction),
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.THREE_MONTHS });
    new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 500, burstLimit: props.burstLimit ?? 1000 },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs) },
    });

    const tracking = new HttpLambdaIntegration('TrackingIntegration', this.trackingFunction);
    const registry = new HttpLambdaIntegration('RegistryIntegration', this.registryFunction);
    const artifacts = new HttpLambdaIntegration('ArtifactsIntegration', this.artifactsFunction);
    const route = (path: string, integration: HttpLambdaIntegration) =>
      this.api.addRoutes({ path, methods: [HttpMethod.ANY], integration });
    for (const prefix of API_PREFIXES) {
      // API Gateway picks the most specific route: registry and artifact paths before the tracking catch-all.
      route(`${prefix}/mlflow/{proxy+}`, tracking);
      for (const resource of REGISTRY_RESOURCES) route(`${prefix}/mlflow/${resource}/{proxy+}`, registry);
      route(`${prefix}/mlflow/artifacts/{proxy+}`, artifacts);
      route(`${prefix}/mlflow-artifacts/{proxy+}`, artifacts);
    }
    // MLflow 3 serves its trace API under /api/3.0; Runway answers it 501 from the tracking function.
    route('/api/3.0/mlflow/{proxy+}', tracking);
    route('/ajax-api/3.0/mlflow/{proxy+}', tracking);
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.apiEndpoint,
      description: 'MLFLOW_TRACKING_URI for this Runway (requests must be SigV4-signed)',
    });
    const platform = new HttpLambdaIntegration('PlatformIntegration', this.platformFunction);
    for (const path of ['/health', '/version']) {
      this.api.addRoutes({ path, methods: [HttpMethod.GET], integration: platform });
    }
  }
}
