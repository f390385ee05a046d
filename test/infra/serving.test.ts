import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { defineRunwayApp } from '../../infra/runway-app.ts';
import { synthRunway, templateOf } from '../support/synth.ts';

let serving: Template;
let stateful: Template;

beforeAll(() => {
  const synth = synthRunway();
  synth.app.synth(); // cdk-nag: throws on any unacknowledged finding
  serving = templateOf(synth.stacks.serving);
  stateful = templateOf(synth.stacks.stateful);
});

describe('serving stack', () => {
  it('routes POST /endpoints/{name}/invocations on both Runway APIs to the model server (IAM; tokens by the token authorizer)', () => {
    serving.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /endpoints/{name}/invocations',
      AuthorizationType: 'AWS_IAM',
      ApiId: { 'Fn::ImportValue': Match.stringLikeRegexp('^Runway-Api:.*HttpApi') },
    });
    serving.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /endpoints/{name}/invocations',
      AuthorizationType: 'CUSTOM',
      ApiId: { 'Fn::ImportValue': Match.stringLikeRegexp('^Runway-Api:.*TokenApi') },
      AuthorizerId: { 'Fn::ImportValue': Match.stringLikeRegexp('^Runway-Api:.*TokenApiTokenAuthorizer') },
    });
    expect(Object.keys(serving.findResources('AWS::ApiGatewayV2::Route'))).toHaveLength(2);
    // The IAM route keeps its id (an update does not replace it).
    expect(Object.keys(serving.findResources('AWS::ApiGatewayV2::Route'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^InvocationsRoute/)]),
    );
    serving.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ModelServerFunction'), 'Arn'] },
    });
  });

  it('runs the model server on arm64 with 2 GB, its table, bucket and capture rate', () => {
    serving.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      MemorySize: 2048,
      Environment: {
        Variables: Match.objectLike({
          DEPLOYMENTS_TABLE_NAME: Match.anyValue(),
          ARTIFACT_BUCKET_NAME: Match.anyValue(),
          CAPTURE_SAMPLE_RATE: '0.1',
          ACCESS_TABLE_NAME: Match.anyValue(),
          RUNWAY_DEFAULT_PERMISSION: 'READ',
          RUNWAY_ADMIN_PRINCIPALS: '',
          // Set to false by the local synth only: on AWS, SageMaker endpoints are forwarded.
          SAGEMAKER_TARGET_ENABLED: Match.absent(),
        }),
      },
    });
  });

  it('may read endpoint items and add to statistics items only, and read models / write captures only', () => {
    const statements = Object.values(serving.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement,
    );
    const all = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
    // Token callers' grants: GetItem of registered models' grant items in the access table, nothing else.
    const grants = all.filter((s) => JSON.stringify(s.Resource).includes('AccessTable'));
    expect(grants).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:GetItem',
        Resource: expect.anything(),
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['MODEL#*'] } },
      },
    ]);
    const dynamo = all.filter((s) => !grants.includes(s));
    expect(dynamo.map((s) => s.Action).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    for (const statement of dynamo) {
      expect(statement.Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys']).toEqual(['ENDPOINT#*']);
    }
    const update = dynamo.find((s) => s.Action === 'dynamodb:UpdateItem');
    expect(update.Condition['ForAllValues:StringLike']['dynamodb:Attributes']).not.toContain('traffic');
    const policy = Object.values(stateful.findResources('AWS::IAM::ManagedPolicy')).find((p) =>
      String(p.Properties.Description).startsWith('Read models'),
    );
    const s3 = policy?.Properties.PolicyDocument.Statement as Array<{ Action: string; Resource: unknown }>;
    expect(s3.map((s) => s.Action).sort()).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject']);
    expect(JSON.stringify(s3.find((s) => s.Action === 's3:PutObject')?.Resource)).toContain(
      '/serving-capture/*',
    );
    const roles = Object.values(serving.findResources('AWS::IAM::Role'));
    expect(JSON.stringify(roles[0]?.Properties.ManagedPolicyArns)).toContain('ModelServingPolicy');
  });

  it("may invoke Runway's SageMaker endpoints (runway-*) and nothing else there; no other wildcard", () => {
    const statements = Object.values(serving.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement,
    );
    const sageMaker = statements.filter((s) =>
      [s.Action].flat().some((a: string) => a.startsWith('sagemaker:')),
    );
    expect(sageMaker).toHaveLength(1);
    expect(sageMaker[0]?.Action).toBe('sagemaker:InvokeEndpoint');
    expect(JSON.stringify(sageMaker[0]?.Resource)).toMatch(/:sagemaker:.*:endpoint\/runway-\*"/);
    for (const statement of statements) {
      for (const action of [statement.Action].flat()) expect(action).not.toMatch(/\*/);
      for (const resource of [statement.Resource].flat()) {
        const text = JSON.stringify(resource);
        if (!text.includes('*')) continue;
        // X-Ray has no resource-level permissions; SageMaker endpoints are Runway's by their prefix.
        const xray = [statement.Action].flat().every((action: string) => action.startsWith('xray:'));
        const runwayEndpoints = statement === sageMaker[0] && /endpoint\/runway-\*"/.test(text);
        expect({ resource: text, justified: xray || runwayEndpoints }).toEqual({
          resource: text,
          justified: true,
        });
      }
    }
  });
});

describe('the model server asset', () => {
  it('bundles the code and ships ONNX Runtime for linux-arm64 only', { timeout: 120_000 }, () => {
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': ['Runway-Serving'], 'aws:cdk:enable-asset-metadata': true },
    });
    const { serving: stack } = defineRunwayApp(app, {
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    const assembly = app.synth();
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0];
    const asset = path.join(assembly.directory, fn?.Metadata['aws:asset:path']);
    const files = walk(asset);
    const relative = files.map((file) => path.relative(asset, file));
    expect(relative).toContain('index.mjs');
    const ort = 'node_modules/onnxruntime-node';
    expect(relative).toContain(`${ort}/bin/napi-v6/linux/arm64/onnxruntime_binding.node`);
    expect(relative).toContain(`${ort}/bin/napi-v6/linux/arm64/libonnxruntime.so.1`);
    expect(relative).toContain(`${ort}/dist/index.js`);
    expect(relative).toContain('node_modules/onnxruntime-common/dist/cjs/index.js');
    const binaries = relative.filter((file) => /\.(node|so(\.\d+)*|dylib|dll)$/.test(file));
    expect(binaries.every((file) => file.startsWith(`${ort}/bin/napi-v6/linux/arm64/`))).toBe(true);
    // Lambda's limit is 250 MB unzipped; every platform's binaries would be about 290 MB.
    const bytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
    expect(bytes).toBeLessThan(60 * 1024 * 1024);
    // The runtime is loaded from node_modules, not bundled.
    const bundle = readFileSync(path.join(asset, 'index.mjs'), 'utf8');
    expect(bundle).toMatch(/from\s*"onnxruntime-node"/);
    expect(existsSync(path.join(asset, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64'))).toBe(false);
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
  );
}
