import * as z from 'zod';
import { NotImplementedError } from '../../platform/errors.ts';
import { defineOperation, type HttpMethod, type Operation } from '../../platform/http/operation.ts';

/** One MLflow endpoint Runway knows but does not serve. */
export interface Unserved {
  method: HttpMethod;
  /** Relative (served under `/api/2.0/` and `/ajax-api/2.0/`) or absolute. */
  path: string;
  /** MLflow's RPC or Flask handler, so the client's developer can look it up. */
  rpc: string;
  /** What Runway lacks, for the message ("Runway does not serve <feature>"). */
  feature: string;
}

/**
 * MLflow's GenAI endpoints outside `mlflow/traces` that Runway does not serve
 * (`mlflow-rest-endpoints.txt`, MLflow 2.22, and service.proto). Relative paths serve both API
 * prefixes; the UI-only Flask routes are served where MLflow has them, under `/ajax-api/2.0/` only.
 * The proto's `/api/2.0mlflow/experiments/search-datasets` (a missing slash) is not routable and is
 * left out.
 */
const V2: readonly Unserved[] = [
  {
    method: 'GET',
    path: 'mlflow/unified-traces',
    rpc: 'searchUnifiedTraceHandler',
    feature: 'Databricks trace features',
  },
  {
    method: 'GET',
    path: 'mlflow/get-online-trace-details',
    rpc: 'getOnlineTraceDetails',
    feature: 'Databricks trace features',
  },
  {
    method: 'POST',
    path: 'mlflow/experiments/search-datasets',
    rpc: 'searchDatasets',
    feature: 'GenAI features',
  },
  {
    method: 'GET',
    path: '/ajax-api/2.0/mlflow/gateway-proxy',
    rpc: 'gateway_proxy_handler',
    feature: 'GenAI features',
  },
  {
    method: 'POST',
    path: '/ajax-api/2.0/mlflow/gateway-proxy',
    rpc: 'gateway_proxy_handler',
    feature: 'GenAI features',
  },
  {
    method: 'POST',
    path: '/ajax-api/2.0/mlflow/runs/create-promptlab-run',
    rpc: 'create_promptlab_run_handler',
    feature: 'GenAI features',
  },
];

/** An operation answering 501 NOT_IMPLEMENTED for an MLflow endpoint Runway knows but does not serve. */
export function unservedOperation({ method, path, rpc, feature }: Unserved): Operation {
  return defineOperation({
    method,
    path,
    // Nothing is read: whatever the body or its content type, the answer is the same 501.
    input: z.object({}),
    source: 'query',
    handle: (_input, request) => {
      throw new NotImplementedError(
        `${request.method} ${request.path} (MLflow's ${rpc}) is not implemented: Runway does not serve ${feature}.`,
      );
    },
  });
}

/**
 * The GenAI endpoints of MLflow 2.22 and 3 that Runway does not serve (traces themselves are the
 * traces function's, `../traces/`), each answering 501 NOT_IMPLEMENTED with a message that names
 * the endpoint, so a client fails clearly instead of on a 404 it could mistake for a wrong URL.
 */
export function genAiOperations(): Operation[] {
  return V2.map(unservedOperation);
}
