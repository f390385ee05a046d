/**
 * Spans as MLflow stores them: the span dictionaries of a trace's `traces.json`
 * (`mlflow.entities.Span.to_dict`, the file the client uploads and downloads through the artifact
 * store), and their two translations:
 *
 * - from OTLP ({@link spanRecordFromOtel}), as MLflow's server turns an ingested OTel span into an
 *   MLflow span (`Span.from_otel_proto`): every attribute value is stored JSON-encoded, and the span
 *   carries `mlflow.traceRequestId`;
 * - to the OTel span protobuf JSON of MLflow's `Trace` message ({@link otelSpanJson}), which
 *   `GetTrace` and `BatchGetTraces` answer (`Span.to_otel_proto`): attributes decoded back into
 *   OTLP `AnyValue`s.
 *
 * Records are kept as {@link PyObject}s so that what the client wrote reaches it unchanged (key
 * order, integers and floats, nanosecond times past 2^53).
 */
import type { AnyValue, KeyValue, OtelSpan } from './otlp.decoder.ts';
import {
  dumpPyJson,
  type PyJson,
  PyJsonSyntaxError,
  PyNumber,
  PyObject,
  parsePyJson,
} from './python-json.ts';

/** One span dictionary of `traces.json`. */
export type SpanRecord = PyObject;

/** The attribute MLflow puts on every span: the trace's id, JSON-encoded. */
export const REQUEST_ID_ATTRIBUTE = 'mlflow.traceRequestId';
export const SPAN_INPUTS_ATTRIBUTE = 'mlflow.spanInputs';
export const SPAN_OUTPUTS_ATTRIBUTE = 'mlflow.spanOutputs';
export const SPAN_TYPE_ATTRIBUTE = 'mlflow.spanType';

const STATUS_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'] as const;

/** MLflow's trace id of an OTel trace id: `tr-` and the 32 hex digits. */
export function mlflowTraceId(otelTraceId: string): string {
  return `tr-${otelTraceId}`;
}

/** An OTLP value as the Python value MLflow decodes it to (`_decode_otel_proto_anyvalue`). */
export function pyValueOf(value: AnyValue): PyJson {
  switch (value.kind) {
    case 'string':
      return value.value;
    case 'bool':
      return value.value;
    case 'int':
      return PyNumber.int(value.value);
    case 'double':
      return PyNumber.float(value.value);
    case 'bytes':
      // json.dumps cannot encode bytes; MLflow's encoder falls back to str(), Python's repr.
      return pythonBytesRepr(value.value);
    case 'array':
      return value.value.map(pyValueOf);
    case 'kvlist':
      return new PyObject(value.value.map((kv) => [kv.key, pyValueOf(kv.value)]));
    case 'empty':
      return null;
  }
}

/** A Python value as MLflow's client sets it on an OTLP `AnyValue` (`_set_otel_proto_anyvalue`). */
export function anyValueOf(value: PyJson): AnyValue {
  if (value === null) return { kind: 'empty' };
  if (typeof value === 'boolean') return { kind: 'bool', value };
  if (typeof value === 'string') return { kind: 'string', value };
  if (value instanceof PyNumber) {
    return value.int !== undefined
      ? { kind: 'int', value: BigInt.asIntN(64, value.int) }
      : { kind: 'double', value: value.toNumber() };
  }
  if (Array.isArray(value)) return { kind: 'array', value: value.map(anyValueOf) };
  return { kind: 'kvlist', value: value.entries.map(([key, inner]) => ({ key, value: anyValueOf(inner) })) };
}

/**
 * The MLflow span of an ingested OTel span, as MLflow's server stores it: attributes JSON-encoded
 * (with `mlflow.traceRequestId` first), event attributes as plain values, the status message kept
 * for errors only (OTel drops it otherwise).
 */
export function spanRecordFromOtel(span: OtelSpan): SpanRecord {
  const attributes: Array<[string, PyJson]> = [
    [REQUEST_ID_ATTRIBUTE, dumpPyJson(mlflowTraceId(span.traceId))],
    ...span.attributes.map((kv): [string, PyJson] => [kv.key, dumpPyJson(pyValueOf(kv.value))]),
  ];
  return new PyObject([
    ['trace_id', hexToBase64(span.traceId)],
    ['span_id', hexToBase64(span.spanId)],
    ['parent_span_id', span.parentSpanId === undefined ? null : hexToBase64(span.parentSpanId)],
    ['name', span.name],
    ['start_time_unix_nano', PyNumber.int(span.startTimeUnixNano)],
    ['end_time_unix_nano', span.endTimeUnixNano === 0n ? null : PyNumber.int(span.endTimeUnixNano)],
    [
      'events',
      span.events.map(
        (event) =>
          new PyObject([
            ['name', event.name],
            ['time_unix_nano', PyNumber.int(event.timeUnixNano)],
            ['attributes', new PyObject(event.attributes.map((kv) => [kv.key, pyValueOf(kv.value)]))],
          ]),
      ),
    ],
    [
      'status',
      new PyObject([
        ['code', STATUS_NAMES[span.status.code]],
        ['message', span.status.code === 2 ? span.status.message : ''],
      ]),
    ],
    ['attributes', new PyObject(attributes)],
  ]);
}

