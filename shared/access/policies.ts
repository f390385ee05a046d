import { loggedModelIdOf } from '../registry/model-source.ts';
import { genAiOperations } from '../tracking/api/genai.routes.ts';
import { mlflow3UnservedOperations } from '../tracking/api/mlflow3-unserved.routes.ts';
import type { ResourceKind } from './model.ts';
import type { Need } from './permissions.ts';

/**
 * A resource a request touches, as its route names it. Runs, logged models and traces inherit their
 * experiment's grants; an endpoint its registered model's. `need`, when set, is what this resource
 * needs instead of the rule's (a request that changes one resource and reads another).
 */
export type ResourceRef = (
  | { kind: ResourceKind; id: string }
  | { kind: 'run'; id: string }
  | { kind: 'logged_model'; id: string }
  | { kind: 'trace'; id: string }
  | { kind: 'endpoint'; id: string }
  | { kind: 'monitor'; id: string }
) & { need?: Need };

// biome-ignore lint/suspicious/noExplicitAny: rules read fields of each route's own validated input.
type Input = any;

/** A search whose results are filtered to what the caller may read (MLflow's `filter_search_*`). */
export interface SearchFilter {
  /** The list field of the response, e.g. `experiments`. */
  items: string;
  kind: ResourceKind;
  /** The experiment id or model name of one result. */
  resourceOf: (item: Input) => string;
}

/**
 * What a route needs (MLflow's `BEFORE_REQUEST_HANDLERS`), and what happens after it succeeds
 * (`AFTER_REQUEST_PATH_HANDLERS`: the creator's MANAGE grant, search filtering).
 */
export type AccessRule =
  /** Served to anyone, even without credentials (`/health`). */
  | { kind: 'public' }
  /** Any authenticated caller: creating what they will then MANAGE, or endpoints that answer 501. */
  | { kind: 'authenticated'; grantCreator?: (output: Input) => { kind: ResourceKind; resource: string } }
  /** Admins only (tokens, webhooks, which send data to URLs outside Runway). */
  | { kind: 'admin' }
  /**
   * `need` on every resource the input names; `grantsFollow` keeps grants true to a model's name once the
   * operation succeeded (a deleted name's grants must not pass to whoever registers it next).
   */
  | {
      kind: 'resources';
      need: Need;
      resources: (input: Input) => ResourceRef[];
      grantsFollow?: (
        input: Input,
      ) => { dropGrantsOf: string } | { moveGrants: { from: string; to: string } };
    }
  /** Found by something other than its id (by name): the answer is checked before it is returned. */
  | { kind: 'result'; need: Need; resources: (output: Input) => ResourceRef[] }
  /** A search: results filtered to readable resources, pages refilled so paging stays correct. */
  | { kind: 'search'; filter: SearchFilter };

const experiment = (id: unknown): ResourceRef => ({ kind: 'experiment', id: String(id) });
const run = (input: Input): ResourceRef => ({
  kind: 'run',
  id: String(input.run_id || input.run_uuid || ''),
});
const model = (name: unknown): ResourceRef => ({ kind: 'registered_model', id: String(name) });
const loggedModel = (input: Input): ResourceRef => ({ kind: 'logged_model', id: String(input.model_id) });
const list = (value: unknown): unknown[] => (value === undefined ? [] : [value].flat());

const onExperiment = (need: Need): AccessRule => ({
  kind: 'resources',
  need,
  resources: (input) => [experiment(input.experiment_id)],
});
const onRun = (need: Need): AccessRule => ({ kind: 'resources', need, resources: (input) => [run(input)] });
const onModel = (need: Need): AccessRule => ({
  kind: 'resources',
  need,
  resources: (input) => [model(input.name)],
});
const onLoggedModel = (need: Need): AccessRule => ({
  kind: 'resources',
  need,
  resources: (input) => [loggedModel(input)],
});

/**
 * The experiment an artifact path belongs to: `<experiment id>/<run id>/artifacts/...` as MLflow's
 * proxy lays them out. Paths of another shape name no experiment and get the default permission, as
 * in MLflow (`_get_permission_from_experiment_id_artifact_proxy`).
 */
