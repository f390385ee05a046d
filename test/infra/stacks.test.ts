import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { defineRunwayApp } from '../../infra/runway-app.ts';
import { synthRunway, templateOf } from '../support/synth.ts';

type Synth = ReturnType<typeof synthRunway>;

/** CDK's custom resource provider that reads an EdgeFunction's version ARN across regions. */
const CDK_EDGE_ARN_READER = 'CustomCrossRegionStringParameterReaderCustomResourceProvider';

/** The functions Runway's own code runs in (`runway:entry`), not CDK's deploy-time providers. */
function runwayFunctions(template: ReturnType<typeof templateOf>) {
  return Object.fromEntries(
    Object.entries(template.findResources('AWS::Lambda::Function')).filter(
      ([, fn]) => typeof fn.Metadata?.['runway:entry'] === 'string',
    ),
  );
}
let synth: Synth;
let stateful: ReturnType<typeof templateOf>;
let api: ReturnType<typeof templateOf>;

beforeAll(() => {
  synth = synthRunway();
  // Throws ValidationFailed when any cdk-nag finding is not acknowledged.
  synth.app.synth();
  stateful = templateOf(synth.stacks.stateful);
  api = templateOf(synth.stacks.api);
});

describe('cdk-nag', () => {
  it('passes AwsSolutions with no unacknowledged finding (synth above would have thrown)', () => {
    expect(synth.stacks.api.stackName).toBe('Runway-Api');
  });

  it('really runs: an unencrypted, unlogged bucket fails the synth', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Bad');
    new Bucket(stack, 'Open');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});

describe('stateful stack', () => {
  it('is protected from deletion and keeps its data', () => {
    expect(synth.stacks.stateful.terminationProtection).toBe(true);
    stateful.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
      }),
    });
  });

  it('gives every table, the access table included, point-in-time recovery, deletion protection and encryption', () => {
    const tables = Object.entries(stateful.findResources('AWS::DynamoDB::Table'));
    expect(tables.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(
      expect.arrayContaining(['AccessTable', 'RegistryTable', 'TrackingTable']),
    );
    for (const [id, table] of tables) {
      expect({ id, ...table.Properties, DeletionPolicy: table.DeletionPolicy }).toMatchObject({
        id,
        DeletionPolicy: 'Retain',
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
    }
  });

  it('defines the tracking table keys the code uses', () => {
    stateful.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        }),
      ],
    });
  });

  it('keeps the artifact bucket private, encrypted, versioned, TLS-only and logged', () => {
    stateful.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'artifacts/' }),
      BucketEncryption: Match.anyValue(),
    });
    stateful.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('has the event bus and an archive of Runway events', () => {
    stateful.resourceCountIs('AWS::Events::EventBus', 1);
    stateful.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: { source: [{ prefix: 'runway.' }] },
      RetentionDays: 30,
    });
  });
});

/**
 * CDK's BucketDeployment provider (uploads the console's bundle at deploy time; created by aws-cdk-lib,
 * not a Runway function): what it may do is pinned in `test/infra/console.test.ts`.
 */
const isCdkUploader = (logicalId: string) => logicalId.startsWith('CustomCDKBucketDeployment');
const runwayOwned = <T>(resources: Record<string, T>): T[] =>
  Object.entries(resources)
    .filter(([id]) => !isCdkUploader(id))
    .map(([, resource]) => resource);

