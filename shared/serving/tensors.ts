import { InputSchemaError } from './errors.ts';

/**
 * JSON values to ONNX Runtime tensor data and back. A nested list becomes a flat typed array and its
 * dims; every cell is checked against the element type, and every fault names the input and the
 * position (`x[1][3]`), so a 400 says exactly what is wrong.
 */

/**
 * The ONNX Runtime element types (the names `InferenceSession.inputMetadata` reports) that the model
 * server reads and writes; float16 and the 4-bit types have no JSON form worth guessing.
 */
export const ELEMENT_TYPES = [
  'float32',
  'float64',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
  'string',
] as const;
export type ElementType = (typeof ELEMENT_TYPES)[number];

export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | string[];

export interface DenseTensor {
  type: ElementType;
  data: TensorData;
  dims: number[];
}

/** The most elements one request may send across its inputs; above it the answer is 400. */
export const MAX_INPUT_ELEMENTS = 1_000_000;

const INT_RANGES: Partial<Record<ElementType, [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/** Infers the dims of a nested list by its first elements (a scalar has dims `[]`). */
export function inferDims(value: unknown): number[] {
  const dims: number[] = [];
  let current = value;
  while (Array.isArray(current)) {
    dims.push(current.length);
    if (current.length === 0) break;
    current = current[0];
  }
  return dims;
}

/**
 * Flattens `value` (a nested list, rectangular) into a typed array of `type`; `name` is used in
 * messages. Throws `InputSchemaError` for ragged lists and cells of the wrong kind.
 */
export function toTensor(
  value: unknown,
  type: ElementType,
  name: string,
  budget = MAX_INPUT_ELEMENTS,
): DenseTensor {
  const dims = inferDims(value);
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > budget) {
    throw new InputSchemaError(
      `Input '${name}' has ${count} elements; a request may send at most ${MAX_INPUT_ELEMENTS}`,
    );
  }
  const data = allocate(type, count);
  let offset = 0;
  const cell = writer(type, data, name);
  const walk = (node: unknown, depth: number, path: string): void => {
    if (depth === dims.length) {
      if (Array.isArray(node)) throw ragged(name, path, dims, depth);
      cell(offset++, node, path);
      return;
    }
    if (!Array.isArray(node) || node.length !== dims[depth]) throw ragged(name, path, dims, depth);
    for (let i = 0; i < node.length; i++) walk(node[i], depth + 1, `${path}[${i}]`);
  };
  walk(value, 0, '');
  return { type, data, dims };
}

/** Builds a tensor from per-row values (a DataFrame column, or rows of a frame): dims `[rows, ...inner]`. */
export function stackRows(rows: unknown[], type: ElementType, name: string, budget?: number): DenseTensor {
  return toTensor(rows, type, name, budget);
}

function ragged(name: string, path: string, dims: number[], depth: number): InputSchemaError {
  return new InputSchemaError(
    `Input '${name}' is not a rectangular array: ${name}${path} should ${
      depth === dims.length ? 'be a scalar' : `be a list of ${dims[depth]} values`
    } (shape inferred from the first elements: ${shapeText(dims)})`,
  );
}

function allocate(type: ElementType, count: number): TensorData {
  switch (type) {
    case 'float32':
      return new Float32Array(count);
    case 'float64':
      return new Float64Array(count);
    case 'int8':
      return new Int8Array(count);
    case 'int16':
      return new Int16Array(count);
    case 'int32':
      return new Int32Array(count);
    case 'int64':
      return new BigInt64Array(count);
    case 'uint8':
    case 'bool':
      return new Uint8Array(count);
    case 'uint16':
      return new Uint16Array(count);
    case 'uint32':
      return new Uint32Array(count);
    case 'uint64':
      return new BigUint64Array(count);
    case 'string':
      return new Array<string>(count);
  }
}

function writer(
  type: ElementType,
  data: TensorData,
  name: string,
): (i: number, v: unknown, path: string) => void {
  const fail = (path: string, value: unknown, expected: string) =>
    new InputSchemaError(
      `Input '${name}${path}' must be ${expected} (the model's input is ${type}), got ${JSON.stringify(value)?.slice(0, 50) ?? String(value)}`,
    );
  if (type === 'float32' || type === 'float64') {
    const out = data as Float32Array | Float64Array;
    return (i, v, path) => {
      if (typeof v === 'number') out[i] = v;
      // MLflow reads a missing value (None) in a float tensor as NaN.
      else if (v === null) out[i] = Number.NaN;
      else throw fail(path, v, 'a number');
    };
  }
  if (type === 'bool') {
    const out = data as Uint8Array;
    return (i, v, path) => {
      if (typeof v !== 'boolean') throw fail(path, v, 'true or false');
      out[i] = v ? 1 : 0;
    };
  }
  if (type === 'string') {
    const out = data as string[];
    return (i, v, path) => {
      if (typeof v !== 'string') throw fail(path, v, 'a string');
      out[i] = v;
    };
  }
  const [min, max] = INT_RANGES[type] as [number, number];
  const expected = `an integer from ${min} to ${max}`;
  if (type === 'int64' || type === 'uint64') {
    const out = data as BigInt64Array | BigUint64Array;
    return (i, v, path) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw fail(path, v, expected);
      out[i] = BigInt(v);
    };
  }
  const out = data as Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
  return (i, v, path) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw fail(path, v, expected);
    out[i] = v;
  };
}

/** Converts an output tensor's flat data to nested lists by its dims (int64 as JSON numbers). */
export function toNested(data: ArrayLike<unknown>, dims: readonly number[]): unknown {
  const scalar = (i: number): unknown => {
    const value = data[i];
    return typeof value === 'bigint' ? Number(value) : value;
  };
  if (dims.length === 0) return scalar(0);
  const build = (depth: number, offset: number, stride: number): unknown[] => {
    const size = dims[depth] as number;
    const inner = stride / Math.max(size, 1);
    const out = new Array(size);
    if (depth === dims.length - 1) {
      for (let i = 0; i < size; i++) out[i] = scalar(offset + i);
    } else {
      for (let i = 0; i < size; i++) out[i] = build(depth + 1, offset + i * inner, inner);
    }
    return out;
  };
  const total = dims.reduce((a, b) => a * b, 1);
  return build(0, 0, total);
}

/** `(3, 10)`, as numpy prints a shape (MLflow's messages quote shapes so). */
export function shapeText(dims: readonly (number | string)[]): string {
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
}
