import * as ort from 'onnxruntime-node';
import { ModelEvaluationError, ModelLoadError } from './errors.ts';
import { type FittedInput, fitInput, type OnnxValueInfo } from './feeds.ts';
import { type MlflowModel, MlmodelError, parseMlmodel } from './mlmodel.ts';
import { type ModelFiles, ModelFileTooLargeError } from './model-files.ts';
import {
  type ExternalTensor,
  externalTensors,
  inlineExternalData,
  OnnxWireError,
} from './onnx-external-data.ts';
import type { ScoringRequest } from './scoring-request.ts';
import { ELEMENT_TYPES, type ElementType, toNested } from './tensors.ts';

/** The largest `MLmodel` file read (they are a few KB). */
export const MAX_MLMODEL_BYTES = 1024 * 1024;
/**
 * The largest ONNX model the Lambda target loads: its graph file and its external data files
 * together. A session needs about as much memory again as the model, and loading holds the model's
 * bytes once more until the session is made; larger models belong on SageMaker.
 */
export const MAX_ONNX_BYTES = 200 * 1024 * 1024;

const SERVED_TYPES = new Set<string>(ELEMENT_TYPES);

/**
 * Sessions run one request at a time on one thread: a Lambda container serves one invocation at a
 * time on about half a vCPU at 1 GB, where more threads only add contention.
 */
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
};

export interface Prediction {
  /** MLflow's answer body: `{"predictions": ...}`. */
  body: { predictions: unknown };
  /** Milliseconds spent in ONNX Runtime. */
  runMs: number;
}

/**
 * An MLflow model with an ONNX flavor, loaded into ONNX Runtime and ready to answer scoring requests
 * in MLflow's formats. Load with `loadModel`; `predict` is safe to call concurrently.
 */
export class ServableModel {
  private constructor(
    readonly location: string,
    readonly mlmodel: MlflowModel,
    private readonly session: ort.InferenceSession,
    readonly inputs: readonly OnnxValueInfo[],
    readonly outputs: readonly OnnxValueInfo[],
    /** Bytes of the ONNX model (its graph file and external data together), what the model cache counts. */
    readonly sizeBytes: number,
    /** The external data files the graph reads its tensors from (none for a model saved whole). */
    readonly externalData: { files: readonly string[]; bytes: number },
    /** Milliseconds from the first byte read to a ready session. */
    readonly loadMs: number,
  ) {}

