import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { AllowedMethods, CachePolicy, ViewerProtocolPolicy } from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Bucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunwayDistribution } from '../../infra/constructs/runway-distribution.ts';
import { defineRunwayApp } from '../../infra/runway-app.ts';
import { EDGE_CONFIG_HEADERS } from '../../shared/tracking/artifacts/edge/edge-config.ts';
import { type CfnResource, synthRunway, templateOf } from '../support/synth.ts';

/**
 * Runway's public URL on AWS: the CloudFront distribution that routes the artifact proxy's file paths
 * to the bucket behind the Lambda@Edge check, and everything else to the token API (docs/artifacts.md).
 */

let synth: ReturnType<typeof synthRunway>;
let api: Template;
let stateful: Template;
let edge: Template;
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation resources are untyped JSON.
let config: any;

beforeAll(() => {
  synth = synthRunway();
  const assembly = synth.app.synth();
  api = templateOf(synth.stacks.api);
  stateful = templateOf(synth.stacks.stateful);
  edge = Template.fromJSON(assembly.getStackByName('Runway-Edge').template);
  const [distribution] = Object.values(api.findResources('AWS::CloudFront::Distribution')) as CfnResource[];
  config = distribution?.Properties.DistributionConfig;
});

const originOf = (id: string) => config.Origins.find((origin: { Id: string }) => origin.Id === id);

describe('the public distribution', () => {
  it('routes the artifact file paths, first, to the bucket through the edge check on request and response', () => {
    const patterns = config.CacheBehaviors.map((behavior: { PathPattern: string }) => behavior.PathPattern);
    expect(patterns).toEqual([
      '/api/2.0/mlflow-artifacts/artifacts/*',
      '/ajax-api/2.0/mlflow-artifacts/artifacts/*',
      '/api/*',
      '/ajax-api/*',
      '/health',
      '/version',
      '/endpoints/*',
    ]);
    const [files, ajaxFiles] = config.CacheBehaviors;
    for (const behavior of [files, ajaxFiles]) {
      expect(behavior).toMatchObject({
        AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
        CachePolicyId: CachePolicy.CACHING_DISABLED.cachePolicyId,
        ViewerProtocolPolicy: 'https-only',
        Compress: false,
      });
      expect(behavior.LambdaFunctionAssociations.map((a: { EventType: string }) => a.EventType)).toEqual([
        'origin-request',
        'origin-response',
      ]);
      // The body never goes to the function.
      for (const association of behavior.LambdaFunctionAssociations)
        expect(association.IncludeBody).toBeUndefined();
      const origin = originOf(behavior.TargetOriginId);
      expect(JSON.stringify(origin.DomainName)).toContain('ArtifactBucket');
      expect(origin.OriginAccessControlId).toBeDefined();
      expect(origin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    }
  });

  it("sends everything else to the token API (none of it cached), so the listing and multipart stay the API's", () => {
    const apiBehaviors = [config.DefaultCacheBehavior, ...config.CacheBehaviors.slice(2)];
    for (const behavior of apiBehaviors) {
      expect(behavior.LambdaFunctionAssociations).toBeUndefined();
      expect(behavior.CachePolicyId).toBe(CachePolicy.CACHING_DISABLED.cachePolicyId);
      const origin = originOf(behavior.TargetOriginId);
      expect(JSON.stringify(origin.DomainName)).toMatch(/TokenApi[0-9A-F]{8}.*ApiEndpoint/);
      expect(origin.CustomOriginConfig.OriginProtocolPolicy).toBe('https-only');
    }
  });

  it('signs requests to the bucket with origin access control, always (overwriting the viewer Authorization)', () => {
    api.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: {
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      },
    });
  });

  it("gives the edge function its configuration in the bucket origin's custom headers", () => {
    const origin = originOf(config.CacheBehaviors[0].TargetOriginId);
    const headers = Object.fromEntries(
      origin.OriginCustomHeaders.map((h: { HeaderName: string; HeaderValue: unknown }) => [
        h.HeaderName,
        h.HeaderValue,
      ]),
    );
    expect(Object.keys(headers).sort()).toEqual(
      [
        EDGE_CONFIG_HEADERS.region,
        EDGE_CONFIG_HEADERS.accessTable,
        EDGE_CONFIG_HEADERS.artifactBucket,
        EDGE_CONFIG_HEADERS.defaultPermission,
      ].sort(),
    );
    expect(headers[EDGE_CONFIG_HEADERS.region]).toBe('eu-west-1');
    expect(JSON.stringify(headers[EDGE_CONFIG_HEADERS.accessTable])).toContain('AccessTable');
    expect(headers[EDGE_CONFIG_HEADERS.defaultPermission]).toBe('READ');
  });

  it('logs requests and outputs the public URL', () => {
    expect(config.Logging).toMatchObject({ Prefix: 'cloudfront/' });
    expect(JSON.stringify(config.Logging.Bucket)).toContain('AccessLogBucket');
    api.hasOutput('RunwayUrl', {
      Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [Match.anyValue(), 'DomainName'] }]] },
    });
  });
});

