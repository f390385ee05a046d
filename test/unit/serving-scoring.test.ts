import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkModel, loadModel, predict } from '../../shared/serving/model-check.ts';
import { MAX_ONNX_BYTES, type ServableModel } from '../../shared/serving/onnx-model.ts';
import { parseCsv, parseScoringRequest } from '../../shared/serving/scoring-request.ts';
import {
  consistentLogreg,
  consistentLogregLayers,
  denseNetworkWithExternalData,
} from '../support/onnx-models.ts';

const FIXTURE = path.join(import.meta.dirname, '../fixtures/models/mlflow-onnx-logreg');
const EXPECTED = JSON.parse(
  readFileSync(path.join(import.meta.dirname, '../fixtures/models/mlflow-onnx-logreg.expected.json'), 'utf8'),
) as { x: number[][]; expected: number[][] };
const COLUMNS = Array.from({ length: 10 }, (_, i) => `f${i}`);

let dir: string;
let tensorModel: ServableModel;
let columnModel: ServableModel;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'runway-scoring-'));
  cpSync(FIXTURE, path.join(dir, 'tensor'), { recursive: true });
  writeFileSync(
    path.join(dir, 'tensor/model.onnx'),
    consistentLogreg(readFileSync(path.join(FIXTURE, 'model.onnx'))),
  );
  // The same graph behind a column signature, as mlflow.onnx.log_model writes for a DataFrame example.
  cpSync(path.join(dir, 'tensor'), path.join(dir, 'column'), { recursive: true });
  const columns = COLUMNS.map((name) => ({ type: 'float', name, required: true }));
  const mlmodel = readFileSync(path.join(dir, 'column/MLmodel'), 'utf8')
    .replace(/ {2}inputs: '.*'/, `  inputs: '${JSON.stringify(columns)}'`)
    .replace(/ {2}outputs: '[^']*'/, '  outputs: null');
  writeFileSync(path.join(dir, 'column/MLmodel'), mlmodel);
  tensorModel = await loadModel(path.join(dir, 'tensor'));
  columnModel = await loadModel(path.join(dir, 'column'));
});

afterAll(async () => {
  await tensorModel?.release();
  await columnModel?.release();
  rmSync(dir, { recursive: true, force: true });
});

const records = EXPECTED.x.map((row) => Object.fromEntries(row.map((v, i) => [COLUMNS[i], v])));

function closeTo(actual: number[][], expected: number[][]) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((row, i) => {
    expect(row[0]).toBeCloseTo(expected[i]?.[0] as number, 6);
  });
}

describe('a tensor-signature ONNX model answers every MLflow format as MLflow does', () => {
  it.each([
    ['inputs', { inputs: EXPECTED.x }],
    ['instances', { instances: EXPECTED.x }],
    ['dataframe_split', { dataframe_split: { columns: COLUMNS, data: EXPECTED.x } }],
    ['dataframe_split without columns', { dataframe_split: { data: EXPECTED.x } }],
    ['dataframe_records', { dataframe_records: records }],
  ])('%s: {"predictions": {"p": [[...]]}} reproducing expected.json', async (_, body) => {
    const { body: answer } = await predict(tensorModel, JSON.stringify(body));
    const predictions = answer.predictions as { p: number[][] };
    expect(Object.keys(predictions)).toEqual(['p']);
    closeTo(predictions.p, EXPECTED.expected);
  });

  it('reads text/csv with a header row', async () => {
    const csv = `${COLUMNS.join(',')}\r\n${EXPECTED.x.map((row) => row.join(',')).join('\r\n')}\r\n`;
    const { body } = await predict(tensorModel, csv, 'text/csv; charset=utf-8');
    closeTo((body.predictions as { p: number[][] }).p, EXPECTED.expected);
  });

  it('answers the fixture serving input example', async () => {
    const example = readFileSync(path.join(FIXTURE, 'serving_input_example.json'), 'utf8');
    const { body } = await predict(tensorModel, example);
    closeTo((body.predictions as { p: number[][] }).p, EXPECTED.expected);
  });

  it.each([
    [
      { inputs: EXPECTED.x.map((row) => row.slice(1)) },
      /Shape of input \(3, 9\) does not match expected shape \(-1, 10\)/,
    ],
    [{ inputs: EXPECTED.x[0] }, /Shape of input \(10,\) does not match expected shape \(-1, 10\)/],
    [
      { inputs: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 'ten']] },
      /Input 'x\[0\]\[9\]' must be a number .*float32.*"ten"/,
    ],
    [
      { inputs: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1]] },
      /not a rectangular array: x\[1\] should be a list of 10 values/,
    ],
    [{ inputs: { x: EXPECTED.x } }, /un-named model signature .* dict was found/],
    [
      { dataframe_split: { columns: COLUMNS.slice(0, 9), data: EXPECTED.x.map((r) => r.slice(0, 9)) } },
      /DataFrame passed had 9 columns and an input shape of \(-1, 10\)/,
    ],
    [{ dataframe_records: [] }, /Input DataFrame is empty/],
  ])('refuses %j with a 400 naming the fault', async (body, message) => {
    const error = await predict(tensorModel, JSON.stringify(body)).catch((e: unknown) => e);
    expect(error).toMatchObject({ httpStatus: 400, errorCode: 'INVALID_PARAMETER_VALUE' });
    expect((error as Error).message).toMatch(message);
  });

  it('refuses more than a million elements', async () => {
    const row = Array.from({ length: 10 }, () => 0.5);
    const body = JSON.stringify({ inputs: Array.from({ length: 100_001 }, () => row) });
    await expect(predict(tensorModel, body)).rejects.toThrow(
      /1000010 elements; a request may send at most 1000000/,
    );
  });
});

