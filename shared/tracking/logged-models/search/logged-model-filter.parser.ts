/**
 * The filter grammar of MLflow 3's `logged-models/search`, parsed once per request into plain
 * {@link LoggedModelClause} values.
 *
 * MLflow's SQL store (mlflow/utils/search_logged_model_utils.py) reads `<identifier> <op> <value>`
 * comparisons joined by `AND`, where the identifier is `metrics.<key>`, `params.<key>`,
 * `tags.<key>`, `attributes.<key>` or a bare attribute (`name`, `model_id`, `model_type`, `status`,
 * `source_run_id`, `creation_timestamp`/`creation_time`, `last_updated_timestamp`). Numeric
 * entities (metrics and the two timestamps) take `< <= > >= = !=` and a number; the others take
 * `= != LIKE ILIKE IN NOT IN` and quoted strings (MLflow 3's documented set).
 *
 * The shared grammar in `shared/tracking/search` has no dialect for logged models, so this is a
 * small, self-contained lexer and parser. It is stricter than MLflow where MLflow fails late or
 * oddly: an unknown attribute, an unquoted string or a non-numeric value for a number are a 400
 * here (MLflow answers 500 or compares a column with the text), and quotes are unescaped as SQL
 * does (`'it''s'` is `it's`).
 */
import { InvalidParameterError } from '../../../platform/errors.ts';
import { LOGGED_MODEL_STATUSES, type LoggedModelStatus } from '../model.ts';

export type NumericComparator = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type StringComparator = '=' | '!=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

/** Attributes a filter or `order_by` can name, by their canonical key. */
export type LoggedModelAttribute =
  | 'name'
  | 'model_id'
  | 'model_type'
  | 'status'
  | 'source_run_id'
  | 'creation_timestamp'
  | 'last_updated_timestamp';

/**
 * One parsed condition. `key` is canonical (aliases resolved, backticks removed); `value` is a
 * number for numeric entities, a list for `IN`/`NOT IN`, otherwise the unquoted string. Status
 * values are normalised to the protobuf names (`'READY'` is `LOGGED_MODEL_READY`).
 */
export type LoggedModelClause =
  | {
      readonly kind: 'metric';
      readonly key: string;
      readonly comparator: NumericComparator;
      readonly value: number;
    }
  | {
      readonly kind: 'attribute';
      readonly key: 'creation_timestamp' | 'last_updated_timestamp';
      readonly comparator: NumericComparator;
      readonly value: number;
    }
  | {
      readonly kind: 'attribute';
      readonly key: Exclude<LoggedModelAttribute, 'creation_timestamp' | 'last_updated_timestamp'>;
      readonly comparator: StringComparator;
      readonly value: string | string[];
    }
  | {
      readonly kind: 'param' | 'tag';
      readonly key: string;
      readonly comparator: StringComparator;
      readonly value: string | string[];
    };

/** Attribute spellings MLflow accepts, to their canonical key (the SQL store's `ALIASES` too). */
export const ATTRIBUTE_KEYS: ReadonlyMap<string, LoggedModelAttribute> = new Map([
  ['name', 'name'],
  ['model_id', 'model_id'],
  ['model_type', 'model_type'],
  ['status', 'status'],
  ['source_run_id', 'source_run_id'],
  ['creation_timestamp', 'creation_timestamp'],
  ['creation_time', 'creation_timestamp'],
  ['creation_timestamp_ms', 'creation_timestamp'],
  ['last_updated_timestamp', 'last_updated_timestamp'],
  ['last_updated_time', 'last_updated_timestamp'],
  ['last_updated_timestamp_ms', 'last_updated_timestamp'],
]);

export const NUMERIC_ATTRIBUTES: ReadonlySet<LoggedModelAttribute> = new Set([
  'creation_timestamp',
  'last_updated_timestamp',
]);

type EntityKind = LoggedModelClause['kind'];

