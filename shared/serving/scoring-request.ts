import { ScoringFormatError, UnsupportedMediaTypeError } from './errors.ts';

/**
 * MLflow's scoring request formats, read as `mlflow/pyfunc/scoring_server` reads them (MLflow 2.x):
 * a JSON object with exactly one of `dataframe_split`, `dataframe_records`, `instances`, `inputs`
 * (and optionally `params`), or CSV with a header row. The result keeps the data's shape without
 * interpreting it; `feeds.ts` fits it to the model's signature.
 */

export type ScoringFormat = 'dataframe_split' | 'dataframe_records' | 'instances' | 'inputs' | 'csv';

/** A pandas DataFrame: named columns, rows of cells (`null` where a record lacks a column). */
export interface Frame {
  kind: 'frame';
  columns: string[];
  rows: unknown[][];
}
/** Named inputs or columns: `{"inputs": {"x": [...], "y": [...]}}`, or `instances` as records. */
export interface Named {
  kind: 'named';
  values: Record<string, unknown>;
}
/** One unnamed tensor (a nested list) or a scalar. */
export interface Unnamed {
  kind: 'tensor';
  value: unknown;
}
export type ScoringData = Frame | Named | Unnamed;

export interface ScoringRequest {
  format: ScoringFormat;
  data: ScoringData;
  params: Record<string, unknown> | undefined;
}

const FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
const REQUIRED_INPUT_FORMAT = `The input must be a JSON dictionary with exactly one of the input fields {${FORMATS.map((f) => `'${f}'`).join(', ')}}`;

/** Reads a request body with its `content-type`; throws MLflow's 400/415 errors. */
export function parseScoringRequest(
  body: string | undefined,
  contentType: string | undefined,
): ScoringRequest {
  const [mime = '', ...parameters] = (contentType ?? '').split(';').map((part) => part.trim());
  const values: Record<string, string> = {};
  for (const parameter of parameters) {
    const [key = '', value = ''] = parameter.split('=');
    values[key.trim().toLowerCase()] = value.trim().replace(/^"|"$/g, '');
  }
  const charset = (values.charset ?? 'utf-8').toLowerCase();
  if (charset !== 'utf-8' && charset !== 'utf8') {
    throw new UnsupportedMediaTypeError('The scoring server only supports UTF-8');
  }
  const unexpected = Object.keys(values).filter((key) => key !== 'charset');
  if (unexpected.length > 0) {
    throw new UnsupportedMediaTypeError(`Unrecognized content type parameters: ${unexpected.join(', ')}.`);
  }
  const type = mime.toLowerCase();
  if (type === 'text/csv') return { format: 'csv', data: parseCsv(body ?? ''), params: undefined };
  if (type !== 'application/json') {
    throw new UnsupportedMediaTypeError(
      `This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got '${mime.slice(0, 100)}'.`,
    );
  }
  return parseJsonRequest(body);
}

function parseJsonRequest(body: string | undefined): ScoringRequest {
  let decoded: unknown;
  try {
    decoded = JSON.parse(body ?? '');
  } catch (error) {
    throw new ScoringFormatError(
      `Failed to parse input from JSON. Ensure that input is a valid JSON formatted string. Error: '${(error as Error).message}'`,
    );
  }
  return scoringRequestOf(decoded);
}

/**
 * A scoring request from its decoded JSON: what `parseJsonRequest` does after `JSON.parse`, also
 * for readers of captured invocations (capture stores the request as JSON, already decoded).
 */
export function scoringRequestOf(decoded: unknown): ScoringRequest {
  if (Array.isArray(decoded)) throw new ScoringFormatError(`${REQUIRED_INPUT_FORMAT}. Received a list.`);
  if (decoded === null || typeof decoded !== 'object') {
    throw new ScoringFormatError(
      `${REQUIRED_INPUT_FORMAT}. Received unexpected input type '${typeName(decoded)}'.`,
    );
  }
  const object = decoded as Record<string, unknown>;
  const keys = Object.keys(object);
  const present = FORMATS.filter((format) => format in object);
  if (present.length !== 1) {
    throw new ScoringFormatError(
      `${REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: ${JSON.stringify(keys)}.`,
    );
  }
  const format = present[0] as (typeof FORMATS)[number];
  const params = object.params;
  if (params !== undefined && params !== null && (typeof params !== 'object' || Array.isArray(params))) {
    throw new ScoringFormatError(`Params must be a dictionary. Got type '${typeName(params)}'.`);
  }
  const value = object[format];
  const data =
    format === 'dataframe_split'
      ? splitFrame(value)
      : format === 'dataframe_records'
        ? recordsFrame(value)
        : format === 'instances'
          ? instances(value)
          : inputs(value);
  return { format, data, params: (params ?? undefined) as Record<string, unknown> | undefined };
}