const artifactExperiment = (path: unknown): ResourceRef[] => {
  const match = /^\/?(\d+)\//.exec(String(path ?? ''));
  return [match ? experiment(match[1]) : { kind: 'experiment', id: '' }];
};
const onArtifactPath = (need: Need): AccessRule => ({
  kind: 'resources',
  need,
  resources: (input) => artifactExperiment(input.artifact_path),
});
const trace = (input: Input): ResourceRef => ({
  kind: 'trace',
  id: String(input.trace_id ?? input.request_id ?? ''),
});
const onTrace = (need: Need): AccessRule => ({
  kind: 'resources',
  need,
  resources: (input) => [trace(input)],
});
/** The experiments of the traces an answer holds (batch reads): each must be readable. */
const tracesRead = (items: (output: Input) => unknown[]): AccessRule => ({
  kind: 'result',
  need: 'read',
  resources: (output) =>
    [
      ...new Set(
        items(output).map((info) =>
          String((info as Input)?.trace_location?.mlflow_experiment?.experiment_id ?? ''),
        ),
      ),
    ].map(experiment),
});

/**
 * MLflow 3 tracing (`shared/tracking/traces/`): traces follow their experiment's grants. MLflow's own
 * auth app checks none of these routes; Runway checks them as it checks runs: READ to read, EDIT
 * (`update`) to create, tag, assess and link, MANAGE (`delete`) to delete.
 */
function traceRules(): Record<string, AccessRule> {
  const assessments = (path: string): Record<string, AccessRule> => ({
    [`POST ${path}/{trace_id}/assessments`]: onTrace('update'),
    [`GET ${path}/{trace_id}/assessments/{assessment_id}`]: onTrace('read'),
    [`PATCH ${path}/{trace_id}/assessments/{assessment_id}`]: onTrace('update'),
    [`DELETE ${path}/{trace_id}/assessments/{assessment_id}`]: onTrace('update'),
  });
  const rules: Record<string, AccessRule> = {
    // MLflow 2.x's trace API, and what MLflow 3's client still calls under /api/2.0.
    'POST mlflow/traces': onExperiment('update'),
    'GET mlflow/traces': {
      kind: 'resources',
      need: 'read',
      resources: (input) => list(input.experiment_ids).map(experiment),
    },
    'POST mlflow/traces/delete-traces': onExperiment('delete'),
    'POST mlflow/traces/link-to-run': {
      kind: 'resources',
      need: 'update',
      resources: (input) => [run(input), ...list(input.trace_ids).map((id) => trace({ trace_id: id }))],
    },
    'POST mlflow/traces/link-prompts': { kind: 'authenticated' },
    'GET mlflow/traces/{request_id}/info': onTrace('read'),
    'PATCH mlflow/traces/{request_id}': onTrace('update'),
    'GET mlflow/traces/{trace_id}': onTrace('read'),
    'PATCH mlflow/traces/{request_id}/tags': onTrace('update'),
    'DELETE mlflow/traces/{request_id}/tags': onTrace('update'),
    ...assessments('mlflow/traces'),
    'GET /ajax-api/2.0/mlflow/get-trace-artifact': onTrace('read'),
    // OTLP: the experiment named by the `x-mlflow-experiment-id` header (MLflow's auth: EDIT).
    'POST /v1/traces': onExperiment('update'),
  };
  for (const prefix of ['/api/3.0/', '/ajax-api/3.0/']) {
    const path = `${prefix}mlflow/traces`;
    Object.assign(rules, {
      [`POST ${path}`]: {
        kind: 'resources',
        need: 'update',
        resources: (input: Input) => [
          experiment(input.trace?.trace_info?.trace_location?.mlflow_experiment?.experiment_id),
        ],
      },
      [`GET ${path}/get`]: onTrace('read'),
      [`GET ${path}/batchGet`]: tracesRead((output) =>
        (output?.traces ?? []).map((t: Input) => t?.trace_info),
      ),
      [`POST ${path}/batchGetInfos`]: tracesRead((output) => output?.trace_infos ?? []),
      [`POST ${path}/search`]: {
        kind: 'resources',
        need: 'read',
        resources: (input: Input) =>
          list(input.locations).flatMap((location: Input) =>
            location?.mlflow_experiment ? [experiment(location.mlflow_experiment.experiment_id)] : [],
          ),
      },
      [`POST ${path}/delete-traces`]: onExperiment('delete'),
      [`POST ${path}/calculate-filter-correlation`]: { kind: 'authenticated' },
      [`POST ${path}/metrics`]: { kind: 'authenticated' },
      [`GET ${path}/{trace_id}`]: onTrace('read'),
      [`PATCH ${path}/{trace_id}/tags`]: onTrace('update'),
      [`DELETE ${path}/{trace_id}/tags`]: onTrace('update'),
      ...assessments(path),
    } satisfies Record<string, AccessRule>);
  }
  return rules;
}

const onEndpoint = (need: Need): AccessRule => ({
  kind: 'resources',
  need,
  resources: (input) => [{ kind: 'endpoint', id: String(input.name) }],
});
const onMonitor = (need: Need): AccessRule => ({
  kind: 'resources',
  need,
  resources: (input) => [{ kind: 'monitor', id: String(input.name) }],
});