describe('API stack', () => {
  it('requires IAM on one API and a token on the other, on every route but /health and /version', () => {
    const routes = api.findResources('AWS::ApiGatewayV2::Route');
    expect(Object.keys(routes).length).toBeGreaterThan(0);
    const apis = api.findResources('AWS::ApiGatewayV2::Api');
    const apiIdOf = (name: string) => Object.keys(apis).find((id) => id.startsWith(name));
    const authorizers = api.findResources('AWS::ApiGatewayV2::Authorizer');
    expect(Object.values(authorizers)).toHaveLength(1);
    for (const route of Object.values(routes)) {
      const { RouteKey, AuthorizationType, ApiId, AuthorizerId } = route.Properties;
      if (RouteKey === 'GET /health' || RouteKey === 'GET /version') {
        expect(AuthorizationType).toBe('NONE');
      } else if (ApiId.Ref === apiIdOf('HttpApi')) {
        expect(AuthorizationType).toBe('AWS_IAM');
      } else {
        expect(ApiId.Ref).toBe(apiIdOf('TokenApi'));
        expect({ RouteKey, AuthorizationType }).toEqual({ RouteKey, AuthorizationType: 'CUSTOM' });
        expect(AuthorizerId.Ref).toBe(Object.keys(authorizers)[0]);
      }
    }
    // No identity source and no API Gateway cache: the authorizer runs on every request, with or
    // without an Authorization header (API Gateway would answer a missing one with its own bare 401),
    // and caches in its container instead.
    const [tokenAuthorizer] = Object.values(authorizers);
    expect(tokenAuthorizer?.Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      AuthorizerResultTtlInSeconds: 0,
      EnableSimpleResponses: true,
      AuthorizerPayloadFormatVersion: '2.0',
    });
    expect(tokenAuthorizer?.Properties.IdentitySource).toEqual([]);
    const keys = Object.values(routes).map((route) => route.Properties.RouteKey);
    expect(keys).toEqual(
      expect.arrayContaining([
        '$default',
        'GET /health',
        'ANY /api/2.0/mlflow/{proxy+}',
        'ANY /ajax-api/2.0/mlflow/{proxy+}',
        'ANY /api/2.0/mlflow/registered-models/{proxy+}',
        'ANY /ajax-api/2.0/mlflow/model-versions/{proxy+}',
        'ANY /api/2.0/mlflow-artifacts/{proxy+}',
        'ANY /api/2.0/mlflow/artifacts/{proxy+}',
        'ANY /api/2.0/mlflow/logged-models/{model_id}/artifacts/{proxy+}',
        'ANY /ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/{proxy+}',
        'ANY /api/3.0/mlflow/{proxy+}',
        'ANY /api/2.0/mlflow/experiments/permissions/{proxy+}',
        'ANY /api/2.0/runway/tokens/{proxy+}',
      ]),
    );
  });

  it('lets the authorizer read token items only, and API functions write grants of their own kind only', () => {
    const policies = Object.entries(api.findResources('AWS::IAM::Policy'));
    const statementsOf = (prefix: string) =>
      policies
        .filter(([id]) => id.startsWith(prefix))
        .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);
    const authorizer = statementsOf('AuthorizerFunctionRole').filter((s) =>
      JSON.stringify(s).includes('dynamodb'),
    );
    expect(authorizer).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:GetItem',
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TOKEN#*'] } },
      }),
    ]);
    const leadingKeys = (prefix: string) =>
      statementsOf(prefix)
        .filter((s) => s.Condition)
        .map((s) => s.Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys']);
    // Reads of grants (experiments' and models', never a token), and writes of their own kind only.
    expect(leadingKeys('TrackingFunctionRole')).toEqual([['EXP#*', 'MODEL#*'], ['GRANTS#*'], ['EXP#*']]);
    // Registry: models and its listings, the runs and logged models versions come from, the
    // `mlflow.modelVersions` tag of logged models (UpdateItem only), grants.
    expect(leadingKeys('RegistryFunctionRole')).toEqual([
      ['MODEL#*'],
      ['MODELS', 'VERSIONS', 'ALIASES'],
      ['RUN#*', 'LM#*'],
      ['LM#*'],
      ['EXP#*', 'MODEL#*'],
      ['GRANTS#*'],
      ['MODEL#*'],
    ]);
    const trackingWrites = statementsOf('RegistryFunctionRole').filter(
      (s) =>
        JSON.stringify(s.Condition ?? {}).includes('LM#*') && !JSON.stringify(s.Condition).includes('RUN#*'),
    );
    expect(trackingWrites).toEqual([expect.objectContaining({ Action: 'dynamodb:UpdateItem' })]);
  });

  it('throttles and logs access on the stage of each API', () => {
    expect(Object.keys(api.findResources('AWS::ApiGatewayV2::Stage'))).toHaveLength(2);
    api.allResourcesProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 }),
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('takes the throttling rate and burst from the app options, for both APIs', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stacks = defineRunwayApp(app, {
      env: { account: '123456789012', region: 'eu-west-1' },
      apiRateLimit: 50,
      apiBurstLimit: 80,
    });
    const stages = templateOf(stacks.api).findResources('AWS::ApiGatewayV2::Stage');
    expect(Object.values(stages).map((stage) => stage.Properties.DefaultRouteSettings)).toEqual([
      expect.objectContaining({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 80 }),
      expect.objectContaining({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 80 }),
    ]);
  });

  it('runs functions on the latest Node.js runtime on arm64 with tracing and a log retention', () => {
    // Runway's own (runway:entry): neither CDK's BucketDeployment nor its edge ARN reader.
    const functions = Object.values(runwayFunctions(api));
    expect(functions).toHaveLength(9);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
      expect(fn.Metadata['runway:entry']).toMatch(/^functions\/.+\.ts$/);
    }
    api.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() });
  });

  it('grants the tracking function its table and named index only, with no wildcard action', () => {
    const policies = runwayOwned(api.findResources('AWS::IAM::Policy'));
    const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    for (const statement of statements) {
      for (const action of [statement.Action].flat()) expect(action).not.toMatch(/\*/);
    }
    const dynamo = statements.find((statement) => [statement.Action].flat().includes('dynamodb:PutItem'));
    expect(JSON.stringify(dynamo.Resource)).toContain('/index/gsi1');
    expect(JSON.stringify(dynamo.Resource)).not.toContain('index/*');
    expect([dynamo.Action].flat()).not.toContain('dynamodb:Scan');
  });

  it('sends logged-model artifact paths to the artifacts function, the rest of logged models to tracking', () => {
    const routes = Object.values(api.findResources('AWS::ApiGatewayV2::Route'));
    const targetOf = (key: string) =>
      JSON.stringify(routes.find((route) => route.Properties.RouteKey === key)?.Properties.Target);
    for (const prefix of ['/api/2.0', '/ajax-api/2.0']) {
      expect(targetOf(`ANY ${prefix}/mlflow/logged-models/{model_id}/artifacts/{proxy+}`)).toContain(
        'ArtifactsIntegration',
      );
      expect(targetOf(`ANY ${prefix}/mlflow/{proxy+}`)).toContain('TrackingIntegration');
    }
  });

  it('lets the artifacts function read only run and logged-model items of the tracking table (and grants)', () => {
    const policies = Object.entries(api.findResources('AWS::IAM::Policy'));
    const [, artifacts] = policies.find(([id]) => id.startsWith('ArtifactsFunction')) ?? [];
    const statements = artifacts?.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
    // Besides its access checks' reads of the access table (every API function has them).
    const dynamo = statements.filter(
      (statement) =>
        JSON.stringify(statement.Action).includes('dynamodb:') &&
        !JSON.stringify(statement.Resource).includes('AccessTable'),
    );
    expect(dynamo).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:GetItem',
        Resource: expect.anything(),
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RUN#*', 'LM#*'] } },
      },
    ]);
    expect(JSON.stringify(dynamo[0]?.Resource)).toContain('TrackingTable');
    expect(JSON.stringify(dynamo[0]?.Resource)).not.toContain('index');
  });

  it('lets the traces function touch trace items, index partitions and span files only', () => {
    const policies = Object.entries(api.findResources('AWS::IAM::Policy'));
    const [, traces] = policies.find(([id]) => id.startsWith('TracesFunction')) ?? [];
    const statements = traces?.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
    const dynamo = statements.filter(
      (statement) =>
        JSON.stringify(statement.Action).includes('dynamodb:') &&
        !JSON.stringify(statement.Resource).includes('AccessTable'),
    );
    const keysOf = (statement: Record<string, unknown>) =>
      (statement.Condition as Record<string, Record<string, string[]>>)['ForAllValues:StringLike']?.[
        'dynamodb:LeadingKeys'
      ];
    // Every DynamoDB statement is bound to key prefixes: no statement reaches the whole table.
    for (const statement of dynamo) expect(keysOf(statement)?.length).toBeGreaterThan(0);
    const writes = dynamo.filter((statement) =>
      [statement.Action].flat().some((action) => /Put|Update|Delete|Write/.test(String(action))),
    );
    expect(writes.map(keysOf)).toEqual([
      ['TRACE#*'],
      // The default experiment (and its name claim), which a first trace can create as MLflow does.
      ['EXP#0', expect.stringMatching(/^EXPNAME#[A-Za-z0-9_-]+$/)],
    ]);
    const query = dynamo.find((statement) => statement.Action === 'dynamodb:Query');
    expect(keysOf(query ?? {})).toEqual(['EXP#*#TRACES', 'RUN#*#TRACES']);
    expect(JSON.stringify(query?.Resource)).toContain('/index/gsi1');
    const reads = dynamo.find((statement) => JSON.stringify(keysOf(statement)) === '["EXP#*","RUN#*"]');
    expect(reads?.Action).toBe('dynamodb:GetItem');
    // Span files: objects below traces/ folders, through the stateful stack's policy.
    const role = Object.values(api.findResources('AWS::IAM::Role')).find((r) =>
      JSON.stringify(r.Properties.Description ?? '').includes('traces-api'),
    );
    expect(JSON.stringify(role?.Properties.ManagedPolicyArns)).toContain('TraceSpansPolicy');
    const spans = Object.entries(stateful.findResources('AWS::IAM::ManagedPolicy')).find(([id]) =>
      id.startsWith('TraceSpansPolicy'),
    )?.[1];
    const objectStatement = spans?.Properties.PolicyDocument.Statement.find(
      (statement: Record<string, unknown>) => JSON.stringify(statement.Action).includes('GetObject'),
    );
    expect(objectStatement.Action).toEqual(['s3:GetObject', 's3:PutObject', 's3:DeleteObject']);
    expect(JSON.stringify(objectStatement.Resource)).toContain('/*/traces/*');
  });

  it('routes MLflow trace paths and OTLP to the traces function', () => {
    const routes = Object.values(api.findResources('AWS::ApiGatewayV2::Route')).map(
      (route) => route.Properties.RouteKey as string,
    );
    for (const key of [
      'ANY /api/2.0/mlflow/traces',
      'ANY /api/2.0/mlflow/traces/{proxy+}',
      'ANY /api/3.0/mlflow/traces/{proxy+}',
      'ANY /ajax-api/3.0/mlflow/traces',
      'ANY /ajax-api/2.0/mlflow/get-trace-artifact',
      'ANY /v1/traces',
    ]) {
      expect(routes).toContain(key);
    }
  });

  it('gives functions roles without AWS managed policies', () => {
    for (const [id, role] of Object.entries(api.findResources('AWS::IAM::Role'))) {
      // CDK's own deploy-time providers (the console upload; the reader of the edge function's version
      // ARN, an SSM parameter in us-east-1) run only while CloudFormation deploys, with Lambda's basic
      // execution policy; what they may do is pinned in console.test.ts and least-privilege.test.ts.
      if (isCdkUploader(id) || id.startsWith(CDK_EDGE_ARN_READER)) continue;
      expect(JSON.stringify(role.Properties.ManagedPolicyArns ?? [])).not.toContain('iam::aws:policy');
    }
  });

  it('has no wildcard action, and wildcard resources only where justified', () => {
    const policies = [
      ...runwayOwned(api.findResources('AWS::IAM::Policy')),
      ...Object.values(stateful.findResources('AWS::IAM::ManagedPolicy')),
    ];
    const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    for (const statement of statements) {
      for (const action of [statement.Action].flat()) expect(action).not.toMatch(/\*/);
      for (const resource of [statement.Resource].flat()) {
        const text = JSON.stringify(resource);
        if (!text.includes('*')) continue;
        const xray = [statement.Action].flat().every((action: string) => action.startsWith('xray:'));
        // Objects of the artifact bucket: all of them, or one prefix (capture, feedback, run artifacts,
        // monitor reports among them, monitor state).
        const bucketObjects =
          /ArtifactBucket[0-9A-F]+.*"\/(serving-capture\/|serving-feedback\/|monitoring\/|\*\/traces\/|\*\/artifacts\/(data\/|sagemaker\/|monitoring\/)?)?\*"/.test(
            text,
          );
        expect({ resource: text, justified: xray || bucketObjects }).toEqual({
          resource: text,
          justified: true,
        });
      }
    }
  });
});
