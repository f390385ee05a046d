/**
 * Decodes OTLP trace export requests (`ExportTraceServiceRequest`, opentelemetry-proto
 * `collector/trace/v1`) into {@link OtelSpan}s, from the binary protobuf encoding the MLflow client
 * and OTel's `http/protobuf` exporters send, and from OTLP/JSON
 * (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding: lowerCamelCase field names,
 * hex trace and span ids, enums as numbers, 64-bit integers as decimal strings).
 *
 * Only what MLflow keeps of a span is decoded (`Span.from_otel_proto`): ids, name, times, attributes,
 * events and status. Resources, scopes, links, kinds and trace state are skipped, as MLflow drops
 * them too. Malformed input throws {@link OtlpDecodeError}.
 */
import * as z from 'zod';
import { ProtobufError, ProtobufReader, WireType } from './protobuf-reader.ts';

/** An OTLP `AnyValue`. */
export type AnyValue =
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: bigint }
  | { kind: 'double'; value: number }
  | { kind: 'bytes'; value: Uint8Array }
  | { kind: 'array'; value: AnyValue[] }
  | { kind: 'kvlist'; value: KeyValue[] }
  | { kind: 'empty' };

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface OtelEvent {
  name: string;
  timeUnixNano: bigint;
  attributes: KeyValue[];
}

/** OTLP's `Status.StatusCode`: UNSET, OK, ERROR. */
export type OtelStatusCode = 0 | 1 | 2;

/** One span as MLflow keeps it. Ids are lower-case hex (32 digits for traces, 16 for spans). */
export interface OtelSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  startTimeUnixNano: bigint;
  /** 0 while the span has not ended. */
  endTimeUnixNano: bigint;
  attributes: KeyValue[];
  events: OtelEvent[];
  status: { code: OtelStatusCode; message: string };
}

export class OtlpDecodeError extends Error {}

// ---------------------------------------------------------------------------------------------
// Protobuf
// ---------------------------------------------------------------------------------------------

/** Decodes a binary `ExportTraceServiceRequest`. */
export function decodeOtlpProtobuf(body: Uint8Array): OtelSpan[] {
  try {
    const spans: OtelSpan[] = [];
    const request = new ProtobufReader(body);
    while (!request.done) {
      const field = request.field();
      // ExportTraceServiceRequest.resource_spans = 1
      if (field.number === 1) {
        request.expect(field, WireType.bytes);
        readResourceSpans(request.message(), spans);
      } else request.skip(field.wireType);
    }
    return spans;
  } catch (error) {
    if (error instanceof ProtobufError) throw new OtlpDecodeError(`Invalid OTLP protobuf: ${error.message}`);
    throw error;
  }
}

function readResourceSpans(reader: ProtobufReader, spans: OtelSpan[]): void {
  while (!reader.done) {
    const field = reader.field();
    // ResourceSpans.scope_spans = 2 (resource = 1 and schema_url = 3 are not kept)
    if (field.number === 2) {
      reader.expect(field, WireType.bytes);
      readScopeSpans(reader.message(), spans);
    } else reader.skip(field.wireType);
  }
}

function readScopeSpans(reader: ProtobufReader, spans: OtelSpan[]): void {
  while (!reader.done) {
    const field = reader.field();
    // ScopeSpans.spans = 2
    if (field.number === 2) {
      reader.expect(field, WireType.bytes);
      spans.push(readSpan(reader.message()));
    } else reader.skip(field.wireType);
  }
}

