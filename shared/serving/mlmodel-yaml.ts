/**
 * A strict reader for the YAML that MLflow writes in an `MLmodel` file (PyYAML's `safe_dump` with
 * block style): nested block mappings and sequences, plain, single- and double-quoted scalars (also
 * folded over several lines, as PyYAML wraps long ones at 80 columns), empty flow collections
 * (`{}`, `[]`), full-line comments, and YAML 1.1's scalar resolution (null, booleans, ints, floats).
 * Anything else (anchors, tags, block scalars, non-empty flow collections, tabs) is refused with the
 * line it is on: an `MLmodel` that MLflow did not write is better rejected at deploy time than guessed.
 * A YAML package would do more and weigh more; this is all a model server needs.
 */

export class YamlError extends Error {
  constructor(message: string, line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'YamlError';
  }
}

export type YamlValue = null | boolean | number | string | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  /** 1-based line number, for messages. */
  number: number;
  indent: number;
  text: string;
}

const MAX_DEPTH = 32;

/** Parses one YAML document of the subset MLflow writes. */
export function parseMlflowYaml(source: string): YamlValue {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    if (/^\s*(#.*)?$/.test(raw)) {
      lines.push({ number: i + 1, indent: -1, text: '' });
      return;
    }
    const indent = raw.length - raw.trimStart().length;
    if (raw.slice(0, indent).includes('\t'))
      throw new YamlError('tabs are not allowed in indentation', i + 1);
    if (i === 0 && raw.startsWith('%')) throw new YamlError('directives are not supported', 1);
    lines.push({ number: i + 1, indent, text: raw.slice(indent).replace(/\s+$/, '') });
  });
  const reader = new Reader(lines);
  reader.skipBlank();
  if (reader.done()) return null;
  const first = reader.peek() as Line;
  if (first.text === '---') {
    reader.next();
    reader.skipBlank();
  }
  const value = reader.parseNode(0, 0);
  reader.skipBlank();
  const rest = reader.peek();
  if (rest && rest.text !== '...')
    throw new YamlError(`unexpected content '${excerpt(rest.text)}'`, rest.number);
  return value;
}

class Reader {
  private index = 0;
  constructor(private readonly lines: Line[]) {}

  done(): boolean {
    return this.index >= this.lines.length;
  }
  peek(): Line | undefined {
    return this.lines[this.index];
  }
  next(): Line {
    return this.lines[this.index++] as Line;
  }
  skipBlank(): void {
    while (!this.done() && (this.peek() as Line).indent < 0) this.index++;
  }

  /** A block node starting at the next non-blank line, which must be indented at least `minIndent`. */
  parseNode(minIndent: number, depth: number): YamlValue {
    if (depth > MAX_DEPTH) throw new YamlError(`nesting deeper than ${MAX_DEPTH} levels`);
    this.skipBlank();
    const line = this.peek();
    if (!line || line.indent < minIndent) return null;
    if (isSequenceItem(line.text)) return this.parseSequence(line.indent, depth);
    if (mappingKey(line.text)) return this.parseMapping(line.indent, depth);
    this.next();
    return this.scalar(line.text, line, line.indent - 1);
  }

  private parseMapping(indent: number, depth: number): Record<string, YamlValue> {
    const out: Record<string, YamlValue> = {};
    for (;;) {
      this.skipBlank();
      const line = this.peek();
      if (!line || line.indent < indent) return out;
      if (line.indent > indent) throw new YamlError('unexpected indentation', line.number);
      const key = mappingKey(line.text);
      if (!key) throw new YamlError(`expected 'key: value', got '${excerpt(line.text)}'`, line.number);
      if (Object.hasOwn(out, key.key)) throw new YamlError(`duplicate key '${key.key}'`, line.number);
      this.next();
      if (key.rest === '') {
        this.skipBlank();
        const following = this.peek();
        // PyYAML writes a mapping's sequence value either indented or at the key's own indentation.
        if (following && following.indent === indent && isSequenceItem(following.text)) {
          out[key.key] = this.parseSequence(indent, depth + 1);
        } else {
          out[key.key] = this.parseNode(indent + 1, depth + 1);
        }
      } else {
        out[key.key] = this.scalar(key.rest, line, indent);
      }
    }
  }

