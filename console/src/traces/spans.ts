/**
 * A trace's spans as the console shows them (pure: unit-tested in Node). `GetTrace` answers OTel
 * spans in protobuf JSON (ids base64, times in nanoseconds as text, attribute values as `AnyValue`s);
 * this turns them into a tree in start order with each span's offset and duration in the trace, its
 * MLflow type, inputs, outputs and status.
 */
import type { AnyValueWire, KeyValueWire, OtelSpanWire, TraceInfoWire } from '../api/wire.ts';
import { formatDuration } from '../ui/format.ts';

/** Attributes the span view shows in their own places, not in the attribute list. */
const SHOWN_APART = new Set([
  'mlflow.spanInputs',
  'mlflow.spanOutputs',
  'mlflow.spanType',
  'mlflow.traceRequestId',
]);

export type SpanStatus = 'OK' | 'ERROR' | 'UNSET';

export interface SpanEvent {
  name: string;
  /** Milliseconds from the trace's start. */
  offsetMs: number;
  attributes: Array<[string, unknown]>;
}

export interface SpanNode {
  /** The span id in hex, as MLflow's UI and client show it. */
  id: string;
  parentId: string | undefined;
  /** 0 for a root; a span whose parent never arrived is shown as a root. */
  depth: number;
  name: string;
  type: string | undefined;
  status: SpanStatus;
  statusMessage: string | undefined;
  /** Milliseconds from the trace's first span start. */
  offsetMs: number;
  /** Undefined while the span has not ended. */
  durationMs: number | undefined;
  /** Nanoseconds since the epoch, as sent (past what a JS number holds exactly). */
  startUnixNano: bigint;
  inputs: unknown;
  outputs: unknown;
  attributes: Array<[string, unknown]>;
  events: SpanEvent[];
  childCount: number;
}

export interface SpanTree {
  /** Depth first, each span's children in start order. */
  nodes: SpanNode[];
  /** From the first span's start to the last span's end, in milliseconds (0 for no spans). */
  totalMs: number;
}

/**
 * A kvlist (a Python dict): its entries in the order sent. A JS object would move integer-like keys
 * (`"2"`, `"1"`) first, so a dict would not read as the code that logged it wrote it.
 */
export class KeyValueList {
  constructor(readonly entries: ReadonlyArray<readonly [string, unknown]>) {}
}

/** An `AnyValue` as a plain value: kvlists as {@link KeyValueList}, int64s as numbers (bigints past 2^53). */
export function anyValue(value: AnyValueWire | undefined): unknown {
  if (value === undefined) return null;
  if ('string_value' in value) return value.string_value;
  if ('bool_value' in value) return value.bool_value;
  if ('int_value' in value) {
    const big = BigInt(value.int_value);
    const safe = big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER);
    return safe ? Number(big) : big;
  }
  // JSON has no NaN or infinities: the API writes those doubles as text.
  if ('double_value' in value) return Number(value.double_value);
  if ('bytes_value' in value) return value.bytes_value;
  if ('array_value' in value) return (value.array_value.values ?? []).map(anyValue);
  if ('kvlist_value' in value) return new KeyValueList(keyValues(value.kvlist_value.values));
  return null;
}

function keyValues(list: readonly KeyValueWire[] | undefined): Array<[string, unknown]> {
  return (list ?? []).map(({ key, value }) => [key, anyValue(value)]);
}

/** A base64 id (protobuf JSON's `bytes`) as lower-case hex. */
export function base64ToHex(id: string): string {
  const binary = atob(id);
  let hex = '';
  for (let i = 0; i < binary.length; i++) hex += binary.charCodeAt(i).toString(16).padStart(2, '0');
  return hex;
}

/** A difference of two span times (small, so exact as a double) in milliseconds. */
const nanosToMs = (nanos: bigint) => Number(nanos) / 1e6;

function statusOf(code: string): SpanStatus {
  const name = code.replace(/^STATUS_CODE_/, '');
  return name === 'OK' || name === 'ERROR' ? name : 'UNSET';
}

