import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  decodeOtlpJson,
  decodeOtlpProtobuf,
  type OtelSpan,
  OtlpDecodeError,
} from '../../shared/tracking/traces/spans/otlp.decoder.ts';
import {
  dumpPyJson,
  PyJsonSyntaxError,
  PyNumber,
  PyObject,
  parsePyJson,
  pythonFloatRepr,
} from '../../shared/tracking/traces/spans/python-json.ts';
import {
  otelSpanJson,
  spanAttribute,
  spanRecordFromOtel,
  summarizeSpan,
} from '../../shared/tracking/traces/spans/span-record.ts';

/**
 * OTLP bodies MLflow 3.11.1's client sent (and one crafted with MLflow's own encoder), with what
 * MLflow stores for each span and answers in a `Trace` (`test/fixtures/mlflow3/otlp-3.11.1.json`).
 */
interface Fixture {
  requests: Array<{
    experimentId: string;
    protobufBase64: string;
    // biome-ignore lint/suspicious/noExplicitAny: protobuf JSON as MessageToDict wrote it.
    decoded: any;
    mlflowSpans: string[];
    otelSpanJson: Array<Record<string, unknown>>;
  }>;
}
const fixture = JSON.parse(
  readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/mlflow3/otlp-3.11.1.json'),
    'utf8',
  ),
) as Fixture;

const hex = (base64: string) => Buffer.from(base64, 'base64').toString('hex');

/** MessageToDict's protobuf JSON (base64 ids) as OTLP/JSON (hex ids), which OTLP exporters send. */
// biome-ignore lint/suspicious/noExplicitAny: a JSON tree rewritten in place.
function toOtlpJson(value: any, key = ''): any {
  if (Array.isArray(value)) return value.map((item) => toOtlpJson(item));
  if (value === null || typeof value !== 'object') {
    return ['traceId', 'spanId', 'parentSpanId'].includes(key) ? hex(value) : value;
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toOtlpJson(v, k)]));
}

