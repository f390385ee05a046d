import { parseCsv, type ScoringData, scoringRequestOf } from '../../serving/scoring-request.ts';

/**
 * Reads one captured invocation (one JSON line of `serving-capture/`, `shared/serving/capture.ts`)
 * into what a monitor profiles: the request's rows as named columns, and one prediction per row. The
 * request is read by the model server's own scoring-request parser (every MLflow format and CSV), so
 * a monitor sees the rows the model saw.
 *
 * Column names: a DataFrame's or named input's own; for an unnamed tensor (`{"inputs": [[...]]}`,
 * what models with a tensor signature take) the model's feature names (`MLmodel` metadata
 * `features`, which Runway's trainer writes) when their count matches, else positions `0`, `1`, ...
 */

export interface CapturedInvocation {
  at: number;
  inferenceId: string | undefined;
  version: string;
  status: number;
  latencyMs: number;
  columns: string[];
  rows: unknown[][];
  /** One per row where the answer had predictions; empty for errors. */
  predictions: unknown[];
}

export type CaptureLine = CapturedInvocation | { skipped: string };

/** Parses a line; a line that is not a capture record, or a request no format reads, is skipped with a reason. */
export function readCaptureLine(line: string, featureNames: readonly string[] | undefined): CaptureLine {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { skipped: 'not JSON' };
  }
  if (record === null || typeof record !== 'object' || typeof record.capturedAt !== 'string') {
    return { skipped: 'not a capture record' };
  }
  const at = Date.parse(record.capturedAt);
  if (Number.isNaN(at)) return { skipped: 'not a capture record' };
  const base = {
    at,
    inferenceId: typeof record.inferenceId === 'string' ? record.inferenceId : undefined,
    version: String(record.version ?? ''),
    status: Number(record.status ?? 0),
    latencyMs: Number(record.latencyMs ?? 0),
  };
  if (record.request === null || record.request === undefined) {
    return { skipped: record.requestTruncated ? 'request too large to capture' : 'no request' };
  }
  let data: ScoringData;
  try {
    data =
      typeof record.request === 'string'
        ? parseCsv(record.request)
        : scoringRequestOf(record.request as Record<string, unknown>).data;
  } catch {
    return { skipped: 'request in no scoring format' };
  }
  const frame = frameOf(data, featureNames);
  if (!frame) return { skipped: 'request shape not tabular' };
  const predictions = base.status === 200 ? predictionsOf(record.response) : [];
  return { ...base, ...frame, predictions };
}

function frameOf(
  data: ScoringData,
  featureNames: readonly string[] | undefined,
): { columns: string[]; rows: unknown[][] } | undefined {
  if (data.kind === 'frame') return { columns: data.columns, rows: data.rows };
  if (data.kind === 'named') {
    const columns = Object.keys(data.values);
    const lists = columns.map((column) => {
      const value = data.values[column];
      return Array.isArray(value) ? value.map(scalar) : [value];
    });
    const length = Math.max(0, ...lists.map((list) => list.length));
    return { columns, rows: Array.from({ length }, (_, i) => lists.map((list) => list[i])) };
  }
  const value = data.value;
  if (!Array.isArray(value) || value.length === 0) return undefined;
  if (Array.isArray(value[0])) {
    const width = (value[0] as unknown[]).length;
    const columns =
      featureNames && featureNames.length === width
        ? [...featureNames]
        : Array.from({ length: width }, (_, i) => String(i));
    // Rows of scalars (the usual case) are taken as they are; (n, 1) cells are unwrapped.
    const flat = value.every((row) => Array.isArray(row) && !row.some(Array.isArray));
    return {
      columns,
      rows: flat
        ? (value as unknown[][])
        : value.map((row) => (Array.isArray(row) ? row.map(scalar) : [row])),
    };
  }
  // A flat list: rows of one feature, or one row of every feature.
  if (featureNames && featureNames.length === value.length && featureNames.length > 1) {
    return { columns: [...featureNames], rows: [value] };
  }
  return { columns: [featureNames?.[0] ?? '0'], rows: value.map((v) => [v]) };
}

/** A cell of a row: a one-element list is its element (a (n, 1) column). */
function scalar(value: unknown): unknown {
  return Array.isArray(value) && value.length === 1 ? value[0] : value;
}

/** The first output's value per row: `{"predictions": {"p": [[0.6]]}}`, `[{"p": 0.6}]`, `[0.6]`. */
export function predictionsOf(response: unknown): unknown[] {
  if (response === null || typeof response !== 'object') return [];
  const predictions = (response as { predictions?: unknown }).predictions;
  if (Array.isArray(predictions)) return predictions.map(first);
  if (predictions !== null && typeof predictions === 'object') {
    const output = Object.values(predictions)[0];
    return Array.isArray(output) ? output.map(first) : output === undefined ? [] : [first(output)];
  }
  return predictions === undefined ? [] : [predictions];
}

function first(value: unknown): unknown {
  if (Array.isArray(value)) return first(value[0]);
  if (value !== null && typeof value === 'object') return first(Object.values(value)[0]);
  return value;
}