  private parseSequence(indent: number, depth: number): YamlValue[] {
    const out: YamlValue[] = [];
    for (;;) {
      this.skipBlank();
      const line = this.peek();
      if (!line || line.indent !== indent || !isSequenceItem(line.text)) {
        if (line && line.indent > indent) throw new YamlError('unexpected indentation', line.number);
        return out;
      }
      const rest = line.text.slice(1).trimStart();
      if (rest === '') {
        this.next();
        out.push(this.parseNode(indent + 1, depth + 1));
        continue;
      }
      // `- key: value` opens a mapping whose keys sit at the column after the dash.
      const column = indent + (line.text.length - rest.length);
      this.lines[this.index] = { number: line.number, indent: column, text: rest };
      if (isSequenceItem(rest) || mappingKey(rest)) out.push(this.parseNode(column, depth + 1));
      else {
        this.next();
        out.push(this.scalar(rest, line, indent));
      }
    }
  }

  /**
   * A scalar that starts with `text` on `line` and may continue on following lines indented more
   * than `parentIndent` (quoted scalars until their closing quote).
   */
  private scalar(text: string, line: Line, parentIndent: number): YamlValue {
    const first = text[0];
    if (first === '{' || first === '[') {
      if (text === '{}') return {};
      if (text === '[]') return [];
      throw new YamlError('flow collections are not supported', line.number);
    }
    if (
      first === '&' ||
      first === '*' ||
      first === '!' ||
      first === '|' ||
      first === '>' ||
      first === '@' ||
      first === '`'
    ) {
      throw new YamlError(`'${first}' (anchors, tags, block scalars) is not supported`, line.number);
    }
    const parts = [text];
    const quoted = first === "'" || first === '"';
    while (quoted ? !closes(parts, first) : true) {
      const next = this.peek();
      if (!next) {
        if (quoted) throw new YamlError('unterminated quoted scalar', line.number);
        break;
      }
      if (next.indent < 0) {
        this.next();
        parts.push('');
        continue;
      }
      if (next.indent <= parentIndent) {
        if (quoted) throw new YamlError('unterminated quoted scalar', line.number);
        break;
      }
      if (!quoted && (mappingKey(next.text) || isSequenceItem(next.text))) {
        throw new YamlError('unexpected mapping or sequence inside a plain scalar', next.number);
      }
      this.next();
      parts.push(next.text);
    }
    // Trailing blank lines after a plain scalar belong to nobody.
    while (!quoted && parts.length > 1 && parts.at(-1) === '') parts.pop();
    if (first === "'") return singleQuoted(parts, line.number);
    if (first === '"') return doubleQuoted(parts, line.number);
    return resolvePlain(fold(parts), line.number);
  }
}

function isSequenceItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

