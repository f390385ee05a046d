import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize } from '../../infra/local/synth.ts';
import { defineRunwayApp } from '../../infra/runway-app.ts';
import { LOCAL_CONTEXT, LOCAL_IAM_PRINCIPAL } from '../../infra/stacks/api.stack.ts';
import {
  type CfnResource,
  functionByEntry,
  roleStatements,
  synthRunway,
  templateOf,
} from '../support/synth.ts';

type Resource = CfnResource;

let synth: ReturnType<typeof synthRunway>;
let deployments: Template;

beforeAll(() => {
  synth = synthRunway();
  // Throws when any cdk-nag finding of any stack is not acknowledged.
  synth.app.synth();
  deployments = templateOf(synth.stacks.deployments);
});

const deploymentsFunction = (template: Template) => functionByEntry(template, 'functions/deployments-api.ts');

describe('deployments stack', () => {
  it('routes /runway/endpoints and everything below it, under both API prefixes, to the function on both APIs', () => {
    const routes = Object.values(
      deployments.findResources('AWS::ApiGatewayV2::Route') as Record<string, Resource>,
    );
    const keys = [
      'ANY /ajax-api/2.0/runway/endpoints',
      'ANY /ajax-api/2.0/runway/endpoints/{proxy+}',
      'ANY /api/2.0/runway/endpoints',
      'ANY /api/2.0/runway/endpoints/{proxy+}',
    ];
    const on = (api: string) =>
      routes.filter((route) =>
        JSON.stringify(route.Properties.ApiId).match(new RegExp(`Runway-Api:.*${api}`)),
      );
    expect(routes).toHaveLength(8);
    // The IAM API's routes keep their ids (an update does not replace them).
    const iam = on('ExportsOutputRefHttpApi');
    expect(iam.map((route) => route.Properties.RouteKey).sort()).toEqual(keys);
    for (const route of iam) {
      expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
      expect(route.Properties.AuthorizerId).toBeUndefined();
    }
    expect(Object.keys(deployments.findResources('AWS::ApiGatewayV2::Route'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^RouteApi20RunwayEndpointsProxy/)]),
    );
    // The token API's with its Lambda authorizer, referenced by id from the API stack.
    const token = on('TokenApi');
    expect(token.map((route) => route.Properties.RouteKey).sort()).toEqual(keys);
    for (const route of token) {
      expect(route.Properties.AuthorizationType).toBe('CUSTOM');
      expect(route.Properties.AuthorizerId).toEqual({
        'Fn::ImportValue': expect.stringMatching(/^Runway-Api:.*TokenApiTokenAuthorizer/),
      });
    }
    const [functionId] = deploymentsFunction(deployments);
    deployments.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: { 'Fn::GetAtt': [functionId, 'Arn'] },
      PayloadFormatVersion: '2.0',
    });
    expect(Object.keys(deployments.findResources('AWS::ApiGatewayV2::Integration'))).toHaveLength(2);
    // API Gateway may invoke the function, from these APIs only.
    deployments.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      Principal: 'apigateway.amazonaws.com',
      SourceArn: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
  });

  it('grants endpoint items and the two listings, the registry’s models read only, models’ grants read only, nothing else', () => {
    const [functionId, fn] = deploymentsFunction(deployments);
    const statements = roleStatements(deployments, functionId);
    const tableStatements = statements.filter((statement) =>
      [statement.Action].flat().some((action: string) => action.startsWith('dynamodb:')),
    );
    expect(tableStatements).toHaveLength(6);
    const [write, listing, byModel, read, grant, grantsOfUser] = tableStatements;
    // Endpoint partitions only, and each listing's partitions only.
    expect(write.Action).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']),
    );
    expect(write.Action).not.toContain('dynamodb:BatchWriteItem');
    expect(write.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ENDPOINT#*'] },
    });
    expect(JSON.stringify(write.Resource)).toMatch(/DeploymentsTable/);
    expect(JSON.stringify(write.Resource)).not.toContain('index');
    expect(listing).toMatchObject({
      Action: 'dynamodb:Query',
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ENDPOINTS', 'ENDPOINTS#DELETING'] },
      },
    });
    expect(JSON.stringify(listing.Resource)).toContain('/index/gsi1');
    expect(byModel).toMatchObject({
      Action: 'dynamodb:Query',
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['MODEL#*'] } },
    });
    expect(JSON.stringify(byModel.Resource)).toContain('/index/gsi2');
    expect(read.Action).not.toEqual(expect.arrayContaining(['dynamodb:PutItem']));
    expect(read.Action).not.toContain('dynamodb:UpdateItem');
    expect(JSON.stringify(read.Resource)).toMatch(/RegistryTable/);
    expect(read.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['MODEL#*'] } });
    // Access: a model's grant (one GetItem), and the caller's grants to filter a listing (GSI1 Query).
    expect(grant).toEqual({
      Effect: 'Allow',
      Action: 'dynamodb:GetItem',
      Resource: expect.anything(),
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['MODEL#*'] } },
    });
    expect(JSON.stringify(grant.Resource)).toMatch(/AccessTable/);
    expect(JSON.stringify(grant.Resource)).not.toContain('index');
    expect(grantsOfUser).toEqual({
      Effect: 'Allow',
      Action: 'dynamodb:Query',
      Resource: expect.anything(),
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['GRANTS#*'] } },
    });
    expect(JSON.stringify(grantsOfUser.Resource)).toMatch(/AccessTable.*\/index\/gsi1/);
    const variables = fn.Properties.Environment.Variables;
    expect(JSON.stringify(variables.DEPLOYMENTS_TABLE_NAME)).toMatch(/DeploymentsTable/);
    expect(JSON.stringify(variables.REGISTRY_TABLE_NAME)).toMatch(/RegistryTable/);
    expect(JSON.stringify(variables.ACCESS_TABLE_NAME)).toMatch(/AccessTable/);
    expect(variables.RUNWAY_DEFAULT_PERMISSION).toBe('READ');
    expect(variables.RUNWAY_ADMIN_PRINCIPALS).toBe('');
    // On AWS SageMaker is available: the flag is left to its default.
    expect(variables.SAGEMAKER_TARGET_ENABLED).toBeUndefined();
  });

  it('defines gsi2 (endpoints by model) on the deployments table only', () => {
    const tables = templateOf(synth.stacks.stateful).findResources('AWS::DynamoDB::Table') as Record<
      string,
      Resource
    >;
    const indexesOf = (id: string) =>
      Object.entries(tables)
        .find(([logicalId]) => logicalId.startsWith(id))?.[1]
        .Properties.GlobalSecondaryIndexes.map((index: { IndexName: string }) => index.IndexName);
    expect(indexesOf('DeploymentsTable')).toEqual(['gsi1', 'gsi2']);
    expect(indexesOf('RegistryTable')).toEqual(['gsi1']);
  });

  it('refuses the sagemaker target in the app synthesized for the local runtime', () => {
    const env = { account: '000000000000', region: 'us-east-1' };
    const assembly = synthesize((app, e) => defineRunwayApp(app, { env: e }), env);
    const stack = assembly.find((candidate) => candidate.stackName === 'Runway-Deployments');
    const functions = Object.values((stack?.template.Resources ?? {}) as Record<string, Resource>).filter(
      (resource) => resource.Metadata?.['runway:entry'] === 'functions/deployments-api.ts',
    );
    expect(functions).toHaveLength(1);
    expect(functions[0]?.Properties.Environment.Variables.SAGEMAKER_TARGET_ENABLED).toBe('false');
    // The local runtime's IAM identity is an admin there, as for the API functions.
    expect(functions[0]?.Properties.Environment.Variables.RUNWAY_ADMIN_PRINCIPALS).toBe(LOCAL_IAM_PRINCIPAL);
    expect(LOCAL_CONTEXT).toBe('runway:local');
  });
});