/** pandas `orient='split'`: `{"columns": [...], "data": [[...], ...], "index": [...]}`. */
function splitFrame(value: unknown): Frame {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ScoringFormatError(
      `'dataframe_split' must be an object with 'columns' and 'data', got ${typeName(value)}`,
    );
  }
  const { columns, data } = value as { columns?: unknown; data?: unknown };
  if (!Array.isArray(data)) throw new ScoringFormatError("'dataframe_split' needs 'data', a list of rows");
  if (
    columns !== undefined &&
    (!Array.isArray(columns) || columns.some((c) => typeof c !== 'string' && typeof c !== 'number'))
  ) {
    throw new ScoringFormatError("'dataframe_split.columns' must be a list of column names");
  }
  const rows = data.map((row) => (Array.isArray(row) ? row : [row]));
  const names = columns ? columns.map(String) : (rows[0] ?? []).map((_, i) => String(i));
  rows.forEach((row, i) => {
    if (row.length !== names.length) {
      throw new ScoringFormatError(
        `'dataframe_split': row ${i} has ${row.length} values but there are ${names.length} columns`,
      );
    }
  });
  return { kind: 'frame', columns: names, rows };
}

/** pandas `orient='records'`: a list of `{column: value}`; a column missing from a record is null. */
function recordsFrame(value: unknown): Frame {
  if (!Array.isArray(value))
    throw new ScoringFormatError(`'dataframe_records' must be a list of records, got ${typeName(value)}`);
  return recordsToFrame(value, 'dataframe_records');
}

function recordsToFrame(records: unknown[], where: string): Frame {
  const index = new Map<string, number>();
  for (const [i, record] of records.entries()) {
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      throw new ScoringFormatError(`'${where}': record ${i} is a ${typeName(record)}, not an object`);
    }
    for (const key of Object.keys(record)) if (!index.has(key)) index.set(key, index.size);
  }
  const columns = [...index.keys()];
  const rows = records.map((record) =>
    columns.map((column) => (record as Record<string, unknown>)[column] ?? null),
  );
  return { kind: 'frame', columns, rows };
}

/** TF serving's row format: a list of tensors, or a list of `{name: value}` (turned into named columns). */
function instances(value: unknown): ScoringData {
  if (Array.isArray(value) && value.length > 0 && isPlainObject(value[0])) {
    const columns: Record<string, unknown[]> = {};
    for (const [i, item] of value.entries()) {
      if (!isPlainObject(item))
        throw new ScoringFormatError(`'instances': item ${i} is a ${typeName(item)}, not an object`);
      for (const [key, inner] of Object.entries(item)) {
        const column = columns[key] ?? [];
        column.push(inner);
        columns[key] = column;
      }
    }
    const lengths = new Set(Object.values(columns).map((list) => list.length));
    if (lengths.size > 1) {
      throw new ScoringFormatError('The length of values for each input/column name are not the same');
    }
    return { kind: 'named', values: columns };
  }
  return isPlainObject(value) ? { kind: 'named', values: value } : { kind: 'tensor', value };
}

/** TF serving's column format: one tensor, or `{name: tensor}`. */
function inputs(value: unknown): ScoringData {
  return isPlainObject(value) ? { kind: 'named', values: value } : { kind: 'tensor', value };
}

/**
 * CSV as `pandas.read_csv` reads a DataFrame's `to_csv()`: a header row, then rows; RFC 4180 quoting.
 * Cells that look like numbers are numbers, empty cells are null, everything else is a string.
 */
export function parseCsv(text: string): Frame {
  const records = csvRecords(text).filter((record) => !(record.length === 1 && record[0] === ''));
  const [header, ...rows] = records;
  if (!header)
    throw new ScoringFormatError('Failed to parse input as a Pandas DataFrame: the CSV has no header row');
  rows.forEach((row, i) => {
    if (row.length !== header.length) {
      throw new ScoringFormatError(
        `Failed to parse input as a Pandas DataFrame: CSV row ${i + 1} has ${row.length} fields, the header ${header.length}`,
      );
    }
  });
  return { kind: 'frame', columns: header, rows: rows.map((row) => row.map(csvCell)) };
}

function csvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"' && field === '') quoted = true;
    else if (char === ',') {
      record.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += char;
  }
  if (quoted)
    throw new ScoringFormatError(
      'Failed to parse input as a Pandas DataFrame: unterminated quote in the CSV',
    );
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

function csvCell(cell: string): unknown {
  if (cell === '') return null;
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(cell)) return Number(cell);
  if (cell === 'True' || cell === 'False') return cell === 'True';
  return cell;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'dict' : typeof value;
}