/**
 * The experiment a pipeline's dataset belongs to: a `mlflow-artifacts:/<experiment id>/...` path is
 * that experiment's; any other location (`mlflow-artifacts:/datasets/...`, `s3://...`) is outside
 * every experiment and gets the default permission, as artifact paths of that shape do.
 */
const datasetExperiment = (uri: unknown): ResourceRef[] => {
  const text = String(uri ?? '');
  return artifactExperiment(
    text.startsWith('mlflow-artifacts:') ? text.slice('mlflow-artifacts:'.length) : '',
  );
};

/** Rules by `METHOD path`, with the path as the operation declares it (below `/api/2.0/`). */
export const ACCESS_RULES: Readonly<Record<string, AccessRule>> = {
  'GET /health': { kind: 'public' },
  'GET /version': { kind: 'public' },

  // Experiments (MLflow: CreateExperiment has no validator; the creator gets MANAGE).
  'POST mlflow/experiments/create': {
    kind: 'authenticated',
    grantCreator: (output) => ({ kind: 'experiment', resource: String(output.experiment_id) }),
  },
  'GET mlflow/experiments/get': onExperiment('read'),
  'GET mlflow/experiments/get-by-name': {
    kind: 'result',
    need: 'read',
    resources: (output) => [experiment(output.experiment?.experiment_id)],
  },
  'POST mlflow/experiments/search': searchExperiments(),
  'GET mlflow/experiments/search': searchExperiments(),
  'POST mlflow/experiments/update': onExperiment('update'),
  'POST mlflow/experiments/delete': onExperiment('delete'),
  'POST mlflow/experiments/restore': onExperiment('delete'),
  'POST mlflow/experiments/set-experiment-tag': onExperiment('update'),
  'POST mlflow/experiments/delete-experiment-tag': onExperiment('update'),

  // Runs: their experiment's grants.
  'POST mlflow/runs/create': {
    kind: 'resources',
    need: 'update',
    resources: (input) => [experiment(input.experiment_id ?? '0')],
  },
  'GET mlflow/runs/get': onRun('read'),
  'POST mlflow/runs/update': onRun('update'),
  'POST mlflow/runs/delete': onRun('delete'),
  'POST mlflow/runs/restore': onRun('delete'),
  'POST mlflow/runs/log-metric': onRun('update'),
  'POST mlflow/runs/log-parameter': onRun('update'),
  'POST mlflow/runs/set-tag': onRun('update'),
  'POST mlflow/runs/delete-tag': onRun('update'),
  'POST mlflow/runs/log-batch': onRun('update'),
  'POST mlflow/runs/log-inputs': onRun('update'),
  'POST mlflow/runs/outputs': onRun('update'),
  'POST mlflow/runs/log-model': onRun('update'),
  'POST mlflow/runs/search': {
    kind: 'resources',
    need: 'read',
    resources: (input) => list(input.experiment_ids).map(experiment),
  },
  'GET mlflow/metrics/get-history': onRun('read'),
  'GET mlflow/metrics/get-history-bulk-interval': {
    kind: 'resources',
    need: 'read',
    resources: (input) => list(input.run_ids).map((id) => ({ kind: 'run', id: String(id) })),
  },
  'GET mlflow/metrics/get-history-bulk': {
    kind: 'resources',
    need: 'read',
    resources: (input) => list(input.run_id).map((id) => ({ kind: 'run', id: String(id) })),
  },

  // Logged models (MLflow 3): their experiment's grants.
  'POST mlflow/logged-models': onExperiment('update'),
  'POST mlflow/logged-models/search': {
    kind: 'resources',
    need: 'read',
    resources: (input) => list(input.experiment_ids).map(experiment),
  },
  'GET mlflow/logged-models/{model_id}': onLoggedModel('read'),
  'PATCH mlflow/logged-models/{model_id}': onLoggedModel('update'),
  'DELETE mlflow/logged-models/{model_id}': onLoggedModel('delete'),
  'PATCH mlflow/logged-models/{model_id}/tags': onLoggedModel('update'),
  'DELETE mlflow/logged-models/{model_id}/tags/{tag_key+}': onLoggedModel('update'),
  'POST mlflow/logged-models/{model_id}/params': onLoggedModel('update'),
  'GET mlflow/logged-models/{model_id}/artifacts/directories': onLoggedModel('read'),
  'GET mlflow/logged-models/{model_id}/artifacts/files': onLoggedModel('read'),

  // Artifacts: the run's experiment, or the experiment in the proxy path.
  'GET mlflow/artifacts/list': onRun('read'),
  'GET mlflow-artifacts/artifacts': {
    kind: 'resources',
    need: 'read',
    resources: (input) => artifactExperiment(`${input.path ?? ''}/`),
  },
  'GET mlflow-artifacts/artifacts/{artifact_path+}': onArtifactPath('read'),
  'PUT mlflow-artifacts/artifacts/{artifact_path+}': onArtifactPath('update'),
  'DELETE mlflow-artifacts/artifacts/{artifact_path+}': onArtifactPath('manage'),
  'POST mlflow-artifacts/mpu/create/{artifact_path+}': onArtifactPath('update'),
  'POST mlflow-artifacts/mpu/complete/{artifact_path+}': onArtifactPath('update'),
  'POST mlflow-artifacts/mpu/abort/{artifact_path+}': onArtifactPath('update'),

  // Registered models and versions (MLflow: the model's grants; CreateRegisteredModel has none).
  'POST mlflow/registered-models/create': {
    kind: 'authenticated',
    grantCreator: (output) => ({ kind: 'registered_model', resource: String(output.registered_model?.name) }),
  },
  'GET mlflow/registered-models/get': onModel('read'),
  'GET mlflow/registered-models/search': searchModels('registered_models'),
  'PATCH mlflow/registered-models/update': onModel('update'),
  'POST mlflow/registered-models/rename': {
    ...onModel('update'),
    grantsFollow: (input) => ({ moveGrants: { from: String(input.name), to: String(input.new_name) } }),
  } as AccessRule,
  'DELETE mlflow/registered-models/delete': {
    ...onModel('delete'),
    grantsFollow: (input) => ({ dropGrantsOf: String(input.name) }),
  } as AccessRule,
  'POST mlflow/registered-models/get-latest-versions': onModel('read'),
  'GET mlflow/registered-models/get-latest-versions': onModel('read'),
  'POST mlflow/registered-models/set-tag': onModel('update'),
  'DELETE mlflow/registered-models/delete-tag': onModel('update'),
  'POST mlflow/registered-models/alias': onModel('update'),
  'DELETE mlflow/registered-models/alias': onModel('delete'),
  'GET mlflow/registered-models/alias': onModel('read'),
  // A version made from a logged model exposes its files through the registry and any endpoint that
  // serves it: READ on the logged model's experiment too (MLflow 3.11 checks only the model).
  'POST mlflow/model-versions/create': {
    kind: 'resources',
    need: 'update',
    resources: (input) => {
      const modelId = loggedModelIdOf(String(input.source ?? ''), input.model_id);
      return [
        model(input.name),
        ...(modelId === undefined ? [] : [{ kind: 'logged_model', id: modelId, need: 'read' } as const]),
      ];
    },
  },
  'GET mlflow/model-versions/get': onModel('read'),
  'PATCH mlflow/model-versions/update': onModel('update'),
  'DELETE mlflow/model-versions/delete': onModel('delete'),
  'POST mlflow/model-versions/transition-stage': onModel('update'),
  'GET mlflow/model-versions/get-download-uri': onModel('read'),
  'GET mlflow/model-versions/search': searchModels('model_versions'),
  'POST mlflow/model-versions/set-tag': onModel('update'),
  'DELETE mlflow/model-versions/delete-tag': onModel('delete'),

  // Runway's endpoints belong to the registered model they serve: reading one needs READ on the model;
  // creating, changing and deploying one EDIT (as setting the model's aliases does), on its model and
  // on any model an update names; deleting one MANAGE (as deleting the model).
  'POST runway/endpoints': {
    kind: 'resources',
    need: 'update',
    resources: (input) => [model(input.model_name)],
  },
  'GET runway/endpoints': {
    kind: 'search',
    filter: { items: 'endpoints', kind: 'registered_model', resourceOf: (item) => String(item.model_name) },
  },
  'GET runway/endpoints/{name}': {
    kind: 'result',
    need: 'read',
    resources: (output) => [model(output.endpoint?.model_name)],
  },
  'PATCH runway/endpoints/{name}': {
    kind: 'resources',
    need: 'update',
    resources: (input) => [
      { kind: 'endpoint', id: String(input.name) },
      ...(input.model_name === undefined ? [] : [model(input.model_name)]),
    ],
  },
  'DELETE runway/endpoints/{name}': onEndpoint('delete'),
  'GET runway/endpoints/{name}/deployments': onEndpoint('read'),
  'GET runway/endpoints/{name}/statistics': onEndpoint('read'),
  'POST runway/endpoints/{name}/deploy': onEndpoint('update'),

  // Monitors belong to the endpoint they watch, so to its registered model: reading one (and its reports)
  // needs READ on the model; creating, changing and running one EDIT; deleting one MANAGE. Feedback
  // changes what monitors measure (and may retrain the model): EDIT on the endpoint's model.
  'POST runway/monitors': {
    kind: 'resources',
    need: 'update',
    resources: (input) => [{ kind: 'endpoint', id: String(input.endpoint_name) }],
  },
  'GET runway/monitors': {
    kind: 'search',
    filter: { items: 'monitors', kind: 'registered_model', resourceOf: (item) => String(item.model_name) },
  },
  'GET runway/monitors/{name}': {
    kind: 'result',
    need: 'read',
    resources: (output) => [model(output.monitor?.model_name)],
  },
  'PATCH runway/monitors/{name}': onMonitor('update'),
  'DELETE runway/monitors/{name}': onMonitor('delete'),
  'POST runway/monitors/{name}/run': onMonitor('update'),
  'GET runway/monitors/{name}/reports': onMonitor('read'),
  'GET runway/monitors/{name}/reports/{run_id}': onMonitor('read'),
  'POST /endpoints/{name}/feedback': onEndpoint('update'),

  // Webhooks send registry data to any URL: admins only.
  'POST mlflow/webhooks': { kind: 'admin' },
  'GET mlflow/webhooks': { kind: 'admin' },
  'GET mlflow/webhooks/{webhook_id}': { kind: 'admin' },
  'PATCH mlflow/webhooks/{webhook_id}': { kind: 'admin' },
  'DELETE mlflow/webhooks/{webhook_id}': { kind: 'admin' },
  'POST mlflow/webhooks/{webhook_id}/test': { kind: 'admin' },

  // Runway's tokens: the token service lets admins do anything and users see and revoke their own.
  // The training pipeline (`runway/pipelines/...`): starting one registers a version of the model
  // it names (EDIT, as creating a version is) from a dataset the caller may edit too; an execution is
  // read as its model is, and a listing holds only executions of readable models.
  'POST runway/pipelines/executions': {
    kind: 'resources',
    need: 'update',
    resources: (input) => [model(input.input?.modelName), ...datasetExperiment(input.input?.datasetUri)],
  },
  'GET runway/pipelines/executions': {
    kind: 'search',
    filter: {
      items: 'executions',
      kind: 'registered_model',
      resourceOf: (item) => String(item.model_name ?? ''),
    },
  },
  'GET runway/pipelines/executions/{name}': {
    kind: 'result',
    need: 'read',
    resources: (output) => [model(output.execution?.model_name ?? '')],
  },

  // Who the caller is: every authenticated caller may ask about themselves.
  'GET runway/whoami': { kind: 'authenticated' },
  'POST runway/tokens/create': { kind: 'authenticated' },
  'GET runway/tokens/list': { kind: 'authenticated' },
  'POST runway/tokens/revoke': { kind: 'authenticated' },
  // MLflow's permission endpoints: MANAGE on the resource (`validate_can_manage_*`).
  'POST mlflow/experiments/permissions/create': onExperiment('manage'),
  'GET mlflow/experiments/permissions/get': onExperiment('manage'),
  'PATCH mlflow/experiments/permissions/update': onExperiment('manage'),
  'DELETE mlflow/experiments/permissions/delete': onExperiment('manage'),
  'POST mlflow/registered-models/permissions/create': onModel('manage'),
  'GET mlflow/registered-models/permissions/get': onModel('manage'),
  'PATCH mlflow/registered-models/permissions/update': onModel('manage'),
  'DELETE mlflow/registered-models/permissions/delete': onModel('manage'),

  ...traceRules(),

  // Endpoints Runway answers 501: nothing to protect beyond authentication.
  ...Object.fromEntries(
    [...genAiOperations(), ...mlflow3UnservedOperations()].map((operation) => [
      `${operation.method} ${operation.path}`,
      { kind: 'authenticated' } as AccessRule,
    ]),
  ),
};

function searchExperiments(): AccessRule {
  return {
    kind: 'search',
    filter: { items: 'experiments', kind: 'experiment', resourceOf: (item) => String(item.experiment_id) },
  };
}

function searchModels(items: string): AccessRule {
  return {
    kind: 'search',
    filter: { items, kind: 'registered_model', resourceOf: (item) => String(item.name) },
  };
}

/** The rule of an operation; undefined for routes nobody declared (denied to all but admins). */
export function ruleFor(method: string, path: string, extra: Readonly<Record<string, AccessRule>> = {}) {
  const key = `${method} ${path}`;
  return extra[key] ?? ACCESS_RULES[key];
}
