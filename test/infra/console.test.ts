import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUCKET_CONTENT_METADATA } from '../../infra/constructs/bucket-content.ts';
import { CONSOLE_CONTENT, CONSOLE_CSP, CONSOLE_ROUTER } from '../../infra/constructs/console-hosting.ts';
import {
  functionResponseBody,
  LocalCloudFrontFunction,
  toFunctionRequest,
} from '../../infra/local/cloudfront-function.ts';
import {
  type CfnResource,
  functionByEntry,
  roleStatements,
  synthRunway,
  templateOf,
} from '../support/synth.ts';

/**
 * The console on AWS (`infra/constructs/console-hosting.ts`): the default behaviour of Runway's one
 * distribution, a private bucket read by CloudFront only (origin access control), the router function
 * and the CSP on the console's behaviour only, the bundle uploaded by the same rules the local
 * runtime serves it by, and no CORS anywhere (the console calls the API on its own origin). And the
 * pipelines API's role: its state machine, nothing more.
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

const defaultBehavior = () =>
  one('AWS::CloudFront::Distribution')[1].Properties.DistributionConfig.DefaultCacheBehavior;
const consoleBucketId = () =>
  Object.keys(api.findResources('AWS::S3::Bucket')).find((id) => id.startsWith('ConsoleBucket')) as string;

describe('console hosting', () => {
  it('keeps the bundle in a private, encrypted, logged bucket that only the distribution reads', () => {
    const bucketId = consoleBucketId();
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
    expect(JSON.stringify(api.findResources('AWS::S3::Bucket')[bucketId])).not.toContain(
      'WebsiteConfiguration',
    );
    const [distributionId, distribution] = one('AWS::CloudFront::Distribution');
    const policy = Object.values(
      api.findResources('AWS::S3::BucketPolicy') as Record<string, CfnResource>,
    ).find((p) => JSON.stringify(p.Properties.Bucket).includes(bucketId));
    const reads = policy?.Properties.PolicyDocument.Statement.filter(
      (s: { Principal?: { Service?: string } }) => s.Principal?.Service === 'cloudfront.amazonaws.com',
    );
    expect(reads).toHaveLength(1);
    expect(reads[0].Action).toBe('s3:GetObject');
    expect(JSON.stringify(reads[0].Condition)).toContain(distributionId);
    const config = distribution.Properties.DistributionConfig;
    const origin = config.Origins.find(
      (o: { Id: string }) => o.Id === config.DefaultCacheBehavior.TargetOriginId,
    );
    expect(JSON.stringify(origin.DomainName)).toContain(bucketId);
    expect(origin.OriginAccessControlId).toBeDefined();
  });

  it("routes page loads to index.html and anything else to the API's JSON 404, on its own behaviour only", () => {
    const [fnId, fn] = one('AWS::CloudFront::Function');
    expect(fn.Properties.FunctionCode).toBe(CONSOLE_ROUTER);
    const behavior = defaultBehavior();
    expect(behavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [fnId, 'FunctionARN'] } },
    ]);
    // Every method reaches the router (which answers all but GET and HEAD itself).
    expect(behavior.AllowedMethods).toEqual(['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE']);
    const [, distribution] = one('AWS::CloudFront::Distribution');
    for (const other of distribution.Properties.DistributionConfig.CacheBehaviors) {
      expect(other.FunctionAssociations).toBeUndefined();
      expect(other.ResponseHeadersPolicyId).toBeUndefined();
    }
    // No distribution-wide error pages: they would turn API 403s and 404s into the console's page.
    expect(distribution.Properties.DistributionConfig.CustomErrorResponses).toBeUndefined();
    const [headersId, headers] = one('AWS::CloudFront::ResponseHeadersPolicy');
    expect(behavior.ResponseHeadersPolicyId).toEqual({ Ref: headersId });
    const security = headers.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(security.ContentSecurityPolicy.ContentSecurityPolicy).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("connect-src 'self';");
    expect(security.StrictTransportSecurity).toMatchObject({
      AccessControlMaxAgeSec: 31536000,
      IncludeSubdomains: true,
    });
  });

  it('answers as the function code says (run here as CloudFront runs it)', async () => {
    const router = new LocalCloudFrontFunction('router', CONSOLE_ROUTER);
    const run = (method: string, uri: string, accept?: string) =>
      router.viewerRequest(toFunctionRequest(method, uri, '', accept ? { accept } : {}), {
        distributionDomainName: 'd.cloudfront.net',
        requestId: 'r',
        viewerIp: '127.0.0.1',
      });
    expect(await run('GET', '/endpoints/fraud', 'text/html,*/*')).toMatchObject({ uri: '/index.html' });
    expect(await run('GET', '/assets/index-abc.js', '*/*')).toMatchObject({ uri: '/assets/index-abc.js' });
    const notFound = await run('POST', '/experiments/1', 'text/html');
    expect(notFound).toMatchObject({ statusCode: 404 });
    expect(JSON.parse(functionResponseBody(notFound as never).toString())).toEqual({
      error_code: 'ENDPOINT_NOT_FOUND',
      message: 'No API endpoint matches POST /experiments/1',
    });
    expect(await run('GET', '/experiments', 'application/json')).toMatchObject({ statusCode: 404 });
  });

  it('uploads the bundle by the rules the local runtime serves it by, with no CloudFront permission', () => {
    const deployments = Object.values(
      api.findResources('Custom::CDKBucketDeployment') as Record<string, CfnResource>,
    );
    expect(deployments).toHaveLength(2);
    const [assets, entry] = CONSOLE_CONTENT.rules;
    const byCacheControl = (rule: typeof assets) =>
      deployments.find((d) => d.Properties.SystemMetadata?.['cache-control'] === rule?.cacheControl);
    expect(byCacheControl(assets)?.Properties).toMatchObject({ Exclude: ['*'], Include: ['assets/*'] });
    expect(byCacheControl(entry)?.Properties).toMatchObject({ Exclude: ['assets/*'] });
    const bucket = api.findResources('AWS::S3::Bucket')[consoleBucketId()] as CfnResource;
    expect(bucket.Metadata?.[BUCKET_CONTENT_METADATA]).toEqual({
      directory: 'console/dist',
      ...CONSOLE_CONTENT,
    });
    expect(deployments.every((d) => d.Properties.DistributionId === undefined)).toBe(true);
    const statements = Object.values(api.findResources('AWS::IAM::Policy') as Record<string, CfnResource>)
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('CDKBucketDeployment'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(JSON.stringify(statements)).not.toContain('cloudfront:');
    expect(JSON.stringify(statements)).not.toMatch(/"Resource":"\*"/);
    // Its S3 actions reach two buckets only: CDK's asset bucket (read) and the console bucket.
    const bucketId = consoleBucketId();
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

  it('has no CORS on either API (nothing is cross-origin), and one URL output beside the SigV4 one', () => {
    const apis = api.findResources('AWS::ApiGatewayV2::Api') as Record<string, CfnResource>;
    expect(Object.keys(apis)).toHaveLength(2);
    for (const [id, resource] of Object.entries(apis))
      expect(resource.Properties.CorsConfiguration, id).toBeUndefined();
    const outputs = Object.keys(api.findOutputs('*')).filter((name) => !name.startsWith('ExportsOutput'));
    expect(outputs.sort()).toEqual(['ApiUrl', 'RunwayUrl']);
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
