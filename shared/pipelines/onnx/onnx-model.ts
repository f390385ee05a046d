/**
 * ONNX `ModelProto` writing (onnx/onnx.proto, IR version 8, default-domain opset 13) for the models
 * Runway's built-in trainer produces: a graph of float tensors, initializers and operator nodes. Field
 * numbers are those of onnx.proto; only the fields these models use are written.
 */
import { ProtoWriter } from './protobuf.ts';

/** `TensorProto.DataType.FLOAT`. */
const FLOAT = 1;
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;

/** A dimension: a fixed size, or a named symbolic one (the batch size). */
export type Dimension = number | string;

export interface FloatTensor {
  name: string;
  dims: readonly number[];
  /** Row-major values; their count must be the product of `dims`. */
  values: readonly number[];
}

export interface TensorInfo {
  name: string;
  shape: readonly Dimension[];
}

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly FloatTensor[];
  inputs: readonly TensorInfo[];
  outputs: readonly TensorInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  producerName: string;
  producerVersion: string;
  docString?: string;
  metadata?: Readonly<Record<string, string>>;
}

function tensorProto(tensor: FloatTensor): ProtoWriter {
  const size = tensor.dims.reduce((product, dim) => product * dim, 1);
  if (size !== tensor.values.length) {
    throw new RangeError(
      `tensor ${tensor.name}: ${tensor.values.length} values for dims [${tensor.dims.join(', ')}]`,
    );
  }
  return new ProtoWriter()
    .packedInts(1, tensor.dims)
    .int(2, FLOAT)
    .packedFloats(4, tensor.values)
    .string(8, tensor.name);
}

function valueInfoProto(info: TensorInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const dim of info.shape) {
    const dimension = new ProtoWriter();
    if (typeof dim === 'number') dimension.int(1, dim);
    else dimension.string(2, dim);
    shape.message(1, dimension);
  }
  const tensorType = new ProtoWriter().int(1, FLOAT).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, info.name).message(2, type);
}

function nodeProto(node: OnnxNode): ProtoWriter {
  const proto = new ProtoWriter();
  for (const input of node.inputs) proto.string(1, input);
  for (const output of node.outputs) proto.string(2, output);
  return proto.string(3, node.name).string(4, node.opType);
}

function graphProto(graph: OnnxGraph): ProtoWriter {
  const proto = new ProtoWriter();
  for (const node of graph.nodes) proto.message(1, nodeProto(node));
  proto.string(2, graph.name);
  for (const initializer of graph.initializers) proto.message(5, tensorProto(initializer));
  for (const input of graph.inputs) proto.message(11, valueInfoProto(input));
  for (const output of graph.outputs) proto.message(12, valueInfoProto(output));
  return proto;
}

/** The serialized `ModelProto` (the bytes of a `model.onnx` file). */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const proto = new ProtoWriter()
    .int(1, ONNX_IR_VERSION)
    .string(2, model.producerName)
    .string(3, model.producerVersion)
    .message(7, graphProto(model.graph));
  if (model.docString) proto.string(6, model.docString);
  // The default ("ai.onnx") domain is the empty string.
  proto.message(8, new ProtoWriter().string(1, '').int(2, ONNX_OPSET));
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    proto.message(14, new ProtoWriter().string(1, key).string(2, value));
  }
  return proto.finish();
}

/** Names of a linear model's graph: what the model server feeds and reads. */
export const LINEAR_MODEL_INPUT = 'input';
export const LINEAR_MODEL_OUTPUT = 'output';

/**
 * A linear model over raw features as an ONNX graph: `output = input · W + b` (MatMul, Add), followed
 * by `Sigmoid` for a logistic model, so the output is the positive class's probability. Input
 * `[N, features]`, output `[N, 1]`, float32. Standardisation is folded into `W` and `b` by the caller.
 */
export function linearModelOnnx(options: {
  weights: readonly number[];
  intercept: number;
  link: 'identity' | 'logistic';
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
}): Uint8Array {
  const { weights, intercept, link } = options;
  if (weights.length === 0) throw new RangeError('a linear model needs at least one feature');
  const linearOutput = link === 'logistic' ? 'logit' : LINEAR_MODEL_OUTPUT;
  const nodes: OnnxNode[] = [
    { opType: 'MatMul', inputs: [LINEAR_MODEL_INPUT, 'weights'], outputs: ['product'], name: 'matmul' },
    { opType: 'Add', inputs: ['product', 'intercept'], outputs: [linearOutput], name: 'add_intercept' },
  ];
  if (link === 'logistic') {
    nodes.push({ opType: 'Sigmoid', inputs: ['logit'], outputs: [LINEAR_MODEL_OUTPUT], name: 'sigmoid' });
  }
  return encodeOnnxModel({
    producerName: 'runway',
    producerVersion: options.producerVersion,
    ...(options.docString ? { docString: options.docString } : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
    graph: {
      name: link === 'logistic' ? 'logistic_regression' : 'linear_regression',
      nodes,
      initializers: [
        { name: 'weights', dims: [weights.length, 1], values: weights },
        { name: 'intercept', dims: [1], values: [intercept] },
      ],
      inputs: [{ name: LINEAR_MODEL_INPUT, shape: ['N', weights.length] }],
      outputs: [{ name: LINEAR_MODEL_OUTPUT, shape: ['N', 1] }],
    },
  });
}