function readSpan(reader: ProtobufReader): OtelSpan {
  let traceId: Uint8Array = new Uint8Array();
  let spanId: Uint8Array = new Uint8Array();
  let parentSpanId: Uint8Array = new Uint8Array();
  let name = '';
  let start = 0n;
  let end = 0n;
  const attributes: KeyValue[] = [];
  const events: OtelEvent[] = [];
  let status: OtelSpan['status'] = { code: 0, message: '' };
  while (!reader.done) {
    const field = reader.field();
    switch (field.number) {
      case 1:
        reader.expect(field, WireType.bytes);
        traceId = reader.bytes();
        break;
      case 2:
        reader.expect(field, WireType.bytes);
        spanId = reader.bytes();
        break;
      case 4:
        reader.expect(field, WireType.bytes);
        parentSpanId = reader.bytes();
        break;
      case 5:
        reader.expect(field, WireType.bytes);
        name = reader.string();
        break;
      case 7:
        reader.expect(field, WireType.fixed64);
        start = reader.fixed64();
        break;
      case 8:
        reader.expect(field, WireType.fixed64);
        end = reader.fixed64();
        break;
      case 9:
        reader.expect(field, WireType.bytes);
        attributes.push(readKeyValue(reader.message(), 0));
        break;
      case 11:
        reader.expect(field, WireType.bytes);
        events.push(readEvent(reader.message()));
        break;
      case 15:
        reader.expect(field, WireType.bytes);
        status = readStatus(reader.message());
        break;
      default:
        reader.skip(field.wireType);
    }
  }
  return {
    traceId: hexId(traceId, 16, 'trace_id'),
    spanId: hexId(spanId, 8, 'span_id'),
    parentSpanId: parentSpanId.length === 0 ? undefined : hexId(parentSpanId, 8, 'parent_span_id'),
    name,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes,
    events,
    status,
  };
}

function readEvent(reader: ProtobufReader): OtelEvent {
  const event: OtelEvent = { name: '', timeUnixNano: 0n, attributes: [] };
  while (!reader.done) {
    const field = reader.field();
    if (field.number === 1) {
      reader.expect(field, WireType.fixed64);
      event.timeUnixNano = reader.fixed64();
    } else if (field.number === 2) {
      reader.expect(field, WireType.bytes);
      event.name = reader.string();
    } else if (field.number === 3) {
      reader.expect(field, WireType.bytes);
      event.attributes.push(readKeyValue(reader.message(), 0));
    } else reader.skip(field.wireType);
  }
  return event;
}

function readStatus(reader: ProtobufReader): OtelSpan['status'] {
  const status: OtelSpan['status'] = { code: 0, message: '' };
  while (!reader.done) {
    const field = reader.field();
    if (field.number === 2) {
      reader.expect(field, WireType.bytes);
      status.message = reader.string();
    } else if (field.number === 3) {
      reader.expect(field, WireType.varint);
      status.code = statusCode(Number(reader.int64()));
    } else reader.skip(field.wireType);
  }
  return status;
}

/** Attribute values nest (arrays, key-value lists); deeper than this is refused, never a stack overflow. */
const MAX_VALUE_DEPTH = 64;

function readKeyValue(reader: ProtobufReader, depth: number): KeyValue {
  let key = '';
  let value: AnyValue = { kind: 'empty' };
  while (!reader.done) {
    const field = reader.field();
    if (field.number === 1) {
      reader.expect(field, WireType.bytes);
      key = reader.string();
    } else if (field.number === 2) {
      reader.expect(field, WireType.bytes);
      value = readAnyValue(reader.message(), depth + 1);
    } else reader.skip(field.wireType);
  }
  return { key, value };
}

function readAnyValue(reader: ProtobufReader, depth: number): AnyValue {
  if (depth > MAX_VALUE_DEPTH)
    throw new ProtobufError(`attribute values nest deeper than ${MAX_VALUE_DEPTH}`);
  let value: AnyValue = { kind: 'empty' };
  while (!reader.done) {
    const field = reader.field();
    switch (field.number) {
      case 1:
        reader.expect(field, WireType.bytes);
        value = { kind: 'string', value: reader.string() };
        break;
      case 2:
        reader.expect(field, WireType.varint);
        value = { kind: 'bool', value: reader.bool() };
        break;
      case 3:
        reader.expect(field, WireType.varint);
        value = { kind: 'int', value: reader.int64() };
        break;
      case 4:
        reader.expect(field, WireType.fixed64);
        value = { kind: 'double', value: reader.double() };
        break;
      case 5: {
        reader.expect(field, WireType.bytes);
        const items: AnyValue[] = [];
        const array = reader.message();
        while (!array.done) {
          const item = array.field();
          if (item.number === 1) {
            array.expect(item, WireType.bytes);
            items.push(readAnyValue(array.message(), depth + 1));
          } else array.skip(item.wireType);
        }
        value = { kind: 'array', value: items };
        break;
      }
      case 6: {
        reader.expect(field, WireType.bytes);
        const entries: KeyValue[] = [];
        const list = reader.message();
        while (!list.done) {
          const item = list.field();
          if (item.number === 1) {
            list.expect(item, WireType.bytes);
            entries.push(readKeyValue(list.message(), depth));
          } else list.skip(item.wireType);
        }
        value = { kind: 'kvlist', value: entries };
        break;
      }
      case 7:
        reader.expect(field, WireType.bytes);
        value = { kind: 'bytes', value: reader.bytes().slice() };
        break;
      default:
        reader.skip(field.wireType);
    }
  }
  return value;
}

