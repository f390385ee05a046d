/**
 * JSON as MLflow's Python client writes and reads it, without the losses of `JSON.parse`.
 *
 * A trace's spans travel as JSON written by Python's `json.dumps`: span times are nanoseconds
 * (about 1.7e18, past the 2^53 a JS number holds exactly), integers and floats are different types
 * (`1` and `1.0` come back to Python as `int` and `float`), objects keep their key order (a JS object
 * moves integer-like keys first), and `NaN` and `Infinity` are allowed. This module parses JSON into
 * a small tree that keeps all of that ({@link PyJson}) and writes it back as `json.dumps` would
 * (`", "` and `": "` separators, `ensure_ascii=False`, floats as Python's `repr`), so a value that
 * passes through Runway reaches the client as the client sent it.
 */

/** A JSON number with its type: an integer (any size) or a float (an IEEE 754 double). */
export class PyNumber {
  private constructor(
    /** Integers only: the exact value. */
    readonly int: bigint | undefined,
    /** Floats only. */
    readonly float: number | undefined,
  ) {}

  static int(value: bigint | number): PyNumber {
    return new PyNumber(BigInt(value), undefined);
  }

  static float(value: number): PyNumber {
    return new PyNumber(undefined, value);
  }

  get isInt(): boolean {
    return this.int !== undefined;
  }

  /** The value as a JS number (integers past 2^53 lose precision). */
  toNumber(): number {
    return this.int !== undefined ? Number(this.int) : (this.float as number);
  }
}

/** A JSON object with its keys in order (Python dicts keep insertion order). */
export class PyObject {
  readonly entries: Array<[string, PyJson]>;

  constructor(entries: Iterable<readonly [string, PyJson]> = []) {
    // Python's dict: a repeated key keeps its first place and takes the last value.
    const map = new Map<string, PyJson>();
    for (const [key, value] of entries) map.set(key, value);
    this.entries = [...map.entries()];
  }

  get(key: string): PyJson | undefined {
    return this.entries.find(([name]) => name === key)?.[1];
  }
}

export type PyJson = null | boolean | string | PyNumber | PyJson[] | PyObject;

/** Thrown for text that is not JSON (Python's `json.loads` would raise too). */
export class PyJsonSyntaxError extends Error {}

/** Parses JSON text as Python's `json.loads` does (also `NaN`, `Infinity`, `-Infinity`). */
export function parsePyJson(text: string): PyJson {
  const parser = new Parser(text);
  const value = parser.value(0);
  parser.end();
  return value;
}

/** Writes a value as Python's `json.dumps(value, ensure_ascii=False)` does. */
export function dumpPyJson(value: PyJson): string {
  const out: string[] = [];
  write(value, out);
  return out.join('');
}

/** Python's `repr` of a float, which is what `json.dumps` writes (`1.0`, `1e-05`, `1e+16`, `NaN`). */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  // The shortest digits that round-trip, as both JS and Python choose them.
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const magnitude = Math.abs(exponent).toString().padStart(2, '0');
    return `${sign}${fraction}e${exponent < 0 ? '-' : '+'}${magnitude}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction === '' ? '0' : fraction}`;
}

function write(value: PyJson, out: string[]): void {
  if (value === null) out.push('null');
  else if (value === true) out.push('true');
  else if (value === false) out.push('false');
  else if (typeof value === 'string') out.push(JSON.stringify(value));
  else if (value instanceof PyNumber)
    out.push(value.int !== undefined ? value.int.toString() : pythonFloatRepr(value.float as number));
  else if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, index) => {
      if (index > 0) out.push(', ');
      write(item, out);
    });
    out.push(']');
  } else {
    out.push('{');
    value.entries.forEach(([key, item], index) => {
      if (index > 0) out.push(', ');
      out.push(JSON.stringify(key), ': ');
      write(item, out);
    });
    out.push('}');
  }
}

/** Deep enough for any real payload; deeper is refused rather than overflowing the stack. */
const MAX_DEPTH = 512;

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  value(depth: number): PyJson {
    if (depth > MAX_DEPTH) throw this.error(`nested deeper than ${MAX_DEPTH} levels`);
    this.space();
    const char = this.text[this.pos];
    switch (char) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      case 'N':
        return this.literal('NaN', PyNumber.float(Number.NaN));
      case 'I':
        return this.literal('Infinity', PyNumber.float(Number.POSITIVE_INFINITY));
      default:
        if (char === '-' && this.text.startsWith('-Infinity', this.pos)) {
          return this.literal('-Infinity', PyNumber.float(Number.NEGATIVE_INFINITY));
        }
        return this.number();
    }
  }

  end(): void {
    this.space();
    if (this.pos !== this.text.length) throw this.error('extra data');
  }

  private object(depth: number): PyObject {
    this.pos += 1;
    const entries: Array<[string, PyJson]> = [];
    this.space();
    if (this.text[this.pos] === '}') {
      this.pos += 1;
      return new PyObject(entries);
    }
    for (;;) {
      this.space();
      if (this.text[this.pos] !== '"') throw this.error('expected a property name');
      const key = this.string();
      this.space();
      if (this.text[this.pos] !== ':') throw this.error("expected ':'");
      this.pos += 1;
      entries.push([key, this.value(depth + 1)]);
      this.space();
      const next = this.text[this.pos];
      this.pos += 1;
      if (next === '}') return new PyObject(entries);
      if (next !== ',') throw this.error("expected ',' or '}'");
    }
  }

  private array(depth: number): PyJson[] {
    this.pos += 1;
    const items: PyJson[] = [];
    this.space();
    if (this.text[this.pos] === ']') {
      this.pos += 1;
      return items;
    }
    for (;;) {
      items.push(this.value(depth + 1));
      this.space();
      const next = this.text[this.pos];
      this.pos += 1;
      if (next === ']') return items;
      if (next !== ',') throw this.error("expected ',' or ']'");
    }
  }

  private string(): string {
    // JSON strings are JS string literals minus a few escapes; find the end, then let JSON.parse decode.
    const start = this.pos;
    this.pos += 1;
    for (;;) {
      const char = this.text.charCodeAt(this.pos);
      if (Number.isNaN(char)) throw this.error('unterminated string');
      if (char === 0x22) break;
      if (char === 0x5c) this.pos += 1;
      this.pos += 1;
    }
    this.pos += 1;
    try {
      return JSON.parse(this.text.slice(start, this.pos)) as string;
    } catch {
      // Python's json.loads accepts control characters in strings only with strict=False; so do we not.
      throw this.error('invalid string');
    }
  }

  private number(): PyNumber {
    const match = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    match.lastIndex = this.pos;
    const found = match.exec(this.text);
    if (!found) throw this.error('expected a value');
    this.pos = match.lastIndex;
    const [lexeme, fraction, exponent] = found;
    return fraction === undefined && exponent === undefined
      ? PyNumber.int(BigInt(lexeme))
      : PyNumber.float(Number(lexeme));
  }

  private literal(word: string, value: PyJson): PyJson {
    if (!this.text.startsWith(word, this.pos)) throw this.error('expected a value');
    this.pos += word.length;
    return value;
  }

  private space(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos] as string)) this.pos += 1;
  }

  private error(reason: string): PyJsonSyntaxError {
    return new PyJsonSyntaxError(`Invalid JSON at position ${this.pos}: ${reason}`);
  }
}
