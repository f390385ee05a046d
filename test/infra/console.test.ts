import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CfnResource,
  functionByEntry,
  roleStatements,
  synthRunway,
  templateOf,
} from '../support/synth.ts';

/**
 * The console on AWS (`infra/constructs/console-hosting.ts`): a private bucket read by CloudFront
 * only (origin access control), the SPA fallback on the console's behaviour only, its CSP, the
 * bundle uploaded with a `config.json` naming the token API, and the token API's CORS admitting the
 * console's origin and no other. And the pipelines API's role: its state machine, nothing more.
 */

let api: ReturnType<typeof templateOf>;
let pipelines: ReturnType<typeof templateOf>;

beforeAll(() => {
  const synth = synthRunway();
  synth.app.synth();
  api = templateOf(synth.stacks.api);
  pipelines = templateOf(synth.stacks.pipelines);
});

const one = (type: string): [string, CfnResource] => {
  const found = Object.entries(api.findResources(type) as Record<string, CfnResource>);
  expect(found, type).toHaveLength(1);
  return found[0] as [string, CfnResource];
};

describe('console hosting', () => {
  it('keeps the bundle in a private, encrypted, logged bucket that only the distribution reads', () => {
    const [bucketId] =
      Object.entries(api.findResources('AWS::S3::Bucket')).find(([id]) => id.startsWith('ConsoleBucket')) ??
      [];
    expect(bucketId).toBeDefined();
    api.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'console/' }),
    });
    expect(JSON.stringify(api.findResources('AWS::S3::Bucket')[bucketId as string])).not.toContain(
      'WebsiteConfiguration',
    );
    const [, distribution] = one('AWS::CloudFront::Distribution');
    const policy = Object.values(
      api.findResources('AWS::S3::BucketPolicy') as Record<string, CfnResource>,
    ).find((p) => JSON.stringify(p.Properties.Bucket).includes(bucketId as string));
    const reads = policy?.Properties.PolicyDocument.Statement.filter(
      (s: { Principal?: { Service?: string } }) => s.Principal?.Service === 'cloudfront.amazonaws.com',
    );
    expect(reads).toHaveLength(1);
    expect(reads[0].Action).toBe('s3:GetObject');
    expect(JSON.stringify(reads[0].Condition)).toContain('AWS:SourceArn');
    expect(distribution.Properties.DistributionConfig.Origins[0].OriginAccessControlId).toBeDefined();
    one('AWS::CloudFront::OriginAccessControl');
  });

  it('answers client routes with index.html on its own behaviour, with the CSP the local runtime sends', () => {
    const [fnId, fn] = one('AWS::CloudFront::Function');
    expect(fn.Properties.FunctionCode).toContain("request.uri = '/index.html'");
    const [, distribution] = one('AWS::CloudFront::Distribution');
    const behavior = distribution.Properties.DistributionConfig.DefaultCacheBehavior;
    expect(behavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [fnId, 'FunctionARN'] } },
    ]);
    expect(behavior.AllowedMethods).toEqual(['GET', 'HEAD']);
    // No distribution-wide error pages: they would turn API 403s and 404s into the console's page.
    expect(distribution.Properties.DistributionConfig.CustomErrorResponses).toBeUndefined();
    const [, headers] = one('AWS::CloudFront::ResponseHeadersPolicy');
    const csp = JSON.stringify(
      headers.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy,
    );
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('uploads the bundle without sourcemaps and a config.json naming the token API; the upload holds no CloudFront permission', () => {
    const deployments = Object.values(
      api.findResources('Custom::CDKBucketDeployment') as Record<string, CfnResource>,
    );
    expect(deployments).toHaveLength(2);
    const config = JSON.stringify(deployments.map((d) => d.Properties.SourceMarkers));
    // config.json's `apiUrl` is a deploy-time marker the upload replaces with the token API's URL.
    expect(config).toMatch(/"Fn::GetAtt":\["TokenApi[0-9A-F]{8}","ApiEndpoint"\]/);
    expect(deployments.every((d) => d.Properties.DistributionId === undefined)).toBe(true);
    const statements = Object.values(api.findResources('AWS::IAM::Policy') as Record<string, CfnResource>)
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('CDKBucketDeployment'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(JSON.stringify(statements)).not.toContain('cloudfront:');
    expect(JSON.stringify(statements)).not.toMatch(/"Resource":"\*"/);
    // Its S3 actions reach two buckets only: CDK's asset bucket (read) and the console bucket.
    const [bucketId] = Object.keys(api.findResources('AWS::S3::Bucket')).filter((id) =>
      id.startsWith('ConsoleBucket'),
    );
    for (const statement of statements.filter((s: { Action: string | string[] }) =>
      [s.Action].flat().some((a) => a.startsWith('s3:')),
    )) {
      for (const resource of [statement.Resource].flat()) {
        expect(JSON.stringify(resource)).toMatch(new RegExp(`cdk-hnb659fds-assets|${bucketId}`));
      }
      const writes = [statement.Action].flat().filter((a: string) => /Put|Delete|Abort/.test(a));
      if (writes.length > 0) expect(JSON.stringify(statement.Resource)).toContain(bucketId);
    }
  });

  it("opens the token API's CORS to the console's origin only; the IAM API has none", () => {
    const apis = api.findResources('AWS::ApiGatewayV2::Api') as Record<string, CfnResource>;
    const token = Object.entries(apis).find(([id]) => id.startsWith('TokenApi'))?.[1];
    const iam = Object.entries(apis).find(([id]) => id.startsWith('HttpApi'))?.[1];
    const [distributionId] = one('AWS::CloudFront::Distribution');
    expect(token?.Properties.CorsConfiguration).toMatchObject({
      AllowOrigins: [{ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]] }],
      AllowHeaders: ['authorization', 'content-type'],
    });
    expect(token?.Properties.CorsConfiguration.AllowCredentials).toBeUndefined();
    expect(iam?.Properties.CorsConfiguration).toBeUndefined();
    api.hasOutput('ConsoleUrl', Match.anyValue());
  });
});

describe('pipelines API', () => {
  it('starts, lists and reads executions of the training pipeline only', () => {
    const [fnId] = functionByEntry(pipelines, 'functions/pipelines-api.ts');
    const states = roleStatements(pipelines, fnId).filter((s: { Action: string | string[] }) =>
      [s.Action].flat().some((a) => a.startsWith('states:')),
    );
    expect(states).toHaveLength(2);
    const machine = Object.keys(pipelines.findResources('AWS::StepFunctions::StateMachine'))[0] as string;
    expect(states[0]).toMatchObject({
      Action: ['states:StartExecution', 'states:ListExecutions', 'states:DescribeStateMachine'],
      Resource: { Ref: machine },
    });
    expect(states[1].Action).toEqual(['states:DescribeExecution', 'states:GetExecutionHistory']);
    expect(JSON.stringify(states[1].Resource)).toContain(`execution:`);
    expect(JSON.stringify(states[1].Resource)).toContain(machine);
    const routes = Object.values(
      pipelines.findResources('AWS::ApiGatewayV2::Route') as Record<string, CfnResource>,
    ).map((route) => route.Properties.RouteKey);
    expect(routes.sort()).toEqual(
      [
        'ANY /ajax-api/2.0/runway/pipelines/executions',
        'ANY /ajax-api/2.0/runway/pipelines/executions/{name}',
        'ANY /api/2.0/runway/pipelines/executions',
        'ANY /api/2.0/runway/pipelines/executions/{name}',
      ]
        .flatMap((key) => [key, key])
        .sort(),
    );
  });
});
