import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize } from '../../infra/local/synth.ts';
import { defineRunwayApp } from '../../infra/runway-app.ts';
import { LOCAL_CONTEXT } from '../../infra/stacks/api.stack.ts';
import { synthRunway, templateOf } from '../support/synth.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation resources are untyped JSON.
type Resource = { Type: string; Properties: any; Metadata?: Record<string, unknown> };

let api: Template;

beforeAll(() => {
  api = templateOf(synthRunway({ nag: false }).stacks.api);
});

/** The logical id and resource of the function whose source is `entry`. */
function fn(template: Template, entry: string): [string, Resource] {
  const found = Object.entries(
    template.findResources('AWS::Lambda::Function') as Record<string, Resource>,
  ).find(([, resource]) => resource.Metadata?.['runway:entry'] === entry);
  if (!found) throw new Error(`no function for ${entry}`);
  return found;
}

/** The statements of the policies attached to a function's role. */
function statementsOf(template: Template, functionId: string) {
  const role = (template.findResources('AWS::Lambda::Function')[functionId] as Resource).Properties.Role[
    'Fn::GetAtt'
  ][0];
  return Object.values(template.findResources('AWS::IAM::Policy') as Record<string, Resource>)
    .filter((policy) => policy.Properties.Roles.some((ref: { Ref: string }) => ref.Ref === role))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

describe('webhook delivery on the bus', () => {
  it('has a rule on the Runway bus for the six registry events MLflow has webhooks for', () => {
    const [deliveryId] = fn(api, 'functions/webhook-delivery.ts');
    api.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { 'Fn::ImportValue': Match.stringLikeRegexp('EventBus') },
      EventPattern: {
        source: ['runway.registry'],
        'detail-type': [
          'registry.registered-model.created',
          'registry.model-version.created',
          'registry.model-version.tag-set',
          'registry.model-version.tag-deleted',
          'registry.model-version.alias-set',
          'registry.model-version.alias-deleted',
        ],
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [deliveryId, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WebhookDeadLetterQueue'), 'Arn'] },
          },
        }),
      ],
    });
  });

  it('sends events the function failed on (after Lambda’s own retries) to the same encrypted, TLS-only queue', () => {
    const [deliveryId, delivery] = fn(api, 'functions/webhook-delivery.ts');
    expect(delivery.Properties.Timeout).toBe(60);
    api.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: deliveryId },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WebhookDeadLetterQueue'), 'Arn'] },
        },
      },
    });
    api.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    api.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('webhook API routes', () => {
  it('routes mlflow/webhooks and everything below it, under both prefixes, to the webhooks function', () => {
    const [webhooksId] = fn(api, 'functions/webhook-api.ts');
    const integrations = api.findResources('AWS::ApiGatewayV2::Integration') as Record<string, Resource>;
    const routes = Object.values(api.findResources('AWS::ApiGatewayV2::Route') as Record<string, Resource>);
    for (const prefix of ['/api/2.0', '/ajax-api/2.0']) {
      for (const key of [`ANY ${prefix}/mlflow/webhooks`, `ANY ${prefix}/mlflow/webhooks/{proxy+}`]) {
        const route = routes.find((candidate) => candidate.Properties.RouteKey === key);
        expect(route?.Properties.AuthorizationType).toBe('AWS_IAM');
        const integrationId = route?.Properties.Target['Fn::Join'][1][1].Ref;
        expect(integrations[integrationId]?.Properties.IntegrationUri).toEqual({
          'Fn::GetAtt': [webhooksId, 'Arn'],
        });
      }
    }
  });
});

describe('webhook functions: least privilege and configuration', () => {
  it('lets both functions write only WEBHOOK... keys of the registry table', () => {
    for (const entry of ['functions/webhook-api.ts', 'functions/webhook-delivery.ts']) {
      const [id] = fn(api, entry);
      const writes = statementsOf(api, id).filter((statement) =>
        [statement.Action]
          .flat()
          .some((action: string) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(action)),
      );
      expect(writes.length).toBeGreaterThan(0);
      for (const statement of writes) {
        expect(statement.Condition).toEqual({
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['WEBHOOK*'] },
        });
        expect(JSON.stringify(statement.Resource)).toContain('RegistryTable');
      }
    }
    // The API function reads nothing else either (it never needs a model).
    const [apiId] = fn(api, 'functions/webhook-api.ts');
    for (const statement of statementsOf(api, apiId)) {
      if ([statement.Action].flat().some((action: string) => action.startsWith('dynamodb:'))) {
        expect(statement.Condition).toBeDefined();
      }
    }
  });

  it('keeps webhooks on https and public addresses on AWS: the switches are not set', () => {
    for (const entry of ['functions/webhook-api.ts', 'functions/webhook-delivery.ts']) {
      const variables = fn(api, entry)[1].Properties.Environment.Variables;
      expect(variables.REGISTRY_TABLE_NAME).toBeDefined();
      expect(variables.WEBHOOK_ALLOW_PRIVATE_TARGETS).toBeUndefined();
      expect(variables.WEBHOOK_ALLOWED_SCHEMES).toBeUndefined();
    }
  });

  it('lets webhooks reach 127.0.0.1 over http when synthesized for the local runtime', () => {
    const local = new App({
      builtinCloudFormationValidation: false,
      context: { 'aws:cdk:bundling-stacks': [], [LOCAL_CONTEXT]: true },
    });
    const { api: localApi } = defineRunwayApp(local, {
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    // The local runtime's own synth sets the context (no test-only path).
    const runtimeTemplates = synthesize((app, env) => defineRunwayApp(app, { env }), {
      account: '000000000000',
      region: 'us-east-1',
    });
    const runtimeApi = runtimeTemplates.find((stack) => stack.stackName === 'Runway-Api')?.template as {
      Resources: Record<string, Resource>;
    };
    for (const template of [templateOf(localApi), Template.fromJSON(runtimeApi)]) {
      for (const entry of ['functions/webhook-api.ts', 'functions/webhook-delivery.ts']) {
        expect(fn(template, entry)[1].Properties.Environment.Variables).toMatchObject({
          WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
          WEBHOOK_ALLOWED_SCHEMES: 'http,https',
        });
      }
    }
  });
});