function hexId(bytes: Uint8Array, length: number, what: string): string {
  if (bytes.length !== length) {
    throw new ProtobufError(`${what} must be ${length} bytes, got ${bytes.length}`);
  }
  const hex = Buffer.from(bytes).toString('hex');
  if (/^0+$/.test(hex)) throw new ProtobufError(`${what} is all zeroes, which OTLP defines as invalid`);
  return hex;
}

function statusCode(code: number): OtelStatusCode {
  // Unknown codes read as UNSET, as MLflow's `from_otel_proto` does.
  return code === 1 ? 1 : code === 2 ? 2 : 0;
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

/** A 64-bit integer in OTLP/JSON: a decimal string or a JSON number. */
const int64Json = z.union([z.string().regex(/^-?\d+$/, 'must be a decimal integer'), z.number().int()]);
/** A double in protobuf JSON: a number or `"NaN"`, `"Infinity"`, `"-Infinity"` (or a numeric string). */
const doubleJson = z.union([z.number(), z.string().regex(/^(NaN|-?Infinity|-?\d+(\.\d+)?([eE][+-]?\d+)?)$/)]);
/** Hex ids; protobuf's own JSON mapping would use base64, which OTLP/JSON replaces with hex. */
const hexJson = z.string().regex(/^([0-9a-fA-F]{2})*$/, 'must be hex-encoded');

interface AnyValueJson {
  stringValue?: string | undefined;
  boolValue?: boolean | undefined;
  intValue?: string | number | undefined;
  doubleValue?: string | number | undefined;
  bytesValue?: string | undefined;
  arrayValue?: { values?: AnyValueJson[] | undefined } | undefined;
  kvlistValue?: { values?: KeyValueJson[] | undefined } | undefined;
}
interface KeyValueJson {
  key?: string | undefined;
  value?: AnyValueJson | undefined;
}

const anyValueJson: z.ZodType<AnyValueJson> = z.lazy(() =>
  z.object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: int64Json.optional(),
    doubleValue: doubleJson.optional(),
    bytesValue: z.string().optional(),
    arrayValue: z.object({ values: z.array(anyValueJson).optional() }).optional(),
    kvlistValue: z.object({ values: z.array(keyValueJson).optional() }).optional(),
  }),
);
const keyValueJson: z.ZodType<KeyValueJson> = z.lazy(() =>
  z.object({ key: z.string().optional(), value: anyValueJson.optional() }),
);
const attributesJson = z.array(keyValueJson).optional();
const statusCodeJson = z.union([
  z.number().int(),
  z.enum(['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR']),
]);

const spanJson = z.object({
  traceId: hexJson,
  spanId: hexJson,
  parentSpanId: hexJson.optional(),
  name: z.string().optional(),
  startTimeUnixNano: int64Json.optional(),
  endTimeUnixNano: int64Json.optional(),
  attributes: attributesJson,
  events: z
    .array(
      z.object({
        name: z.string().optional(),
        timeUnixNano: int64Json.optional(),
        attributes: attributesJson,
      }),
    )
    .optional(),
  status: z.object({ message: z.string().optional(), code: statusCodeJson.optional() }).optional(),
});

const requestJson = z.object({
  resourceSpans: z
    .array(z.object({ scopeSpans: z.array(z.object({ spans: z.array(spanJson).optional() })).optional() }))
    .optional(),
});

