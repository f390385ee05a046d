/**
 * ONNX models written and read without Python: a minimal protobuf encoder for the parts of
 * `onnx.proto` (IR 8, opset 13) that dense models need, and a reader for float initializers.
 *
 * Why tests need it: the shared MLflow fixture `mlflow-onnx-logreg` is inconsistent. Its MLmodel
 * signature, input examples and expected predictions have 10 features, but its `model.onnx` declares
 * input `x` as `[N, 11]` with an 11 x 1 weight matrix, so ONNX Runtime (and MLflow's own server) refuse
 * every 10-feature request. `consistentLogreg()` rebuilds the graph from the fixture's own first 10
 * weights and bias, which reproduces `expected` exactly; the original stays the test of `checkModel`.
 */

const FLOAT = 1;

function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

type Field = number[];
const tag = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, value: number): Field => [...tag(field, 0), ...varint(value)];
const bytes = (field: number, value: Uint8Array | number[]): Field => [
  ...tag(field, 2),
  ...varint(value.length),
  ...value,
];
const str = (field: number, value: string) => bytes(field, [...new TextEncoder().encode(value)]);
const msg = (field: number, ...fields: Field[]) => bytes(field, fields.flat());

export interface DenseLayer {
  /** Row-major `inputs x outputs`. */
  weights: Float32Array;
  bias: Float32Array;
  activation: 'relu' | 'sigmoid' | 'none';
}

/** Where tensors of at least `threshold` bytes go instead of the graph (ONNX external data). */
interface ExternalData {
  location: string;
  threshold: number;
  chunks: Uint8Array[];
  size: number;
}

function floatTensor(name: string, dims: number[], values: Float32Array, external?: ExternalData): Field {
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const header = [...dims.flatMap((d) => int(1, d)), ...int(2, FLOAT), ...str(8, name)];
  if (!external || raw.byteLength < external.threshold) return [...header, ...bytes(9, raw)];
  // As onnx.save_model(..., save_as_external_data=True) writes it: location, offset, length; EXTERNAL.
  const offset = external.size;
  external.chunks.push(raw.slice());
  external.size += raw.byteLength;
  const entry = (key: string, value: string) => msg(13, str(1, key), str(2, value));
  return [
    ...header,
    ...entry('location', external.location),
    ...entry('offset', String(offset)),
    ...entry('length', String(raw.byteLength)),
    ...int(14, 1),
  ];
}

function valueInfo(field: number, name: string, dims: Array<number | null>): Field {
  const shape = dims.map((d) => msg(1, d === null ? str(2, 'batch') : int(1, d)));
  return msg(field, str(1, name), msg(2, msg(1, int(1, FLOAT), msg(2, ...shape))));
}

const node = (op: string, inputs: string[], outputs: string[]): Field =>
  msg(1, ...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(4, op));

/** A feed-forward network `x: [N, width] -> p: [N, outputs]` (MatMul, Add, activation per layer). */
export function denseNetworkOnnx(inputWidth: number, layers: DenseLayer[]): Uint8Array {
  return denseNetwork(inputWidth, layers);
}

/**
 * The same network with its tensors of `threshold` bytes or more in one external data file, as MLflow
 * 3's `mlflow.onnx.log_model` saves by default (`onnx.save_model(..., save_as_external_data=True)`:
 * one file beside `model.onnx`, 1 KB threshold).
 */
export function denseNetworkWithExternalData(
  inputWidth: number,
  layers: DenseLayer[],
  options: { location?: string; threshold?: number } = {},
): { onnx: Uint8Array; location: string; data: Uint8Array } {
  const external: ExternalData = {
    location: options.location ?? 'weights.data',
    threshold: options.threshold ?? 1024,
    chunks: [],
    size: 0,
  };
  const onnx = denseNetwork(inputWidth, layers, external);
  const data = new Uint8Array(external.size);
  let at = 0;
  for (const chunk of external.chunks) {
    data.set(chunk, at);
    at += chunk.byteLength;
  }
  return { onnx, location: external.location, data };
}

