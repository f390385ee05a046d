import type { S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../platform/aws/s3.ts';
import { RunwayError } from '../platform/errors.ts';
import type { OnnxValueInfo } from './feeds.ts';
import type { Schema, Signature } from './mlmodel.ts';
import { type ModelFiles, modelFilesAt } from './model-files.ts';
import { MAX_MLMODEL_BYTES, type Prediction, ServableModel } from './onnx-model.ts';
import { parseScoringRequest } from './scoring-request.ts';

/**
 * What the deploy state machine asks before it moves traffic to a version: can the Lambda target
 * serve this model directory, and does it answer its own serving input example?
 */
export interface ModelCheckReport {
  storageLocation: string;
  /** True when the model loads, its signature agrees with the ONNX graph and the smoke test passed. */
  ok: boolean;
  /** Each reason the model cannot be deployed to the Lambda target, in a sentence. */
  problems: string[];
  /** What deserves a look but does not block (no signature, no input example). */
  warnings: string[];
  model?: {
    mlflowVersion?: string;
    modelUuid?: string;
    runId?: string;
    onnxPath: string;
    /** The model's bytes: its ONNX file and its external data files together. */
    onnxBytes: number;
    /** The files the graph keeps its tensors in, when it was saved with external data. */
    externalData?: { files: string[]; bytes: number };
    signature: 'tensor' | 'column' | 'none';
    inputs: OnnxValueInfo[];
    outputs: OnnxValueInfo[];
    loadMs: number;
  };
  /** The serving input example (or the input example) run through the model as a request would be. */
  smokeTest?: { input: string; ok: boolean; latencyMs: number; predictions?: unknown; error?: string };
}

export interface ModelAccess {
  /** @default the shared S3 client */
  s3?: () => S3Client;
}

/** Loads an MLflow model directory (`s3://bucket/prefix`) into ONNX Runtime. */
export function loadModel(storageLocation: string, access: ModelAccess = {}): Promise<ServableModel> {
  return ServableModel.load(modelFilesAt(storageLocation, access.s3 ?? s3Client));
}

/** Scores a request body (MLflow's JSON formats or CSV) with a loaded model; throws MLflow's errors. */
export function predict(
  model: ServableModel,
  body: string,
  contentType = 'application/json',
): Promise<Prediction> {
  return model.predict(parseScoringRequest(body, contentType));
}

/**
 * Checks that the Lambda target can serve a model: `MLmodel` parses with an ONNX flavor, ONNX Runtime
 * loads the graph, the signature agrees with the graph's inputs (count, names, rank, fixed
 * dimensions, element kind), and the model answers its serving input example. Never throws for a
 * model's fault: every fault is a `problems` entry. Infrastructure failures (S3 unreachable) throw.
 */
export async function checkModel(
  storageLocation: string,
  access: ModelAccess = {},
): Promise<ModelCheckReport> {
  const report: ModelCheckReport = { storageLocation, ok: false, problems: [], warnings: [] };
  let files: ModelFiles;
  let model: ServableModel;
  try {
    files = modelFilesAt(storageLocation, access.s3 ?? s3Client);
    model = await ServableModel.load(files);
  } catch (error) {
    if (!(error instanceof RunwayError)) throw error;
    report.problems.push(error.message);
    return report;
  }
  try {
    const { mlmodel } = model;
    report.model = {
      mlflowVersion: mlmodel.mlflowVersion,
      modelUuid: mlmodel.modelUuid,
      runId: mlmodel.runId,
      onnxPath: mlmodel.onnxPath,
      onnxBytes: model.sizeBytes,
      ...(model.externalData.files.length > 0
        ? { externalData: { files: [...model.externalData.files], bytes: model.externalData.bytes } }
        : {}),
      signature: mlmodel.signature?.inputs.kind ?? 'none',
      inputs: [...model.inputs],
      outputs: [...model.outputs],
      loadMs: round(model.loadMs),
    };
    if (!mlmodel.signature) {
      report.warnings.push(
        'The model has no signature: inputs cannot be checked before they reach ONNX Runtime',
      );
    } else {
      report.problems.push(...signatureProblems(mlmodel.signature, model.inputs, model.outputs));
    }
    report.smokeTest = await smokeTest(model, files, report);
    if (report.smokeTest && !report.smokeTest.ok) {
      report.problems.push(`The model fails on its own ${report.smokeTest.input}: ${report.smokeTest.error}`);
    }
    report.ok = report.problems.length === 0;
    return report;
  } finally {
    await model.release();
  }
}

/** Where the signature and the ONNX graph disagree, each in a sentence. */
export function signatureProblems(
  signature: Signature,
  inputs: readonly OnnxValueInfo[],
  outputs: readonly OnnxValueInfo[],
): string[] {
  const problems: string[] = [];
  const schema = signature.inputs;
  if (schema.kind === 'tensor') {
    const named = schema.specs[0]?.name !== undefined;
    if (!named && inputs.length !== 1) {
      problems.push(
        `The signature has one unnamed tensor input but the ONNX graph has ${inputs.length} inputs`,
      );
    }
    for (const spec of schema.specs) {
      const input = named ? inputs.find((candidate) => candidate.name === spec.name) : inputs[0];
      const label = named ? `input '${spec.name}'` : 'input';
      if (!input) {
        problems.push(`The signature's ${label} is not an input of the ONNX graph (${names(inputs)})`);
        continue;
      }
      problems.push(...shapeProblems(label, spec.shape, input));
      if (kindOf(spec.dtype) !== kindOf(input.type)) {
        problems.push(
          `The signature's ${label} is ${spec.dtype} but the ONNX graph's '${input.name}' is ${input.type}`,
        );
      }
    }
    if (named) {
      const extra = inputs.filter((input) => !schema.specs.some((spec) => spec.name === input.name));
      if (extra.length > 0) problems.push(`The ONNX graph's inputs ${names(extra)} are not in the signature`);
    }
  } else {
    const columns = schema.specs;
    if (inputs.length === 1) {
      const input = inputs[0] as OnnxValueInfo;
      const width = input.shape.length === 2 ? input.shape[1] : undefined;
      if (typeof width === 'number' && width >= 0 && width !== columns.length) {
        problems.push(
          `The signature has ${columns.length} columns but the ONNX graph's input '${input.name}' takes ${width} features`,
        );
      }
      if (columns.some((column) => column.type === 'string') && input.type !== 'string') {
        problems.push(
          `The signature has string columns but the ONNX graph's input '${input.name}' is ${input.type}`,
        );
      }
    } else {
      for (const input of inputs) {
        if (!columns.some((column) => column.name === input.name)) {
          problems.push(`The ONNX graph's input '${input.name}' is not a column of the signature`);
        }
      }
    }
  }
  problems.push(...outputProblems(signature.outputs, outputs));
  return problems;
}

function shapeProblems(label: string, shape: number[], input: OnnxValueInfo): string[] {
  if (input.shape.length === 0) return [];
  if (shape.length !== input.shape.length) {
    return [
      `The signature's ${label} has shape ${text(shape)} but the ONNX graph's '${input.name}' has rank ${input.shape.length} ${text(input.shape)}`,
    ];
  }
  const fixed = input.shape.map((dim, i) => [dim, shape[i]] as const);
  const clash = fixed.findIndex(
    ([onnx, sig]) => typeof onnx === 'number' && onnx >= 0 && sig !== -1 && sig !== onnx,
  );
  if (clash >= 0) {
    return [
      `The signature's ${label} has shape ${text(shape)} but the ONNX graph's '${input.name}' has shape ${text(input.shape)} (dimension ${clash} differs)`,
    ];
  }
  return [];
}

function outputProblems(schema: Schema | undefined, outputs: readonly OnnxValueInfo[]): string[] {
  if (schema?.kind !== 'tensor') return [];
  const named = schema.specs[0]?.name !== undefined;
  if (!named) {
    return schema.specs.length === 1 && outputs.length >= 1
      ? shapeProblems('output', (schema.specs[0] as { shape: number[] }).shape, outputs[0] as OnnxValueInfo)
      : [];
  }
  return schema.specs
    .filter((spec) => !outputs.some((output) => output.name === spec.name))
    .map(
      (spec) =>
        `The signature's output '${spec.name}' is not an output of the ONNX graph (${names(outputs)})`,
    );
}

async function smokeTest(
  model: ServableModel,
  files: ModelFiles,
  report: ModelCheckReport,
): Promise<ModelCheckReport['smokeTest']> {
  const example = model.mlmodel.inputExample;
  if (!example) {
    report.warnings.push(
      'The model was logged without an input example: the deploy has nothing to smoke-test it with',
    );
    return undefined;
  }
  // The serving input example is a request body as is (MLflow 2.13+); older models have only the input example.
  const file = example.servingInputPath ?? example.artifactPath;
  const bytes = await files.read(file, MAX_MLMODEL_BYTES * 10);
  if (!bytes) {
    report.warnings.push(`The MLmodel names ${file} as its input example but the file is missing`);
    return undefined;
  }
  const text = new TextDecoder().decode(bytes);
  const body = example.servingInputPath ? text : legacyExampleRequest(text, example.type);
  const started = performance.now();
  try {
    const prediction = await predict(model, body);
    return {
      input: file,
      ok: true,
      latencyMs: round(performance.now() - started),
      predictions: prediction.body.predictions,
    };
  } catch (error) {
    return {
      input: file,
      ok: false,
      latencyMs: round(performance.now() - started),
      error: error instanceof Error ? `${error.message}${causeText(error)}` : String(error),
    };
  }
}

/** An `input_example.json` as a request: `ndarray` examples are tensors, `dataframe` ones are split frames. */
function legacyExampleRequest(text: string, type: string): string {
  if (type === 'dataframe') return `{"dataframe_split": ${text}}`;
  return `{"inputs": ${text}}`;
}

function causeText(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause.message.split('\n')[0] : undefined;
  return cause ? ` (${cause.slice(0, 300)})` : '';
}

function kindOf(type: string): string {
  if (type.startsWith('float')) return 'float';
  if (type.startsWith('int') || type.startsWith('uint')) return 'int';
  if (type === 'bool') return 'bool';
  return 'string';
}

function names(values: readonly { name: string }[]): string {
  return values.map((value) => `'${value.name}'`).join(', ') || 'none';
}

function text(shape: readonly (number | string)[]): string {
  return `[${shape.map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : -1)).join(', ')}]`;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
