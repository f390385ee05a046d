import { InputSchemaError } from './errors.ts';
import type { ColumnSpec, ColumnType, Signature, TensorSpec } from './mlmodel.ts';
import type { Frame, ScoringData } from './scoring-request.ts';
import { type DenseTensor, type ElementType, MAX_INPUT_ELEMENTS, shapeText, toTensor } from './tensors.ts';

/**
 * Fits a scoring request to an ONNX model the way MLflow's pyfunc does for an ONNX flavor
 * (`PyFuncModel.predict` enforcing the signature, then `mlflow.onnx._OnnxModelWrapper.predict`):
 *
 * - a tensor signature turns every format into tensors (a DataFrame's values as one matrix for an
 *   unnamed input, its columns per name for named ones), checked against each spec's shape and
 *   dtype; the answer maps each output name to its tensor (`{"predictions": {"p": [[...]]}}`);
 * - a column signature turns every format into a DataFrame (columns in the signature's order, extra
 *   columns dropped, missing required ones refused), fed as one matrix when the ONNX model has one
 *   input and per column otherwise; the answer is records (`{"predictions": [{"p": 0.5}, ...]}`);
 * - without a signature, DataFrames are fed as above (records out) and tensors as they are (map out).
 *
 * Values are written in the ONNX input's own element type (MLflow casts float64 to float32 the same
 * way), after checking that they fit the signature's.
 */

/** An ONNX graph input or output as ONNX Runtime reports it (`''` or a name for a free dimension). */
export interface OnnxValueInfo {
  name: string;
  type: ElementType;
  shape: Array<number | string>;
}

export interface FittedInput {
  feeds: Record<string, DenseTensor>;
  /** How MLflow shapes the answer: output name -> tensor, or DataFrame records. */
  output: 'tensors' | 'records';
}

export function fitInput(
  data: ScoringData,
  signature: Signature | undefined,
  inputs: readonly OnnxValueInfo[],
): FittedInput {
  const schema = signature?.inputs;
  if (schema?.kind === 'tensor') return { feeds: tensorFeeds(data, schema.specs, inputs), output: 'tensors' };
  if (schema?.kind === 'column') {
    return { feeds: frameFeeds(columnFrame(data, schema.specs), inputs, schema.specs), output: 'records' };
  }
  if (data.kind === 'frame') return { feeds: frameFeeds(data, inputs, undefined), output: 'records' };
  return { feeds: tensorFeeds(data, undefined, inputs), output: 'tensors' };
}

/** Tensor signatures (or none): each model input from the request, checked against its spec. */
function tensorFeeds(data: ScoringData, specs: TensorSpec[] | undefined, inputs: readonly OnnxValueInfo[]) {
  const named = specs ? specs[0]?.name !== undefined : inputs.length > 1;
  const feeds: Record<string, DenseTensor> = {};
  let budget = MAX_INPUT_ELEMENTS;
  if (!named) {
    const input = inputs[0] as OnnxValueInfo;
    const spec = specs?.[0];
    const value = unnamedValue(data, spec, input);
    const tensor = toTensor(value, input.type, input.name, budget);
    checkTensor(tensor, spec, input);
    feeds[input.name] = tensor;
    return feeds;
  }
  const values = namedValues(data);
  const wanted = specs ? specs.map((spec) => spec.name as string) : inputs.map((input) => input.name);
  const missing = wanted.filter((name) => !(name in values));
  if (missing.length > 0) {
    throw new InputSchemaError(
      `Model is missing inputs ${pyList(missing)}. Note that there were extra inputs: ${pyList(Object.keys(values).filter((k) => !wanted.includes(k)))}`,
    );
  }
  for (const name of wanted) {
    const input = inputs.find((candidate) => candidate.name === name);
    if (!input) throw new InputSchemaError(`The model has no input named '${name}'`);
    const tensor = toTensor(values[name], input.type, name, budget);
    budget -= tensor.data.length;
    checkTensor(
      tensor,
      specs?.find((spec) => spec.name === name),
      input,
    );
    feeds[name] = tensor;
  }
  return feeds;
}