function denseNetwork(inputWidth: number, layers: DenseLayer[], external?: ExternalData): Uint8Array {
  const nodes: Field[] = [];
  const initializers: Field[] = [];
  let current = 'x';
  let width = inputWidth;
  layers.forEach((layer, i) => {
    const outputs = layer.bias.length;
    if (layer.weights.length !== width * outputs)
      throw new Error(`layer ${i}: weights must be ${width} x ${outputs}`);
    initializers.push(msg(5, floatTensor(`w${i}`, [width, outputs], layer.weights, external)));
    initializers.push(msg(5, floatTensor(`b${i}`, [outputs], layer.bias, external)));
    const last = i === layers.length - 1;
    nodes.push(node('MatMul', [current, `w${i}`], [`m${i}`]));
    const added = last && layer.activation === 'none' ? 'p' : `a${i}`;
    nodes.push(node('Add', [`m${i}`, `b${i}`], [added]));
    current = added;
    if (layer.activation !== 'none') {
      const activated = last ? 'p' : `h${i}`;
      nodes.push(node(layer.activation === 'relu' ? 'Relu' : 'Sigmoid', [current], [activated]));
      current = activated;
    }
    width = outputs;
  });
  const graph = msg(
    7,
    ...nodes,
    str(2, 'runway-test'),
    ...initializers,
    valueInfo(11, 'x', [null, inputWidth]),
    valueInfo(12, 'p', [null, width]),
  );
  const opset = msg(8, str(1, ''), int(2, 13));
  return new Uint8Array([...int(1, 8), ...str(2, 'runway-tests'), ...graph, ...opset]);
}

/** Reads the float initializers of an ONNX model (float_data or raw_data), by name. */
export function readFloatInitializers(
  model: Uint8Array,
): Map<string, { dims: number[]; values: Float32Array }> {
  const out = new Map<string, { dims: number[]; values: Float32Array }>();
  for (const graph of fields(model).filter((f) => f.field === 7)) {
    for (const init of fields(graph.bytes as Uint8Array).filter((f) => f.field === 5)) {
      const parts = fields(init.bytes as Uint8Array);
      const dims: number[] = [];
      let name = '';
      let values = new Float32Array();
      for (const part of parts) {
        if (part.field === 1 && part.value !== undefined) dims.push(part.value);
        else if (part.field === 1 && part.bytes) dims.push(...packedVarints(part.bytes));
        else if (part.field === 8 && part.bytes) name = new TextDecoder().decode(part.bytes);
        else if ((part.field === 4 || part.field === 9) && part.bytes) {
          values = new Float32Array(Uint8Array.from(part.bytes).buffer);
        }
      }
      out.set(name, { dims, values });
    }
  }
  return out;
}

function fields(buffer: Uint8Array): Array<{ field: number; value?: number; bytes?: Uint8Array }> {
  const out: Array<{ field: number; value?: number; bytes?: Uint8Array }> = [];
  let i = 0;
  const read = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buffer[i++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return Number(result);
      shift += 7n;
    }
  };
  while (i < buffer.length) {
    const key = read();
    const wire = key & 7;
    const field = key >> 3;
    if (wire === 0) out.push({ field, value: read() });
    else if (wire === 2) {
      const length = read();
      out.push({ field, bytes: buffer.subarray(i, i + length) });
      i += length;
    } else if (wire === 5) i += 4;
    else if (wire === 1) i += 8;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

/** Packed repeated int64 (`dims` as some writers emit it). */
function packedVarints(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const byte of bytes) {
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(byte & 0x80)) {
      out.push(value);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/**
 * The shared fixture's logistic regression rebuilt with the 10 weights its signature describes
 * (the fixture's own first 10 weights and its bias).
 */
export function consistentLogreg(fixtureOnnx: Uint8Array): Uint8Array {
  return denseNetworkOnnx(10, consistentLogregLayers(fixtureOnnx));
}

/** The layer of {@link consistentLogreg}, for writing the same graph other ways (external data). */
export function consistentLogregLayers(fixtureOnnx: Uint8Array): DenseLayer[] {
  const initializers = readFloatInitializers(fixtureOnnx);
  const w = initializers.get('w');
  const b = initializers.get('b');
  if (!w || !b) throw new Error('the fixture has no w and b initializers');
  return [{ weights: w.values.slice(0, 10), bias: b.values, activation: 'sigmoid' }];
}

/** A seeded pseudo-random MLP `width -> hidden... -> 1`, for benchmarks of a model bigger than a logreg. */
export function randomMlp(width: number, hidden: number[], seed = 1): Uint8Array {
  return denseNetworkOnnx(width, randomMlpLayers(width, hidden, seed));
}

/** The layers of {@link randomMlp}, for writing the same network other ways. */
export function randomMlpLayers(width: number, hidden: number[], seed = 1): DenseLayer[] {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff - 0.5;
  };
  const sizes = [width, ...hidden, 1];
  const layers: DenseLayer[] = sizes.slice(1).map((outputs, i) => {
    const inputs = sizes[i] as number;
    return {
      weights: Float32Array.from({ length: inputs * outputs }, () => random() / Math.sqrt(inputs)),
      bias: Float32Array.from({ length: outputs }, () => random() * 0.1),
      activation: i === sizes.length - 2 ? 'sigmoid' : 'relu',
    };
  });
  return layers;
}
