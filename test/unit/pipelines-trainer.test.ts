import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/repo-root.ts';
import { encodeOnnxModel, linearModelOnnx } from '../../shared/pipelines/onnx/onnx-model.ts';
import { encodeVarint, ProtoWriter } from '../../shared/pipelines/onnx/protobuf.ts';
import {
  leastSquaresQr,
  SingularMatrixError,
  solveCholesky,
} from '../../shared/pipelines/training/linear-algebra.ts';
import { predict, TrainingError, trainLinearModel } from '../../shared/pipelines/training/linear-models.ts';
import { mlflowModelFiles } from '../../shared/pipelines/training/mlflow-model.ts';
import { readTarGz } from '../../shared/pipelines/training/tar.ts';
import { tarGz } from '../support/fake-sagemaker-training.ts';
import { IRIS_FEATURES, iris, R_GLM, R_LM, versicolorVirginica } from '../support/iris.ts';

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

/** The closed form β = (XᵀX)⁻¹Xᵀy, by Cholesky on the normal equations: independent of the QR path. */
function normalEquations(x: number[][], y: number[]): number[] {
  const design = x.map((row) => [1, ...row]);
  const k = design[0]!.length;
  const xtx = Array.from({ length: k }, (_, a) =>
    Array.from({ length: k }, (_, b) => design.reduce((s, row) => s + row[a]! * row[b]!, 0)),
  );
  const xty = Array.from({ length: k }, (_, a) => design.reduce((s, row, i) => s + row[a]! * y[i]!, 0));
  return solveCholesky(xtx, xty);
}

describe('protobuf writer', () => {
  it('encodes varints as protobuf does (LEB128, two’s complement for negatives)', () => {
    expect([...encodeVarint(0n)]).toEqual([0]);
    expect([...encodeVarint(1n)]).toEqual([1]);
    expect([...encodeVarint(300n)]).toEqual([0xac, 0x02]);
    expect([...encodeVarint(0xffff_ffff_ffff_ffffn)]).toHaveLength(10);
    expect([...new ProtoWriter().int(1, -1).finish()]).toEqual([0x08, ...new Array(9).fill(0xff), 0x01]);
    expect(() => encodeVarint(-1n)).toThrow(RangeError);
  });

  it('writes tags, strings, nested messages and packed floats byte for byte', () => {
    const inner = new ProtoWriter().string(1, 'hi');
    const bytes = new ProtoWriter().int(2, 150).message(3, inner).packedFloats(4, [1]).finish();
    expect([...bytes]).toEqual([
      0x10,
      0x96,
      0x01, // field 2 varint 150
      0x1a,
      0x04,
      0x0a,
      0x02,
      0x68,
      0x69, // field 3: message { field 1: "hi" }
      0x22,
      0x04,
      0x00,
      0x00,
      0x80,
      0x3f, // field 4 packed float 1.0
    ]);
    expect(() => new ProtoWriter().int(0, 1)).toThrow(RangeError);
  });

  it('refuses a tensor whose values do not fill its dims', () => {
    expect(() =>
      encodeOnnxModel({
        producerName: 'x',
        producerVersion: '1',
        graph: {
          name: 'g',
          nodes: [],
          initializers: [{ name: 't', dims: [2, 2], values: [1, 2, 3] }],
          inputs: [],
          outputs: [],
        },
      }),
    ).toThrow(/3 values for dims \[2, 2\]/);
  });
});

describe('linear algebra', () => {
  it('solves least squares by QR to the closed-form answer', () => {
    const { rows } = iris();
    const x = rows.map((row) => row.slice(0, 3).map(Number));
    const y = rows.map((row) => Number(row[3]));
    const qr = leastSquaresQr(
      x.map((row) => [1, ...row]),
      y,
    );
    const closed = normalEquations(x, y);
    qr.forEach((value, i) => {
      expect(value).toBeCloseTo(closed[i]!, 9);
    });
  });

  it('names a collinear column and a matrix that is not positive definite', () => {
    expect(() =>
      leastSquaresQr(
        [
          [1, 2],
          [2, 4],
          [3, 6],
        ],
        [1, 2, 3],
      ),
    ).toThrow(SingularMatrixError);
    expect(() =>
      solveCholesky(
        [
          [1, 2],
          [2, 1],
        ],
        [1, 1],
      ),
    ).toThrow(/not positive definite/);
  });
});

