import * as z from 'zod';
import { NotImplementedError } from '../../platform/errors.ts';
import { defineOperation, type HttpMethod, type Operation } from '../../platform/http/operation.ts';

/** A family of MLflow 3.11 RPCs Runway does not serve, and why (docs/mlflow-compatibility.md). */
interface Family {
  what: string;
  why: string;
  /** `METHOD path rpc`, the path below `/api/3.0/` (literal paths before `{param}` ones they overlap). */
  rpcs: readonly string[];
}

/**
 * The RPCs of MLflow 3.11.1's service.proto that belong to its GenAI and platform features Runway has
 * no counterpart for (traces and assessments are served by the traces function, `../traces/`). MLflow 3 serves them
 * under `/api/3.0/` and `/ajax-api/3.0/` only; each answers 501 NOT_IMPLEMENTED naming the RPC and
 * why, so a client fails clearly instead of on a 404 it could take for a wrong URL.
 */
const FAMILIES: readonly Family[] = [
  {
    what: 'GenAI evaluation datasets',
    why: 'Runway tracks the datasets runs log (runs/log-inputs) but keeps no evaluation-dataset records',
    rpcs: [
      'POST mlflow/datasets/create createDataset',
      'POST mlflow/datasets/search searchEvaluationDatasets',
      'GET mlflow/datasets/search searchEvaluationDatasets',
      'GET mlflow/datasets/{dataset_id} getDataset',
      'DELETE mlflow/datasets/{dataset_id} deleteDataset',
      'PATCH mlflow/datasets/{dataset_id}/tags setDatasetTags',
      'DELETE mlflow/datasets/{dataset_id}/tags/{key} deleteDatasetTag',
      'POST mlflow/datasets/{dataset_id}/records upsertDatasetRecords',
      'GET mlflow/datasets/{dataset_id}/records getDatasetRecords',
      'DELETE mlflow/datasets/{dataset_id}/records deleteDatasetRecords',
      'GET mlflow/datasets/{dataset_id}/experiment-ids getDatasetExperimentIds',
      'POST mlflow/datasets/{dataset_id}/add-experiments addDatasetToExperiments',
      'POST mlflow/datasets/{dataset_id}/remove-experiments removeDatasetFromExperiments',
    ],
  },
  {
    what: 'GenAI scorers',
    why: 'scorers run judges over traces as server-side jobs, which Runway does not run (traces themselves are stored, searched and assessed)',
    rpcs: [
      'POST mlflow/scorers/register registerScorer',
      'GET mlflow/scorers/list listScorers',
      'GET mlflow/scorers/versions listScorerVersions',
      'GET mlflow/scorers/get getScorer',
      'DELETE mlflow/scorers/delete deleteScorer',
    ],
  },
  {
    what: "MLflow's AI gateway",
    why: "Runway's endpoints serve registered models (POST /endpoints/{name}/invocations); it proxies no LLM providers and holds no provider secrets",
    rpcs: [
      'POST mlflow/gateway/secrets/create createGatewaySecret',
      'GET mlflow/gateway/secrets/get getGatewaySecretInfo',
      'POST mlflow/gateway/secrets/update updateGatewaySecret',
      'DELETE mlflow/gateway/secrets/delete deleteGatewaySecret',
      'GET mlflow/gateway/secrets/list listGatewaySecretInfos',
      'POST mlflow/gateway/endpoints/create createGatewayEndpoint',
      'GET mlflow/gateway/endpoints/get getGatewayEndpoint',
      'POST mlflow/gateway/endpoints/update updateGatewayEndpoint',
      'DELETE mlflow/gateway/endpoints/delete deleteGatewayEndpoint',
      'GET mlflow/gateway/endpoints/list listGatewayEndpoints',
      'POST mlflow/gateway/endpoints/models/attach attachModelToEndpoint',
      'POST mlflow/gateway/endpoints/models/detach detachModelFromEndpoint',
      'POST mlflow/gateway/endpoints/bindings/create createEndpointBinding',
      'DELETE mlflow/gateway/endpoints/bindings/delete deleteEndpointBinding',
      'GET mlflow/gateway/endpoints/bindings/list listEndpointBindings',
      'POST mlflow/gateway/endpoints/set-tag setGatewayEndpointTag',
      'DELETE mlflow/gateway/endpoints/delete-tag deleteGatewayEndpointTag',
      'POST mlflow/gateway/model-definitions/create createGatewayModelDefinition',
      'GET mlflow/gateway/model-definitions/get getGatewayModelDefinition',
      'GET mlflow/gateway/model-definitions/list listGatewayModelDefinitions',
      'POST mlflow/gateway/model-definitions/update updateGatewayModelDefinition',
      'DELETE mlflow/gateway/model-definitions/delete deleteGatewayModelDefinition',
      'POST mlflow/gateway/budgets/create createBudgetPolicy',
      'GET mlflow/gateway/budgets/get getBudgetPolicy',
      'POST mlflow/gateway/budgets/update updateBudgetPolicy',
      'DELETE mlflow/gateway/budgets/delete deleteBudgetPolicy',
      'GET mlflow/gateway/budgets/list listBudgetPolicies',
      'GET mlflow/gateway/budgets/windows listBudgetWindows',
    ],
  },
  {
    what: 'prompt optimization jobs',
    why: "they run LLM-driven optimizers on MLflow's job runner, which Runway does not have",
    rpcs: [
      'POST mlflow/prompt-optimization/jobs createPromptOptimizationJob',
      'POST mlflow/prompt-optimization/jobs/search searchPromptOptimizationJobs',
      'GET mlflow/prompt-optimization/jobs/search searchPromptOptimizationJobs',
      'GET mlflow/prompt-optimization/jobs/{job_id} getPromptOptimizationJob',
      'POST mlflow/prompt-optimization/jobs/{job_id}/cancel cancelPromptOptimizationJob',
      'DELETE mlflow/prompt-optimization/jobs/{job_id} deletePromptOptimizationJob',
    ],
  },
  {
    what: 'workspaces',
    why: 'a Runway deployment is one workspace; isolate teams with separate deployments or with permissions',
    rpcs: [
      'GET mlflow/workspaces listWorkspaces',
      'POST mlflow/workspaces createWorkspace',
      'GET mlflow/workspaces/{workspace_name} getWorkspace',
      'PATCH mlflow/workspaces/{workspace_name} updateWorkspace',
      'DELETE mlflow/workspaces/{workspace_name} deleteWorkspace',
    ],
  },
  {
    what: 'GenAI issues',
    why: 'issues group what judges find in traces, a server-side job Runway does not run',
    rpcs: [
      'POST mlflow/issues createIssue',
      'POST mlflow/issues/search searchIssues',
      'GET mlflow/issues/{issue_id} getIssue',
      'PATCH mlflow/issues/{issue_id} updateIssue',
    ],
  },
];

