import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import {
  HttpApi,
  HttpAuthorizer,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  type IHttpApi,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import {
  HttpIamAuthorizer,
  HttpLambdaAuthorizer,
  HttpLambdaResponseType,
} from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
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
import { ACCESS_INDEXES, grantKeys, tokenKeys } from '../../shared/access/keys.ts';
import type { ResourceKind } from '../../shared/access/model.ts';
import { REGISTRY_LISTINGS, registryKeys } from '../../shared/registry/keys.ts';
import { DELIVERABLE_REGISTRY_EVENTS } from '../../shared/registry/webhooks/registry-events.mapper.ts';
import { experimentKeys, runKeys, TRACKING_INDEXES } from '../../shared/tracking/keys.ts';
import { loggedModelKeys } from '../../shared/tracking/logged-models/keys.ts';
import { DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME } from '../../shared/tracking/model.ts';
import { traceKeys } from '../../shared/tracking/traces/keys.ts';
import { type Alarms, alarmOnDeadLetters } from '../constructs/alarms.ts';
import { ConsoleHosting } from '../constructs/console-hosting.ts';
import { RunwayDistribution } from '../constructs/runway-distribution.ts';
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

/**
 * The IAM identity the local runtime reports for requests it serves without `--auth` (it cannot check
 * SigV4); the local app makes it an admin, so an unauthenticated local Runway behaves as today.
 */
export const LOCAL_IAM_PRINCIPAL = 'arn:aws:iam::000000000000:user/runway-local';

/** MLflow's `default_permission` levels, as the CDK app and its context name them. */
export type DefaultPermission = 'NO_PERMISSIONS' | 'READ' | 'USE' | 'EDIT' | 'MANAGE';

/** What a function of another stack needs to check access as the API functions do (`shared/access/`). */
export interface AccessSettings {
  /** Tokens and grants (`StatefulStack.accessTable`). */
  table: ITable;
  /** IAM principal ARNs (a trailing `*` matches a prefix) that are Runway admins. @default none */
  adminPrincipals?: readonly string[] | undefined;
  /** @default 'READ' */
  defaultPermission?: DefaultPermission | undefined;
}

/**
 * Runway's two HTTP APIs as other stacks add routes to them (`addApiRoutes`): the IAM API and the
 * token API with the id of its Lambda authorizer. Ids only, so those stacks depend on this one and
 * never the reverse.
 */
export interface RunwayApis {
  iam: IHttpApi;
  token: IHttpApi;
  tokenAuthorizerId: string;
}

/**
 * Configures `fn` to check access (`createHttpHandler`'s default, or `shared/serving/`): the admin
 * principals (with the local runtime's IAM identity when synthesized for it, as for the API
 * functions), the default permission, the access table's name, and reads of grants only: GetItem of
 * the grant items of `kinds` (`MODEL#`, `EXP#`; never a token), and with `searches` the Query of GSI1
 * that filters a listing to the caller's readable resources (its partition is the user's:
 * `GRANTS#<user>`).
 */
export function bindAccessChecks(
  fn: RunwayFunction,
  access: AccessSettings,
  options: { searches: boolean; kinds?: readonly ResourceKind[] },
): void {
  fn.addEnvironment('RUNWAY_ADMIN_PRINCIPALS', adminPrincipals(fn, access.adminPrincipals).join(','));
  fn.addEnvironment('RUNWAY_DEFAULT_PERMISSION', access.defaultPermission ?? 'READ');
  fn.addEnvironment('ACCESS_TABLE_NAME', access.table.tableName);
  const byLeadingKeys = (actions: string[], resource: string, patterns: string[]) =>
    new PolicyStatement({
      actions,
      resources: [resource],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': patterns } },
    });
  const kinds = options.kinds ?? ['registered_model'];
  fn.allow(
    byLeadingKeys(
      ['dynamodb:GetItem'],
      access.table.tableArn,
      kinds.map((kind) => grantKeys.leadingKeyPatterns[kind]),
    ),
  );
  if (options.searches) {
    fn.allow(
      byLeadingKeys(['dynamodb:Query'], `${access.table.tableArn}/index/${ACCESS_INDEXES.gsi1}`, [
        `${grantKeys.userPartition('')}*`,
      ]),
    );
  }
}

/** True when the local runtime synthesizes the app (`LOCAL_CONTEXT`). */
function isLocal(scope: Construct): boolean {
  return [true, 'true'].includes(scope.node.tryGetContext(LOCAL_CONTEXT));
}

/** The admins functions are told of: the configured ones, and the local runtime's IAM identity there. */
function adminPrincipals(scope: Construct, configured: readonly string[] | undefined): string[] {
  return [...(configured ?? []), ...(isLocal(scope) ? [LOCAL_IAM_PRINCIPAL] : [])];
}

/**
 * Serves `fn` on `routes` of both APIs, from another stack: routes created outside the API's stack do
 * not inherit its default authorizer, so each names its own (IAM, or the token API's authorizer by
 * id). Ids of the IAM API's constructs are the given ones (stable for stacks that had only those);
 * the token API's are prefixed `Token`.
 */
export function addApiRoutes(
  scope: Construct,
  apis: RunwayApis,
  options: {
    fn: RunwayFunction;
    integrationId: string;
    routes: ReadonlyArray<{ id: string; path: string; method: HttpMethod }>;
  },
): void {
  const tokenAuthorizer = HttpAuthorizer.fromHttpAuthorizerAttributes(scope, 'TokenApiAuthorizer', {
    authorizerId: apis.tokenAuthorizerId,
    // A route's authorization type for Lambda authorizers (the authorizer's own type is REQUEST).
    authorizerType: 'CUSTOM',
  });
  const served = [
    { api: apis.iam, prefix: '', authorizer: new HttpIamAuthorizer() as IHttpRouteAuthorizer },
    { api: apis.token, prefix: 'Token', authorizer: tokenAuthorizer },
  ];
  for (const { api, prefix, authorizer } of served) {
    const integration = new HttpLambdaIntegration(`${prefix}${options.integrationId}`, options.fn);
    for (const route of options.routes) {
      new HttpRoute(scope, `${prefix}${route.id}`, {
        httpApi: api,
        routeKey: HttpRouteKey.with(route.path, route.method),
        integration,
        authorizer,
      });
    }
  }
}

/** A construct id from a route path: `/ajax-api/2.0/runway/endpoints/{proxy+}` -> `AjaxApi20RunwayEndpointsProxy`. */
export function routeIdOf(path: string): string {
  return path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

export interface ApiStackProps extends StackProps {
  trackingTable: ITable;
  registryTable: ITable;
  artifactBucket: IBucket;
  /** Where the public distribution and the console bucket write their logs (`StatefulStack.accessLogBucket`). */
  accessLogBucket: IBucket;
  /** The console's built bundle. @default `console/dist` */
  consoleBundleDir?: string;
  /** The artifact edge function's permissions (`StatefulStack.artifactEdgePolicy`). */
  artifactEdgePolicy: IManagedPolicy;
  /**
   * The us-east-1 stack id for the Lambda@Edge function and the function's literal name (unique per
   * Runway and home region). @default `<stack name>-Edge` and `<stack name>-ArtifactEdge-<region>`
   */
  edge?: { stackId: string; functionName: string };
  artifactAccessPolicy: IManagedPolicy;
  /** Span files of traces (`StatefulStack.traceSpansPolicy`). */
  traceSpansPolicy: IManagedPolicy;
  eventBus: IEventBus;
  /** Tokens and grants (`shared/access/`). */
  accessTable: ITable;
  /** IAM principal ARNs (a trailing `*` matches a prefix) that are Runway admins. @default none */
  adminPrincipals?: readonly string[];
  /** MLflow's `default_permission` for resources without a grant. @default 'READ' */
  defaultPermission?: DefaultPermission;
  /** Requests per second the API accepts before answering 429. @default 500 */
  rateLimit?: number;
  /** @default 1000 */
  burstLimit?: number;
  /** Where the webhook dead-letter alarm goes. */
  alarms: Alarms;
}

/**
 * The HTTP APIs and the functions behind them. A deployed Runway is never open, and one HTTP API route
 * has one authorizer, so the same routes and functions are served twice: `HttpApi` requires IAM
 * (SigV4: `MLFLOW_TRACKING_AWS_SIGV4`), `TokenApi` a Runway token checked by a Lambda authorizer
 * (`MLFLOW_TRACKING_TOKEN`, or username and token as Basic). Functions learn the caller from the
 * request context either way and check permissions themselves (`shared/access/`). Routes are grouped
 * per resource with `{proxy+}`, each group served by its context's function, whose router answers the
 * exact MLflow paths; anything else falls to `$default`, which answers MLflow-style JSON 404s.
 */
export class ApiStack extends Stack {
  readonly api: HttpApi;
  readonly tokenApi: HttpApi;
  /** Both APIs, for the routes of other stacks (`addApiRoutes`). */
  readonly apis: RunwayApis;
  readonly accessFunction: RunwayFunction;
  readonly authorizerFunction: RunwayFunction;
  readonly trackingFunction: RunwayFunction;
  readonly registryFunction: RunwayFunction;
  readonly artifactsFunction: RunwayFunction;
  readonly tracesFunction: RunwayFunction;
  readonly platformFunction: RunwayFunction;
  readonly webhooksFunction: RunwayFunction;
  readonly webhookDeliveryFunction: RunwayFunction;
  /** The console's bucket and behaviour (the public distribution's default). */
  readonly console: ConsoleHosting;
  /** Runway's public URL: the token API and artifacts of any size (`docs/artifacts.md`). */
  readonly publicDistribution: RunwayDistribution;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);

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
      indexes: ['gsi1', 'gsi2'],
    });
    this.registryFunction = new RunwayFunction(this, 'RegistryFunction', {
      entry: 'functions/registry-api.ts',
      description: 'MLflow model registry API; publishes registry events',
    })
      // Models, their versions and aliases (never the webhooks' items, whose secrets it has no use for),
      // the three listings of GSI1, and the run item a version's `runs:/` source names.
      .bindTable(props.registryTable, {
        accessMode: 'readWrite',
        envName: 'REGISTRY_TABLE_NAME',
        leadingKeys: [registryKeys.partition('*')],
        indexes: { gsi1: REGISTRY_LISTINGS },
      })
      // The run a `runs:/` source names and the logged model a `models:/` source names (read).
      .bindTable(props.trackingTable, {
        accessMode: 'read',
        envName: 'TRACKING_TABLE_NAME',
        leadingKeys: [runKeys.partition('*'), loggedModelKeys.item('*').pk],
      })
      .bindEventBus(props.eventBus, { envName: 'EVENT_BUS_NAME' })
      // A version made from an MLflow 3 logged model is listed in the model's `mlflow.modelVersions`
      // tag, as MLflow's server does: one conditional UpdateItem of logged-model items, nothing else.
      .allow(
        new PolicyStatement({
          actions: ['dynamodb:UpdateItem'],
          resources: [props.trackingTable.tableArn],
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [loggedModelKeys.item('*').pk] },
          },
        }),
      );
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
    this.tracesFunction = this.defineTraces(props);

    ({ api: this.webhooksFunction, delivery: this.webhookDeliveryFunction } = this.defineWebhooks(props));

    this.accessFunction = new RunwayFunction(this, 'AccessFunction', {
      entry: 'functions/access-api.ts',
      description: 'Runway tokens and MLflow permission endpoints',
      memorySize: 512,
    }).bindTable(props.accessTable, {
      accessMode: 'readWrite',
      envName: 'ACCESS_TABLE_NAME',
      indexes: ['gsi1'],
    });
    this.authorizerFunction = new RunwayFunction(this, 'AuthorizerFunction', {
      entry: 'functions/authorizer.ts',
      description: 'Checks Runway tokens for the token API',
      memorySize: 512,
      timeout: Duration.seconds(10),
    }).allow(
      new PolicyStatement({
        actions: ['dynamodb:GetItem'],
        resources: [props.accessTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${tokenKeys.item('').pk}*`] } },
      }),
    );
    this.authorizerFunction.addEnvironment('ACCESS_TABLE_NAME', props.accessTable.tableName);
    this.bindAccess(props);

    this.api = this.defineApi('HttpApi', new HttpIamAuthorizer(), props, {
      description: 'Runway: MLflow-compatible tracking and registry API (IAM: SigV4-signed requests)',
    });
    const tokenAuthorizer = new HttpLambdaAuthorizer('TokenAuthorizer', this.authorizerFunction, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      // No identity source, so API Gateway calls the authorizer without an Authorization header too (it
      // would answer a bare 401 itself), and so no API Gateway cache, which needs one: the authorizer
      // caches its answers in its container for 60 s (the revocation delay, AUTHENTICATION_CACHE_MS).
      identitySource: [],
      resultsCacheTtl: Duration.seconds(0),
    });
    this.tokenApi = this.defineApi('TokenApi', tokenAuthorizer, props, {
      description: 'Runway: MLflow-compatible tracking and registry API (Runway tokens)',
    });
    // Bound by the token API's routes above, so its id exists.
    this.apis = { iam: this.api, token: this.tokenApi, tokenAuthorizerId: tokenAuthorizer.authorizerId };
    // The console is the public distribution's default behaviour: served from Runway's own URL, it
    // calls the API there, so nothing is cross-origin and the token API has no CORS. Locally the
    // runtime serves the console bucket from the bundle folder (`runway:content`): nothing to upload.
    this.console = new ConsoleHosting(this, 'Console', {
      logBucket: props.accessLogBucket,
      ...(props.consoleBundleDir ? { bundleDir: props.consoleBundleDir } : {}),
    });
    if (!isLocal(this)) this.console.deploy();
    this.publicDistribution = new RunwayDistribution(this, 'Public', {
      defaultBehavior: this.console.behavior,
      api: this.tokenApi,
      artifactBucket: props.artifactBucket,
      accessTable: props.accessTable,
      edgePolicy: props.artifactEdgePolicy,
      defaultPermission: props.defaultPermission ?? 'READ',
      logBucket: props.accessLogBucket,
      edgeStackId: props.edge?.stackId ?? `${this.stackName}-Edge`,
      edgeFunctionName: props.edge?.functionName ?? `${this.stackName}-ArtifactEdge-${this.region}`,
    });
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.apiEndpoint,
      description: 'MLFLOW_TRACKING_URI for SigV4 clients (MLFLOW_TRACKING_AWS_SIGV4=true)',
    });
  }

  /**
   * Every API function checks access (`shared/access/`): it reads grants, finds a run's experiment,
   * and the tracking and registry functions record their creators' MANAGE grants, writing only grant
   * items of their own resource kind.
   */
  private bindAccess(props: ApiStackProps): void {
    const admins = adminPrincipals(this, props.adminPrincipals);
    const grantWrites = (pattern: string, actions = ['dynamodb:PutItem']) =>
      new PolicyStatement({
        actions,
        resources: [props.accessTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [pattern] } },
      });
    const access: AccessSettings = {
      table: props.accessTable,
      adminPrincipals: props.adminPrincipals,
      defaultPermission: props.defaultPermission,
    };
    // Grants of experiments and models, never a token (the authorizer and the access API read those).
    const both: ResourceKind[] = ['experiment', 'registered_model'];
    bindAccessChecks(this.trackingFunction, access, { searches: true, kinds: both });
    bindAccessChecks(this.registryFunction, access, { searches: true, kinds: both });
    bindAccessChecks(this.artifactsFunction, access, { searches: false, kinds: both });
    // Traces check their experiments' grants; a trace search names its experiments, so it lists none.
    bindAccessChecks(this.tracesFunction, access, { searches: false, kinds: ['experiment'] });
    for (const fn of [this.accessFunction, this.webhooksFunction]) {
      fn.addEnvironment('RUNWAY_ADMIN_PRINCIPALS', admins.join(','));
      fn.addEnvironment('RUNWAY_DEFAULT_PERMISSION', props.defaultPermission ?? 'READ');
    }
    // Webhook routes are for admins only: the function never reads a grant.
    this.webhooksFunction.addEnvironment('ACCESS_TABLE_NAME', props.accessTable.tableName);
    this.trackingFunction.allow(grantWrites(grantKeys.leadingKeyPatterns.experiment));
    // A model's grants follow its name: moved on rename, dropped on delete.
    this.registryFunction.allow(
      grantWrites(grantKeys.leadingKeyPatterns.registered_model, ['dynamodb:PutItem', 'dynamodb:DeleteItem']),
    );
  }

  /** One HTTP API over the functions, every route behind `authorizer` but `/health` and `/version`. */
  private defineApi(
    id: string,
    authorizer: IHttpRouteAuthorizer,
    props: ApiStackProps,
    options: { description: string },
  ): HttpApi {
    // Construct ids of the first API stay as they were, so an update does not replace its integrations.
    const integration = (name: string, fn: RunwayFunction) =>
      new HttpLambdaIntegration(id === 'HttpApi' ? name : `${id}${name}`, fn);
    const api = new HttpApi(this, id, {
      description: options.description,
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
      defaultIntegration: integration('DefaultIntegration', this.platformFunction),
    });
    const accessLogs = new LogGroup(this, id === 'HttpApi' ? 'AccessLogs' : `${id}AccessLogs`, {
      retention: RetentionDays.THREE_MONTHS,
    });
    new HttpStage(this, id === 'HttpApi' ? 'DefaultStage' : `${id}DefaultStage`, {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 500, burstLimit: props.burstLimit ?? 1000 },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs) },
    });

    const tracking = integration('TrackingIntegration', this.trackingFunction);
    const registry = integration('RegistryIntegration', this.registryFunction);
    const artifacts = integration('ArtifactsIntegration', this.artifactsFunction);
    const traces = integration('TracesIntegration', this.tracesFunction);
    const webhooks = integration('WebhooksIntegration', this.webhooksFunction);
    const access = integration('AccessIntegration', this.accessFunction);
    const route = (path: string, target: HttpLambdaIntegration) =>
      api.addRoutes({ path, methods: [HttpMethod.ANY], integration: target });
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
      // MLflow's trace API (2.x endpoints MLflow 3's client still calls, such as tags and link-to-run).
      route(`${prefix}/mlflow/traces`, traces);
      route(`${prefix}/mlflow/traces/{proxy+}`, traces);
      // MLflow's permission endpoints and Runway's tokens.
      route(`${prefix}/mlflow/experiments/permissions/{proxy+}`, access);
      route(`${prefix}/mlflow/registered-models/permissions/{proxy+}`, access);
      route(`${prefix}/runway/tokens/{proxy+}`, access);
      // Who the caller is (the console's Access page, and its check of a token at sign-in).
      route(`${prefix}/runway/whoami`, access);
    }
    // MLflow 3 serves its trace API under /api/3.0; anything else there is the tracking function's
    // JSON 404 or 501.
    route('/api/3.0/mlflow/{proxy+}', tracking);
    route('/ajax-api/3.0/mlflow/{proxy+}', tracking);
    for (const prefix of ['/api/3.0', '/ajax-api/3.0']) {
      route(`${prefix}/mlflow/traces`, traces);
      route(`${prefix}/mlflow/traces/{proxy+}`, traces);
    }
    // The trace data MLflow's UI opens, and OTLP span ingestion (MLflow's `/v1/traces`).
    route('/ajax-api/2.0/mlflow/get-trace-artifact', traces);
    route('/v1/traces', traces);
    const platform = integration('PlatformIntegration', this.platformFunction);
    for (const path of ['/health', '/version']) {
      // Health checks carry no credentials (MLflow's auth leaves /health open too); both answer constants.
      const [healthRoute] = api.addRoutes({
        path,
        methods: [HttpMethod.GET],
        integration: platform,
        authorizer: new HttpNoneAuthorizer(),
      });
      Validations.of(healthRoute as HttpRoute).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: `${path} answers a constant (status or version) and is what load balancers and clients probe without credentials`,
      });
    }
    return api;
  }

  /**
   * MLflow 3 tracing: trace items in the tracking table (`TRACE#` keys, and the `#TRACES` index
   * partitions of experiments and runs), span files in the artifact bucket below `traces/` folders. It reads experiment
   * and run items (a trace's experiment and artifact root; link-to-run's run), and may write exactly
   * two items beside traces: the default experiment and its name claim, which MLflow creates on first
   * use and a first trace can be.
   */
  private defineTraces(props: ApiStackProps): RunwayFunction {
    const table = props.trackingTable.tableArn;
    const onKeys = (actions: string[], resource: string, patterns: string[]) =>
      new PolicyStatement({
        actions,
        resources: [resource],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': patterns } },
      });
    const fn = new RunwayFunction(this, 'TracesFunction', {
      entry: 'functions/traces-api.ts',
      description: 'MLflow 3 tracing: traces, assessments, OTLP span ingestion',
    })
      .bindPolicy(props.traceSpansPolicy, {
        envName: 'ARTIFACT_BUCKET_NAME',
        value: props.artifactBucket.bucketName,
      })
      .allow(
        onKeys(
          [
            'dynamodb:GetItem',
            'dynamodb:BatchGetItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:DeleteItem',
            'dynamodb:BatchWriteItem',
          ],
          table,
          [traceKeys.leadingKeyPatterns.item],
        ),
      )
      .allow(
        onKeys(['dynamodb:Query'], `${table}/index/${TRACKING_INDEXES.gsi1}`, [
          traceKeys.leadingKeyPatterns.experimentPartition,
          traceKeys.leadingKeyPatterns.runPartition,
        ]),
      )
      .allow(onKeys(['dynamodb:GetItem'], table, [experimentKeys.item('*').pk, runKeys.partition('*')]))
      .allow(
        onKeys(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], table, [
          experimentKeys.item(DEFAULT_EXPERIMENT_ID).pk,
          experimentKeys.nameClaim(DEFAULT_EXPERIMENT_NAME).pk,
        ]),
      );
    fn.addEnvironment('TRACKING_TABLE_NAME', props.trackingTable.tableName);
    return fn;
  }

  /**
   * MLflow's webhooks: the API function (CRUD and test) and delivery. Registry events reach the
   * delivery function through a rule on the Runway bus; a receiver that keeps failing becomes a dead
   * letter item in the registry table (the function retries it itself), and an event the function
   * could not handle at all (EventBridge could not invoke it, or it threw through Lambda's own
   * retries) lands in an SQS queue for an operator. Both functions may write only `WEBHOOK...` keys.
   */
  private defineWebhooks(props: ApiStackProps): { api: RunwayFunction; delivery: RunwayFunction } {
    const local = isLocal(this);
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
      .bindTable(props.registryTable, {
        accessMode: 'read',
        envName: 'REGISTRY_TABLE_NAME',
        leadingKeys: ['WEBHOOK*', registryKeys.partition('*')],
      })
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
    alarmOnDeadLetters(
      this,
      'WebhookDeadLetterAlarm',
      deadLetters,
      props.alarms,
      'A registry event webhook delivery could not handle',
    );
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