/** The spans as a tree: roots (no parent, or a parent that never arrived) and their children in start order. */
export function spanTree(spans: readonly OtelSpanWire[]): SpanTree {
  if (spans.length === 0) return { nodes: [], totalMs: 0 };
  const starts = spans.map((span) => BigInt(span.start_time_unix_nano));
  let first = starts[0] as bigint;
  for (const start of starts) if (start < first) first = start;
  let last = first;
  const nodes = spans.map((span, index): SpanNode => {
    const start = starts[index] as bigint;
    const end = span.end_time_unix_nano ? BigInt(span.end_time_unix_nano) : undefined;
    if (end !== undefined && end > last) last = end;
    if (start > last) last = start;
    const attributes = (span.attributes ?? []).map(
      ({ key, value }) => [key, anyValue(value)] as [string, unknown],
    );
    const attribute = (key: string) => attributes.find(([name]) => name === key)?.[1];
    const type = attribute('mlflow.spanType');
    return {
      id: base64ToHex(span.span_id),
      parentId: span.parent_span_id ? base64ToHex(span.parent_span_id) : undefined,
      depth: 0,
      name: span.name,
      type: typeof type === 'string' && type !== '' ? type : undefined,
      status: statusOf(span.status.code),
      statusMessage: span.status.message || undefined,
      offsetMs: nanosToMs(start - first),
      durationMs: end !== undefined && end >= start ? nanosToMs(end - start) : undefined,
      startUnixNano: start,
      inputs: attribute('mlflow.spanInputs'),
      outputs: attribute('mlflow.spanOutputs'),
      attributes: attributes.filter(([key]) => !SHOWN_APART.has(key)),
      events: (span.events ?? []).map((event) => ({
        name: event.name,
        offsetMs: nanosToMs(BigInt(event.time_unix_nano) - first),
        attributes: keyValues(event.attributes),
      })),
      childCount: 0,
    };
  });
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const children = new Map<string | undefined, SpanNode[]>();
  for (const node of nodes) {
    const parent = node.parentId !== undefined && byId.has(node.parentId) ? node.parentId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), node]);
  }
  const ordered: SpanNode[] = [];
  const seen = new Set<string>();
  const visit = (node: SpanNode, depth: number) => {
    // A span is listed once, even if ids repeat or parents form a cycle (spans sent by hand).
    if (seen.has(node.id)) return;
    seen.add(node.id);
    const kids = byStart(children.get(node.id) ?? []);
    ordered.push({ ...node, depth, childCount: kids.length });
    for (const child of kids) visit(child, depth + 1);
  };
  for (const root of byStart(children.get(undefined) ?? [])) visit(root, 0);
  // Spans only reachable through a cycle have no root; list them at the top level rather than drop them.
  for (const node of byStart(nodes)) if (!seen.has(node.id)) visit(node, 0);
  return { nodes: ordered, totalMs: nanosToMs(last - first) };
}

function byStart(nodes: SpanNode[]): SpanNode[] {
  return [...nodes].sort((a, b) =>
    a.startUnixNano < b.startUnixNano ? -1 : a.startUnixNano > b.startUnixNano ? 1 : 0,
  );
}

/** A span's bar in the waterfall: left and width in percent of the trace (a sliver at least). */
export function barOf(node: SpanNode, totalMs: number): { left: number; width: number } {
  if (totalMs <= 0) return { left: 0, width: 100 };
  const left = Math.min(100, (node.offsetMs / totalMs) * 100);
  const width = Math.max(0.5, ((node.durationMs ?? totalMs - node.offsetMs) / totalMs) * 100);
  return { left, width: Math.min(width, 100 - left) };
}

/** A span's time: under a millisecond to the microsecond (a tool call often takes less), else as any duration. */
export function formatSpanMs(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1 ? `${ms.toFixed(3)} ms` : formatDuration(ms);
}

/** A protobuf `Timestamp` (RFC 3339 text) in milliseconds since the epoch. */
export function timestampMs(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A protobuf `Duration` (`"1.500s"`) in milliseconds. */
export function durationMs(text: string | undefined): number | undefined {
  const seconds = text?.match(/^(-?\d+(?:\.\d+)?)s$/)?.[1];
  return seconds === undefined ? undefined : Number(seconds) * 1000;
}

/** The trace's name (MLflow's `mlflow.traceName` tag, the root span's name). */
export function traceName(info: TraceInfoWire): string {
  return info.tags?.['mlflow.traceName'] || info.trace_id;
}

/** The run the trace was made in, if any (`mlflow.sourceRun`). */
export function sourceRun(info: TraceInfoWire): string | undefined {
  return info.trace_metadata?.['mlflow.sourceRun'] || undefined;
}

/** Tags a user set (MLflow's own `mlflow.*` tags are shown elsewhere or are bookkeeping). */
export function userTags(info: TraceInfoWire): Array<[string, string]> {
  return Object.entries(info.tags ?? {}).filter(([key]) => !key.startsWith('mlflow.'));
}

/** A value for display: text as it is, anything else as JSON indented by two, dict keys in their order. */
export function displayValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return jsonText(value, '');
}

function jsonText(value: unknown, indent: string): string {
  const inner = `${indent}  `;
  if (value instanceof KeyValueList) {
    if (value.entries.length === 0) return '{}';
    const lines = value.entries.map(
      ([key, item]) => `${inner}${JSON.stringify(key)}: ${jsonText(item, inner)}`,
    );
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => `${inner}${jsonText(item, inner)}`).join(',\n')}\n${indent}]`;
  }
  // Doubles MLflow sends as text (`NaN`, `Infinity`) and int64s past 2^53 read as the numbers they are.
  if ((typeof value === 'number' && !Number.isFinite(value)) || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value ?? null);
}

/** The state word the API uses, as the console's status badge names it (`IN_PROGRESS` reads as running). */
export function stateLabel(state: string): string {
  return state === 'STATE_UNSPECIFIED' ? 'UNSET' : state;
}