describe('built-in trainer against textbook results on Iris', () => {
  it('logistic regression by Newton/IRLS reproduces R’s glm (versicolor vs virginica)', () => {
    const { x, y } = versicolorVirginica();
    const model = trainLinearModel('logistic_regression', IRIS_FEATURES, x, y);
    expect(model.fit.converged).toBe(true);
    expect(model.fit.iterations).toBeLessThan(25);
    expect(model.intercept).toBeCloseTo(R_GLM.intercept, 2);
    model.coefficients.forEach((c, i) => {
      expect(c).toBeCloseTo(R_GLM.coefficients[i]!, 2);
    });
    expect(model.fit.loss).toBeCloseTo(R_GLM.deviance, 2);
  });

  it('linear regression reproduces R’s lm and the closed form', () => {
    const { rows } = iris();
    const x = rows.map((row) => row.slice(0, 3).map(Number));
    const y = rows.map((row) => Number(row[3]));
    const model = trainLinearModel('linear_regression', IRIS_FEATURES.slice(0, 3), x, y);
    expect(model.intercept).toBeCloseTo(R_LM.intercept, 4);
    model.coefficients.forEach((c, i) => {
      expect(c).toBeCloseTo(R_LM.coefficients[i]!, 4);
    });
    const closed = normalEquations(x, y);
    expect(model.intercept).toBeCloseTo(closed[0]!, 9);
  });

  it('an L2 penalty shrinks the standardised coefficients and keeps the optimum’s gradient at zero', () => {
    const { x, y } = versicolorVirginica();
    const free = trainLinearModel('logistic_regression', IRIS_FEATURES, x, y);
    const l2 = 1;
    const ridge = trainLinearModel('logistic_regression', IRIS_FEATURES, x, y, { l2 });
    const norm = (v: number[]) => Math.hypot(...v);
    expect(norm(ridge.standardizedCoefficients)).toBeLessThan(norm(free.standardizedCoefficients));
    // Stationarity: Zᵀ(p - y) + l2·w = 0 on the standardised features.
    const { mean, scale } = ridge.standardization;
    const gradient = ridge.standardizedCoefficients.map((w, j) => {
      let sum = 0;
      x.forEach((row, i) => {
        sum += (predict(ridge, row) - y[i]!) * ((row[j]! - mean[j]!) / scale[j]!);
      });
      return sum + l2 * w;
    });
    for (const g of gradient) expect(Math.abs(g)).toBeLessThan(1e-6);
  });

  it('refuses separable classes without a penalty, constant features and too few rows, saying why', () => {
    const x = [[0], [1], [2], [3]];
    expect(() => trainLinearModel('logistic_regression', ['a'], x, [0, 0, 1, 1])).toThrow(
      /perfectly separated.*l2 > 0/,
    );
    expect(trainLinearModel('logistic_regression', ['a'], x, [0, 0, 1, 1], { l2: 0.1 }).fit.converged).toBe(
      true,
    );
    expect(() => trainLinearModel('linear_regression', ['a'], [[1], [1], [1]], [1, 2, 3])).toThrow(
      /"a" is constant/,
    );
    expect(() =>
      trainLinearModel(
        'linear_regression',
        ['a', 'b'],
        [
          [1, 2],
          [2, 1],
        ],
        [1, 2],
      ),
    ).toThrow(TrainingError);
  });
});

