import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EndpointNotFoundError } from '../../shared/platform/errors.ts';
import { fromApiGatewayEvent } from '../../shared/platform/http/http-request.ts';
import { Router } from '../../shared/platform/http/router.ts';
import { artifactOperations } from '../../shared/tracking/artifacts/api/artifacts.routes.ts';
import type { ArtifactService } from '../../shared/tracking/artifacts/artifact.service.ts';
import { loggedModelToWire } from '../../shared/tracking/logged-models/api/logged-model.wire.ts';
import type { LoggedModelService } from '../../shared/tracking/logged-models/logged-model.service.ts';
import { loggedModelOperations } from '../../shared/tracking/logged-models/logged-models.module.ts';
import type { LoggedModelWithMetrics } from '../../shared/tracking/logged-models/model.ts';
import { apiEvent } from '../support/api-event.ts';

interface FixtureRequest {
  owner?: string;
  method: string;
  path: string;
  call?: string;
  body?: unknown;
}

const fixtures = JSON.parse(
  readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/mlflow/logged-models.json'),
    'utf8',
  ),
) as {
  logModelSequence: FixtureRequest[];
  otherClientRequests: FixtureRequest[];
  responses: Record<'model' | 'modelWithoutData' | 'searchEmpty' | 'emptyWrite', unknown>;
};

const MODEL_ID = 'm-7e0f5c3ab1d24f6c9e8d7c6b5a493827';

const model: LoggedModelWithMetrics = {
  modelId: MODEL_ID,
  experimentId: '1',
  name: 'model',
  artifactLocation: `mlflow-artifacts:/1/models/${MODEL_ID}/artifacts`,
  creationTimestamp: 1735689600000,
  lastUpdatedTimestamp: 1735689601000,
  status: 'LOGGED_MODEL_READY',
  modelType: '',
  sourceRunId: '0f3c7a1d2b9e4c5fa8d7e6b5c4a39281',
  lifecycleStage: 'active',
  tags: { 'mlflow.user': 'alice' },
  params: { C: '1.0' },
  metrics: [
    {
      key: 'accuracy',
      value: 0.93,
      timestamp: 1735689600123,
      step: 0,
      datasetName: 'test',
      datasetDigest: 'a1b2c3',
      modelId: MODEL_ID,
      runId: '0f3c7a1d2b9e4c5fa8d7e6b5c4a39281',
    },
  ],
};

/**
 * A service that records the calls instead of storing anything (the contract is about what parses,
 * not what happens), answering each method with `answer(method)`.
 */
function recording<T>(answer: (method: string) => unknown) {
  const calls: Array<[string, unknown[]]> = [];
  const service = new Proxy(
    {},
    {
      get:
        (_target, method: string) =>
        async (...args: unknown[]) => {
          calls.push([method, args]);
          return answer(method);
        },
    },
  ) as T;
  return { service, calls };
}

const recordingService = () =>
  recording<LoggedModelService>((method) => (method === 'search' ? { models: [] } : model));

/** Dispatches a fixture request to the logged-model operations and names the service calls it made. */
async function loggedModelCalls(raw: FixtureRequest): Promise<string[]> {
  const request = withId(raw);
  const { service, calls } = recordingService();
  const router = new Router(loggedModelOperations(service));
  await router.dispatch(fromApiGatewayEvent(apiEvent(request.method, request.path, request.body)));
  return calls.map(([method]) => method);
}

const withId = (request: FixtureRequest) => ({
  ...request,
  path: request.path.replaceAll('{model_id}', MODEL_ID),
  body:
    request.body === undefined
      ? undefined
      : JSON.parse(JSON.stringify(request.body).replaceAll('{model_id}', MODEL_ID)),
});

describe('MLflow 3 log_model: the logged-model requests keep parsing', () => {
  const ours = fixtures.logModelSequence.filter((request) => request.owner === 'logged-models');

  it('covers create, get and finalize, in that order', () => {
    expect(ours.map((request) => request.call)).toEqual(['create', 'get', 'finalize']);
  });

  it.each(ours.map((request) => [`${request.method} ${request.path}`, request] as const))(
    '%s',
    async (_name, raw) => expect(await loggedModelCalls(raw)).toEqual([raw.call]),
  );

  it('passes the client create and finalize arguments through unchanged', async () => {
    const { service, calls } = recordingService();
    const router = new Router(loggedModelOperations(service));
    for (const request of ours.map(withId)) {
      await router.dispatch(fromApiGatewayEvent(apiEvent(request.method, request.path, request.body)));
    }
    expect(calls[0]).toEqual([
      'create',
      [
        {
          experimentId: '1',
          name: 'model',
          modelType: undefined,
          sourceRunId: '0f3c7a1d2b9e4c5fa8d7e6b5c4a39281',
          params: [
            { key: 'C', value: '1.0' },
            { key: 'max_iter', value: '100' },
          ],
          tags: [
            { key: 'mlflow.user', value: 'alice' },
            { key: 'mlflow.source.name', value: 'train.py' },
            { key: 'mlflow.source.type', value: 'LOCAL' },
          ],
        },
      ],
    ]);
    expect(calls[1]).toEqual(['get', [MODEL_ID, { allowDeleted: false }]]);
    expect(calls[2]).toEqual(['finalize', [MODEL_ID, 'LOGGED_MODEL_READY']]);
  });

  it('leaves the run and artifact requests of log_model to their own routes', () => {
    const router = new Router(loggedModelOperations(recordingService().service));
    const others = fixtures.logModelSequence.filter((request) => request.owner !== 'logged-models');
    expect(new Set(others.map((request) => request.owner))).toEqual(new Set(['runs', 'artifacts']));
    for (const request of others.map(withId)) {
      expect(() =>
        router.resolve(fromApiGatewayEvent(apiEvent(request.method, request.path, request.body))),
      ).toThrow(EndpointNotFoundError);
    }
  });
});

