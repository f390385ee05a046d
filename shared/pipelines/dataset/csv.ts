/**
 * CSV (RFC 4180) reading and writing for tabular datasets: a header row, comma separators, fields
 * optionally quoted with `"` (a quote inside doubled), CRLF or LF line ends, a UTF-8 BOM ignored.
 */

/** A dataset as read: column names and rows of raw text fields, every row as wide as the header. */
export interface Table {
  columns: string[];
  rows: string[][];
}

export class CsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvError';
  }
}

/**
 * Splits CSV text into records of fields (`separator` a comma, or a tab for TSV); `line` numbers in
 * errors are 1-based. The console's artifact preview reads CSV files with it too.
 */
export function records(text: string, separator = ','): string[][] {
  const out: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let line = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRecord = () => {
    record.push(field);
    field = '';
    // A blank line (one empty field) is not a record.
    if (!(record.length === 1 && record[0] === '')) out.push(record);
    record = [];
  };
  for (; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (char === '\n') line++;
        field += char;
      }
      continue;
    }
    if (char === '"') {
      if (field !== '') throw new CsvError(`line ${line}: a quote inside an unquoted field`);
      quoted = true;
    } else if (char === separator) {
      record.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
    } else field += char;
  }
  if (quoted) throw new CsvError(`line ${line}: a quoted field is not closed`);
  if (field !== '' || record.length > 0) endRecord();
  return out;
}

/** Parses a CSV document with a header row. */
export function parseCsv(text: string): Table {
  const [header, ...rows] = records(text);
  if (!header) throw new CsvError('the file is empty: a header row is required');
  const columns = header.map((name) => name.trim());
  const seen = new Set<string>();
  columns.forEach((name, i) => {
    if (name === '') throw new CsvError(`header: column ${i + 1} has no name`);
    if (seen.has(name)) throw new CsvError(`header: column "${name}" appears twice`);
    seen.add(name);
  });
  rows.forEach((row, i) => {
    if (row.length !== columns.length) {
      throw new CsvError(`row ${i + 1}: ${row.length} fields where the header has ${columns.length}`);
    }
  });
  return { columns, rows };
}

const quote = (field: string): string =>
  /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;

/** Writes a table as CSV with LF line ends. */
export function formatCsv(table: Table): string {
  return `${[table.columns, ...table.rows].map((row) => row.map(quote).join(',')).join('\n')}\n`;
}