describe('a column-signature ONNX model', () => {
  it.each([
    ['dataframe_records', { dataframe_records: records }],
    [
      'dataframe_split with columns in another order',
      {
        dataframe_split: {
          columns: [...COLUMNS].reverse(),
          data: EXPECTED.x.map((row) => [...row].reverse()),
        },
      },
    ],
    [
      'inputs as columns',
      { inputs: Object.fromEntries(COLUMNS.map((c, i) => [c, EXPECTED.x.map((row) => row[i])])) },
    ],
    ['instances as records', { instances: records }],
  ])('%s: records out, columns in the signature order', async (_, body) => {
    const { body: answer } = await predict(columnModel, JSON.stringify(body));
    const predictions = answer.predictions as Array<{ p: number }>;
    expect(predictions).toHaveLength(3);
    predictions.forEach((record, i) => {
      expect(Object.keys(record)).toEqual(['p']);
      expect(record.p).toBeCloseTo(EXPECTED.expected[i]?.[0] as number, 6);
    });
  });

  it('drops extra columns and names missing ones', async () => {
    const extra = records.map((record) => ({ ...record, note: 'ignored' }));
    await expect(predict(columnModel, JSON.stringify({ dataframe_records: extra }))).resolves.toBeDefined();
    const missing = records.map(({ f3: _, ...rest }) => ({ ...rest, f3x: 1 }));
    await expect(predict(columnModel, JSON.stringify({ dataframe_records: missing }))).rejects.toThrow(
      "Model is missing inputs ['f3']. Note that there were extra inputs: ['f3x'].",
    );
  });

  it('names the column and row of a value of the wrong type', async () => {
    const bad = records.map((record, i) => (i === 2 ? { ...record, f7: 'x' } : record));
    await expect(predict(columnModel, JSON.stringify({ dataframe_records: bad }))).rejects.toThrow(
      /column f7: row 2 must be a number \(float\), got "x"/,
    );
  });
});

describe('request formats', () => {
  it.each([
    [
      '{"inputs": [1], "instances": [1]}',
      'application/json',
      400,
      /exactly one of the input fields .*Received dictionary with input fields: \["inputs","instances"\]/,
    ],
    ['[1, 2]', 'application/json', 400, /Received a list/],
    ['{"inputs": [1]', 'application/json', 400, /Failed to parse input from JSON/],
    ['{"inputs": [1], "params": 3}', 'application/json', 400, /Params must be a dictionary/],
    ['{"inputs": [1]}', 'application/json; charset=latin-1', 415, /only supports UTF-8/],
    [
      '{"inputs": [1]}',
      'application/json; format=pandas-split',
      415,
      /Unrecognized content type parameters: format/,
    ],
    ['{"inputs": [1]}', 'text/plain', 415, /only supports the following content types/],
    [
      '{"dataframe_split": {"columns": ["a", "b"], "data": [[1]]}}',
      'application/json',
      400,
      /row 0 has 1 values but there are 2 columns/,
    ],
  ])('%s (%s) -> %i', (body, type, status, message) => {
    let error: unknown;
    try {
      parseScoringRequest(body, type);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ httpStatus: status, errorCode: 'BAD_REQUEST' });
    expect((error as Error).message).toMatch(message);
  });

  it('reads dataframe_records with missing keys as nulls, columns in order of appearance', () => {
    const request = parseScoringRequest(
      '{"dataframe_records": [{"a": 1}, {"b": 2, "a": 3}]}',
      'application/json',
    );
    expect(request.data).toEqual({
      kind: 'frame',
      columns: ['a', 'b'],
      rows: [
        [1, null],
        [3, 2],
      ],
    });
  });

  it('reads CSV quoting, numbers, booleans and empty cells', () => {
    expect(parseCsv('a,b,c\n"x,""y""",1.5e2,True\n,,-3\n')).toEqual({
      kind: 'frame',
      columns: ['a', 'b', 'c'],
      rows: [
        ['x,"y"', 150, true],
        [null, null, -3],
      ],
    });
    expect(() => parseCsv('a,b\n1\n')).toThrow(/CSV row 1 has 1 fields, the header 2/);
  });
});