describe('the edge function', () => {
  it("runs in us-east-1 on x86_64 without environment variables, its entry Runway's own", () => {
    expect(synth.app.node.tryFindChild('Runway-Edge')).toBeDefined();
    expect((synth.app.node.tryFindChild('Runway-Edge') as Stack).region).toBe('us-east-1');
    const functions = Object.values(edge.findResources('AWS::Lambda::Function')) as CfnResource[];
    expect(functions).toHaveLength(1);
    const fn = functions[0] as CfnResource;
    expect(fn.Properties).toMatchObject({
      FunctionName: 'Runway-ArtifactEdge-eu-west-1',
      Architectures: ['x86_64'],
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Timeout: 30,
    });
    expect(fn.Properties.Environment).toBeUndefined();
    expect(fn.Metadata?.['runway:entry']).toBe('functions/artifact-edge.ts');
  });

  it('has a role Lambda@Edge may assume, holding its log groups and the named edge policy only', () => {
    const [role] = Object.values(edge.findResources('AWS::IAM::Role')) as CfnResource[];
    expect(role?.Properties.RoleName).toBe('Runway-ArtifactEdge-eu-west-1');
    const principals = role?.Properties.AssumeRolePolicyDocument.Statement.map(
      (s: { Principal: { Service: string } }) => s.Principal.Service,
    );
    expect(principals.sort()).toEqual(['edgelambda.amazonaws.com', 'lambda.amazonaws.com']);
    expect(JSON.stringify(role?.Properties.ManagedPolicyArns)).toContain(
      ':policy/Runway-ArtifactEdge-eu-west-1',
    );
    const inline = (Object.values(edge.findResources('AWS::IAM::Policy')) as CfnResource[]).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement,
    );
    expect(inline).toHaveLength(1);
    expect(inline[0].Action).toEqual(['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(JSON.stringify(inline[0].Resource)).toContain(
      'log-group:/aws/lambda/us-east-1.Runway-ArtifactEdge-eu-west-1',
    );
  });

  it('may read only token items and experiment grants, and list and delete artifacts: nothing else', () => {
    const [policy] = Object.values(
      stateful.findResources('AWS::IAM::ManagedPolicy', {
        Properties: { ManagedPolicyName: 'Runway-ArtifactEdge-eu-west-1' },
      }),
    ) as CfnResource[];
    const statements = policy?.Properties.PolicyDocument.Statement;
    expect(statements.map((s: { Action: unknown }) => s.Action)).toEqual([
      'dynamodb:GetItem',
      's3:DeleteObject',
      's3:ListBucket',
    ]);
    expect(statements[0].Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TOKEN#*', 'EXP#*'] },
    });
    expect(JSON.stringify(statements[0].Resource)).toMatch(/AccessTable[0-9A-F]{8}/);
    expect(JSON.stringify(statements[0].Resource)).not.toContain('*');
    expect(JSON.stringify(statements[1].Resource)).toMatch(/ArtifactBucket[0-9A-F]{8}.*\/\*/);
  });

  it('deploys after the stateful stack (its policy) and before the API stack (the distribution)', () => {
    const edgeStack = synth.app.node.tryFindChild('Runway-Edge') as Stack;
    expect(edgeStack.dependencies.map((s) => s.stackName)).toContain('Runway-Stateful');
    expect(synth.stacks.api.dependencies.map((s) => s.stackName)).toContain('Runway-Edge');
  });
});

