import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { RunwayFunction } from '../constructs/runway-function.ts';

/** The MLflow API prefixes; every MLflow route is served under both, as MLflow's server does. */
export const API_PREFIXES = ['/api/2.0', '/ajax-api/2.0'] as const;

/** MLflow resources served by the tracking function, each as `<prefix>/mlflow/<resource>/{proxy+}`. */
const TRACKING_RESOURCES = ['experiments', 'runs', 'metrics'] as const;

export interface ApiStackProps extends StackProps {
  trackingTable: ITable;
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
      description: 'MLflow tracking API: experiments, runs, metrics',
    }).bindTable(props.trackingTable, {
      accessMode: 'readWrite',
      envName: 'TRACKING_TABLE_NAME',
      indexes: ['gsi1'],
    });

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
    for (const prefix of API_PREFIXES) {
      for (const resource of TRACKING_RESOURCES) {
        this.api.addRoutes({
          path: `${prefix}/mlflow/${resource}/{proxy+}`,
          methods: [HttpMethod.ANY],
          integration: tracking,
        });
      }
    }
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