/** MLflow's SQL store knows the plural prefixes; its file store the singular ones. Both work here. */
const ENTITY_PREFIXES: ReadonlyMap<string, EntityKind> = new Map([
  ['attributes', 'attribute'],
  ['attribute', 'attribute'],
  ['metrics', 'metric'],
  ['metric', 'metric'],
  ['params', 'param'],
  ['param', 'param'],
  ['parameters', 'param'],
  ['parameter', 'param'],
  ['tags', 'tag'],
  ['tag', 'tag'],
]);

const NUMERIC_COMPARATORS: readonly NumericComparator[] = ['=', '!=', '<', '<=', '>', '>='];
const STRING_COMPARATORS: readonly StringComparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

type TokenType = 'identifier' | 'string' | 'number' | 'operator' | 'lparen' | 'rparen' | 'comma';

interface Token {
  readonly type: TokenType;
  readonly text: string;
  readonly pos: number;
}

const QUOTED_SEGMENT = '`[^`]*`';
const LEX_RULES: ReadonlyArray<readonly [TokenType, RegExp]> = [
  ['string', /'(?:''|\\.|[^'\\])*'|"(?:""|\\.|[^"\\])*"/y],
  // A number is not glued to a following letter (`1abc` is no number).
  ['number', /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![\p{L}\p{N}_])/uy],
  // `metrics.acc`, `tags.mlflow.user`, `` tags.`my tag` ``, `params."lr"`: dotted parts with no
  // space between them; the first part is a word or backticked.
  [
    'identifier',
    new RegExp(
      `(?:[\\p{L}_][\\p{L}\\p{N}_]*|${QUOTED_SEGMENT})(?:\\.(?:[\\p{L}\\p{N}_]+|${QUOTED_SEGMENT}|"[^"]*"))*`,
      'uy',
    ),
  ],
  // Whole runs of operator characters, so `==` and `=>` are refused by name, not half-read.
  ['operator', /[<>=!]+/y],
  ['lparen', /\(/y],
  ['rparen', /\)/y],
  ['comma', /,/y],
];

function invalid(filter: string, detail: string): InvalidParameterError {
  return new InvalidParameterError(`Invalid filter string '${filter}': ${detail}`);
}

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  const space = /\s+/y;
  let pos = 0;
  outer: while (pos < filter.length) {
    space.lastIndex = pos;
    if (space.test(filter)) {
      pos = space.lastIndex;
      continue;
    }
    for (const [type, regex] of LEX_RULES) {
      regex.lastIndex = pos;
      const match = regex.exec(filter);
      if (match) {
        tokens.push({ type, text: match[0], pos });
        pos += match[0].length;
        continue outer;
      }
    }
    const rest = filter.slice(pos);
    const detail = /^['"`]/.test(rest)
      ? `unterminated quote at position ${pos}`
      : `unexpected character '${Array.from(rest)[0]}' at position ${pos}`;
    throw invalid(filter, detail);
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'LIKE', 'ILIKE', 'IS', 'NULL']);

function isWord(token: Token | undefined, word: string): boolean {
  return token?.type === 'identifier' && token.text.toUpperCase() === word;
}

function describe(token: Token | undefined): string {
  return token ? `'${token.text}' at position ${token.pos}` : 'the end of the filter';
}

function stripQuotes(text: string, quote: string): string {
  return text.length >= 2 && text.startsWith(quote) && text.endsWith(quote) ? text.slice(1, -1) : text;
}

/** The text of a quoted string: quotes removed, `''`/`""` and backslash escapes undone, as SQL. */
function unquote(text: string): string {
  const quote = text[0] ?? "'";
  return text
    .slice(1, -1)
    .replace(quote === "'" ? /''|\\(.)/gs : /""|\\(.)/gs, (_match, escaped?: string) => escaped ?? quote);
}

/** Splits at the first dot outside backticks and double quotes. */
function splitEntity(identifier: string): [string, string] | undefined {
  let quote: string | undefined;
  for (let i = 0; i < identifier.length; i += 1) {
    const char = identifier[i];
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '`' || char === '"') {
      quote = char;
    } else if (char === '.') {
      return [identifier.slice(0, i), identifier.slice(i + 1)];
    }
  }
  return undefined;
}

