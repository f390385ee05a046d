import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { type IManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DELIVERABLE_REGISTRY_EVENTS } from '../../shared/registry/webhooks/registry-events.mapper.ts';
import { runKeys } from '../../shared/tracking/keys.ts';
import { loggedModelKeys } from '../../shared/tracking/logged-models/keys.ts';
import { RunwayFunction } from '../constructs/runway-function.ts';

/** The MLflow API prefixes; every MLflow route is served under both, as MLflow's server does. */
export const API_PREFIXES = ['/api/2.0', '/ajax-api/2.0'] as const;

/** The MLflow resources of the registry function; every other `mlflow/...` path is the tracking function's. */
const REGISTRY_RESOURCES = ['registered-models', 'model-versions'] as const;

/**
 * CDK context the local runtime sets when it synthesizes the app (`infra/local/synth.ts`). Functions
 * never ask where they run; the app reads this once and configures them (here: webhooks may reach
 * 127.0.0.1 over http locally, never on AWS).
 */
export const LOCAL_CONTEXT = 'runway:local';

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
  readonly webhooksFunction: RunwayFunction;
  readonly webhookDeliveryFunction: RunwayFunction;

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
      // It reads one item per listing, a run's or a logged model's (their artifact roots), nothing else.
      .allow(
        new PolicyStatement({
          actions: ['dynamodb:GetItem'],
          resources: [props.trackingTable.tableArn],
          conditions: {
            'ForAllValues:StringLike': {
              'dynamodb:LeadingKeys': [runKeys.partition('*'), loggedModelKeys.item('*').pk],
            },
          },
        }),
      );
    this.artifactsFunction.addEnvironment('TRACKING_TABLE_NAME', props.trackingTable.tableName);

    ({ api: this.webhooksFunction, delivery: this.webhookDeliveryFunction } = this.defineWebhooks(props));

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
    const webhooks = new HttpLambdaIntegration('WebhooksIntegration', this.webhooksFunction);
    const route = (path: string, integration: HttpLambdaIntegration) =>
      this.api.addRoutes({ path, methods: [HttpMethod.ANY], integration });
    for (const prefix of API_PREFIXES) {
      // API Gateway picks the most specific route: registry and artifact paths before the tracking catch-all.
      route(`${prefix}/mlflow/{proxy+}`, tracking);
      for (const resource of REGISTRY_RESOURCES) route(`${prefix}/mlflow/${resource}/{proxy+}`, registry);
      route(`${prefix}/mlflow/artifacts/{proxy+}`, artifacts);
      route(`${prefix}/mlflow-artifacts/{proxy+}`, artifacts);
      // A logged model's artifacts (MLflow 3: `artifacts/directories`, `artifacts/files`) need the bucket.
      route(`${prefix}/mlflow/logged-models/{model_id}/artifacts/{proxy+}`, artifacts);
      // `{proxy+}` needs at least one segment: create and list are `mlflow/webhooks` itself.
      route(`${prefix}/mlflow/webhooks`, webhooks);
      route(`${prefix}/mlflow/webhooks/{proxy+}`, webhooks);
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

  /**
   * MLflow's webhooks: the API function (CRUD and test) and delivery. Registry events reach the
   * delivery function through a rule on the Runway bus; a receiver that keeps failing becomes a dead
   * letter item in the registry table (the function retries it itself), and an event the function
   * could not handle at all (EventBridge could not invoke it, or it threw through Lambda's own
   * retries) lands in an SQS queue for an operator. Both functions may write only `WEBHOOK...` keys.
   */
  private defineWebhooks(props: ApiStackProps): { api: RunwayFunction; delivery: RunwayFunction } {
    const local = [true, 'true'].includes(this.node.tryGetContext(LOCAL_CONTEXT));
    // Unset on AWS: https only, public addresses only (the functions' defaults).
    const environment: Record<string, string> = local
      ? { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_ALLOWED_SCHEMES: 'http,https' }
      : {};
    const webhookItems = (actions: string[]) =>
      new PolicyStatement({
        actions,
        resources: [props.registryTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['WEBHOOK*'] } },
      });

    const api = new RunwayFunction(this, 'WebhooksFunction', {
      entry: 'functions/webhook-api.ts',
      description: "MLflow webhooks API; `test` calls the webhook's URL",
      memorySize: 512,
      environment,
    }).allow(
      webhookItems([
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
      ]),
    );
    api.addEnvironment('REGISTRY_TABLE_NAME', props.registryTable.tableName);

    const delivery = new RunwayFunction(this, 'WebhookDeliveryFunction', {
      entry: 'functions/webhook-delivery.ts',
      description: 'Delivers registry events to MLflow webhooks',
      memorySize: 512,
      // 3 attempts of at most 10 s each plus 1 s and 2 s of backoff, with room to spare.
      timeout: Duration.seconds(60),
      environment,
    })
      // Reads webhooks and the models payloads need; writes dead letters only.
      .bindTable(props.registryTable, { accessMode: 'read', envName: 'REGISTRY_TABLE_NAME' })
      .allow(webhookItems(['dynamodb:PutItem']));

    const deadLetters = new Queue(this, 'WebhookDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of webhook delivery; nothing consumes it but operators',
    });
    delivery.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(deadLetters),
    });
    new Rule(this, 'WebhookDeliveryRule', {
      eventBus: props.eventBus,
      description: 'Registry events that MLflow webhooks subscribe to',
      eventPattern: { source: ['runway.registry'], detailType: Object.keys(DELIVERABLE_REGISTRY_EVENTS) },
      targets: [
        new LambdaFunction(delivery, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: deadLetters,
        }),
      ],
    });
    return { api, delivery };
  }
}
