import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Operation } from '../../shared/platform/http/operation.ts';
import { Router } from '../../shared/platform/http/router.ts';
import { genAiOperations } from '../../shared/tracking/api/genai.routes.ts';
import { mlflow3UnservedOperations } from '../../shared/tracking/api/mlflow3-unserved.routes.ts';
import { unservedTraceOperations } from '../../shared/tracking/traces/api/traces.routes.ts';
import { apiOperations } from '../support/api-operations.ts';

/**
 * Every RPC of MLflow 3.11.1's service.proto, model_registry.proto, mlflow_artifacts.proto and
 * webhooks.proto (test/fixtures/mlflow3/rpcs-3.11.1.json, extracted from the protos) is answered by
 * Runway at the paths MLflow serves it: served, or 501 NOT_IMPLEMENTED naming the RPC; never an
 * unknown route. docs/mlflow-compatibility.md has a row for each, saying which.
 */

interface Rpc {
  proto: string;
  rpc: string;
  endpoints: Array<{ method: string; path: string }>;
}

const ROOT = path.resolve(import.meta.dirname, '../..');
const { rpcs } = JSON.parse(
  readFileSync(path.join(ROOT, 'test/fixtures/mlflow3/rpcs-3.11.1.json'), 'utf8'),
) as {
  rpcs: Rpc[];
};
const DOC = readFileSync(path.join(ROOT, 'docs/mlflow-compatibility.md'), 'utf8');

/** Not routed yet, with the issue that owns them: the MLflow client falls back when they answer 404. */
const NOT_ROUTED: Record<string, string> = {
  // MLflow 3.11's client asks it only with MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD=true and falls back
  // to the proxied download on 404 or 501; large downloads are issue 18's.
  getPresignedDownloadUrl: 'issue 18',
};

let router: Router;
/** `METHOD path` of the operations that answer 501 NOT_IMPLEMENTED. */
let unserved: Set<string>;
const keyOf = (operation: Operation) => `${operation.method} ${operation.path}`;

beforeAll(async () => {
  const env = {
    ...process.env,
    TRACKING_TABLE_NAME: 'tracking',
    REGISTRY_TABLE_NAME: 'registry',
    DEPLOYMENTS_TABLE_NAME: 'deployments',
    ACCESS_TABLE_NAME: 'access',
    EVENT_BUS_NAME: 'bus',
    ARTIFACT_BUCKET_NAME: 'bucket',
    AWS_REGION: 'us-east-1',
  };
  router = new Router(Object.values(await apiOperations(env)).flat());
  unserved = new Set(
    [...genAiOperations(), ...mlflow3UnservedOperations(), ...unservedTraceOperations()].map(keyOf),
  );
});

/** A concrete request path for a proto path: `{name}` and `{name+}` filled with plausible values. */
const concrete = (template: string) =>
  template.replace(/\{(\w+)(\+?)\}/g, (_match, name: string, greedy: string) =>
    greedy ? '1/abc/artifacts/model/MLmodel' : name === 'model_id' ? 'm-0123' : `${name}-1`,
  );

describe('MLflow 3.11.1 RPCs', () => {
  it('holds the four protos’ RPCs (a fixture that lost rows would pass anything)', () => {
    expect(rpcs.length).toBe(156);
    expect(rpcs.filter((rpc) => rpc.proto === 'model_registry.proto')).toHaveLength(21);
  });

  it('answers every endpoint of every RPC: served, or 501 naming it, never an unknown route', () => {
    const outcomes = rpcs.flatMap((rpc) =>
      rpc.endpoints.map(({ method, path: template }) => {
        const request = {
          method,
          path: concrete(template),
          query: {},
          headers: {},
          body: undefined,
          requestId: 'contract',
          pathParameters: {},
        };
        let outcome: string;
        try {
          const { operation } = router.resolve(request);
          outcome = unserved.has(keyOf(operation)) ? '501' : 'served';
        } catch (error) {
          const name = (error as Error).name;
          // The request is routed; only its (empty) parameters are refused.
          outcome = name === 'InvalidParameterError' ? 'served' : `not routed (${name})`;
        }
        return { rpc: rpc.rpc, endpoint: `${method} ${template}`, outcome };
      }),
    );
    const notRouted = outcomes.filter((o) => o.outcome.startsWith('not routed'));
    expect(notRouted.map((o) => o.rpc).sort()).toEqual(Object.keys(NOT_ROUTED).sort());
    // Every classic-ML RPC the 3.11 client calls for tracking, logged models and the registry is served.
    const served = new Set(outcomes.filter((o) => o.outcome === 'served').map((o) => o.rpc));
    for (const rpc of rpcs.filter(
      (r) => r.proto === 'model_registry.proto' || r.proto === 'webhooks.proto',
    )) {
      expect(served, rpc.rpc).toContain(rpc.rpc);
    }
    for (const rpc of [
      'createLoggedModel',
      'finalizeLoggedModel',
      'getLoggedModel',
      'deleteLoggedModel',
      'searchLoggedModels',
      'setLoggedModelTags',
      'deleteLoggedModelTag',
      'listLoggedModelArtifacts',
      'LogLoggedModelParams',
      'logOutputs',
      'logInputs',
      'searchRuns',
      'logBatch',
      'deleteExperimentTag',
      // MLflow 3 tracing, and the 2.x trace API the 2.22 client calls.
      'startTraceV3',
      'getTraceInfoV3',
      'getTrace',
      'batchGetTraces',
      'batchGetTraceInfos',
      'searchTracesV3',
      'setTraceTag',
      'setTraceTagV3',
      'deleteTraceTag',
      'deleteTraceTagV3',
      'deleteTraces',
      'deleteTracesV3',
      'linkTracesToRun',
      'createAssessment',
      'GetAssessment',
      'updateAssessment',
      'deleteAssessment',
      'startTrace',
      'endTrace',
      'getTraceInfo',
      'searchTraces',
    ]) {
      expect(served, rpc).toContain(rpc);
    }
  });

  it('has a row in docs/mlflow-compatibility.md for every RPC', () => {
    const rows = new Set(
      DOC.split('\n')
        .filter((line) => line.startsWith('| `'))
        .map((line) => /^\| `(\w+)`/.exec(line)?.[1]),
    );
    expect(rpcs.map((rpc) => rpc.rpc).filter((rpc) => !rows.has(rpc))).toEqual([]);
  });
});