/** What the service reads of a span record; `undefined` for a record that is not a span. */
export interface SpanSummary {
  /** 16 hex digits. */
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint | undefined;
  status: 'UNSET' | 'OK' | 'ERROR';
}

/** The fields of a span record (MLflow's v3 schema, or the v2 schema of MLflow 2.x clients). */
export function summarizeSpan(record: PyJson): SpanSummary | undefined {
  if (!(record instanceof PyObject)) return undefined;
  const context = record.get('context');
  if (context instanceof PyObject) {
    // MLflow 2.x: {"context": {"span_id": "0x..", "trace_id": ".."}, "parent_id", "start_time", ...}
    const spanId = hexOf(context.get('span_id'));
    if (spanId === undefined) return undefined;
    const statusCode = record.get('status_code');
    return {
      spanId,
      parentSpanId: hexOf(record.get('parent_id')),
      name: stringOf(record.get('name')),
      startTimeUnixNano: bigintOf(record.get('start_time')) ?? 0n,
      endTimeUnixNano: bigintOf(record.get('end_time')),
      status: statusCode === 'OK' || statusCode === 'ERROR' ? statusCode : 'UNSET',
    };
  }
  const spanId = idOf(record.get('span_id'), 8);
  if (spanId === undefined) return undefined;
  const status = record.get('status');
  const code = status instanceof PyObject ? status.get('code') : undefined;
  return {
    spanId,
    parentSpanId: idOf(record.get('parent_span_id'), 8),
    name: stringOf(record.get('name')),
    startTimeUnixNano: bigintOf(record.get('start_time_unix_nano')) ?? 0n,
    endTimeUnixNano: bigintOf(record.get('end_time_unix_nano')) || undefined,
    status:
      code === 'STATUS_CODE_OK' || code === 'OK'
        ? 'OK'
        : code === 'STATUS_CODE_ERROR' || code === 'ERROR'
          ? 'ERROR'
          : 'UNSET',
  };
}

/** A span attribute's decoded value (attributes are stored JSON-encoded); `undefined` when absent. */
export function spanAttribute(record: SpanRecord, key: string): PyJson | undefined {
  const attributes = record.get('attributes');
  if (!(attributes instanceof PyObject)) return undefined;
  const raw = attributes.get(key);
  return raw === undefined ? undefined : decodeAttribute(raw);
}

/** The raw (JSON-encoded) text of an attribute, as the record stores it. */
export function rawSpanAttribute(record: SpanRecord, key: string): string | undefined {
  const attributes = record.get('attributes');
  const raw = attributes instanceof PyObject ? attributes.get(key) : undefined;
  return typeof raw === 'string' ? raw : raw === undefined ? undefined : dumpPyJson(raw);
}

/** An OTLP `AnyValue` as the API writes it (protobuf JSON, MLflow's snake_case names): one field, or none. */
export type AnyValueWire =
  | { string_value: string }
  | { bool_value: boolean }
  | { int_value: string }
  | { double_value: number | string }
  | { bytes_value: string }
  | { array_value: { values: AnyValueWire[] } }
  | { kvlist_value: { values: KeyValueWire[] } }
  | Record<string, never>;

export interface KeyValueWire {
  key: string;
  value?: AnyValueWire;
}

export interface SpanEventWire {
  name: string;
  time_unix_nano: string;
  attributes?: KeyValueWire[];
}

/** A span as `GetTrace` and `BatchGetTraces` answer it: OTel's `Span` in protobuf JSON (ids base64). */
export interface OtelSpanWire {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  name: string;
  start_time_unix_nano: string;
  end_time_unix_nano?: string;
  attributes?: KeyValueWire[];
  events?: SpanEventWire[];
  status: { code: string; message?: string };
}

/**
 * A span record as the OTel `Span` message of MLflow's `Trace` in protobuf JSON (snake_case field
 * names, ids base64, 64-bit integers as strings, enums by name), which MLflow's client parses with
 * `Span.from_otel_proto`. Records in MLflow 2.x's schema are translated the same way.
 */