describe('OTLP protobuf decoding (the MLflow 3.11 client’s bodies)', () => {
  it.each(fixture.requests.map((request, index) => [index, request] as const))(
    'request %i decodes to the spans protobuf itself reads',
    (_index, request) => {
      const spans = decodeOtlpProtobuf(Buffer.from(request.protobufBase64, 'base64'));
      const expected = request.decoded.resourceSpans.flatMap(
        // biome-ignore lint/suspicious/noExplicitAny: MessageToDict output
        (rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans),
      );
      expect(spans).toHaveLength(expected.length);
      spans.forEach((span, i) => {
        const want = expected[i];
        expect(span.traceId).toBe(hex(want.traceId));
        expect(span.spanId).toBe(hex(want.spanId));
        expect(span.parentSpanId).toBe(want.parentSpanId ? hex(want.parentSpanId) : undefined);
        expect(span.name).toBe(want.name);
        expect(span.startTimeUnixNano).toBe(BigInt(want.startTimeUnixNano));
        expect(span.endTimeUnixNano).toBe(BigInt(want.endTimeUnixNano ?? 0));
        expect(span.attributes.map((kv) => kv.key)).toEqual(
          want.attributes.map((kv: { key: string }) => kv.key),
        );
      });
    },
  );

  it('stores each span exactly as MLflow’s server stores it (Span.from_otel_proto(...).to_dict())', () => {
    for (const request of fixture.requests) {
      const spans = decodeOtlpProtobuf(Buffer.from(request.protobufBase64, 'base64'));
      expect(spans.map((span) => dumpPyJson(spanRecordFromOtel(span)))).toEqual(request.mlflowSpans);
    }
  });

  it('answers each span in a Trace exactly as MLflow’s server does (Span.to_otel_proto)', () => {
    for (const request of fixture.requests) {
      const spans = decodeOtlpProtobuf(Buffer.from(request.protobufBase64, 'base64'));
      const answered = spans.map((span) => otelSpanJson(spanRecordFromOtel(span), span.traceId));
      // Key order is JSON's business, not the comparison's.
      expect(JSON.parse(JSON.stringify(answered))).toEqual(request.otelSpanJson);
    }
  });

  it('reads the same spans from OTLP/JSON (hex ids, camelCase) and from protobuf JSON names', () => {
    for (const request of fixture.requests) {
      const fromProtobuf = decodeOtlpProtobuf(Buffer.from(request.protobufBase64, 'base64'));
      const json = toOtlpJson(request.decoded);
      expect(decodeOtlpJson(JSON.stringify(json))).toEqual(fromProtobuf);
      const snake = JSON.stringify(json).replace(
        /"([a-z]+)([A-Z][A-Za-z]*)":/g,
        (_m, head: string, tail: string) =>
          `"${head}${tail.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}":`,
      );
      expect(decodeOtlpJson(snake)).toEqual(fromProtobuf);
    }
  });

  it('refuses malformed bodies with a reason, never a crash', () => {
    const body = Buffer.from(fixture.requests[0]!.protobufBase64, 'base64');
    expect(() => decodeOtlpProtobuf(body.subarray(0, body.length - 3))).toThrow(OtlpDecodeError);
    expect(() => decodeOtlpProtobuf(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(
      /length past the end/,
    );
    expect(() => decodeOtlpProtobuf(Buffer.from([0x0b]))).toThrow(/wire type/);
    // A span whose trace id is 3 bytes.
    const badId = Buffer.from([0x0a, 0x09, 0x12, 0x07, 0x12, 0x05, 0x0a, 0x03, 1, 2, 3]);
    expect(() => decodeOtlpProtobuf(badId)).toThrow(/trace_id must be 16 bytes/);
    expect(() =>
      decodeOtlpJson('{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz", "spanId": "00"}]}]}]}'),
    ).toThrow(/hex/);
    expect(() => decodeOtlpJson('{')).toThrow(OtlpDecodeError);
    expect(decodeOtlpProtobuf(new Uint8Array(0))).toEqual([]);
  });

  it('refuses attribute values nested deeper than 64 levels', () => {
    let value = '{"stringValue": "leaf"}';
    for (let i = 0; i < 70; i++) value = `{"arrayValue": {"values": [${value}]}}`;
    const body = `{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "${'1'.repeat(32)}", "spanId": "${'2'.repeat(16)}", "attributes": [{"key": "deep", "value": ${value}}]}]}]}]}`;
    expect(() => decodeOtlpJson(body)).toThrow(/deeper than 64/);
  });
});

describe('span records', () => {
  const [span] = decodeOtlpProtobuf(Buffer.from(fixture.requests.at(-1)!.protobufBase64, 'base64')) as [
    OtelSpan,
  ];
  const record = spanRecordFromOtel(span);

  it('summarizes the fields search and merging read', () => {
    expect(summarizeSpan(record)).toEqual({
      spanId: 'b7ad6b7169203331',
      parentSpanId: '00f067aa0ba902b7',
      name: 'édge',
      startTimeUnixNano: 1796670133110415434n,
      endTimeUnixNano: 1796670133110563806n,
      status: 'ERROR',
    });
  });

  it('reads attributes back with their Python types', () => {
    expect(spanAttribute(record, 'float_one')).toEqual(PyNumber.float(1));
    expect((spanAttribute(record, 'big_int') as PyNumber).int).toBe(2n ** 60n);
    expect((spanAttribute(record, 'keys') as PyObject).entries.map(([key]) => key)).toEqual(['2', '1', 'x']);
    expect(spanAttribute(record, 'missing')).toBeUndefined();
  });

  it('reads MLflow 2.x span records (the v2 schema of traces.json)', () => {
    const v2 = parsePyJson(
      '{"name": "f", "context": {"span_id": "0x1a2b", "trace_id": "0x01"}, "parent_id": null, "start_time": 10, "end_time": 20, "status_code": "OK", "status_message": "", "attributes": {"mlflow.spanInputs": "{\\"x\\": 1}"}, "events": []}',
    );
    expect(summarizeSpan(v2)).toMatchObject({
      spanId: '0000000000001a2b',
      name: 'f',
      status: 'OK',
      endTimeUnixNano: 20n,
    });
    const json = otelSpanJson(v2 as PyObject, '0'.repeat(31) + '1');
    expect(json.attributes).toEqual([
      {
        key: 'mlflow.spanInputs',
        value: { kvlist_value: { values: [{ key: 'x', value: { int_value: '1' } }] } },
      },
    ]);
  });
});

describe('Python-faithful JSON', () => {
  it('writes floats as Python’s repr does', () => {
    const cases: Array<[number, string]> = [
      [1, '1.0'],
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [1e16, '1e+16'],
      [1e15, '1000000000000000.0'],
      [123456789.123, '123456789.123'],
      [1.5e-7, '1.5e-07'],
      [-0, '-0.0'],
      [0.1, '0.1'],
      [12345678901234568, '1.2345678901234568e+16'],
      [1e22, '1e+22'],
      [5e-324, '5e-324'],
      [Number.NaN, 'NaN'],
      [Number.NEGATIVE_INFINITY, '-Infinity'],
    ];
    for (const [value, repr] of cases) expect(pythonFloatRepr(value)).toBe(repr);
  });

  it('round-trips what JSON.parse would lose: int vs float, big ints, key order, NaN', () => {
    const text =
      '{"b": 1, "a": 1.0, "2": [9007199254740993, -0.0, 1e-07, NaN, -Infinity], "1": {"u": "é\\n\\"", "n": null, "t": true}}';
    const value = parsePyJson(text);
    expect(dumpPyJson(value)).toBe(text.replace('1e-07', '1e-07'));
    expect(((value as PyObject).get('2') as PyNumber[])[0]?.int).toBe(9007199254740993n);
  });

  it('refuses text Python’s json.loads refuses', () => {
    for (const bad of [
      '{',
      '[1,]',
      '{"a" 1}',
      'nul',
      '"\u0001"',
      '1 2',
      `${'['.repeat(600)}${']'.repeat(600)}`,
    ]) {
      expect(() => parsePyJson(bad)).toThrow(PyJsonSyntaxError);
    }
  });

  it('keeps the last value of a repeated key in its first place, as a Python dict', () => {
    expect(
      dumpPyJson(
        new PyObject([
          ['a', 1 as unknown as null],
          ['b', null],
          ['a', 'x'],
        ]),
      ),
    ).toBe('{"a": "x", "b": null}');
  });
});