/** Decodes an OTLP/JSON `ExportTraceServiceRequest` (lowerCamelCase, or protobuf's snake_case names). */
export function decodeOtlpJson(text: string): OtelSpan[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new OtlpDecodeError(`Invalid OTLP JSON: ${(error as Error).message}`);
  }
  const result = requestJson.safeParse(camelKeys(parsed, 0));
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new OtlpDecodeError(
      `Invalid OTLP JSON at ${issue?.path.join('.') || 'the top level'}: ${issue?.message ?? 'not a trace export request'}`,
    );
  }
  try {
    return (result.data.resourceSpans ?? []).flatMap((resource) =>
      (resource.scopeSpans ?? []).flatMap((scope) => (scope.spans ?? []).map(spanFromJson)),
    );
  } catch (error) {
    if (error instanceof ProtobufError) throw new OtlpDecodeError(`Invalid OTLP JSON: ${error.message}`);
    throw error;
  }
}

function spanFromJson(span: z.output<typeof spanJson>): OtelSpan {
  const id = (hex: string, length: number, what: string) => hexId(Buffer.from(hex, 'hex'), length, what);
  return {
    traceId: id(span.traceId, 16, 'traceId'),
    spanId: id(span.spanId, 8, 'spanId'),
    parentSpanId: span.parentSpanId ? id(span.parentSpanId, 8, 'parentSpanId') : undefined,
    name: span.name ?? '',
    startTimeUnixNano: BigInt(span.startTimeUnixNano ?? 0),
    endTimeUnixNano: BigInt(span.endTimeUnixNano ?? 0),
    attributes: (span.attributes ?? []).map((kv) => keyValueFromJson(kv, 0)),
    events: (span.events ?? []).map((event) => ({
      name: event.name ?? '',
      timeUnixNano: BigInt(event.timeUnixNano ?? 0),
      attributes: (event.attributes ?? []).map((kv) => keyValueFromJson(kv, 0)),
    })),
    status: {
      code: statusCode(
        typeof span.status?.code === 'string'
          ? ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'].indexOf(span.status.code)
          : (span.status?.code ?? 0),
      ),
      message: span.status?.message ?? '',
    },
  };
}

function keyValueFromJson(kv: KeyValueJson, depth: number): KeyValue {
  return { key: kv.key ?? '', value: kv.value ? anyValueFromJson(kv.value, depth + 1) : { kind: 'empty' } };
}

function anyValueFromJson(value: AnyValueJson, depth: number): AnyValue {
  if (depth > MAX_VALUE_DEPTH)
    throw new ProtobufError(`attribute values nest deeper than ${MAX_VALUE_DEPTH}`);
  if (value.stringValue !== undefined) return { kind: 'string', value: value.stringValue };
  if (value.boolValue !== undefined) return { kind: 'bool', value: value.boolValue };
  if (value.intValue !== undefined) return { kind: 'int', value: BigInt.asIntN(64, BigInt(value.intValue)) };
  if (value.doubleValue !== undefined) return { kind: 'double', value: Number(value.doubleValue) };
  if (value.bytesValue !== undefined)
    return { kind: 'bytes', value: Buffer.from(value.bytesValue, 'base64') };
  if (value.arrayValue !== undefined) {
    return {
      kind: 'array',
      value: (value.arrayValue.values ?? []).map((item) => anyValueFromJson(item, depth + 1)),
    };
  }
  if (value.kvlistValue !== undefined) {
    return {
      kind: 'kvlist',
      value: (value.kvlistValue.values ?? []).map((kv) => keyValueFromJson(kv, depth)),
    };
  }
  return { kind: 'empty' };
}

/** Protobuf JSON parsers accept both `trace_id` and `traceId`; OTLP/JSON names the second. */
function camelKeys(value: unknown, depth: number): unknown {
  if (depth > 4 * MAX_VALUE_DEPTH) throw new OtlpDecodeError('Invalid OTLP JSON: nested too deeply');
  if (Array.isArray(value)) return value.map((item) => camelKeys(item, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase()),
      camelKeys(inner, depth + 1),
    ]),
  );
}
