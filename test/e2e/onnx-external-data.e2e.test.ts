import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEndpointFollowing, readRecording, replay, replayedMlmodel } from '../support/client-replay.ts';
import { http, httpRaw, mlflow, unique } from '../support/http-client.ts';
import { type DenseLayer, denseNetworkWithExternalData, randomMlpLayers } from '../support/onnx-models.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * A model logged as MLflow 3.11.1's `mlflow.onnx.log_model(..., registered_model_name=...)` logs it
 * at its defaults (`save_as_external_data=True`: every tensor of 1 KB or more in one `<uuid>.data`
 * file beside `model.onnx`), then registered, aliased, deployed by an endpoint that follows the alias,
 * invoked, and downloaded. The requests are the client's recorded `log_model` flow
 * (test/fixtures/mlflow3/client-3.11.1-requests.json) with the data file's PUT the client adds for
 * such a model, as the real 3.11.1 client sent it against `npm start` with a 100 MB model (the same
 * single PUT per file, the data file before `model.onnx`). The model here is ~3 MB; the path is the
 * same at any size up to the model server's 200 MiB.
 */

const recording = readRecording('client-3.11.1-requests.json');
const FIXTURE_DIR = path.resolve(import.meta.dirname, '../fixtures/models/mlflow3-onnx-logreg');
const FIXTURE = new Map(
  readdirSync(FIXTURE_DIR).map((file) => [file, readFileSync(path.join(FIXTURE_DIR, file))]),
);
const EXAMPLE = JSON.parse(
  readFileSync(
    path.resolve(import.meta.dirname, '../fixtures/models/mlflow3-onnx-logreg.expected.json'),
    'utf8',
  ),
) as { x: number[][] };
/** The file name `onnx.save_model` gives the external data: a uuid1 (as the real client wrote it). */
const DATA_FILE = '172b873e-f28f-11f1-9015-02fc00000001.data';

/** 10 features (the fixture's signature) -> 65,536 relu -> 1 sigmoid: ~3 MB of weights, all external. */
const LAYERS = randomMlpLayers(10, [65_536], 7);
const MODEL = denseNetworkWithExternalData(10, LAYERS, { location: DATA_FILE });

function forward(layers: readonly DenseLayer[], row: readonly number[]): number[] {
  let values = row.map((v) => Math.fround(v));
  for (const layer of layers) {
    const outputs = layer.bias.length;
    const next = Array.from(layer.bias);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      for (let o = 0; o < outputs; o++)
        next[o] = (next[o] as number) + v * (layer.weights[i * outputs + o] as number);
    }
    values = next.map((z) =>
      layer.activation === 'relu'
        ? Math.max(0, z)
        : layer.activation === 'sigmoid'
          ? 1 / (1 + Math.exp(-z))
          : z,
    );
  }
  return values;
}

/** What the client uploads for each artifact path of the logged model. */
function modelFile(artifactPath: string, vars: Record<string, string>): Uint8Array | undefined {
  const name = path.posix.basename(artifactPath);
  if (name === 'model.onnx') return MODEL.onnx;
  if (name === DATA_FILE) return MODEL.data;
  const file = FIXTURE.get(name);
  return name === 'MLmodel' && file ? replayedMlmodel(file, vars) : file;
}

/** The recorded log_model flow with the external data file's PUT before model.onnx's. */
const LOG_MODEL = (() => {
  const flow = recording.flows.log_model_registered ?? [];
  const at = flow.findIndex((request) => request.method === 'PUT' && request.path.endsWith('/model.onnx'));
  const onnxPut = flow[at];
  if (!onnxPut) throw new Error('the recorded log_model flow has no PUT of model.onnx');
  const dataPut = {
    ...onnxPut,
    path: onnxPut.path.replace(/model\.onnx$/, DATA_FILE),
    file: { bytes: MODEL.data.byteLength, contentType: 'application/octet-stream' },
  };
  return [...flow.slice(0, at), dataPut, ...flow.slice(at)];
})();

const vars: Record<string, string> = {
  name: unique('onnx-ext'),
  experiment_name: unique('onnx-external-data'),
};
const ENDPOINT = `onnx-ext-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

afterAll(async () => {
  await http('DELETE', `/api/2.0/runway/endpoints/${ENDPOINT}`);
});

describe('an ONNX model with external data, as MLflow 3.11.1 logs it by default', {
  timeout: 240_000,
}, () => {
  it('logs and registers: every file one PUT, version 1 from models:/<model_id>', async () => {
    expect(MODEL.data.byteLength).toBeGreaterThan(2_500_000);
    const done = await replay(LOG_MODEL, vars, modelFile);
    const created = done.find((entry) => entry.path.includes('/mlflow/model-versions/create'));
    expect(created?.response.json.model_version).toMatchObject({
      name: vars.name,
      version: '1',
      source: `models:/${vars.model_id}`,
      status: 'READY',
    });
  });

  it('an endpoint following the alias deploys version 1 and answers as the network computes', async () => {
    await createEndpointFollowing(ENDPOINT, vars.name as string, 'production');
    const alias = await mlflow('POST', 'registered-models/alias', {
      name: vars.name,
      alias: 'production',
      version: '1',
    });
    expect(alias.status, alias.text).toBe(200);
    const state = () => http('GET', `/api/2.0/runway/endpoints/${ENDPOINT}`).then((r) => r.json.endpoint);
    await waitFor(
      `${ENDPOINT} to serve version 1`,
      async () => ((await state()).traffic.primary?.version === '1' ? true : undefined),
      async () => JSON.stringify(await state()),
    );
    const answer = await http('POST', `/endpoints/${ENDPOINT}/invocations`, { inputs: EXAMPLE.x });
    expect(answer.status, answer.text).toBe(200);
    const rows = Object.values(answer.json.predictions as Record<string, number[][]>)[0] ?? [];
    expect(rows).toHaveLength(EXAMPLE.x.length);
    EXAMPLE.x.forEach((row, i) => {
      expect(Math.abs((rows[i]?.[0] as number) - (forward(LAYERS, row)[0] as number))).toBeLessThan(1e-4);
    });
  });

  it('downloads by models:/<name>@production: the listing names the data file, its bytes intact', async () => {
    const uri = await mlflow('GET', `model-versions/get-download-uri?name=${vars.name}&version=1`);
    const root = `${vars.experiment_id}/models/${vars.model_id}/artifacts`;
    expect(uri.json.artifact_uri).toBe(`mlflow-artifacts:/${root}`);
    const listing = await http('GET', `${ARTIFACTS}?path=${encodeURIComponent(root)}`);
    const files = (listing.json.files as Array<{ path: string; file_size: number }>).map((f) => [
      f.path,
      f.file_size,
    ]);
    expect(files).toContainEqual([DATA_FILE, MODEL.data.byteLength]);
    expect(files).toContainEqual(['model.onnx', MODEL.onnx.byteLength]);
    const data = await httpRaw('GET', `${ARTIFACTS}/${root}/${DATA_FILE}`);
    expect(data.status).toBe(200);
    expect(Buffer.from(data.body).equals(Buffer.from(MODEL.data))).toBe(true);
  });
});