const V3_PREFIXES = ['/api/3.0/', '/ajax-api/3.0/'] as const;

/** Every unserved RPC, with what it belongs to and why Runway does not serve it. */
export const MLFLOW3_UNSERVED_RPCS: ReadonlyArray<{
  method: HttpMethod;
  /** Below `/api/3.0/` (and `/ajax-api/3.0/`). */
  path: string;
  rpc: string;
  what: string;
  why: string;
}> = FAMILIES.flatMap(({ what, why, rpcs }) =>
  rpcs.map((line) => {
    const [method, path, rpc] = line.split(' ') as [HttpMethod, string, string];
    return { method, path, rpc, what, why };
  }),
);

/** The 501 operations, under both of MLflow 3's prefixes. */
export function mlflow3UnservedOperations(): Operation[] {
  return MLFLOW3_UNSERVED_RPCS.flatMap(({ method, path, rpc, what, why }) =>
    V3_PREFIXES.map((prefix) =>
      defineOperation({
        method,
        path: `${prefix}${path}`,
        // Nothing is read: whatever the body or its content type, the answer is the same 501.
        input: z.object({}),
        source: 'query',
        handle: (_input, request) => {
          throw new NotImplementedError(
            `${request.method} ${request.path} (MLflow's ${rpc}) is not implemented: Runway does not serve ${what} (${why}).`,
          );
        },
      }),
    ),
  );
}
