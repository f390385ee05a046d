import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CachePolicy } from 'aws-cdk-lib/aws-cloudfront';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { pathPatternRegExp } from '../../infra/local/cloudfront.ts';
import { defineRunwayApp } from '../../infra/runway-app.ts';
import { EDGE_CONFIG_HEADERS } from '../../shared/tracking/artifacts/edge/edge-config.ts';
import { type CfnResource, synthRunway, templateOf } from '../support/synth.ts';

/**
 * Runway's public URL on AWS: the CloudFront distribution that routes the artifact proxy's file paths
 * to the bucket behind the Lambda@Edge check, the API's paths to the token API, and everything else to
 * the console (docs/artifacts.md, docs/console.md).
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
      '/v1/traces',
      '/endpoints/*/invocations',
      '/endpoints/*/feedback',
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

  it("sends the API's paths to the token API (none of it cached), so the listing and multipart stay the API's", () => {
    const apiBehaviors = config.CacheBehaviors.slice(2);
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

describe('one URL for the console, the API and artifacts', () => {
  /** The behaviour CloudFront picks for a path: the first pattern that matches, else the default. */
  const behaviorFor = (path: string) =>
    config.CacheBehaviors.find((behavior: { PathPattern: string }) =>
      pathPatternRegExp(behavior.PathPattern).test(path),
    ) ?? config.DefaultCacheBehavior;
  const isApi = (behavior: { TargetOriginId: string }) =>
    JSON.stringify(originOf(behavior.TargetOriginId).DomainName).includes('TokenApi');

  it('reaches every route of the token API (its stacks and the others) through an API behaviour', () => {
    // Every stack of the app: a route any of them adds (monitoring's feedback, ...) must be reachable.
    const tokenRoutes = synth.app.node.children
      .filter((child): child is Stack => Stack.isStack(child))
      .flatMap((stack) => Object.values(templateOf(stack).findResources('AWS::ApiGatewayV2::Route')))
      .map((route) => (route as CfnResource).Properties.RouteKey as string)
      .filter((key) => key !== '$default');
    expect(tokenRoutes.length).toBeGreaterThan(50);
    for (const key of tokenRoutes) {
      const path = (key.split(' ')[1] as string).replace(/\{[^}]+\+\}/g, 'a/b').replace(/\{[^}]+\}/g, 'x');
      const behavior = behaviorFor(path);
      // Artifact file paths go to the bucket through the edge check; everything else to the API.
      if (path.includes('/mlflow-artifacts/artifacts/'))
        expect(behavior.LambdaFunctionAssociations, key).toBeDefined();
      else expect(isApi(behavior), key).toBe(true);
    }
  });

  it("leaves the console's client routes and files to the default behaviour, the console's bucket", () => {
    const consoleOrigin = originOf(config.DefaultCacheBehavior.TargetOriginId);
    expect(JSON.stringify(consoleOrigin.DomainName)).toContain('ConsoleBucket');
    for (const path of [
      '/',
      '/index.html',
      '/assets/index-abc.js',
      '/experiments/1/runs/abc',
      '/models/fraud',
      '/endpoints',
      '/endpoints/fraud',
      '/pipelines/run-1',
      '/access',
    ]) {
      expect(behaviorFor(path), path).toBe(config.DefaultCacheBehavior);
    }
  });
});
