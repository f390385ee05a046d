import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromApiGatewayEvent } from '../../shared/platform/http/http-request.ts';
import { Router } from '../../shared/platform/http/router.ts';
import { experimentToWire } from '../../shared/tracking/api/experiment.wire.ts';
import { experimentOperations } from '../../shared/tracking/api/experiments.routes.ts';
import type { ExperimentService } from '../../shared/tracking/experiment.service.ts';
import { apiEvent } from '../support/api-event.ts';

const fixtures = JSON.parse(
  readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/mlflow/experiments.json'),
    'utf8',
  ),
) as {
  requests: Array<{ method: string; path: string; body?: unknown }>;
  responses: { get: { experiment: Record<string, unknown> }; create: unknown; searchEmpty: unknown };
};

/** Records the calls instead of storing anything: the contract is about what parses, not what happens. */
function recordingService() {
  const calls: Array<[string, unknown[]]> = [];
  const experiment = {
    experimentId: '1',
    name: 'churn',
    artifactLocation: 'mlflow-artifacts:/1',
    lifecycleStage: 'active' as const,
    creationTime: 1735689600000,
    lastUpdateTime: 1735689600000,
    tags: { team: 'growth' },
  };
  const service = new Proxy(
    {},
    {
      get:
        (_target, method: string) =>
        async (...args: unknown[]) => {
          calls.push([method, args]);
          if (method === 'create') return '1';
          if (method === 'search') return { experiments: [] };
          return experiment;
        },
    },
  ) as ExperimentService;
  return { service, calls, experiment };
}

describe('MLflow client requests keep parsing', () => {
  it.each(fixtures.requests.map((request) => [`${request.method} ${request.path}`, request] as const))(
    '%s',
    async (_name, request) => {
      const { service, calls } = recordingService();
      const router = new Router(experimentOperations(service));
      await router.dispatch(fromApiGatewayEvent(apiEvent(request.method, request.path, request.body)));
      expect(calls).toHaveLength(1);
    },
  );
});

describe('Runway answers in MLflow shapes', () => {
  it('serializes an experiment exactly as MLflow does', () => {
    const { experiment } = recordingService();
    expect(experimentToWire(experiment)).toEqual(fixtures.responses.get.experiment);
  });

  it('answers create and an empty search as MLflow does', async () => {
    const { service } = recordingService();
    const router = new Router(experimentOperations(service));
    const create = fixtures.requests[0]!;
    await expect(
      router.dispatch(fromApiGatewayEvent(apiEvent(create.method, create.path, create.body))),
    ).resolves.toEqual(fixtures.responses.create);
    await expect(
      router.dispatch(
        fromApiGatewayEvent(apiEvent('POST', '/api/2.0/mlflow/experiments/search', { max_results: 5 })),
      ),
    ).resolves.toEqual(fixtures.responses.searchEmpty);
  });
});

describe('API Gateway events keep parsing', () => {
  it('reads the captured HTTP API v2 event', () => {
    const request = fromApiGatewayEvent(apiEvent('GET', '/api/2.0/mlflow/experiments/get?experiment_id=0'));
    expect(request).toMatchObject({ method: 'GET', query: { experiment_id: ['0'] } });
  });
});