describe('checkModel', () => {
  it('passes a consistent model and reports its smoke test', async () => {
    const report = await checkModel(path.join(dir, 'tensor'));
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.model).toMatchObject({
      signature: 'tensor',
      onnxPath: 'model.onnx',
      inputs: [{ name: 'x', type: 'float32' }],
    });
    expect(report.smokeTest).toMatchObject({ input: 'serving_input_example.json', ok: true });
  });

  it('catches the shared fixture: its signature says 10 features, its ONNX graph takes 11', async () => {
    const report = await checkModel(FIXTURE);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toBe(
      "The signature's input has shape [-1, 10] but the ONNX graph's 'x' has shape [-1, 11] (dimension 1 differs)",
    );
    expect(report.smokeTest).toMatchObject({
      ok: false,
      error: expect.stringMatching(/invalid dimensions for input: x/),
    });
  });

  it('reports a missing MLmodel, a missing ONNX file and a graph ONNX Runtime refuses', async () => {
    expect((await checkModel(path.join(dir, 'nowhere'))).problems).toEqual([
      `No MLmodel file in ${path.join(dir, 'nowhere')}`,
    ]);
    cpSync(path.join(dir, 'tensor'), path.join(dir, 'broken'), { recursive: true });
    rmSync(path.join(dir, 'broken/model.onnx'));
    expect((await checkModel(path.join(dir, 'broken'))).problems[0]).toMatch(/model.onnx is missing from/);
    writeFileSync(path.join(dir, 'broken/model.onnx'), 'not a protobuf');
    expect((await checkModel(path.join(dir, 'broken'))).problems[0]).toMatch(
      /ONNX Runtime cannot load model.onnx/,
    );
  });
});

describe('a model saved with external data (MLflow 3 `mlflow.onnx.log_model` at its defaults)', () => {
  /** The fixture's directory with its graph's tensors in `<uuid>.data` beside `model.onnx`, as MLflow writes it. */
  function externalModel(name: string, location = '3f1c2d9e-0000-11f1-8000-02fc00000001.data') {
    const target = path.join(dir, name);
    cpSync(path.join(dir, 'tensor'), target, { recursive: true });
    const layers = consistentLogregLayers(readFileSync(path.join(FIXTURE, 'model.onnx')));
    const written = denseNetworkWithExternalData(10, layers, { location, threshold: 0 });
    writeFileSync(path.join(target, 'model.onnx'), written.onnx);
    if (!location.includes('..')) writeFileSync(path.join(target, location), written.data);
    return { target, location, data: written.data };
  }

  it('loads, checks and predicts as the model saved whole; the cache counts its data too', async () => {
    const { target, location, data } = externalModel('external');
    const model = await loadModel(target);
    try {
      const prediction = await predict(model, JSON.stringify({ inputs: EXPECTED.x }));
      const rows = prediction.body.predictions as { p: number[][] };
      rows.p.forEach((row, i) => {
        expect(row[0]).toBeCloseTo(EXPECTED.expected[i]?.[0] as number, 6);
      });
      expect(model.externalData).toEqual({ files: [location], bytes: data.byteLength });
      expect(model.sizeBytes).toBeGreaterThan(data.byteLength);
    } finally {
      await model.release();
    }
    const report = await checkModel(target);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.model?.externalData).toEqual({ files: [location], bytes: data.byteLength });
    expect(report.smokeTest).toMatchObject({ ok: true });
  });

  it('reports a missing data file, a location outside the model, and a model over the limit with its data', async () => {
    const missing = externalModel('external-missing');
    rmSync(path.join(missing.target, missing.location));
    expect((await checkModel(missing.target)).problems).toEqual([
      `The ONNX tensor 'w0' of model.onnx is stored in ${missing.location}, which is missing from ${missing.target}`,
    ]);
    const outside = externalModel('external-outside', '../tensor/model.onnx');
    expect((await checkModel(outside.target)).problems).toEqual([
      "The ONNX tensor 'w0' names external data '../tensor/model.onnx', which is not a file of the model directory",
    ]);
    // A sparse file: its size is over the limit without using the disk.
    const big = externalModel('external-big');
    truncateSync(path.join(big.target, big.location), MAX_ONNX_BYTES);
    expect((await checkModel(big.target)).problems[0]).toMatch(
      new RegExp(
        `^The ONNX model in .*external-big is over ${MAX_ONNX_BYTES} bytes with its external data \\(model.onnx: \\d+, ${big.location}: ${MAX_ONNX_BYTES}\\); the Lambda model server loads at most`,
      ),
    );
  });
});
