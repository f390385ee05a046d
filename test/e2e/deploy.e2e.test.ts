import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMlflowYaml } from '../../shared/serving/mlmodel-yaml.ts';
import { type HttpResult, http, httpRaw, mlflow, unique } from '../support/http-client.ts';
import { consistentLogreg, denseNetworkOnnx, readFloatInitializers } from '../support/onnx-models.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Continuous deployment as a new user meets it, through HTTP only (so against the local runtime or
 * any deployment at `E2E_BASE_URL`): a training run logs an ONNX model the way `mlflow.onnx.log_model`
 * does (the model directory PUT through the artifact proxy, then `runs/log-model`), the model is
 * registered from `runs:/<run_id>/model`, an endpoint follows the alias `production`, and setting the
 * alias deploys the version by canary. A version whose graph disagrees with its signature is refused
 * before any traffic moves, and the endpoint keeps serving the previous one; a good version after it
 * deploys. Duplicate and lost events need the runtime's bus: `test/local/deploy.test.ts`.
 */

const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/models');
/** The MLflow model directory `mlflow.onnx.log_model` writes (test/fixtures/models/README.md). */
const MODEL_DIR = path.join(FIXTURES, 'mlflow-onnx-logreg');
const FIXTURE_FILES = new Map<string, Uint8Array>(
  readdirSync(MODEL_DIR).map((file) => [file, new Uint8Array(readFileSync(path.join(MODEL_DIR, file)))]),
);
const EXAMPLE = JSON.parse(readFileSync(path.join(FIXTURES, 'mlflow-onnx-logreg.expected.json'), 'utf8')) as {
  x: number[][];
  expected: number[][];
};
const FIXTURE_ONNX = FIXTURE_FILES.get('model.onnx') as Uint8Array;
/** The fixture's logistic regression over the 10 features its signature names: answers `expected`. */
const GOOD_ONNX = consistentLogreg(FIXTURE_ONNX);
/** Another good model, to tell versions apart by their predictions: every weight and the bias negated. */
const NEGATED_ONNX = (() => {
  const initializers = readFloatInitializers(GOOD_ONNX);
  const negate = (name: string) => (initializers.get(name)?.values ?? new Float32Array()).map((v) => -v);
  return denseNetworkOnnx(10, [{ weights: negate('w0'), bias: negate('b0'), activation: 'sigmoid' }]);
})();
/** What sigmoid(x . w + b) gives for the example rows, from a model's own weights. */
function predictionsOf(onnx: Uint8Array): number[] {
  const initializers = readFloatInitializers(onnx);
  const w = initializers.get('w0')?.values ?? new Float32Array();
  const b = initializers.get('b0')?.values[0] ?? 0;
  return EXAMPLE.x.map(
    (row) => 1 / (1 + Math.exp(-(row.reduce((sum, v, i) => sum + v * (w[i] ?? 0), 0) + b))),
  );
}

/** Each segment percent-encoded, as the client's `requests` sends artifact paths. */
const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');
const q = encodeURIComponent;
const endpoints = (method: string, pathname: string, body?: unknown) =>
  http(method, `/api/2.0/runway/endpoints${pathname}`, body);

function ok(result: HttpResult, what: string): HttpResult {
  expect(result.status, `${what}: ${result.text.slice(0, 500)}`).toBe(200);
  return result;
}

/** Functions start cold and the deploy runs by steps: every wait is bounded but generous. */
const WAIT_MS = 90_000;