/** `key: rest` with a plain or quoted key, or undefined when the text is not a mapping entry. */
function mappingKey(text: string): { key: string; rest: string } | undefined {
  const quoted = /^('(?:[^']|'')*'|"(?:[^"\\]|\\.)*"):(?: +(.*))?$/.exec(text);
  if (quoted) {
    const raw = quoted[1] as string;
    const key = raw[0] === "'" ? raw.slice(1, -1).replaceAll("''", "'") : (JSON.parse(raw) as string);
    return { key, rest: (quoted[2] ?? '').trim() };
  }
  if (/^['"[{\-?:,#&*!|>%@`]/.test(text) && !/^-[^ ]/.test(text)) return undefined;
  const match = /^([^#]*?[^\s#]):(?: +(.*))?$/.exec(text);
  if (!match || (match[1] as string).includes(': ')) return undefined;
  return { key: match[1] as string, rest: stripComment(match[2] ?? '') };
}

function stripComment(rest: string): string {
  if (rest.startsWith("'") || rest.startsWith('"')) return rest;
  const at = rest.search(/ #/);
  return (at >= 0 ? rest.slice(0, at) : rest).trim();
}

/** Whether the quoted scalar opened in `parts[0]` is closed by the last part. */
function closes(parts: string[], quote: string): boolean {
  const joined = parts.join('\n').slice(1);
  if (quote === "'") return /^(?:[^']|'')*'(?!')/.test(joined);
  return /^(?:[^"\\]|\\[\s\S])*"/.test(joined);
}

/** YAML line folding: a single line break is a space, each blank line a newline. */
function fold(parts: string[]): string {
  let out = parts[0] as string;
  let blanks = 0;
  for (const part of parts.slice(1)) {
    if (part === '') {
      blanks++;
      continue;
    }
    out += blanks > 0 ? '\n'.repeat(blanks) : ' ';
    out += part;
    blanks = 0;
  }
  return out;
}

function singleQuoted(parts: string[], lineNumber: number): string {
  const text = fold(parts);
  const match = /^'((?:[^']|'')*)'(?!')(.*)$/s.exec(text);
  if (!match || !/^\s*(#.*)?$/.test(match[2] as string)) {
    throw new YamlError('unexpected text after a quoted scalar', lineNumber);
  }
  return (match[1] as string).replaceAll("''", "'");
}

function doubleQuoted(parts: string[], lineNumber: number): string {
  // An escaped line break (`\` at the end of a line) joins the lines without a space.
  let text = parts[0] as string;
  for (const part of parts.slice(1)) {
    text += text.endsWith('\\') && !text.endsWith('\\\\') ? `\u0000${part}` : `\n${part}`;
  }
  const folded = fold(text.replaceAll('\\\u0000', '\u0000').split('\n')).replaceAll('\u0000', '');
  const match = /^"((?:[^"\\]|\\.)*)"(.*)$/s.exec(folded);
  if (!match || !/^\s*(#.*)?$/.test(match[2] as string)) {
    throw new YamlError('unexpected text after a quoted scalar', lineNumber);
  }
  return (match[1] as string).replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g,
    (_, esc: string) => {
      const simple: Record<string, string> = {
        n: '\n',
        t: '\t',
        r: '\r',
        '0': '\0',
        '"': '"',
        '\\': '\\',
        '/': '/',
        ' ': ' ',
        e: '\u001b',
        a: '\u0007',
        b: '\b',
        f: '\f',
        v: '\v',
        N: '\u0085',
        _: '\u00a0',
        L: '\u2028',
        P: '\u2029',
      };
      if (esc.length > 1) return String.fromCodePoint(Number.parseInt(esc.slice(1), 16));
      const value = simple[esc];
      if (value === undefined) throw new YamlError(`unknown escape '\\${esc}'`, lineNumber);
      return value;
    },
  );
}

/** YAML 1.1 resolution, as PyYAML's SafeLoader does it. */
function resolvePlain(text: string, lineNumber: number): YamlValue {
  if (/^(~|null|Null|NULL)?$/.test(text)) return null;
  if (/^(yes|Yes|YES|true|True|TRUE|on|On|ON)$/.test(text)) return true;
  if (/^(no|No|NO|false|False|FALSE|off|Off|OFF)$/.test(text)) return false;
  if (/^[-+]?(0|[1-9][0-9_]*)$/.test(text)) return Number(text.replaceAll('_', ''));
  if (/^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?$/.test(text) && /[0-9]/.test(text)) {
    return Number(text.replaceAll('_', ''));
  }
  if (/^[-+]?\.(inf|Inf|INF)$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^\.(nan|NaN|NAN)$/.test(text)) return Number.NaN;
  if (text.includes(': ') || text.endsWith(':'))
    throw new YamlError(`ambiguous plain scalar '${excerpt(text)}'`, lineNumber);
  return text;
}

function excerpt(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
