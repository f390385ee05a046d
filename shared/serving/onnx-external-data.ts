/**
 * ONNX external data: a model whose large tensors are stored in other files of its directory, as
 * `onnx.save_model(..., save_as_external_data=True)` writes them (the default of MLflow 3's
 * `mlflow.onnx.log_model`: every initializer of 1 KB or more into one `<uuid>.data` file beside
 * `model.onnx`). Such a tensor carries `data_location: EXTERNAL` and `external_data` entries
 * (`location`, `offset`, `length`) instead of its bytes.
 *
 * ONNX Runtime in Node reads those files only from disk, next to a model file it opens by path
 * (the JavaScript API's `externalData` option is onnxruntime-web's). Runway inlines them instead: the
 * tensors' bytes are put back into the graph as `raw_data`, and the session is created from that one
 * buffer, as for a model saved whole. Nothing touches Lambda's `/tmp` (512 MB by default, and ONNX
 * Runtime memory-maps external files, so a file deleted after loading would keep its disk blocks as
 * long as its session lives), and a loaded model costs what the same model saved whole costs.
 *
 * The walk reads protobuf's wire format over the messages that can hold tensors (`onnx.proto`):
 * graphs, their nodes' attributes (constants, subgraphs of `If`/`Loop`/`Scan`), sparse tensors,
 * functions and training graphs. Every other field is copied byte for byte.
 */
import { ModelLoadError } from './errors.ts';

/** A tensor whose bytes are in a file of the model directory. */
export interface ExternalTensor {
  /** The tensor's name in the graph. */
  tensor: string;
  /** The file, relative to the ONNX file's directory (checked: never outside it). */
  location: string;
  offset: number;
  /** Bytes from `offset`; undefined: to the end of the file. */
  length: number | undefined;
}

type MessageType = 'model' | 'graph' | 'node' | 'attribute' | 'tensor' | 'sparse' | 'function' | 'training';

/** Which fields of each message hold messages that may hold tensors (field number -> type). */
const CHILDREN: Record<Exclude<MessageType, 'tensor'>, Record<number, MessageType>> = {
  model: { 7: 'graph', 20: 'training', 25: 'function' },
  graph: { 1: 'node', 5: 'tensor', 15: 'sparse' },
  node: { 5: 'attribute' },
  attribute: { 5: 'tensor', 6: 'graph', 10: 'tensor', 11: 'graph', 22: 'sparse', 23: 'sparse' },
  sparse: { 1: 'tensor', 2: 'tensor' },
  function: { 7: 'node', 11: 'attribute' },
  training: { 1: 'graph', 2: 'graph' },
};

const TENSOR_NAME = 8;
const TENSOR_RAW_DATA = 9;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;
const EXTERNAL = 1;

/** Every tensor of the model stored as external data, in graph order; `OnnxWireError` if the bytes are not protobuf. */
export function externalTensors(onnx: Uint8Array, onnxFile = 'model.onnx'): ExternalTensor[] {
  const found: ExternalTensor[] = [];
  walk(onnx, 'model', (tensor) => {
    const external = externalTensor(tensor, onnxFile);
    if (external) found.push(external);
    return undefined;
  });
  return found;
}

/**
 * The model with every external tensor's bytes inlined as `raw_data`; `files` holds each location's
 * bytes (as `externalTensors` names them). A model without external data comes back as it is.
 */
export function inlineExternalData(
  onnx: Uint8Array,
  files: ReadonlyMap<string, Uint8Array>,
  onnxFile = 'model.onnx',
): Uint8Array {
  const parts = walk(onnx, 'model', (tensor, fields) => {
    const external = externalTensor(tensor, onnxFile);
    if (!external) return undefined;
    const file = files.get(external.location);
    if (!file) throw new ModelLoadError(`The external data file ${external.location} was not read`);
    const end = external.length === undefined ? file.byteLength : external.offset + external.length;
    if (end > file.byteLength) {
      throw new ModelLoadError(
        `The ONNX tensor '${external.tensor}' reads bytes ${external.offset} to ${end} of ${external.location}, which has ${file.byteLength}`,
      );
    }
    const kept = fields
      .filter(
        (field) =>
          field.number !== TENSOR_EXTERNAL_DATA &&
          field.number !== TENSOR_DATA_LOCATION &&
          field.number !== TENSOR_RAW_DATA,
      )
      .map((field) => tensor.subarray(field.start, field.end));
    return [
      ...kept,
      lengthPrefix(TENSOR_RAW_DATA, end - external.offset),
      file.subarray(external.offset, end),
    ];
  });
  if (parts.length === 1 && parts[0] === onnx) return onnx;
  return concat(parts);
}

interface Field {
  number: number;
  wire: number;
  /** The whole field (key and value) within its message. */
  start: number;
  end: number;
  /** A varint's value. */
  value?: number;
  /** A length-delimited field's payload. */
  payload?: { start: number; end: number };
}

/**
 * Walks a message of `type`; `onTensor` may replace a tensor (its parts) or leave it (undefined).
 * Returns the message as parts: the original bytes where nothing changed (never copied).
 */