let experimentId: string;
const MODEL = unique('e2e-deploy');
const ENDPOINT = `e2e-deploy-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

/**
 * `with mlflow.start_run(): mlflow.onnx.log_model(onnx_model, "model", signature=..., input_example=...)`:
 * the run is created, the model directory (its MLmodel naming this run) goes through the artifact
 * proxy file by file, the model is recorded on the run (`runs/log-model` with the MLmodel's tag
 * dictionary, as `Model.get_tags_dict()` builds it), and the run ends. `onnx` is its `model.onnx`.
 * Returns the run's id.
 */
async function logModel(onnx: Uint8Array): Promise<string> {
  const run = ok(
    await mlflow('POST', 'runs/create', {
      experiment_id: experimentId,
      start_time: Date.now(),
      run_name: unique('train'),
      tags: [{ key: 'mlflow.source.type', value: 'LOCAL' }],
    }),
    'runs/create',
  ).json.run.info;
  const runId = run.run_id as string;
  // mlflow-artifacts:/<path> (or mlflow-artifacts://<host>/<path>) is the proxy's <path>.
  expect(run.artifact_uri).toMatch(/^mlflow-artifacts:/);
  const directory = `${(run.artifact_uri as string).replace(/^mlflow-artifacts:(\/\/[^/]*)?\/+/, '')}/model`;
  const mlmodel = new TextDecoder()
    .decode(FIXTURE_FILES.get('MLmodel'))
    .replace(/^run_id: .*$/m, `run_id: ${runId}`);
  const files = new Map<string, Uint8Array>(FIXTURE_FILES);
  files.set('MLmodel', new TextEncoder().encode(mlmodel));
  files.set('model.onnx', onnx);
  for (const [file, bytes] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const put = await httpRaw('PUT', `${ARTIFACTS}/${encodePath(`${directory}/${file}`)}`, bytes, {
      'content-type': 'application/octet-stream',
    });
    expect(put.status, `PUT ${file}`).toBe(200);
  }
  const parsed = parseMlflowYaml(mlmodel) as Record<string, unknown>;
  const tags = Object.fromEntries(
    ['run_id', 'utc_time_created', 'artifact_path', 'model_uuid']
      .filter((key) => key in parsed)
      .map((key) => [key, parsed[key]]),
  );
  ok(
    await mlflow('POST', 'runs/log-model', {
      run_id: runId,
      model_json: JSON.stringify({ ...tags, flavors: parsed.flavors }),
    }),
    'runs/log-model',
  );
  ok(
    await mlflow('POST', 'runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() }),
    'runs/update',
  );
  return runId;
}

/** `mlflow.register_model("runs:/<run_id>/model", name)`: create (ignoring an existing one), version, READY. */
async function register(runId: string): Promise<string> {
  const created = await mlflow('POST', 'registered-models/create', { name: MODEL });
  if (created.status !== 200) expect(created.json.error_code).toBe('RESOURCE_ALREADY_EXISTS');
  const version = ok(
    await mlflow('POST', 'model-versions/create', {
      name: MODEL,
      source: `runs:/${runId}/model`,
      run_id: runId,
      tags: [],
    }),
    'model-versions/create',
  ).json.model_version;
  const ready = ok(
    await mlflow('GET', `model-versions/get?name=${q(MODEL)}&version=${version.version}`),
    'model-versions/get',
  );
  expect(ready.json.model_version.status).toBe('READY');
  return version.version as string;
}

/** `client.set_registered_model_alias(name, "production", version)`. */
async function promote(version: string) {
  ok(
    await mlflow('POST', 'registered-models/alias', { name: MODEL, alias: 'production', version }),
    `alias production -> ${version}`,
  );
}

async function endpoint() {
  return ok(await endpoints('GET', `/${ENDPOINT}`), 'GET endpoint').json.endpoint;
}

/** A deployment as `GET runway/endpoints/{name}/deployments` lists it (docs/endpoints.md). */
interface Deployment {
  version: string;
  previous_version: string | null;
  trigger: string;
  status: 'InProgress' | 'Succeeded' | 'RolledBack' | 'Failed';
  reason: string | null;
  steps: Array<{ weight: number }>;
}

async function deployments(): Promise<Deployment[]> {
  return ok(await endpoints('GET', `/${ENDPOINT}/deployments`), 'GET deployments').json.deployments ?? [];
}

const history = async () => JSON.stringify({ endpoint: await endpoint(), deployments: await deployments() });

/** Resolves when `version` has all of the endpoint's traffic. */
function servedBy(version: string) {
  return waitFor(
    `version ${version} to take all of ${ENDPOINT}'s traffic`,
    async () => {
      const { traffic } = await endpoint();
      return traffic.primary?.version === version && traffic.canary === null ? traffic : undefined;
    },
    history,
  );
}

/** The newest deployment of `version` once it has ended. */
function ended(version: string) {
  return waitFor(
    `the deployment of version ${version} to end`,
    async () => {
      const found = (await deployments()).find((deployment) => deployment.version === version);
      return found && found.status !== 'InProgress' ? found : undefined;
    },
    history,
  );
}

const COLUMNS = Array.from({ length: 10 }, (_, i) => `f${i}`);
/** The example rows in the two formats a new user reaches for: pandas' split frame and TF serving's inputs. */
const BODIES = {
  dataframe_split: { dataframe_split: { columns: COLUMNS, data: EXAMPLE.x } },
  inputs: { inputs: EXAMPLE.x },
};

