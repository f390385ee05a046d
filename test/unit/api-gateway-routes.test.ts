import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** One API with one Lambda-authorized route, its authorizer declared as `authorizer` says. */
function authorizedGateway(authorizer: { IdentitySource?: string[]; AuthorizerResultTtlInSeconds: number }) {
  const resources: Record<string, { Type: string; Properties: Record<string, unknown> }> = {
    Api: { Type: 'AWS::ApiGatewayV2::Api', Properties: {} },
    Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
    AuthFn: { Type: 'AWS::Lambda::Function', Properties: {} },
    Integration: {
      Type: 'AWS::ApiGatewayV2::Integration',
      Properties: { ApiId: { Ref: 'Api' }, IntegrationUri: { 'Fn::GetAtt': ['Fn', 'Arn'] } },
    },
    Authorizer: {
      Type: 'AWS::ApiGatewayV2::Authorizer',
      Properties: {
        ApiId: { Ref: 'Api' },
        AuthorizerType: 'REQUEST',
        AuthorizerUri: {
          'Fn::Join': [
            '',
            [
              'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/',
              { 'Fn::GetAtt': ['AuthFn', 'Arn'] },
              '/invocations',
            ],
          ],
        },
        EnableSimpleResponses: true,
        ...authorizer,
      },
    },
    Route: {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: {
        ApiId: { Ref: 'Api' },
        RouteKey: 'GET /things',
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: 'Authorizer' },
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: 'Integration' }]] },
      },
    },
  };
  const template = new CloudTemplate(
    [{ stackName: 'S', template: { Resources: resources } }],
    'us-east-1',
    '0',
  );
  const authorizerCalls: (string | undefined)[] = [];
  const gateway = new LocalApiGateway(
    template,
    async (arn, event) => {
      const headers = (event as { headers: Record<string, string> }).headers;
      if (/AuthFn/.test(arn)) {
        authorizerCalls.push(headers.authorization);
        return headers.authorization === 'let-me-in'
          ? { isAuthorized: true, context: { user: 'ana' } }
          : { isAuthorized: true, context: { refused: headers.authorization ? 'unknown' : 'missing' } };
      }
      const { authorizer } = (event as { requestContext: { authorizer: unknown } }).requestContext;
      return { statusCode: 200, body: JSON.stringify(authorizer) };
    },
    { auth: true },
  );
  return { gateway, authorizerCalls };
}

async function serve(
  gateway: LocalApiGateway,
  run: (get: (authorization?: string) => Promise<unknown>) => Promise<void>,
) {
  const server = createServer((request, response) => void gateway.handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await run(async (authorization) => {
      const response = await fetch(`http://127.0.0.1:${port}/things`, {
        headers: authorization ? { authorization } : {},
      });
      return { status: response.status, json: await response.json() };
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('API Gateway Lambda authorizers', () => {
  it('calls an authorizer without identity sources and with TTL 0 on every request, header or not', async () => {
    const { gateway, authorizerCalls } = authorizedGateway({
      IdentitySource: [],
      AuthorizerResultTtlInSeconds: 0,
    });
    await serve(gateway, async (get) => {
      expect(await get()).toEqual({ status: 200, json: { lambda: { refused: 'missing' } } });
      expect(await get('let-me-in')).toEqual({ status: 200, json: { lambda: { user: 'ana' } } });
      expect(await get('let-me-in')).toEqual({ status: 200, json: { lambda: { user: 'ana' } } });
      expect(await get('wrong')).toEqual({ status: 200, json: { lambda: { refused: 'unknown' } } });
      expect(await get()).toEqual({ status: 200, json: { lambda: { refused: 'missing' } } });
    });
    expect(authorizerCalls).toEqual([undefined, 'let-me-in', 'let-me-in', 'wrong', undefined]);
  });

  it('never caches for an authorizer without identity sources, whatever its TTL says', async () => {
    const { gateway, authorizerCalls } = authorizedGateway({ AuthorizerResultTtlInSeconds: 300 });
    await serve(gateway, async (get) => {
      expect((await get('let-me-in')) as { json: unknown }).toMatchObject({
        json: { lambda: { user: 'ana' } },
      });
      // One cache entry per authorizer would hand ana's answer to the next caller.
      expect(await get('wrong')).toEqual({ status: 200, json: { lambda: { refused: 'unknown' } } });
    });
    expect(authorizerCalls).toEqual(['let-me-in', 'wrong']);
  });

  it('answers 401 itself without a declared identity source, and caches per identity for the TTL', async () => {
    const { gateway, authorizerCalls } = authorizedGateway({
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: 60,
    });
    await serve(gateway, async (get) => {
      expect(await get()).toEqual({ status: 401, json: { message: 'Unauthorized' } });
      expect(await get('let-me-in')).toEqual({ status: 200, json: { lambda: { user: 'ana' } } });
      expect(await get('let-me-in')).toEqual({ status: 200, json: { lambda: { user: 'ana' } } });
      expect(await get('wrong')).toEqual({ status: 200, json: { lambda: { refused: 'unknown' } } });
    });
    expect(authorizerCalls).toEqual(['let-me-in', 'wrong']);
  });
});
