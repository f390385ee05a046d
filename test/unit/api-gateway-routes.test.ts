import { describe, expect, it } from 'vitest';
import { LocalApiGateway } from '../../infra/local/api-gateway.ts';
import { CloudTemplate } from '../../infra/local/cloud-template.ts';

function gatewayWith(routeKeys: string[]): LocalApiGateway {
  const resources: Record<string, { Type: string; Properties: Record<string, unknown> }> = {
    Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
    Integration: {
      Type: 'AWS::ApiGatewayV2::Integration',
      Properties: { IntegrationUri: { 'Fn::GetAtt': ['Fn', 'Arn'] } },
    },
  };
  routeKeys.forEach((RouteKey, i) => {
    resources[`Route${i}`] = {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: { RouteKey, Target: { 'Fn::Join': ['', ['integrations/', { Ref: 'Integration' }]] } },
    };
  });
  const template = new CloudTemplate(
    [{ stackName: 'S', template: { Resources: resources } }],
    'us-east-1',
    '0',
  );
  return new LocalApiGateway(template, async () => ({}));
}

describe('API Gateway route selection', () => {
  const gateway = gatewayWith([
    '$default',
    'ANY /api/{proxy+}',
    'GET /api/things/{id}',
    'GET /api/things/special',
    'POST /api/things/{id}',
    'ANY /api/things/{id}',
    'GET /health',
  ]);
  const pick = (method: string, path: string) => gateway.match(method, path)?.routeKey;

  it.each([
    ['GET', '/api/things/special', 'GET /api/things/special'],
    ['GET', '/api/things/7', 'GET /api/things/{id}'],
    ['POST', '/api/things/7', 'POST /api/things/{id}'],
    ['DELETE', '/api/things/7', 'ANY /api/things/{id}'],
    ['GET', '/api/things/7/more', 'ANY /api/{proxy+}'],
    ['GET', '/api/x', 'ANY /api/{proxy+}'],
    ['GET', '/api', '$default'],
    ['GET', '/health', 'GET /health'],
    ['POST', '/health', '$default'],
    ['GET', '/elsewhere', '$default'],
  ])('%s %s -> %s', (method, path, expected) => {
    expect(pick(method, path)).toBe(expected);
  });

  it('answers no route when there is no $default', () => {
    expect(gatewayWith(['GET /only']).match('GET', '/other')).toBeUndefined();
  });
});