export function otelSpanJson(record: SpanRecord, traceIdHex: string): OtelSpanWire {
  const summary = summarizeSpan(record);
  const attributes = record.get('attributes');
  const events = record.get('events');
  const status = record.get('status');
  const statusMessage =
    status instanceof PyObject ? stringOf(status.get('message')) : stringOf(record.get('status_message'));
  const summaryStatus = summary?.status ?? 'UNSET';
  return {
    trace_id: hexToBase64(traceIdHex),
    span_id: hexToBase64(summary?.spanId ?? '0000000000000000'),
    ...(summary?.parentSpanId ? { parent_span_id: hexToBase64(summary.parentSpanId) } : {}),
    name: summary?.name ?? '',
    start_time_unix_nano: (summary?.startTimeUnixNano ?? 0n).toString(),
    ...(summary?.endTimeUnixNano ? { end_time_unix_nano: summary.endTimeUnixNano.toString() } : {}),
    ...nonEmpty(
      'attributes',
      attributes instanceof PyObject
        ? attributes.entries.map(([key, raw]) => keyValueJson(key, anyValueOf(decodeAttribute(raw))))
        : [],
    ),
    ...nonEmpty(
      'events',
      Array.isArray(events)
        ? events.flatMap((event) => (event instanceof PyObject ? [otelEventJson(event)] : []))
        : [],
    ),
    status: {
      code: `STATUS_CODE_${summaryStatus}`,
      ...(summaryStatus === 'ERROR' && statusMessage ? { message: statusMessage } : {}),
    },
  };
}

function otelEventJson(event: PyObject): SpanEventWire {
  const attributes = event.get('attributes');
  const time = bigintOf(event.get('time_unix_nano')) ?? bigintOf(event.get('timestamp')) ?? 0n;
  return {
    name: stringOf(event.get('name')),
    time_unix_nano: time.toString(),
    ...nonEmpty(
      'attributes',
      attributes instanceof PyObject
        ? attributes.entries.map(([key, value]) => keyValueJson(key, anyValueOf(value)))
        : [],
    ),
  };
}

/** Protobuf JSON leaves out empty repeated fields. */
function nonEmpty<K extends string, T>(field: K, items: T[]): Partial<Record<K, T[]>> {
  return items.length > 0 ? ({ [field]: items } as Partial<Record<K, T[]>>) : {};
}

/** A `KeyValue`; an empty value is left out, as MLflow's client leaves it unset for `None`. */
function keyValueJson(key: string, value: AnyValue): KeyValueWire {
  return value.kind === 'empty' ? { key } : { key, value: anyValueJson(value) };
}

/** An OTLP `AnyValue` in protobuf JSON with MLflow's snake_case names. */
export function anyValueJson(value: AnyValue): AnyValueWire {
  switch (value.kind) {
    case 'string':
      return { string_value: value.value };
    case 'bool':
      return { bool_value: value.value };
    case 'int':
      return { int_value: value.value.toString() };
    case 'double':
      return { double_value: Number.isFinite(value.value) ? value.value : String(value.value) };
    case 'bytes':
      return { bytes_value: Buffer.from(value.value).toString('base64') };
    case 'array':
      return { array_value: { values: value.value.map(anyValueJson) } };
    case 'kvlist':
      return {
        kvlist_value: {
          values: value.value.map((kv: KeyValue) => keyValueJson(kv.key, kv.value)),
        },
      };
    case 'empty':
      return {};
  }
}

/** Attribute values are JSON text; one that is not (written by hand) is kept as the string it is. */
function decodeAttribute(raw: PyJson): PyJson {
  if (typeof raw !== 'string') return raw;
  try {
    return parsePyJson(raw);
  } catch (error) {
    if (error instanceof PyJsonSyntaxError) return raw;
    throw error;
  }
}

export function hexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

/** A base64 (v3 schema) or hex (MLflow 3.5's records) id of `bytes` bytes, as hex. */
function idOf(value: PyJson | undefined, bytes: number): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const hex = new RegExp(`^[0-9a-f]{${bytes * 2}}$`, 'i');
  if (hex.test(value)) return value.toLowerCase();
  const decoded = Buffer.from(value, 'base64');
  return decoded.length === bytes ? decoded.toString('hex') : undefined;
}

/** MLflow 2.x ids: `0x` and hex digits. */
function hexOf(value: PyJson | undefined): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const hex = value.replace(/^0x/i, '').toLowerCase();
  return /^[0-9a-f]+$/.test(hex) ? hex.padStart(16, '0') : undefined;
}

function stringOf(value: PyJson | undefined): string {
  return typeof value === 'string' ? value : '';
}

function bigintOf(value: PyJson | undefined): bigint | undefined {
  if (value instanceof PyNumber) return value.int ?? BigInt(Math.trunc(value.toNumber()));
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  return undefined;
}

/** Python's `repr` of a bytes value (`b'\x00ab'`), which is what MLflow stores for bytes attributes. */
function pythonBytesRepr(bytes: Uint8Array): string {
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'";
  let out = `b${quote}`;
  for (const byte of bytes) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte === quote.charCodeAt(0)) out += `\\${quote}`;
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte < 0x20 || byte >= 0x7f) out += `\\x${byte.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}${quote}`;
}