/** Invokes the endpoint in each format; every answer must come from `version` with `expected`. */
async function expectServed(version: string, expected: number[]) {
  for (const [format, body] of Object.entries(BODIES)) {
    const response = await http('POST', `/endpoints/${ENDPOINT}/invocations`, body);
    expect(response.status, `${format}: ${response.text.slice(0, 300)}`).toBe(200);
    expect(response.headers.get('x-runway-model-version'), format).toBe(version);
    const rows = response.json.predictions.p as number[][];
    expect(rows, format).toHaveLength(expected.length);
    rows.forEach((row, i) => {
      expect(row, `${format} row ${i}`).toHaveLength(1);
      expect(row[0], `${format} row ${i}`).toBeCloseTo(expected[i] as number, 5);
    });
  }
}

beforeAll(async () => {
  experimentId = ok(await mlflow('POST', 'experiments/create', { name: unique('deploy-e2e') }), 'experiment')
    .json.experiment_id;
});

afterAll(async () => {
  // A deployment under test keeps nothing behind (the local runtime's data directory is removed anyway).
  await endpoints('DELETE', `/${ENDPOINT}`);
});

describe('continuous deployment over HTTP, as a new user drives it', { timeout: 3 * WAIT_MS }, () => {
  it('deploys the version the production alias is set to, and the endpoint serves its predictions', async () => {
    const v1 = await register(await logModel(GOOD_ONNX));
    expect(v1).toBe('1');
    const created = ok(
      await endpoints('POST', '', {
        name: ENDPOINT,
        model_name: MODEL,
        follows: { alias: 'production' },
        rollout_policy: { traffic_steps: [50, 100], bake_seconds: 0 },
      }),
      'create endpoint',
    );
    expect(created.json.endpoint.traffic).toMatchObject({ primary: null, canary: null });

    await promote(v1);
    const traffic = await servedBy(v1);
    expect(traffic.primary.storage_location).toMatch(/\/model$/);
    const [deployment] = await deployments();
    expect(deployment).toMatchObject({
      version: v1,
      previous_version: null,
      trigger: 'event',
      status: 'Succeeded',
      reason: null,
    });
    expect(deployment?.steps.map((step) => step.weight)).toEqual([50, 100]);
    expect((await endpoint()).status).toBe('InService');

    expect(predictionsOf(GOOD_ONNX).map((p, i) => p - (EXAMPLE.expected[i]?.[0] as number))).toEqual(
      EXAMPLE.expected.map(() => expect.closeTo(0, 5)),
    );
    await expectServed(v1, predictionsOf(GOOD_ONNX));
  });

  it('refuses a version whose graph disagrees with its signature: the deploy fails and traffic stays', async () => {
    // The shared fixture as MLflow wrote it: its model.onnx takes 11 features, its signature says 10.
    const v2 = await register(await logModel(FIXTURE_ONNX));
    expect(v2).toBe('2');
    await promote(v2);
    const deployment = await ended(v2);
    expect(deployment).toMatchObject({ version: v2, previous_version: '1', status: 'Failed' });
    expect(deployment.reason).toMatch(/^CheckModel: /);
    expect(deployment.reason).toContain(
      "The signature's input has shape [-1, 10] but the ONNX graph's 'x' has shape [-1, 11]",
    );
    expect(deployment.steps).toEqual([]);
    const after = await endpoint();
    expect(after.traffic).toMatchObject({ primary: { version: '1' }, canary: null, canary_weight: 0 });
    expect(after.status).toBe('InService');
    await expectServed('1', predictionsOf(GOOD_ONNX));
  });

  it('deploys a good version after the broken one, and the endpoint serves the new model', async () => {
    const v3 = await register(await logModel(NEGATED_ONNX));
    expect(v3).toBe('3');
    await promote(v3);
    await servedBy(v3);
    expect(await ended(v3)).toMatchObject({ status: 'Succeeded', previous_version: '1' });
    // The model server reads an endpoint's traffic at most once a second per container.
    await waitFor(
      `invocations of ${ENDPOINT} to answer from version ${v3}`,
      async () => {
        const response = await http('POST', `/endpoints/${ENDPOINT}/invocations`, BODIES.inputs);
        return response.headers.get('x-runway-model-version') === v3 ? true : undefined;
      },
      history,
    );
    const expected = predictionsOf(NEGATED_ONNX);
    expect(expected.map((p, i) => p + (EXAMPLE.expected[i]?.[0] as number))).toEqual(
      expected.map(() => expect.closeTo(1, 5)),
    );
    await expectServed(v3, expected);
  });
});
