import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromApiGatewayEvent } from '../../shared/platform/http/http-request.ts';
import { Router } from '../../shared/platform/http/router.ts';
import { modelVersionOperations } from '../../shared/registry/api/model-versions.routes.ts';
import { registeredModelOperations } from '../../shared/registry/api/registered-models.routes.ts';
import { modelVersionToWire, registeredModelToWire } from '../../shared/registry/api/registry.wire.ts';
import type { ModelVersion, RegisteredModel } from '../../shared/registry/model.ts';
import type { RegistryService } from '../../shared/registry/registry.service.ts';
import { apiEvent } from '../support/api-event.ts';

const fixtures = JSON.parse(
  readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/registry/mlflow-registry.json'),
    'utf8',
  ),
) as {
  requests: Array<{ method: string; path: string; body?: unknown; calls: string }>;
  responses: Record<string, Record<string, unknown>>;
};

const version: ModelVersion = {
  name: 'churn',
  version: 1,
  creationTimestamp: 1772446540000,
  lastUpdatedTimestamp: 1772446600000,
  description: '',
  currentStage: 'Production',
  source: 'runs:/4f9d3c2b1a0e4d5f8a7b6c5d4e3f2a1b/model',
  storageLocation: 'mlflow-artifacts:/1/4f9d3c2b1a0e4d5f8a7b6c5d4e3f2a1b/artifacts/model',
  runId: '4f9d3c2b1a0e4d5f8a7b6c5d4e3f2a1b',
  runLink: '',
  status: 'READY',
  tags: { validated: 'true' },
  aliases: ['champion'],
};
const model: RegisteredModel = {
  modelId: 'id',
  name: 'churn',
  creationTimestamp: 1772446530123,
  lastUpdatedTimestamp: 1772446600000,
  description: 'Predicts churn',
  tags: { team: 'growth' },
  aliases: { champion: 1 },
  latestVersions: [{ ...version, tags: {} }],
};

/** Records the calls instead of storing anything: the contract is about what parses, not what happens. */
function recordingService() {
  const calls: string[] = [];
  const service = new Proxy(
    {},
    {
      get:
        (_target, method: string) =>
        async (..._args: unknown[]) => {
          calls.push(method);
          if (method === 'searchModels') return { models: [] };
          if (method === 'searchVersions') return { versions: [] };
          if (method === 'getLatestVersions') return [version];
          if (method === 'getDownloadUri') return version.storageLocation;
          if (/Model$/.test(method)) return model;
          return version;
        },
    },
  ) as RegistryService;
  return { service, calls };
}

function router(service: RegistryService) {
  return new Router([...registeredModelOperations(service), ...modelVersionOperations(service)]);
}

describe('MLflow client registry requests keep parsing', () => {
  it.each(fixtures.requests.map((request) => [`${request.method} ${request.path}`, request] as const))(
    '%s',
    async (_name, request) => {
      const { service, calls } = recordingService();
      await router(service).dispatch(
        fromApiGatewayEvent(apiEvent(request.method, request.path, request.body)),
      );
      expect(calls).toEqual([request.calls]);
    },
  );

  it('covers every registry endpoint of model_registry.proto (22 method and path pairs)', () => {
    const { service } = recordingService();
    const served = [...registeredModelOperations(service), ...modelVersionOperations(service)].map(
      (operation) => `${operation.method} /api/2.0/${operation.path}`,
    );
    expect(served).toHaveLength(22);
    const requested = new Set(
      fixtures.requests.map((request) => `${request.method} ${request.path.split('?')[0]}`),
    );
    for (const endpoint of served) expect(requested).toContain(endpoint);
  });
});

describe('Runway answers in MLflow registry shapes', () => {
  it('serializes a registered model and a model version as MLflow does', () => {
    expect(registeredModelToWire(model)).toEqual(fixtures.responses.registered_model);
    expect(modelVersionToWire(version)).toEqual(fixtures.responses.model_version);
    expect(
      registeredModelToWire({
        ...model,
        name: 'plain',
        lastUpdatedTimestamp: model.creationTimestamp,
        description: '',
        tags: {},
        aliases: {},
        latestVersions: [],
      }),
    ).toEqual(fixtures.responses.bare_registered_model);
  });

  it('answers an empty search with {} and a version with a string version number', async () => {
    const { service } = recordingService();
    const routes = router(service);
    await expect(
      routes.dispatch(fromApiGatewayEvent(apiEvent('GET', '/api/2.0/mlflow/registered-models/search'))),
    ).resolves.toEqual(fixtures.responses.searchEmpty);
    await expect(
      routes.dispatch(fromApiGatewayEvent(apiEvent('GET', '/api/2.0/mlflow/model-versions/search'))),
    ).resolves.toEqual(fixtures.responses.searchEmpty);
    const got = (await routes.dispatch(
      fromApiGatewayEvent(apiEvent('GET', '/api/2.0/mlflow/model-versions/get?name=churn&version=1')),
    )) as { model_version: { version: unknown } };
    expect(got.model_version.version).toBe('1');
  });
});
