import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MlmodelError, parseMlmodel } from '../../shared/serving/mlmodel.ts';
import { parseMlflowYaml, YamlError } from '../../shared/serving/mlmodel-yaml.ts';

const FIXTURE = path.join(import.meta.dirname, '../fixtures/models/mlflow-onnx-logreg/MLmodel');
const MLMODEL = readFileSync(FIXTURE, 'utf8');

describe('MLmodel YAML', () => {
  it('reads what MLflow 2.22 writes, including a quoted scalar folded over two lines', () => {
    const yaml = parseMlflowYaml(MLMODEL) as {
      flavors: { onnx: { providers: string[]; code: null } };
      signature: { outputs: string };
      [key: string]: unknown;
    };
    expect(yaml.flavors.onnx.providers).toEqual(['CUDAExecutionProvider', 'CPUExecutionProvider']);
    expect(yaml.flavors.onnx.code).toBeNull();
    expect(yaml.model_size_bytes).toBe(1687);
    expect(yaml.mlflow_version).toBe('2.22.4');
    expect(yaml.is_signature_from_type_hint).toBe(false);
    expect(yaml.utc_time_created).toBe('2026-11-28 05:35:08.157760');
    expect(JSON.parse(yaml.signature.outputs)).toEqual([
      { type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 1] } },
    ]);
  });

  it('reads sequences at the key indentation, sequences of mappings, escapes and YAML 1.1 scalars', () => {
    const yaml = parseMlflowYaml(
      [
        'a:',
        '- x: 1',
        "  y: 'it''s",
        "    folded'",
        '- - 2',
        '  - 3.5',
        'b: "tab\\there"',
        'c: {}',
        'd: plain text',
        '  continued',
        'e: ~',
        'f: yes',
        '"g h": .inf',
        '# a comment',
        'i: 1.0e+3',
      ].join('\n'),
    );
    expect(yaml).toEqual({
      a: [{ x: 1, y: "it's folded" }, [2, 3.5]],
      b: 'tab\there',
      c: {},
      d: 'plain text continued',
      e: null,
      f: true,
      'g h': Infinity,
      i: 1000,
    });
  });

  it.each([
    ['a: &anchor 1', /anchors/],
    ['a: [1, 2]', /flow collections/],
    ['a: |\n  block', /block scalars/],
    ['a: 1\na: 2', /duplicate key 'a'/],
    ["a: 'open", /unterminated/],
    ['a:\n\t- 1', /tabs/],
    ['a: 1\n   b: 2', /line 2/],
  ])('refuses %j, naming the fault', (source, message) => {
    expect(() => parseMlflowYaml(source)).toThrow(YamlError);
    expect(() => parseMlflowYaml(source)).toThrow(message);
  });
});

describe('parseMlmodel', () => {
  it('reads the flavor, the signature and the input example of the fixture', () => {
    const model = parseMlmodel(MLMODEL);
    expect(model.onnxPath).toBe('model.onnx');
    expect(model.signature?.inputs).toEqual({
      kind: 'tensor',
      specs: [{ kind: 'tensor', name: undefined, dtype: 'float32', shape: [-1, 10] }],
    });
    expect(model.signature?.outputs?.specs[0]).toMatchObject({ dtype: 'float32', shape: [-1, 1] });
    expect(model.inputExample).toEqual({
      artifactPath: 'input_example.json',
      servingInputPath: 'serving_input_example.json',
      type: 'ndarray',
    });
    expect(model.runId).toBe('9f65df9cafb041a39d3c6f595c578fbc');
  });

  it('reads column signatures with their required flags', () => {
    const text = MLMODEL.replace(
      /signature:\n(.|\n)*?params: null\n/,
      `signature:\n  inputs: '[{"type": "double", "name": "age", "required": true}, {"type": "long", "name": "visits", "required": false}]'\n  outputs: null\n`,
    );
    const model = parseMlmodel(text);
    expect(model.signature?.inputs).toEqual({
      kind: 'column',
      specs: [
        { kind: 'column', name: 'age', type: 'double', required: true },
        { kind: 'column', name: 'visits', type: 'long', required: false },
      ],
    });
    expect(model.signature?.outputs).toBeUndefined();
  });

  it.each([
    [
      'no onnx flavor',
      (t: string) => t.replace(/ {2}onnx:\n(?: {4}.*\n)+/, ''),
      /no onnx flavor \(flavors: python_function\)/,
    ],
    [
      'an escaping data path',
      (t: string) => t.replace('data: model.onnx', 'data: ../x.onnx'),
      /inside the model directory/,
    ],
    [
      'a signature that is not JSON',
      (t: string) => t.replace(/inputs: '.*'/, "inputs: '[{'"),
      /signature inputs is not valid JSON/,
    ],
    [
      'an unknown dtype',
      (t: string) => t.replace('"float32", "shape": [-1, 10]', '"complex64", "shape": [-1, 10]'),
      /dtype must be one of/,
    ],
    [
      'mixed tensors and columns',
      (t: string) =>
        t.replace(
          /inputs: '.*'/,
          `inputs: '[{"type": "tensor", "name": "a", "tensor-spec": {"dtype": "float32", "shape": [-1]}}, {"type": "double", "name": "b"}]'`,
        ),
      /mixes tensor and column/,
    ],
    [
      'array columns',
      (t: string) =>
        t.replace(/inputs: '.*'/, `inputs: '[{"type": "array", "items": {"type": "double"}, "name": "a"}]'`),
      /scalar columns/,
    ],
    ['YAML that is not MLflow', () => 'flavors: [onnx]', /not valid YAML/],
  ])('refuses %s with a sentence saying why', (_, edit, message) => {
    expect(() => parseMlmodel(edit(MLMODEL))).toThrow(MlmodelError);
    expect(() => parseMlmodel(edit(MLMODEL))).toThrow(message);
  });
});