function unnamedValue(data: ScoringData, spec: TensorSpec | undefined, input: OnnxValueInfo): unknown {
  if (data.kind === 'tensor') return data.value;
  if (data.kind === 'named') {
    throw new InputSchemaError(
      'Failed to parse input data. This model contains an un-named model signature which expects a single n-dimensional array or a single value as input, however, an input of type dict was found.',
    );
  }
  if (data.rows.length === 0) throw new InputSchemaError('Input DataFrame is empty.');
  // One column: each cell is a row's tensor. Several: the DataFrame's values, as a (rows, columns) matrix.
  if (data.columns.length === 1) return data.rows.map((row) => row[0]);
  const expected = spec?.shape ?? onnxShape(input) ?? [-1, -1];
  if (expected.length !== 2 || (expected[1] !== -1 && expected[1] !== data.columns.length)) {
    throw new InputSchemaError(
      `This model contains a model signature with an unnamed input. Since the input data is a pandas DataFrame containing multiple columns, the input shape must be of the structure (-1, number_of_dataframe_columns). Instead, the input DataFrame passed had ${data.columns.length} columns and an input shape of ${shapeText(expected)} with all values within the DataFrame of scalar type. Please adjust the passed in DataFrame to match the expected structure`,
    );
  }
  return data.rows;
}

function namedValues(data: ScoringData): Record<string, unknown> {
  if (data.kind === 'named') return data.values;
  if (data.kind === 'frame') {
    return Object.fromEntries(data.columns.map((column, i) => [column, data.rows.map((row) => row[i])]));
  }
  throw new InputSchemaError(
    'This model contains a tensor-based model signature with input names, which suggests a dictionary input mapping input name to tensor, but an input of type list was found.',
  );
}

/** MLflow's `_enforce_tensor_spec`: rank and fixed dimensions must match; -1 matches any size. */
function checkTensor(tensor: DenseTensor, spec: TensorSpec | undefined, input: OnnxValueInfo): void {
  const expected = spec?.shape ?? onnxShape(input);
  if (!expected) return;
  const actual = tensor.dims;
  const fits =
    expected.length === actual.length && expected.every((dim, i) => dim === -1 || dim === actual[i]);
  if (!fits) {
    throw new InputSchemaError(
      `Shape of input ${shapeText(actual)} does not match expected shape ${shapeText(expected)} for input '${spec?.name ?? input.name}'`,
    );
  }
  if (spec && !dtypeFits(spec.dtype, tensor.type)) {
    throw new InputSchemaError(`dtype of input ${tensor.type} does not match expected dtype ${spec.dtype}`);
  }
}

/** The values were written in the ONNX input's type; the signature's dtype must be of the same kind. */
function dtypeFits(specType: TensorSpec['dtype'], onnxType: ElementType): boolean {
  const kind = (type: string) =>
    type.startsWith('float')
      ? 'float'
      : type.startsWith('int') || type.startsWith('uint')
        ? 'int'
        : type === 'bool'
          ? 'bool'
          : 'string';
  return kind(specType === 'str' || specType === 'object' ? 'string' : specType) === kind(onnxType);
}

/** Any format as a DataFrame with the signature's columns, in its order, each value of its type. */
function columnFrame(data: ScoringData, specs: ColumnSpec[]): Frame {
  let frame: Frame;
  if (data.kind === 'frame') frame = data;
  else if (data.kind === 'named') {
    const columns = Object.keys(data.values);
    const lists = columns.map((column) => {
      const value = data.values[column];
      return Array.isArray(value) ? value : [value];
    });
    const length = lists[0]?.length ?? 0;
    if (lists.some((list) => list.length !== length)) {
      throw new InputSchemaError('The length of values for each input/column name are not the same');
    }
    frame = { kind: 'frame', columns, rows: Array.from({ length }, (_, i) => lists.map((list) => list[i])) };
  } else if (specs.length === 1 && Array.isArray(data.value) && data.value.every((v) => !Array.isArray(v))) {
    frame = { kind: 'frame', columns: [specs[0]?.name ?? '0'], rows: data.value.map((v) => [v]) };
  } else {
    throw new InputSchemaError(
      `Failed to parse input data. This model contains a named model signature (columns ${pyList(specs.map((s) => s.name ?? ''))}) which expects a DataFrame or a dictionary of columns, however, a list was found.`,
    );
  }
  if (frame.rows.length === 0) throw new InputSchemaError('Input DataFrame is empty.');
  const named = specs[0]?.name !== undefined;
  if (!named) {
    if (frame.columns.length !== 1) {
      throw new InputSchemaError(`The model expects 1 unnamed column, got ${frame.columns.length} columns`);
    }
    checkColumn(frame, 0, specs[0] as ColumnSpec, frame.columns[0] as string);
    return frame;
  }
  const positions = specs.map((spec) => frame.columns.indexOf(spec.name as string));
  const missing = specs
    .filter((spec, i) => positions[i] === -1 && spec.required)
    .map((spec) => spec.name as string);
  if (missing.length > 0) {
    const extra = frame.columns.filter((column) => !specs.some((spec) => spec.name === column));
    throw new InputSchemaError(
      `Model is missing inputs ${pyList(missing)}. Note that there were extra inputs: ${pyList(extra)}.`,
    );
  }
  const rows = frame.rows.map((row) => positions.map((position) => (position === -1 ? null : row[position])));
  const fitted: Frame = { kind: 'frame', columns: specs.map((spec) => spec.name as string), rows };
  specs.forEach((spec, i) => {
    checkColumn(fitted, i, spec, spec.name as string);
  });
  return fitted;
}