function attributeKey(filter: string, key: string): LoggedModelAttribute {
  const attribute = ATTRIBUTE_KEYS.get(key);
  if (!attribute) {
    const valid = [...ATTRIBUTE_KEYS.keys()].sort().map((name) => `'${name}'`);
    throw invalid(filter, `invalid attribute key '${key}'. Valid keys are ${valid.join(', ')}`);
  }
  return attribute;
}

interface Target {
  kind: EntityKind;
  key: string;
  numeric: boolean;
}

function resolveIdentifier(filter: string, identifier: string): Target {
  const parts = splitEntity(identifier);
  if (!parts) {
    const key = attributeKey(filter, stripQuotes(identifier, '`'));
    return { kind: 'attribute', key, numeric: NUMERIC_ATTRIBUTES.has(key) };
  }
  const [prefix, rawKey] = parts;
  const kind = ENTITY_PREFIXES.get(prefix);
  if (!kind) {
    throw invalid(
      filter,
      `invalid entity type '${prefix}'. Expected one of 'attributes', 'metrics', 'params', 'tags'`,
    );
  }
  const key = stripQuotes(stripQuotes(rawKey, '`'), '"');
  if (key === '') throw invalid(filter, `the key of '${identifier}' is empty`);
  if (kind === 'attribute') {
    const attribute = attributeKey(filter, key);
    return { kind, key: attribute, numeric: NUMERIC_ATTRIBUTES.has(attribute) };
  }
  return { kind, key, numeric: kind === 'metric' };
}

/** `'READY'`, `'LOGGED_MODEL_READY'` and `'2'` all name one status (MLflow stores its number). */
function normaliseStatus(value: string): string {
  const upper = value.toUpperCase();
  const byNumber = /^[123]$/.test(value) ? LOGGED_MODEL_STATUSES[Number(value) - 1] : undefined;
  const found =
    byNumber ??
    LOGGED_MODEL_STATUSES.find((status) => status === upper || status === `LOGGED_MODEL_${upper}`) ??
    (upper === 'FAILED' ? ('LOGGED_MODEL_UPLOAD_FAILED' satisfies LoggedModelStatus) : undefined);
  return found ?? value;
}

class Parser {
  private index = 0;
  constructor(
    private readonly filter: string,
    private readonly tokens: readonly Token[],
  ) {}

  private peek(ahead = 0): Token | undefined {
    return this.tokens[this.index + ahead];
  }

  private next(): Token | undefined {
    const token = this.tokens[this.index];
    if (token) this.index += 1;
    return token;
  }

  parse(): LoggedModelClause[] {
    const clauses: LoggedModelClause[] = [];
    for (;;) {
      clauses.push(this.condition());
      const next = this.peek();
      if (!next) return clauses;
      if (isWord(next, 'AND')) {
        this.next();
        if (!this.peek()) throw invalid(this.filter, "nothing follows 'AND'");
        continue;
      }
      if (isWord(next, 'OR')) {
        throw invalid(this.filter, "conditions can only be joined with AND; 'OR' is not supported");
      }
      throw invalid(this.filter, `expected AND before ${describe(next)}`);
    }
  }

  private condition(): LoggedModelClause {
    const start = this.next();
    if (start?.type !== 'identifier' || KEYWORDS.has(start.text.toUpperCase())) {
      throw invalid(
        this.filter,
        `expected an entity such as metrics.accuracy, params.alpha, tags.team or name, got ${describe(start)}`,
      );
    }
    const target = resolveIdentifier(this.filter, start.text);
    const comparator = this.comparator(start.text, target);
    return this.value(start.text, target, comparator);
  }

