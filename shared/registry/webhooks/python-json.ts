/**
 * JSON text exactly as Python's `json.dumps(value)` writes it with its defaults: `", "` and `": "`
 * separators, keys in insertion order, and `ensure_ascii=True` (every character outside printable
 * ASCII as a lower-case `\uXXXX` escape, astral characters as surrogate pairs).
 *
 * Why not `JSON.stringify`: MLflow signs the bytes it sends and receivers verify those bytes, so
 * either text verifies. But some receivers re-serialize the parsed body with `json.dumps` before
 * checking the signature (a common mistake MLflow's own body shape tolerates); sending MLflow's exact
 * bytes keeps Runway a drop-in replacement for them too.
 */

export type PythonJsonValue =
  | null
  | boolean
  | number
  | string
  | readonly PythonJsonValue[]
  | { readonly [key: string]: PythonJsonValue | undefined };

export function pythonJsonDumps(value: PythonJsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    // Payloads carry integers only; Python prints floats differently (1.0), so refuse them loudly.
    if (!Number.isSafeInteger(value)) throw new TypeError(`Only integers are supported, got ${value}`);
    return String(value);
  }
  if (typeof value === 'string') return quote(value);
  if (Array.isArray(value)) return `[${value.map((item) => pythonJsonDumps(item)).join(', ')}]`;
  const entries = Object.entries(value as Record<string, PythonJsonValue | undefined>).filter(
    (entry): entry is [string, PythonJsonValue] => entry[1] !== undefined,
  );
  return `{${entries.map(([key, inner]) => `${quote(key)}: ${pythonJsonDumps(inner)}`).join(', ')}}`;
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** Python's `py_encode_basestring_ascii`: escapes `"`, `\` and everything outside ' '..'~'. */
function quote(text: string): string {
  let out = '"';
  // Code units, not code points: an astral character becomes its two escaped surrogates, as in Python.
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    const code = text.charCodeAt(i);
    const short = SHORT_ESCAPES[char];
    if (short !== undefined) out += short;
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += char;
  }
  return `${out}"`;
}