const COLUMN_CHECKS: Record<ColumnType, { test: (v: unknown) => boolean; expected: string }> = {
  boolean: { test: (v) => typeof v === 'boolean', expected: 'true or false' },
  integer: {
    test: (v) => Number.isInteger(v) && Math.abs(v as number) <= 2147483647,
    expected: 'a 32-bit integer',
  },
  long: { test: (v) => Number.isSafeInteger(v), expected: 'an integer' },
  float: { test: (v) => typeof v === 'number', expected: 'a number' },
  double: { test: (v) => typeof v === 'number', expected: 'a number' },
  string: { test: (v) => typeof v === 'string', expected: 'a string' },
};

function checkColumn(frame: Frame, index: number, spec: ColumnSpec, name: string): void {
  const check = COLUMN_CHECKS[spec.type];
  for (const [row, cells] of frame.rows.entries()) {
    const value = cells[index];
    if (value === null || value === undefined) {
      if (spec.required && spec.type !== 'float' && spec.type !== 'double') {
        throw new InputSchemaError(`Column '${name}' (${spec.type}) is required but row ${row} has no value`);
      }
      continue;
    }
    if (!check.test(value)) {
      throw new InputSchemaError(
        `Incompatible input types for column ${name}: row ${row} must be ${check.expected} (${spec.type}), got ${JSON.stringify(value)?.slice(0, 50)}`,
      );
    }
  }
}

/** A DataFrame to ONNX inputs: one (rows, columns) matrix for a single input, else one column per input. */
function frameFeeds(frame: Frame, inputs: readonly OnnxValueInfo[], specs: ColumnSpec[] | undefined) {
  if (frame.rows.length === 0) throw new InputSchemaError('Input DataFrame is empty.');
  const feeds: Record<string, DenseTensor> = {};
  if (inputs.length === 1) {
    const input = inputs[0] as OnnxValueInfo;
    const rank = input.shape.length;
    const value = rank === 1 && frame.columns.length === 1 ? frame.rows.map((row) => row[0]) : frame.rows;
    const tensor = toTensor(value, input.type, input.name);
    checkAgainstOnnx(tensor, input, frame.columns);
    feeds[input.name] = tensor;
    return feeds;
  }
  let budget = MAX_INPUT_ELEMENTS;
  for (const input of inputs) {
    const index = frame.columns.indexOf(input.name);
    if (index === -1) {
      throw new InputSchemaError(
        `The model's input '${input.name}' has no column${specs ? ' in the signature' : ''}; columns: ${pyList(frame.columns)}`,
      );
    }
    const column = frame.rows.map((row) => row[index]);
    // MLflow feeds a column as a 1-D array; a model that wants (rows, 1) gets it so, rather than failing.
    const value = input.shape.length === 2 && input.shape[1] === 1 ? column.map((v) => [v]) : column;
    const tensor = toTensor(value, input.type, input.name, budget);
    budget -= tensor.data.length;
    checkAgainstOnnx(tensor, input, [input.name]);
    feeds[input.name] = tensor;
  }
  return feeds;
}

function checkAgainstOnnx(tensor: DenseTensor, input: OnnxValueInfo, columns: string[]): void {
  const expected = onnxShape(input);
  if (!expected) return;
  const fits =
    expected.length === tensor.dims.length &&
    expected.every((dim, i) => dim === -1 || dim === tensor.dims[i]);
  if (!fits) {
    throw new InputSchemaError(
      `The columns ${pyList(columns)} make an input of shape ${shapeText(tensor.dims)}, but the model's input '${input.name}' has shape ${shapeText(expected)}`,
    );
  }
}

/** An ONNX input's shape with free dimensions as -1; undefined when the model leaves the rank open. */
export function onnxShape(input: OnnxValueInfo): number[] | undefined {
  if (input.shape.length === 0) return undefined;
  return input.shape.map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : -1));
}

/** `['a', 'b']`, as Python prints a list of names (MLflow's messages do). */
function pyList(names: string[]): string {
  return `[${names.map((name) => `'${name}'`).join(', ')}]`;
}