describe('a Runway whose home region is us-east-1', () => {
  it('keeps the edge function in its own API stack and synthesizes cdk-nag clean', () => {
    const app = new App({
      builtinCloudFormationValidation: false,
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    const stacks = defineRunwayApp(app, { env: { account: '123456789012', region: 'us-east-1' } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
    expect(app.node.tryFindChild('Runway-Edge')).toBeUndefined();
    const functions = Object.values(
      Template.fromStack(stacks.api).findResources('AWS::Lambda::Function'),
    ) as CfnResource[];
    expect(
      functions.filter((fn) => fn.Metadata?.['runway:entry'] === 'functions/artifact-edge.ts'),
    ).toHaveLength(1);
  });
});

describe('the artifact bucket', () => {
  it("admits CloudFront only for this account's distributions, to get and put objects", () => {
    const [policy] = Object.values(
      stateful.findResources('AWS::S3::BucketPolicy', {
        Properties: { Bucket: { Ref: Match.stringLikeRegexp('^ArtifactBucket') } },
      }),
    ) as CfnResource[];
    const statement = policy?.Properties.PolicyDocument.Statement.find(
      (s: { Sid?: string }) => s.Sid === 'RunwayDistributionArtifacts',
    );
    expect(statement).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: ['s3:GetObject', 's3:PutObject'],
    });
    expect(statement.Condition.StringEquals).toEqual({ 'AWS:SourceAccount': '123456789012' });
    expect(JSON.stringify(statement.Condition.ArnLike)).toContain(':cloudfront::123456789012:distribution/*');
  });
});

describe('the console', () => {
  it('can take the default behaviour while every API and artifact path keeps its own', () => {
    const app = new App({
      builtinCloudFormationValidation: false,
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    const stack = new Stack(app, 'Console', { env: { account: '123456789012', region: 'us-east-1' } });
    const table = new Table(stack, 'Access', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    const bucket = new Bucket(stack, 'Artifacts');
    const site = new Bucket(stack, 'Site');
    const logs = new Bucket(stack, 'Logs', { objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED });
    new RunwayDistribution(stack, 'Public', {
      api: new HttpApi(stack, 'Api'),
      artifactBucket: bucket,
      accessTable: table,
      edgePolicy: new ManagedPolicy(stack, 'EdgePolicy', {
        managedPolicyName: 'console-edge',
        statements: [new PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [table.tableArn] })],
      }),
      logBucket: logs,
      edgeFunctionName: 'console-edge',
      edgeStackId: 'ConsoleEdge',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(site),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
      },
    });
    const template = Template.fromStack(stack);
    const [distribution] = Object.values(
      template.findResources('AWS::CloudFront::Distribution'),
    ) as CfnResource[];
    const console = distribution?.Properties.DistributionConfig;
    const origin = console.Origins.find(
      (o: { Id: string }) => o.Id === console.DefaultCacheBehavior.TargetOriginId,
    );
    expect(JSON.stringify(origin.DomainName)).toContain('Site');
    expect(console.CacheBehaviors.map((b: { PathPattern: string }) => b.PathPattern)).toContain('/api/*');
    expect(console.CacheBehaviors[0].PathPattern).toBe('/api/2.0/mlflow-artifacts/artifacts/*');
  });
});
