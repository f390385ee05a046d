import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { endpointOperations } from '../../shared/deployments/endpoints/endpoints.routes.ts';
import type { EndpointsService } from '../../shared/deployments/endpoints/endpoints.service.ts';
import { deploymentToWire, endpointToWire } from '../../shared/deployments/endpoints/endpoints.wire.ts';
import { type Deployment, deployment, type Endpoint, endpoint } from '../../shared/deployments/model.ts';
import { fromApiGatewayEvent } from '../../shared/platform/http/http-request.ts';
import { Router } from '../../shared/platform/http/router.ts';
import { apiEvent } from '../support/api-event.ts';

const fixtures = JSON.parse(
  readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/deployments/endpoints-api.json'),
    'utf8',
  ),
) as {
  requests: Array<{ method: string; path: string; body?: unknown; call: unknown[] }>;
  responses: { endpoint: Record<string, unknown>; deployment: Record<string, unknown> };
};

const stored: Endpoint = endpoint.parse({
  name: 'fraud',
  modelName: 'fraud-model',
  follows: { alias: 'production' },
  target: 'lambda',
  rolloutPolicy: { trafficSteps: [10, 50, 100], bakeSeconds: 120, maxErrorRate: 0.02, maxLatencyMs: 300 },
  description: 'Scores card transactions',
  traffic: {
    primary: { version: '3', storageLocation: 's3://artifacts/1/abc/artifacts/model', deploymentId: 'd-3' },
    canary: { version: '4', storageLocation: 's3://artifacts/1/def/artifacts/model', deploymentId: 'd-4' },
    canaryWeight: 10,
    revision: 7,
  },
  status: 'Updating',
  createdAt: 1772446530123,
  updatedAt: 1772446600000,
});
const history: Deployment = deployment.parse({
  deploymentId: 'd-4',
  endpointName: 'fraud',
  modelName: 'fraud-model',
  version: '4',
  previousVersion: '3',
  trigger: 'event',
  executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:Deploy:fraud-4',
  status: 'RolledBack',
  reason: 'canary error rate 0.2 above 0.02',
  steps: [{ weight: 10, at: 1772446700000, invocations: 120, errorRate: 0.2, p99LatencyMs: 41 }],
  startedAt: 1772446650000,
  finishedAt: 1772446800000,
});

/** Records the calls instead of doing anything: the contract is what parses into what, and what answers look like. */
function recordingService(calls: unknown[][]): EndpointsService {
  const record =
    (name: string, answer: unknown) =>
    async (...args: unknown[]) => {
      // JSON drops undefined fields, as the fixture does.
      calls.push(JSON.parse(JSON.stringify([name, ...args.map((arg) => arg ?? null)])));
      return answer;
    };
  return {
    create: record('create', stored),
    get: record('get', stored),
    list: record('list', { items: [stored] }),
    update: record('update', stored),
    delete: record('delete', undefined),
    listDeployments: record('listDeployments', { items: [history] }),
    deploy: record('deploy', { deploymentId: 'd-5', executionArn: null, version: '3' }),
  } as unknown as EndpointsService;
}

describe('endpoints API contract', () => {
  it.each(fixtures.requests)('$method $path parses into the same service call', async (request) => {
    const calls: unknown[][] = [];
    const router = new Router(endpointOperations(recordingService(calls)));
    await router.dispatch(fromApiGatewayEvent(apiEvent(request.method, request.path, request.body)));
    expect(calls).toEqual([request.call]);
  });

  it('answers an endpoint and a deployment in the documented shapes', () => {
    expect(endpointToWire(stored)).toEqual(fixtures.responses.endpoint);
    expect(deploymentToWire(history)).toEqual(fixtures.responses.deployment);
  });

  it('wraps answers as documented: endpoint, endpoints, deployments, next_page_token, and 202 for a deploy', async () => {
    const router = new Router(endpointOperations(recordingService([])));
    const answer = (method: string, path: string, body?: unknown) =>
      router.dispatch(fromApiGatewayEvent(apiEvent(method, path, body)));
    expect(await answer('GET', '/api/2.0/runway/endpoints/fraud')).toEqual({
      endpoint: fixtures.responses.endpoint,
    });
    expect(await answer('GET', '/api/2.0/runway/endpoints')).toEqual({
      endpoints: [fixtures.responses.endpoint],
    });
    expect(await answer('GET', '/api/2.0/runway/endpoints/fraud/deployments')).toEqual({
      deployments: [fixtures.responses.deployment],
    });
    expect(await answer('DELETE', '/api/2.0/runway/endpoints/fraud')).toEqual({});
    expect(await answer('POST', '/api/2.0/runway/endpoints/fraud/deploy', {})).toMatchObject({
      statusCode: 202,
      body: { deployment_id: 'd-5', version: '3', execution_arn: null },
    });
  });
});