describe('ONNX export', () => {
  it('loads in ONNX Runtime and predicts what the trainer computes (logistic)', async () => {
    const { x, y } = versicolorVirginica();
    const model = trainLinearModel('logistic_regression', IRIS_FEATURES, x, y, { l2: 0.1 });
    const bytes = linearModelOnnx({
      weights: model.coefficients,
      intercept: model.intercept,
      link: 'logistic',
      producerVersion: '0.0.0',
    });
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['output']);
    const input = new ort.Tensor('float32', Float32Array.from(x.flat()), [x.length, 4]);
    const { output } = await session.run({ input });
    expect(output!.dims).toEqual([x.length, 1]);
    const probabilities = [...(output!.data as Float32Array)];
    probabilities.forEach((p, i) => {
      expect(p).toBeCloseTo(predict(model, x[i]!), 5);
    });
  });

  it('loads in ONNX Runtime and predicts what the trainer computes (linear)', async () => {
    const { rows } = iris();
    const x = rows.map((row) => row.slice(0, 3).map(Number));
    const model = trainLinearModel(
      'linear_regression',
      IRIS_FEATURES.slice(0, 3),
      x,
      rows.map((row) => Number(row[3])),
    );
    const session = await ort.InferenceSession.create(
      linearModelOnnx({
        weights: model.coefficients,
        intercept: model.intercept,
        link: 'identity',
        producerVersion: '0',
      }),
    );
    const { output } = await session.run({
      input: new ort.Tensor('float32', Float32Array.from(x.flat()), [x.length, 3]),
    });
    [...(output!.data as Float32Array)].forEach((v, i) => {
      expect(v).toBeCloseTo(predict(model, x[i]!), 4);
    });
  });
});

describe('MLflow model directory', () => {
  const fixture = text(readFileSync(path.join(REPO_ROOT, 'test/fixtures/mlflow/onnx-logreg.MLmodel')));
  const { x, y } = versicolorVirginica();
  const model = trainLinearModel('logistic_regression', IRIS_FEATURES, x, y, { l2: 0.1 });
  const { files, modelJson } = mlflowModelFiles({
    model,
    runId: 'abc123',
    target: 'species',
    positiveClass: 'virginica',
    example: x,
    runwayVersion: '0.1.0',
    now: new Date('2026-11-28T10:00:00.123Z'),
  });
  const mlmodel = text(files.MLmodel);

  it('has the files and MLmodel keys MLflow’s ONNX flavor writes (as in the reference fixture)', () => {
    for (const name of [
      'MLmodel',
      'model.onnx',
      'input_example.json',
      'serving_input_example.json',
      'conda.yaml',
      'python_env.yaml',
      'requirements.txt',
    ]) {
      expect(files[name], name).toBeDefined();
    }
    const topLevelKeys = (yaml: string) =>
      yaml
        .split('\n')
        .filter((l) => /^[a-z_]+:/.test(l))
        .map((l) => l.split(':')[0]);
    const ours = topLevelKeys(mlmodel);
    for (const key of topLevelKeys(fixture)) expect(ours, key).toContain(key);
    expect(mlmodel).toContain('    loader_module: mlflow.onnx');
    expect(mlmodel).toContain('    data: model.onnx');
    expect(mlmodel).toContain('run_id: abc123');
    expect(mlmodel).toContain("utc_time_created: '2026-11-28 10:00:00.123000'");
    expect(mlmodel).toContain(
      `  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'`,
    );
    expect(mlmodel).toContain(
      `  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}}]'`,
    );
    expect(mlmodel).toMatch(
      /saved_input_example_info:\n {2}artifact_path: input_example.json\n {2}serving_input_path: serving_input_example.json\n {2}type: ndarray/,
    );
    const size = Object.entries(files)
      .filter(([name]) => name !== 'MLmodel')
      .reduce((s, [, b]) => s + b.byteLength, 0);
    expect(mlmodel).toContain(`model_size_bytes: ${size}`);
    expect(modelJson).toMatchObject({
      artifact_path: 'model',
      run_id: 'abc123',
      flavors: { onnx: { data: 'model.onnx' } },
    });
  });

  it('carries an input example the model accepts, as ndarray and as a serving request', async () => {
    const example = JSON.parse(text(files['input_example.json'])) as number[][];
    expect(example).toHaveLength(5);
    expect(JSON.parse(text(files['serving_input_example.json']))).toEqual({ inputs: example });
    const session = await ort.InferenceSession.create(files['model.onnx']!);
    const { output } = await session.run({
      input: new ort.Tensor('float32', Float32Array.from(example.flat()), [5, 4]),
    });
    [...(output!.data as Float32Array)].forEach((p, i) => {
      expect(p).toBeCloseTo(predict(model, example[i]!), 5);
    });
  });

  it('keeps the coefficients beside the ONNX file for later scoring', () => {
    const saved = JSON.parse(text(files['runway_model.json'])) as typeof model & { target: string };
    expect(saved.coefficients).toEqual(model.coefficients);
    expect(saved).toMatchObject({
      type: 'logistic_regression',
      target: 'species',
      positiveClass: 'virginica',
    });
  });
});