  private comparator(identifier: string, target: Target): NumericComparator | StringComparator {
    const token = this.next();
    let text: string | undefined;
    if (token?.type === 'operator') text = token.text;
    else if (isWord(token, 'LIKE') || isWord(token, 'ILIKE') || isWord(token, 'IN'))
      text = token!.text.toUpperCase();
    else if (isWord(token, 'NOT') && isWord(this.peek(), 'IN')) {
      this.next();
      text = 'NOT IN';
    }
    if (text === undefined)
      throw invalid(this.filter, `expected a comparison operator, got ${describe(token)}`);
    const allowed: readonly string[] = target.numeric ? NUMERIC_COMPARATORS : STRING_COMPARATORS;
    if (!allowed.includes(text)) {
      throw invalid(
        this.filter,
        `invalid comparison operator for ${identifier}: '${text}'. Expected one of ${allowed.map((op) => `'${op}'`).join(', ')}`,
      );
    }
    return text as NumericComparator | StringComparator;
  }

  private value(
    identifier: string,
    target: Target,
    comparator: NumericComparator | StringComparator,
  ): LoggedModelClause {
    const token = this.next();
    if (target.numeric) {
      if (token?.type !== 'number') {
        throw invalid(this.filter, `expected a number to compare ${identifier} with, got ${describe(token)}`);
      }
      const value = Number(token.text);
      const op = comparator as NumericComparator;
      return target.kind === 'metric'
        ? { kind: 'metric', key: target.key, comparator: op, value }
        : {
            kind: 'attribute',
            key: target.key as 'creation_timestamp' | 'last_updated_timestamp',
            comparator: op,
            value,
          };
    }
    const op = comparator as StringComparator;
    let value: string | string[];
    if (op === 'IN' || op === 'NOT IN') {
      if (token?.type !== 'lparen') {
        throw invalid(this.filter, `${op} needs a list like ('a', 'b'), got ${describe(token)}`);
      }
      value = this.list();
    } else {
      if (token?.type !== 'string') {
        throw invalid(
          this.filter,
          `expected a quoted string to compare ${identifier} with (e.g. 'value'), got ${describe(token)}`,
        );
      }
      value = unquote(token.text);
    }
    if (target.kind === 'attribute') {
      const key = target.key as Exclude<
        LoggedModelAttribute,
        'creation_timestamp' | 'last_updated_timestamp'
      >;
      if (key === 'status' && op !== 'LIKE' && op !== 'ILIKE') {
        value = Array.isArray(value) ? value.map(normaliseStatus) : normaliseStatus(value as string);
      }
      return { kind: 'attribute', key, comparator: op, value };
    }
    return { kind: target.kind as 'param' | 'tag', key: target.key, comparator: op, value };
  }

  /** A non-empty list of quoted strings; one trailing comma is fine, as in Python and MLflow. */
  private list(): string[] {
    const items: string[] = [];
    for (;;) {
      const token = this.next();
      if (token?.type === 'rparen' && items.length > 0) return items;
      if (token?.type !== 'string') {
        throw invalid(this.filter, `expected a quoted string in the list, got ${describe(token)}`);
      }
      items.push(unquote(token.text));
      const after = this.next();
      if (after?.type === 'rparen') return items;
      if (after?.type !== 'comma')
        throw invalid(this.filter, `expected ',' or ')' in the list, got ${describe(after)}`);
    }
  }
}

/**
 * Parses the `filter` of `logged-models/search`.
 *
 * @param filter `undefined`, empty or blank means no filter.
 * @returns The conditions, all of which must hold.
 * @throws InvalidParameterError naming the offending token.
 *
 * @example
 * parseLoggedModelFilter("metrics.accuracy > 0.9 AND tags.team IN ('ml', 'ds')");
 * // [{ kind: 'metric', key: 'accuracy', comparator: '>', value: 0.9 },
 * //  { kind: 'tag', key: 'team', comparator: 'IN', value: ['ml', 'ds'] }]
 */
export function parseLoggedModelFilter(filter: string | undefined): LoggedModelClause[] {
  if (filter === undefined || filter.trim() === '') return [];
  return new Parser(filter, tokenize(filter)).parse();
}