  static async load(files: ModelFiles): Promise<ServableModel> {
    const started = performance.now();
    const mlmodelBytes = await files.read('MLmodel', MAX_MLMODEL_BYTES);
    if (!mlmodelBytes) throw new ModelLoadError(`No MLmodel file in ${files.location}`);
    let mlmodel: MlflowModel;
    try {
      mlmodel = parseMlmodel(new TextDecoder().decode(mlmodelBytes));
    } catch (error) {
      if (error instanceof MlmodelError)
        throw new ModelLoadError(`The model in ${files.location}: ${error.message}`);
      throw error;
    }
    const graph = await files.read(mlmodel.onnxPath, MAX_ONNX_BYTES);
    if (!graph)
      throw new ModelLoadError(
        `The onnx flavor's file ${mlmodel.onnxPath} is missing from ${files.location}`,
      );
    const { onnx, externalData } = await withExternalData(files, mlmodel.onnxPath, graph);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(onnx, SESSION_OPTIONS);
    } catch (error) {
      throw new ModelLoadError(
        `ONNX Runtime cannot load ${mlmodel.onnxPath} from ${files.location}: ${firstLine(error)}`,
        { cause: error },
      );
    }
    const inputs = valueInfos(session.inputMetadata, 'input', files.location);
    const outputs = valueInfos(session.outputMetadata, 'output', files.location);
    return new ServableModel(
      files.location,
      mlmodel,
      session,
      inputs,
      outputs,
      onnx.byteLength,
      externalData,
      performance.now() - started,
    );
  }

  /** Fits the request to the model's signature (throws a 400 naming the fault), runs it, answers as MLflow. */
  async predict(request: ScoringRequest): Promise<Prediction> {
    const fitted = fitInput(request.data, this.mlmodel.signature, this.inputs);
    return this.run(fitted);
  }

  private async run(fitted: FittedInput): Promise<Prediction> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(fitted.feeds)) {
      feeds[name] = new ort.Tensor(tensor.type, tensor.data, tensor.dims);
    }
    const started = performance.now();
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await this.session.run(feeds);
    } catch (error) {
      throw new ModelEvaluationError(error);
    }
    const runMs = performance.now() - started;
    return { body: { predictions: formatOutputs(results, this.session.outputNames, fitted.output) }, runMs };
  }

  /** Frees the native session (the model cache calls it on eviction). */
  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * The model as one buffer: a graph that keeps tensors in external data files (MLflow 3's default)
 * gets their bytes inlined (`onnx-external-data.ts`), each file read once, all within
 * {@link MAX_ONNX_BYTES} with the graph file.
 */
async function withExternalData(
  files: ModelFiles,
  onnxPath: string,
  graph: Uint8Array,
): Promise<{ onnx: Uint8Array; externalData: { files: string[]; bytes: number } }> {
  let tensors: ExternalTensor[];
  try {
    tensors = externalTensors(graph, onnxPath);
  } catch (error) {
    // Not a graph at all: ONNX Runtime, given it as it is, says what is wrong.
    if (!(error instanceof OnnxWireError)) throw error;
    tensors = [];
  }
  if (tensors.length === 0) return { onnx: graph, externalData: { files: [], bytes: 0 } };
  const data = new Map<string, Uint8Array>();
  let bytes = 0;
  for (const { tensor, location } of tensors) {
    if (data.has(location)) continue;
    let file: Uint8Array | undefined;
    try {
      file = await files.read(location, MAX_ONNX_BYTES - graph.byteLength - bytes);
    } catch (error) {
      if (!(error instanceof ModelFileTooLargeError)) throw error;
      throw new ModelLoadError(
        `The ONNX model in ${files.location} is over ${MAX_ONNX_BYTES} bytes with its external data (${onnxPath}: ${graph.byteLength}, ${location}: ${error.size}${bytes ? `, the other data files: ${bytes}` : ''}); the Lambda model server loads at most ${MAX_ONNX_BYTES} bytes (deploy larger models to SageMaker)`,
      );
    }
    if (!file) {
      throw new ModelLoadError(
        `The ONNX tensor '${tensor}' of ${onnxPath} is stored in ${location}, which is missing from ${files.location}`,
      );
    }
    data.set(location, file);
    bytes += file.byteLength;
  }
  return {
    onnx: inlineExternalData(graph, data, onnxPath),
    externalData: { files: [...data.keys()], bytes },
  };
}

function formatOutputs(
  results: ort.InferenceSession.OnnxValueMapType,
  names: readonly string[],
  mode: FittedInput['output'],
): unknown {
  if (mode === 'tensors') {
    const out: Record<string, unknown> = {};
    for (const name of names) {
      const tensor = results[name] as ort.Tensor;
      out[name] = toNested(tensor.data as ArrayLike<unknown>, tensor.dims);
    }
    return out;
  }
  // pandas.DataFrame.from_dict({name: output.reshape(-1)}).to_dict(orient='records')
  const columns = names.map((name) => (results[name] as ort.Tensor).data as ArrayLike<unknown>);
  const rows = columns[0]?.length ?? 0;
  if (columns.some((column) => column.length !== rows)) {
    throw new ModelEvaluationError(
      new Error('the outputs have different lengths and do not make a DataFrame'),
    );
  }
  const records = new Array(rows);
  for (let i = 0; i < rows; i++) {
    const record: Record<string, unknown> = {};
    names.forEach((name, j) => {
      const value = (columns[j] as ArrayLike<unknown>)[i];
      record[name] = typeof value === 'bigint' ? Number(value) : value;
    });
    records[i] = record;
  }
  return records;
}

function valueInfos(
  metadata: readonly ort.InferenceSession.ValueMetadata[],
  side: 'input' | 'output',
  location: string,
): OnnxValueInfo[] {
  return metadata.map((value) => {
    if (!value.isTensor) {
      throw new ModelLoadError(
        `The ONNX ${side} '${value.name}' of ${location} is not a tensor; the Lambda target serves tensor models`,
      );
    }
    if (!SERVED_TYPES.has(value.type)) {
      throw new ModelLoadError(
        `The ONNX ${side} '${value.name}' of ${location} has element type ${value.type}, which the Lambda target does not serve`,
      );
    }
    return { name: value.name, type: value.type as ElementType, shape: [...value.shape] };
  });
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]?.slice(0, 300) ?? '';
}