describe('MLflow 3 client: the other logged-model requests keep parsing', () => {
  const ours = fixtures.otherClientRequests.filter((request) => request.owner === undefined);
  const artifacts = fixtures.otherClientRequests.filter((request) => request.owner === 'artifacts');

  it.each(ours.map((request) => [`${request.method} ${request.path}`, request] as const))(
    '%s',
    async (_name, raw) => expect(await loggedModelCalls(raw)).toEqual([raw.call]),
  );

  it.each(artifacts.map((request) => [`${request.method} ${request.path}`, request] as const))(
    '%s (the artifacts function, which holds the bucket)',
    async (_name, raw) => {
      const request = withId(raw);
      const { service, calls } = recording<ArtifactService>((method) =>
        method === 'listLoggedModel'
          ? { rootUri: model.artifactLocation, files: [] }
          : { kind: 'inline', body: new Uint8Array(0), contentType: 'text/plain', contentDisposition: '' },
      );
      const event = apiEvent(request.method, request.path, request.body);
      await new Router(artifactOperations(service)).dispatch(fromApiGatewayEvent(event));
      expect(calls.map(([method]) => method)).toEqual([request.call]);
      expect(calls[0]?.[1]?.[0]).toBe(MODEL_ID);
      const logged = new Router(loggedModelOperations(recordingService().service));
      expect(() => logged.resolve(fromApiGatewayEvent(event))).toThrow(EndpointNotFoundError);
    },
  );

  it('reads the search parameters as MLflow names them', async () => {
    const { service, calls } = recordingService();
    const router = new Router(loggedModelOperations(service));
    const search = withId(fixtures.otherClientRequests.find((request) => request.path.endsWith('/search'))!);
    await router.dispatch(fromApiGatewayEvent(apiEvent(search.method, search.path, search.body)));
    expect(calls[0]?.[1]).toEqual([
      {
        experimentIds: ['1'],
        filter: "metrics.accuracy > 0.9 AND params.C = '1.0'",
        datasets: [{ datasetName: 'test', datasetDigest: undefined }],
        maxResults: 50,
        orderBy: [
          { fieldName: 'metrics.accuracy', ascending: false, datasetName: 'test', datasetDigest: undefined },
        ],
        pageToken: undefined,
      },
    ]);
  });
});

describe('Runway answers in MLflow 3 shapes', () => {
  it('serializes a logged model as MLflow does', () => {
    expect(loggedModelToWire(model)).toEqual(fixtures.responses.model);
  });

  it('keeps `data` and the empty strings of an unset type and run, and drops empty lists', () => {
    expect(
      loggedModelToWire({
        ...model,
        lastUpdatedTimestamp: model.creationTimestamp,
        status: 'LOGGED_MODEL_PENDING',
        sourceRunId: '',
        tags: {},
        params: {},
        metrics: [],
      }),
    ).toEqual(fixtures.responses.modelWithoutData);
  });

  it('answers an empty search and the writes with {}', async () => {
    const { service } = recordingService();
    const router = new Router(loggedModelOperations(service));
    await expect(
      router.dispatch(
        fromApiGatewayEvent(
          apiEvent('POST', '/api/2.0/mlflow/logged-models/search', { experiment_ids: ['1'] }),
        ),
      ),
    ).resolves.toEqual(fixtures.responses.searchEmpty);
    for (const request of fixtures.otherClientRequests.filter((r) =>
      ['logParams', 'setTags', 'deleteTag', 'delete'].includes(r.call ?? ''),
    )) {
      const filled = withId(request);
      await expect(
        router.dispatch(fromApiGatewayEvent(apiEvent(filled.method, filled.path, filled.body))),
      ).resolves.toEqual(fixtures.responses.emptyWrite);
    }
  });
});
