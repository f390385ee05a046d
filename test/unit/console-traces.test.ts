import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OtelSpanWire, TraceInfoWire } from '../../console/src/api/wire.ts';
import {
  anyValue,
  barOf,
  base64ToHex,
  displayValue,
  durationMs,
  formatSpanMs,
  KeyValueList,
  sourceRun,
  spanTree,
  timestampMs,
  traceName,
  userTags,
} from '../../console/src/traces/spans.ts';

/**
 * The console's reading of traces (pure, no DOM), over the spans MLflow 3.11.1's own server answers
 * for what its client sent (`otelSpanJson` of the recorded fixture): the tree, timing, inputs and
 * outputs, values in the order and type logged.
 */

const FIXTURE = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, '../fixtures/mlflow3/otlp-3.11.1.json'), 'utf8'),
) as { requests: Array<{ otelSpanJson: OtelSpanWire[] }> };
/** predict > (retrieve, add): the first three requests, one span each, children first as they ended. */
const PREDICT = FIXTURE.requests.slice(0, 3).flatMap((request) => request.otelSpanJson);
const ODD = FIXTURE.requests[4]?.otelSpanJson[0] as OtelSpanWire;

describe('span tree', () => {
  it('puts the root first and its children in start order, each with its depth', () => {
    const tree = spanTree(PREDICT);
    expect(tree.nodes.map((node) => [node.name, node.depth, node.childCount])).toEqual([
      ['predict', 0, 2],
      ['retrieve', 1, 0],
      ['add', 1, 0],
    ]);
    expect(tree.nodes[1]?.parentId).toBe(tree.nodes[0]?.id);
    expect(tree.nodes[0]?.id).toBe(base64ToHex('gj3bZdUleUQ='));
    expect(tree.nodes[0]?.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it("reads each span's type, status, inputs and outputs as logged", () => {
    const [predict, retrieve, add] = spanTree(PREDICT).nodes;
    expect(predict?.type).toBe('CHAIN');
    expect(predict?.status).toBe('OK');
    expect(displayValue(predict?.inputs)).toBe('{\n  "question": "hello"\n}');
    expect(displayValue(predict?.outputs)).toBe('{\n  "answer": "hello?",\n  "total": 3.5\n}');
    expect(displayValue(retrieve?.outputs)).toBe('{\n  "docs": [\n    "doc-1",\n    "doc-2"\n  ]\n}');
    expect(add?.inputs).toEqual(
      new KeyValueList([
        ['x', 1],
        ['y', 2.5],
      ]),
    );
    expect(add?.outputs).toBe(3.5);
    // Shown in their own places: inputs, outputs, type and the trace id are not listed again.
    expect(add?.attributes).toEqual([['mlflow.spanFunctionName', 'add']]);
  });

  it('times spans from the first start, in milliseconds, to the nanosecond sent', () => {
    const tree = spanTree(PREDICT);
    const [predict, retrieve] = tree.nodes;
    expect(predict?.offsetMs).toBe(0);
    // 1796670133110415434 - 1796670132877990560 ns
    expect(retrieve?.offsetMs).toBeCloseTo(232.424874, 6);
    expect(retrieve?.durationMs).toBeCloseTo(0.148372, 6);
    expect(tree.totalMs).toBeCloseTo(283.328975, 6);
    const bar = barOf(retrieve as NonNullable<typeof retrieve>, tree.totalMs);
    expect(bar.left).toBeCloseTo((232.424874 / 283.328975) * 100, 4);
    // A span far shorter than the trace still shows as a sliver.
    expect(bar.width).toBe(0.5);
    // Shown to the microsecond under a millisecond, as any duration above.
    expect(formatSpanMs(retrieve?.durationMs)).toBe('0.148 ms');
    expect(formatSpanMs(tree.totalMs)).toBe('283 ms');
  });

  it('keeps dict keys in their order, int64s past 2^53 exact, and reads errors with their events', () => {
    const [span] = spanTree([ODD]).nodes;
    expect(span?.status).toBe('ERROR');
    expect(span?.statusMessage).toBe('it failed');
    const attribute = (key: string) => span?.attributes.find(([name]) => name === key)?.[1];
    expect(displayValue(attribute('keys'))).toBe(
      '{\n  "2": "b",\n  "1": "a",\n  "x": [\n    1,\n    2,\n    null,\n    true,\n    "ü"\n  ]\n}',
    );
    expect(displayValue(attribute('big_int'))).toBe('1152921504606846976');
    expect(attribute('none')).toBeNull();
    expect(span?.events).toEqual([
      {
        name: 'exception',
        offsetMs: expect.closeTo(0.084566, 6),
        attributes: [['exception.message', 'boom']],
      },
    ]);
  });

  it('shows a span whose parent never arrived as a root, a span not ended as running, and no spans as empty', () => {
    const [retrieve] = PREDICT;
    const orphan = spanTree([retrieve as OtelSpanWire]);
    expect(orphan.nodes.map((node) => node.depth)).toEqual([0]);
    const { end_time_unix_nano: _end, ...open } = retrieve as OtelSpanWire;
    expect(spanTree([open]).nodes[0]?.durationMs).toBeUndefined();
    expect(spanTree([])).toEqual({ nodes: [], totalMs: 0 });
  });

  it('lists every span once when ids repeat or parents form a cycle', () => {
    const [a, b] = PREDICT as [OtelSpanWire, OtelSpanWire];
    const cycle = [
      { ...a, parent_span_id: b.span_id },
      { ...b, parent_span_id: a.span_id },
    ];
    expect(spanTree(cycle).nodes.map((node) => node.name)).toEqual(['retrieve', 'add']);
    expect(spanTree([a, a]).nodes).toHaveLength(1);
  });
});

describe('values', () => {
  it('decodes every AnyValue kind', () => {
    expect(anyValue({ string_value: 'x' })).toBe('x');
    expect(anyValue({ bool_value: false })).toBe(false);
    expect(anyValue({ int_value: '-7' })).toBe(-7);
    expect(anyValue({ double_value: 'NaN' })).toBeNaN();
    expect(displayValue(anyValue({ double_value: '-Infinity' }))).toBe('-Infinity');
    expect(anyValue({ bytes_value: 'AAE=' })).toBe('AAE=');
    expect(anyValue({})).toBeNull();
    expect(displayValue(new KeyValueList([]))).toBe('{}');
    expect(displayValue([])).toBe('[]');
    expect(displayValue('plain text')).toBe('plain text');
    expect(displayValue(undefined)).toBe('');
  });
});

describe('trace info', () => {
  const info: TraceInfoWire = {
    trace_id: 'tr-1',
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: '1' } },
    request_time: '2026-12-07T20:49:17.123Z',
    execution_duration: '1.250s',
    state: 'OK',
    tags: { 'mlflow.traceName': 'predict', team: 'search', 'mlflow.artifactLocation': 'x' },
    trace_metadata: { 'mlflow.sourceRun': 'abc' },
  };

  it('reads name, run, user tags, start and duration', () => {
    expect(traceName(info)).toBe('predict');
    expect(traceName({ ...info, tags: {} })).toBe('tr-1');
    expect(sourceRun(info)).toBe('abc');
    expect(sourceRun({ ...info, trace_metadata: undefined })).toBeUndefined();
    expect(userTags(info)).toEqual([['team', 'search']]);
    expect(timestampMs(info.request_time)).toBe(Date.UTC(2026, 11, 7, 20, 49, 17, 123));
    expect(timestampMs('not a time')).toBeUndefined();
    expect(durationMs(info.execution_duration)).toBe(1250);
    expect(durationMs('0s')).toBe(0);
    expect(durationMs(undefined)).toBeUndefined();
  });
});