describe('MLflow 3 logged-model directory', () => {
  const fixture = text(
    readFileSync(path.join(REPO_ROOT, 'test/fixtures/models/mlflow3-onnx-logreg/MLmodel')),
  );
  const { x, y } = versicolorVirginica();
  const model = trainLinearModel('logistic_regression', IRIS_FEATURES, x, y, { l2: 0.1 });
  const modelId = 'm-0123456789abcdef0123456789abcdef';
  const artifactLocation = `mlflow-artifacts:/7/models/${modelId}/artifacts`;
  const { files } = mlflowModelFiles({
    model,
    runId: 'abc123',
    loggedModel: { modelId, artifactLocation },
    target: 'species',
    example: x,
    runwayVersion: '0.1.0',
  });
  const mlmodel = text(files.MLmodel);

  it('names the logged model and its location as MLflow 3.11 does, with every top-level key of its MLmodel', () => {
    const keys = (yaml: string) =>
      yaml
        .split('\n')
        .filter((l) => /^[a-z_]+:/.test(l))
        .map((l) => l.split(':')[0]);
    for (const key of keys(fixture)) expect(keys(mlmodel), key).toContain(key);
    expect(mlmodel).toContain(`artifact_path: ${artifactLocation}\n`);
    expect(mlmodel).toContain(`model_id: ${modelId}\n`);
    expect(mlmodel).toContain(`model_uuid: ${modelId}\n`);
    expect(mlmodel).toContain('mlflow_version: 3.11.1\n');
    expect(text(files['requirements.txt'])).toBe(
      text(readFileSync(path.join(REPO_ROOT, 'test/fixtures/models/mlflow3-onnx-logreg/requirements.txt'))) +
        '\n',
    );
    expect(text(files['python_env.yaml'])).toBe(
      text(readFileSync(path.join(REPO_ROOT, 'test/fixtures/models/mlflow3-onnx-logreg/python_env.yaml'))),
    );
  });
});

describe('model.tar.gz (SageMaker output)', () => {
  it('reads the regular files of a ustar archive and refuses a truncated or oversized one', () => {
    const files = {
      MLmodel: new TextEncoder().encode('artifact_path: model\n'),
      'model.onnx': new Uint8Array(1000).fill(7),
      'metrics.json': new TextEncoder().encode('{"accuracy":1}'),
    };
    const read = readTarGz(tarGz(files), 1 << 20);
    expect([...read.keys()].sort()).toEqual(['MLmodel', 'metrics.json', 'model.onnx']);
    expect([...read.get('model.onnx')!]).toEqual([...files['model.onnx']]);
    expect(text(read.get('metrics.json'))).toBe('{"accuracy":1}');
    const whole = gunzipSync(tarGz(files));
    expect(() => readTarGz(gzipSync(whole.subarray(0, 700)), 1 << 20)).toThrow(/truncated tar/);
    expect(() => readTarGz(tarGz(files), 100)).toThrow();
  });
});