function walk(
  bytes: Uint8Array,
  type: MessageType,
  onTensor: (tensor: Uint8Array, fields: Field[]) => Uint8Array[] | undefined,
): Uint8Array[] {
  const fields = parseFields(bytes);
  if (type === 'tensor') return onTensor(bytes, fields) ?? [bytes];
  const children = CHILDREN[type];
  const parts: Uint8Array[] = [];
  let changed = false;
  for (const field of fields) {
    const child = children[field.number];
    if (child === undefined || field.wire !== 2 || !field.payload) {
      parts.push(bytes.subarray(field.start, field.end));
      continue;
    }
    const inner = bytes.subarray(field.payload.start, field.payload.end);
    const rewritten = walk(inner, child, onTensor);
    if (rewritten.length === 1 && rewritten[0] === inner) {
      parts.push(bytes.subarray(field.start, field.end));
      continue;
    }
    changed = true;
    const length = rewritten.reduce((sum, part) => sum + part.byteLength, 0);
    parts.push(lengthPrefix(field.number, length), ...rewritten);
  }
  return changed ? parts : [bytes];
}

/** The external tensor a TensorProto describes, or undefined when its data is inline. */
function externalTensor(tensor: Uint8Array, onnxFile: string): ExternalTensor | undefined {
  const fields = parseFields(tensor);
  if (!fields.some((field) => field.number === TENSOR_DATA_LOCATION && field.value === EXTERNAL)) {
    return undefined;
  }
  const text = (field: Field | undefined) =>
    field?.payload ? new TextDecoder().decode(tensor.subarray(field.payload.start, field.payload.end)) : '';
  const name = text(fields.find((field) => field.number === TENSOR_NAME));
  const entries = new Map<string, string>();
  for (const field of fields.filter((candidate) => candidate.number === TENSOR_EXTERNAL_DATA)) {
    if (!field.payload) continue;
    const entry = parseFields(tensor.subarray(field.payload.start, field.payload.end));
    const at = field.payload.start;
    const part = (number: number) => {
      const found = entry.find((candidate) => candidate.number === number);
      return found?.payload
        ? new TextDecoder().decode(tensor.subarray(at + found.payload.start, at + found.payload.end))
        : '';
    };
    entries.set(part(1), part(2));
  }
  const location = entries.get('location') ?? '';
  const number = (key: string): number | undefined => {
    const value = entries.get(key);
    if (value === undefined || value === '') return undefined;
    if (!/^\d+$/.test(value)) {
      throw new ModelLoadError(
        `The ONNX tensor '${name}' has a malformed external data ${key} '${value.slice(0, 40)}'`,
      );
    }
    return Number(value);
  };
  return {
    tensor: name,
    location: checkedLocation(name, location, onnxFile),
    offset: number('offset') ?? 0,
    length: number('length'),
  };
}

/**
 * The location relative to the model directory. External data must be a file in the ONNX file's
 * own folder or below it: an absolute path, `..`, `.` or a backslash would read outside the model.
 */
function checkedLocation(tensor: string, location: string, onnxFile: string): string {
  const segments = location.split('/');
  if (
    location === '' ||
    location.startsWith('/') ||
    /[\\\0]|^[A-Za-z]:/.test(location) ||
    segments.some((segment) => segment === '' || segment === '.' || segment === '..')
  ) {
    throw new ModelLoadError(
      `The ONNX tensor '${tensor}' names external data '${location.slice(0, 200)}', which is not a file of the model directory`,
    );
  }
  const folder = onnxFile.includes('/') ? onnxFile.slice(0, onnxFile.lastIndexOf('/') + 1) : '';
  return `${folder}${location}`;
}

function parseFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  let at = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (at >= bytes.length) throw malformed();
      const byte = bytes[at++] as number;
      result += (byte & 0x7f) * scale;
      if (!(byte & 0x80)) return result;
      scale *= 128;
    }
    throw malformed();
  };
  while (at < bytes.length) {
    const start = at;
    const key = varint();
    const wire = key % 8;
    const number = Math.floor(key / 8);
    if (wire === 0) {
      const value = varint();
      fields.push({ number, wire, start, end: at, value });
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      if (at > bytes.length) throw malformed();
      fields.push({ number, wire, start, end: at });
    } else if (wire === 2) {
      const length = varint();
      const payload = { start: at, end: at + length };
      at += length;
      if (at > bytes.length) throw malformed();
      fields.push({ number, wire, start, end: at, payload });
    } else {
      throw malformed();
    }
  }
  return fields;
}

/** The bytes are not protobuf: ONNX Runtime, given them as they are, says what is wrong. */
export class OnnxWireError extends Error {}

function malformed(): OnnxWireError {
  return new OnnxWireError('The ONNX file is not a valid protobuf message');
}

/** A length-delimited field's key and length. */
function lengthPrefix(number: number, length: number): Uint8Array {
  return Uint8Array.from([...encodeVarint(number * 8 + 2), ...encodeVarint(length)]);
}

function encodeVarint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
