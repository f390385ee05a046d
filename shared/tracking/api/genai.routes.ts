import * as z from 'zod';
import { NotImplementedError } from '../../platform/errors.ts';
import { defineOperation, type HttpMethod, type Operation } from '../../platform/http/operation.ts';

/** One MLflow endpoint Runway knows but does not serve. */
interface Unserved {
  method: HttpMethod;
  /** Relative (served under `/api/2.0/` and `/ajax-api/2.0/`) or absolute. */
  path: string;
  /** MLflow's RPC or Flask handler, so the client's developer can look it up. */
  rpc: string;
  /** What Runway lacks, for the message. */
  feature: 'traces' | 'assessments' | 'GenAI features';
}

/**
 * MLflow 2.x trace and GenAI endpoints (`mlflow-rest-endpoints.txt`, MLflow 2.22) and the trace
 * endpoints MLflow 3 keeps under 2.0 (`since: 2.0` in service.proto). Relative paths serve both API
 * prefixes; the UI-only Flask routes are served where MLflow has them, under `/ajax-api/2.0/` only.
 * The proto's `/api/2.0mlflow/experiments/search-datasets` (a missing slash) is not routable and is
 * left out.
 */
const V2: readonly Unserved[] = [
  { method: 'POST', path: 'mlflow/traces', rpc: 'startTrace', feature: 'traces' },
  { method: 'GET', path: 'mlflow/traces', rpc: 'searchTraces', feature: 'traces' },
  { method: 'POST', path: 'mlflow/traces/delete-traces', rpc: 'deleteTraces', feature: 'traces' },
  { method: 'POST', path: 'mlflow/traces/link-to-run', rpc: 'linkTracesToRun', feature: 'traces' },
  { method: 'POST', path: 'mlflow/traces/link-prompts', rpc: 'linkPromptsToTrace', feature: 'traces' },
  { method: 'GET', path: 'mlflow/traces/{request_id}/info', rpc: 'getTraceInfo', feature: 'traces' },
  { method: 'GET', path: 'mlflow/traces/{trace_id}', rpc: 'getTraceInfoV3', feature: 'traces' },
  { method: 'PATCH', path: 'mlflow/traces/{request_id}', rpc: 'endTrace', feature: 'traces' },
  { method: 'PATCH', path: 'mlflow/traces/{request_id}/tags', rpc: 'setTraceTag', feature: 'traces' },
  { method: 'DELETE', path: 'mlflow/traces/{request_id}/tags', rpc: 'deleteTraceTag', feature: 'traces' },
  // MLflow 2.22 declares `{assessment.trace_id}`; one segment matches it and real trace ids alike.
  {
    method: 'POST',
    path: 'mlflow/traces/{trace_id}/assessments',
    rpc: 'createAssessment',
    feature: 'assessments',
  },
  {
    method: 'PATCH',
    path: 'mlflow/traces/{trace_id}/assessments/{assessment_id}',
    rpc: 'updateAssessment',
    feature: 'assessments',
  },
  {
    method: 'DELETE',
    path: 'mlflow/traces/{trace_id}/assessments/{assessment_id}',
    rpc: 'deleteAssessment',
    feature: 'assessments',
  },
  { method: 'GET', path: 'mlflow/unified-traces', rpc: 'searchUnifiedTraceHandler', feature: 'traces' },
  { method: 'GET', path: 'mlflow/get-online-trace-details', rpc: 'getOnlineTraceDetails', feature: 'traces' },
  {
    method: 'POST',
    path: 'mlflow/experiments/search-datasets',
    rpc: 'searchDatasets',
    feature: 'GenAI features',
  },
  {
    method: 'GET',
    path: '/ajax-api/2.0/mlflow/get-trace-artifact',
    rpc: 'get_trace_artifact_handler',
    feature: 'traces',
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

/**
 * MLflow 3's trace endpoints (`since: 3.0` in service.proto), which its server registers under
 * `/api/3.0/` and `/ajax-api/3.0/` (the MLflow 3 client starts traces with `POST /api/3.0/mlflow/traces`).
 * The Router only prefixes `/api/2.0/`, so these are absolute paths.
 */
const V3: readonly Unserved[] = [
  { method: 'POST', path: 'mlflow/traces', rpc: 'startTraceV3', feature: 'traces' },
  { method: 'GET', path: 'mlflow/traces/get', rpc: 'getTrace', feature: 'traces' },
  { method: 'GET', path: 'mlflow/traces/batchGet', rpc: 'batchGetTraces', feature: 'traces' },
  { method: 'POST', path: 'mlflow/traces/batchGetInfos', rpc: 'batchGetTraceInfos', feature: 'traces' },
  { method: 'POST', path: 'mlflow/traces/search', rpc: 'searchTracesV3', feature: 'traces' },
  { method: 'POST', path: 'mlflow/traces/delete-traces', rpc: 'deleteTracesV3', feature: 'traces' },
  {
    method: 'POST',
    path: 'mlflow/traces/calculate-filter-correlation',
    rpc: 'calculateTraceFilterCorrelation',
    feature: 'traces',
  },
  { method: 'POST', path: 'mlflow/traces/metrics', rpc: 'queryTraceMetrics', feature: 'traces' },
  { method: 'GET', path: 'mlflow/traces/{trace_id}', rpc: 'getTraceInfoV3', feature: 'traces' },
  { method: 'PATCH', path: 'mlflow/traces/{trace_id}/tags', rpc: 'setTraceTagV3', feature: 'traces' },
  { method: 'DELETE', path: 'mlflow/traces/{trace_id}/tags', rpc: 'deleteTraceTagV3', feature: 'traces' },
  {
    method: 'POST',
    path: 'mlflow/traces/{trace_id}/assessments',
    rpc: 'createAssessment',
    feature: 'assessments',
  },
  {
    method: 'GET',
    path: 'mlflow/traces/{trace_id}/assessments/{assessment_id}',
    rpc: 'getAssessment',
    feature: 'assessments',
  },
  {
    method: 'PATCH',
    path: 'mlflow/traces/{trace_id}/assessments/{assessment_id}',
    rpc: 'updateAssessment',
    feature: 'assessments',
  },
  {
    method: 'DELETE',
    path: 'mlflow/traces/{trace_id}/assessments/{assessment_id}',
    rpc: 'deleteAssessment',
    feature: 'assessments',
  },
];

/** MLflow 3's prefixes for `since: 3.0` endpoints. */
const V3_PREFIXES = ['/api/3.0/', '/ajax-api/3.0/'] as const;

function unserved({ method, path, rpc, feature }: Unserved): Operation {
  return defineOperation({
    method,
    path,
    // Nothing is read: whatever the body or its content type, the answer is the same 501.
    input: z.object({}),
    source: 'query',
    handle: (_input, request) => {
      throw new NotImplementedError(
        `${request.method} ${request.path} (MLflow's ${rpc}) is not implemented: Runway does not serve ${feature === 'traces' ? 'traces' : `${feature} (nor traces)`} yet.`,
      );
    },
  });
}

/**
 * The trace, assessment and other GenAI endpoints of MLflow 2.22 and 3, each answering
 * 501 NOT_IMPLEMENTED with a message that names the endpoint, so a client fails clearly instead of
 * on a 404 it could mistake for a wrong URL.
 */
export function genAiOperations(): Operation[] {
  return [
    ...V2.map(unserved),
    ...V3.flatMap((endpoint) =>
      V3_PREFIXES.map((prefix) => unserved({ ...endpoint, path: `${prefix}${endpoint.path}` })),
    ),
  ];
}
