/**
 * MLflow's search filter grammar, parsed once per request into plain {@link Clause} values.
 *
 * MLflow (mlflow/utils/search_utils.py, 2.22) runs the filter through `sqlparse` and then checks
 * the tokens it got. We cannot reuse sqlparse, so this is a small hand-written lexer and
 * recursive-descent parser that accepts the same language: `<identifier> <comparator> <value>`
 * conditions joined by `AND`. Checks happen in two passes, as in MLflow: first the shape of the
 * whole string ("Invalid clause(s) in filter string"), then each condition's identifier,
 * comparator and value against the rules of the entity being searched ({@link SearchDialect}).
 *
 * Where MLflow only rejects a bad comparator later, while filtering (`SearchUtils.is_metric`
 * and friends), we reject it here: the client sees the same 400 either way, but before any read.
 */
import { InvalidParameterError } from '../../platform/errors.ts';

/** Which search endpoint a filter or order_by belongs to; each has its own keys and rules. */
export type SearchDialect = 'experiments' | 'runs' | 'registered_models' | 'model_versions';

/** What a clause's identifier names (MLflow's identifier types, `parameter` shortened to `param`). */
export type ClauseKind = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';

/** Comparators after normalisation (keywords upper-cased, `not   in` becomes `NOT IN`). */
export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

/**
 * One parsed condition.
 *
 * - `key` is canonical: attribute aliases are resolved (`created` → `start_time`,
 *   `run name` → `run_name`), quotes and backticks are removed.
 * - `value` is a `number` for metrics and numeric attributes, a `string[]` for `IN`/`NOT IN`,
 *   otherwise the string between the quotes, verbatim (MLflow does not unescape it either).
 */
export interface Clause {
  readonly kind: ClauseKind;
  readonly key: string;
  readonly comparator: Comparator;
  readonly value: string | number | string[];
}

// ---------------------------------------------------------------------------------------------
// Rules per dialect (MLflow's SearchUtils, SearchExperimentsUtils, SearchModelUtils,
// SearchModelVersionUtils and the comparator checks of its SQL stores)
// ---------------------------------------------------------------------------------------------

const NUMERIC_COMPARATORS: readonly Comparator[] = ['=', '!=', '<', '<=', '>', '>='];
const EQ_LIKE: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
const EQ_LIKE_IN: readonly Comparator[] = [...EQ_LIKE, 'IN'];
const EQ_LIKE_LISTS: readonly Comparator[] = [...EQ_LIKE, 'IN', 'NOT IN'];

/** How an attribute may be compared. */
export interface AttributeRule {
  /** The key the entity accessor is asked for. */
  readonly canonical: string;
  readonly type: 'string' | 'numeric';
  readonly comparators: readonly Comparator[];
  /** Whether a `(...)` list may be compared against it (MLflow: only `run_id`). */
  readonly list?: boolean;
  /** Whether a quoted number is accepted for a numeric attribute (model versions' `version_number`). */
  readonly quotedNumber?: boolean;
}

interface FilterRules {
  /** Entity-type prefixes (`metrics.`, `tag.` ...) and what they name. */
  readonly entityTypes: ReadonlyMap<string, ClauseKind>;
  /** Runs strip backticks from the prefix (`` `metric`.a ``); the other searches do not. */
  readonly backtickedEntityType: boolean;
  readonly entityTypeError: (entityType: string) => string;
  readonly attributes: ReadonlyMap<string, AttributeRule>;
  readonly tagComparators: readonly Comparator[];
}

function rule(
  type: 'string' | 'numeric',
  comparators: readonly Comparator[],
  extra?: Partial<AttributeRule>,
) {
  return (canonical: string): AttributeRule => ({ canonical, type, comparators, ...extra });
}

function attributeMap(
  entries: Record<string, (key: string) => AttributeRule>,
  aliases: Record<string, string> = {},
) {
  const map = new Map<string, AttributeRule>();
  for (const [key, make] of Object.entries(entries)) map.set(key, make(key));
  for (const [alias, target] of Object.entries(aliases)) {
    const targetRule = map.get(target);
    if (targetRule) map.set(alias, targetRule);
  }
  return map;
}

const RUN_ENTITY_TYPES = new Map<string, ClauseKind>([
  ['metric', 'metric'],
  ['metrics', 'metric'],
  ['parameter', 'param'],
  ['parameters', 'param'],
  ['param', 'param'],
  ['params', 'param'],
  ['tag', 'tag'],
  ['tags', 'tag'],
  ['attribute', 'attribute'],
  ['attributes', 'attribute'],
  ['attr', 'attribute'],
  ['run', 'attribute'],
  ['dataset', 'dataset'],
  ['datasets', 'dataset'],
]);

/** Experiments, registered models and model versions only know `attribute`, `tag` and `tags`. */
const REGISTRY_ENTITY_TYPES = new Map<string, ClauseKind>([
  ['attribute', 'attribute'],
  ['tag', 'tag'],
  ['tags', 'tag'],
]);

const runEntityTypeError = (entityType: string) =>
  `Invalid entity type '${entityType}'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']`;
const registryEntityTypeError = (entityType: string) =>
  `Invalid entity type '${entityType}'. Valid entity types are ('attribute', 'tag', 'tags')`;

// Runs: RunInfo's searchable attributes plus SearchUtils' aliases. `lifecycle_stage` and
// `experiment_id` are deliberately absent: MLflow answers "Invalid attribute key" for them
// (tests/utils/test_search_utils.py); run_view_type and experiment_ids cover them.
const runString = rule('string', EQ_LIKE_LISTS);
const RUN_FILTER_ATTRIBUTES = attributeMap(
  {
    run_id: rule('string', EQ_LIKE_LISTS, { list: true }),
    run_name: runString,
    status: runString,
    user_id: runString,
    artifact_uri: runString,
    start_time: rule('numeric', NUMERIC_COMPARATORS),
    end_time: rule('numeric', NUMERIC_COMPARATORS),
  },
  {
    created: 'start_time',
    Created: 'start_time',
    'run name': 'run_name',
    'Run name': 'run_name',
    'Run Name': 'run_name',
  },
);

const FILTER_RULES: Record<SearchDialect, FilterRules> = {
  runs: {
    entityTypes: RUN_ENTITY_TYPES,
    backtickedEntityType: true,
    entityTypeError: runEntityTypeError,
    attributes: RUN_FILTER_ATTRIBUTES,
    tagComparators: EQ_LIKE,
  },
  // The SQL store (_get_search_experiments_filter_clauses) narrows string attributes to =, !=,
  // LIKE, ILIKE.
  experiments: {
    entityTypes: REGISTRY_ENTITY_TYPES,
    backtickedEntityType: false,
    entityTypeError: registryEntityTypeError,
    attributes: attributeMap({
      name: rule('string', EQ_LIKE),
      creation_time: rule('numeric', NUMERIC_COMPARATORS),
      last_update_time: rule('numeric', NUMERIC_COMPARATORS),
    }),
    tagComparators: EQ_LIKE,
  },
  registered_models: {
    entityTypes: REGISTRY_ENTITY_TYPES,
    backtickedEntityType: false,
    entityTypeError: registryEntityTypeError,
    attributes: attributeMap({ name: rule('string', EQ_LIKE) }),
    tagComparators: EQ_LIKE,
  },
  // The SQL store allows IN for `run_id` only, and no NOT IN at all.
  model_versions: {
    entityTypes: REGISTRY_ENTITY_TYPES,
    backtickedEntityType: false,
    entityTypeError: registryEntityTypeError,
    attributes: attributeMap({
      name: rule('string', EQ_LIKE),
      run_id: rule('string', EQ_LIKE_IN, { list: true }),
      source_path: rule('string', EQ_LIKE),
      version_number: rule('numeric', NUMERIC_COMPARATORS, { quotedNumber: true }),
    }),
    tagComparators: EQ_LIKE,
  },
};

const METRIC_COMPARATORS = NUMERIC_COMPARATORS;
const PARAM_COMPARATORS = EQ_LIKE;
const DATASET_COMPARATORS = EQ_LIKE_LISTS;
const DATASET_KEYS = ['name', 'digest', 'context'];

/** The attribute rules of a dialect's filter (read-only; for callers planning queries). */
export function filterAttributes(dialect: SearchDialect): ReadonlyMap<string, AttributeRule> {
  return FILTER_RULES[dialect].attributes;
}

// ---------------------------------------------------------------------------------------------
// Lexer (token shapes follow sqlparse's lexer, which is what MLflow's grammar really is)
// ---------------------------------------------------------------------------------------------

/** @internal */
export type TokenType =
  | 'number'
  | 'op'
  | 'word'
  | 'sq'
  | 'dq'
  | 'bt'
  | 'dot'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'semicolon'
  | 'error';

/** @internal A lexed token; `spaceBefore` tells `a.b` from `a .b`. */
export interface Token {
  readonly type: TokenType;
  readonly text: string;
  readonly pos: number;
  readonly spaceBefore: boolean;
}

const LEX_RULES: ReadonlyArray<readonly [TokenType, RegExp]> = [
  // String forms as sqlparse lexes them: '' and \' inside single quotes, "" and \" inside double.
  ['sq', /'(?:''|\\\\|\\'|[^'])*'/y],
  ['dq', /"(?:""|\\\\|\\"|[^"])*"/y],
  ['bt', /`(?:``|[^`])*`/y],
  // sqlparse's Number.Float / Number.Integer: 1, -1, 1.5, 1., .5, 1e5, 1.5E-3; not glued to a name.
  ['number', /-?(?:\d+(?:\.\d*)?[eE]-?\d+|\d+\.\d*|\.\d+|\d+)(?![\p{L}\p{N}_])/uy],
  // sqlparse lexes any run of these as one comparison operator, so `==` and `~=` arrive whole
  // and are refused by name ("Invalid comparator '=='").
  ['op', /[<>=~!]+/y],
  ['word', /[\p{L}\p{N}_][\p{L}\p{N}_$#]*/uy],
  ['dot', /\./y],
  ['lparen', /\(/y],
  ['rparen', /\)/y],
  ['comma', /,/y],
  ['semicolon', /;/y],
];

/** @internal Splits `source` into tokens; what cannot be lexed becomes one `error` token. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const space = /\s+/y;
  let pos = 0;
  let spaceBefore = false;
  outer: while (pos < source.length) {
    space.lastIndex = pos;
    if (space.test(source)) {
      pos = space.lastIndex;
      spaceBefore = true;
      continue;
    }
    for (const [type, regex] of LEX_RULES) {
      regex.lastIndex = pos;
      const match = regex.exec(source);
      if (match) {
        tokens.push({ type, text: match[0], pos, spaceBefore });
        pos += match[0].length;
        spaceBefore = false;
        continue outer;
      }
    }
    // An unterminated quote swallows the rest of the string; anything else is one bad character.
    const rest = source.slice(pos);
    const text = /^['"`]/.test(rest) ? rest : Array.from(rest)[0]!;
    tokens.push({ type: 'error', text, pos, spaceBefore });
    pos += text.length;
    spaceBefore = false;
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Pass 1: shape of the filter
// ---------------------------------------------------------------------------------------------

type RawValue =
  | { readonly kind: 'number' | 'string' | 'identifier'; readonly text: string }
  | {
      readonly kind: 'list';
      readonly text: string;
      readonly items: readonly Token[];
      readonly wellFormed: boolean;
    };

interface RawClause {
  readonly identifier: string;
  readonly comparator: string;
  readonly value: RawValue;
}

/** SQL words sqlparse lexes as keywords: never an identifier or a bare value. */
const KEYWORDS = new Set([
  'AND',
  'OR',
  'NOT',
  'IN',
  'IS',
  'NULL',
  'LIKE',
  'ILIKE',
  'RLIKE',
  'REGEXP',
  'TRUE',
  'FALSE',
]);
/** Comparison keywords sqlparse groups as comparisons; the ones MLflow does not support fail by name. */
const WORD_COMPARATORS = new Set(['LIKE', 'ILIKE', 'RLIKE', 'REGEXP', 'IN']);
const NEGATABLE_COMPARATORS = new Set(['LIKE', 'ILIKE', 'REGEXP', 'IN']);

/** @internal A cursor over tokens that remembers the source text for error messages. */
export class TokenCursor {
  private index = 0;
  constructor(
    readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}
  peek(ahead = 0): Token | undefined {
    return this.tokens[this.index + ahead];
  }
  next(): Token | undefined {
    const token = this.tokens[this.index];
    if (token) this.index += 1;
    return token;
  }
  /**
   * Reads an identifier: name parts joined by dots with no space around them, as sqlparse
   * groups them (`metrics.acc`, `` metrics.`a b` ``, `tags."a.b"`, `tags.'x'`, `"run name"`).
   * Returns its source text, or undefined if the next token cannot start one.
   */
  identifier(): string | undefined {
    const first = this.peek();
    if (!first || (first.type !== 'word' && first.type !== 'dq' && first.type !== 'bt')) return undefined;
    this.next();
    let end = first.pos + first.text.length;
    for (;;) {
      const dot = this.peek();
      if (dot?.type !== 'dot' || dot.spaceBefore) break;
      this.next();
      end = dot.pos + 1;
      const part = this.peek();
      const partType = part?.type;
      if (!part || part.spaceBefore) break;
      if (partType !== 'word' && partType !== 'dq' && partType !== 'bt' && partType !== 'sq') break;
      this.next();
      end = part.pos + part.text.length;
    }
    return this.source.slice(first.pos, end);
  }
}

function isWord(token: Token | undefined, word: string): boolean {
  return token?.type === 'word' && token.text.toUpperCase() === word;
}

function isBareKeyword(identifier: string): boolean {
  return KEYWORDS.has(identifier.toUpperCase());
}

/** MLflow's "Invalid clause(s) in filter string", naming the token and where it is. */
function invalidClause(source: string, token: Token | undefined, hint?: string): InvalidParameterError {
  const where = token
    ? `'${token.text}' at position ${token.pos}`
    : `incomplete condition at the end of '${source}'`;
  const unterminated = token?.type === 'error' && /^['"`]/.test(token.text) ? ' (unterminated quote)' : '';
  return new InvalidParameterError(
    `Invalid clause(s) in filter string: ${where}${unterminated}${hint ? `. ${hint}` : ''}`,
  );
}

function parseShape(source: string, tokens: readonly Token[]): RawClause[] {
  const semicolon = tokens.findIndex((t) => t.type === 'semicolon');
  if (semicolon >= 0 && tokens.slice(semicolon + 1).some((t) => t.type !== 'semicolon')) {
    throw new InvalidParameterError(
      `Search filter contained multiple expression '${source}'. Provide AND-ed expression list.`,
    );
  }
  const cursor = new TokenCursor(source, tokens);
  const clauses: RawClause[] = [];
  for (;;) {
    clauses.push(parseCondition(cursor));
    const next = cursor.peek();
    if (!next) return clauses;
    if (isWord(next, 'AND')) {
      cursor.next();
      if (!cursor.peek()) throw invalidClause(source, next, "Nothing follows 'AND'");
      continue;
    }
    if (isWord(next, 'OR')) {
      // MLflow has no OR; sqlparse leaves the keyword ungrouped and MLflow lists it as invalid.
      throw invalidClause(source, next, 'Conditions can only be combined with AND; OR is not supported');
    }
    throw invalidClause(source, next);
  }
}

function parseCondition(cursor: TokenCursor): RawClause {
  const { source } = cursor;
  const start = cursor.peek();
  if (start?.type === 'number' || start?.type === 'sq') {
    // MLflow: `1.0 > metrics.acc` groups as a comparison whose left side is no identifier.
    throw new InvalidParameterError(`Invalid comparison clause. Expected 'Identifier' found '${start.text}'`);
  }
  if (start?.type === 'lparen') {
    throw invalidClause(source, start, 'Parentheses are not supported; list conditions joined with AND');
  }
  const identifier = cursor.identifier();
  if (identifier === undefined || isBareKeyword(identifier)) throw invalidClause(source, start);

  const comparator = parseComparator(cursor);
  const value = parseValue(cursor, comparator);
  return { identifier, comparator, value };
}

function parseComparator(cursor: TokenCursor): string {
  const { source } = cursor;
  const token = cursor.peek();
  if (!token) throw invalidClause(source, undefined);
  if (token.type === 'op') {
    cursor.next();
    return token.text;
  }
  if (token.type === 'word') {
    const word = token.text.toUpperCase();
    if (WORD_COMPARATORS.has(word)) {
      cursor.next();
      return word;
    }
    const following = cursor.peek(1);
    if (
      word === 'NOT' &&
      following?.type === 'word' &&
      NEGATABLE_COMPARATORS.has(following.text.toUpperCase())
    ) {
      cursor.next();
      cursor.next();
      return `NOT ${following.text.toUpperCase()}`;
    }
    if (
      word === 'IS' &&
      (isWord(following, 'NULL') || (isWord(following, 'NOT') && isWord(cursor.peek(2), 'NULL')))
    ) {
      // MLflow 2.22 has no null checks in search filters (they came to runs in 2026, PR #21283);
      // its sqlparse path answers "Invalid clause(s)" for them.
      throw invalidClause(source, token, 'IS NULL / IS NOT NULL comparisons are not supported');
    }
  }
  throw invalidClause(source, token);
}

function parseValue(cursor: TokenCursor, comparator: string): RawValue {
  const { source } = cursor;
  const token = cursor.peek();
  if (!token) throw invalidClause(source, undefined);
  if (comparator === 'IN' || comparator === 'NOT IN') {
    // sqlparse only joins `x IN (...)` into a comparison when a parenthesis follows.
    if (token.type !== 'lparen')
      throw invalidClause(source, token, `${comparator} must be followed by a list like ('a', 'b')`);
    return parseList(cursor);
  }
  switch (token.type) {
    case 'number':
      cursor.next();
      return { kind: 'number', text: token.text };
    case 'sq':
      cursor.next();
      return { kind: 'string', text: token.text };
    case 'lparen':
      return parseList(cursor);
    case 'word':
    case 'dq':
    case 'bt': {
      const identifier = cursor.identifier()!;
      // `status = true`, `x = NULL`: keywords, which sqlparse does not group into a comparison.
      if (isBareKeyword(identifier)) throw invalidClause(source, token);
      return { kind: 'identifier', text: identifier };
    }
    default:
      throw invalidClause(source, token);
  }
}

function parseList(cursor: TokenCursor): RawValue {
  const open = cursor.next()!;
  const items: Token[] = [];
  let wellFormed = true;
  let expectItem = true;
  let depth = 0;
  for (;;) {
    const token = cursor.next();
    if (!token) throw invalidClause(cursor.source, open, 'Unbalanced parenthesis');
    if (token.type === 'rparen') {
      if (depth === 0) {
        return {
          kind: 'list',
          text: cursor.source.slice(open.pos, token.pos + 1),
          items,
          wellFormed,
        };
      }
      depth -= 1;
    } else if (token.type === 'lparen') {
      depth += 1;
      wellFormed = false;
    } else if (token.type === 'comma') {
      // Python's literal_eval (what MLflow uses) allows one trailing comma, nothing else.
      if (expectItem) wellFormed = false;
      expectItem = true;
    } else {
      if (!expectItem || depth > 0) wellFormed = false;
      items.push(token);
      expectItem = false;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Pass 2: meaning of each condition
// ---------------------------------------------------------------------------------------------

function isQuoted(text: string, quote: string): boolean {
  return text.length >= 2 && text.startsWith(quote) && text.endsWith(quote);
}

/** MLflow's `_strip_quotes`: drops one pair of ' or " around the text, nothing more. */
function stripQuotes(text: string): string {
  return isQuoted(text, "'") || isQuoted(text, '"') ? text.slice(1, -1) : text;
}

/** MLflow's `_trim_backticks`. */
function trimBackticks(text: string): string {
  return isQuoted(text, '`') ? text.slice(1, -1) : text;
}

function formatList(items: Iterable<string>): string {
  return [...items].map((item) => `'${item}'`).join(', ');
}

/** The identifier of a clause or order_by term, resolved to its kind and canonical key. */
export interface ResolvedIdentifier {
  readonly kind: ClauseKind;
  readonly key: string;
  /** The attribute's rule, for attributes. */
  readonly attribute?: AttributeRule;
}

/**
 * @internal Resolves `metrics.acc`, `` tags.`a b` ``, `start_time`... as MLflow's
 * `_get_identifier` does: split at the first dot (no dot means an attribute), check the entity
 * type, strip quotes then backticks from the key, check attribute and dataset keys.
 */
export function resolveIdentifier(
  raw: string,
  dialect: SearchDialect,
  attributes: ReadonlyMap<string, AttributeRule>,
  invalidAttribute: (key: string) => string,
): ResolvedIdentifier {
  const rules = FILTER_RULES[dialect];
  const dot = raw.indexOf('.');
  let kind: ClauseKind = 'attribute';
  let rawKey = raw;
  if (dot >= 0) {
    const entityType = raw.slice(0, dot);
    rawKey = raw.slice(dot + 1);
    const found = rules.entityTypes.get(rules.backtickedEntityType ? trimBackticks(entityType) : entityType);
    if (!found) throw new InvalidParameterError(rules.entityTypeError(entityType));
    kind = found;
  }
  const key = trimBackticks(stripQuotes(rawKey));
  if (key === '') throw new InvalidParameterError(`Invalid identifier '${raw}': the key is empty`);
  if (kind === 'attribute') {
    const attribute = attributes.get(key);
    if (!attribute) throw new InvalidParameterError(invalidAttribute(key));
    return { kind, key: attribute.canonical, attribute };
  }
  if (kind === 'dataset' && !DATASET_KEYS.includes(key)) {
    throw new InvalidParameterError(
      `Invalid dataset key '${key}' specified. Valid keys are ${formatList(DATASET_KEYS)}`,
    );
  }
  return { kind, key };
}

function checkComparator(raw: string, id: ResolvedIdentifier, dialect: SearchDialect): Comparator {
  let allowed: readonly Comparator[];
  let what: string;
  switch (id.kind) {
    case 'metric':
      [allowed, what] = [METRIC_COMPARATORS, `metric '${id.key}'`];
      break;
    case 'param':
      [allowed, what] = [PARAM_COMPARATORS, `param '${id.key}'`];
      break;
    case 'tag':
      [allowed, what] = [FILTER_RULES[dialect].tagComparators, `tag '${id.key}'`];
      break;
    case 'dataset':
      [allowed, what] = [DATASET_COMPARATORS, `dataset key '${id.key}'`];
      break;
    case 'attribute':
      [allowed, what] = [id.attribute!.comparators, `${id.attribute!.type} attribute '${id.key}'`];
      break;
  }
  const found = allowed.find((comparator) => comparator === raw);
  if (!found) {
    throw new InvalidParameterError(
      `Invalid comparator '${raw}' for ${what}. Valid comparators are ${formatList(allowed)}`,
    );
  }
  return found;
}

const NOT_QUOTED = (text: string) =>
  `Parameter value is either not quoted or unidentified quote types used for string value ${text}. ` +
  'Use either single or double quotes.';

/** A single- or double-quoted string value, as MLflow's `_strip_quotes(expect_quoted_value=True)`. */
function quotedString(value: RawValue, otherwise: string): string {
  if (value.kind === 'string') return stripQuotes(value.text);
  if (value.kind === 'identifier') {
    if (isQuoted(value.text, "'") || isQuoted(value.text, '"')) return stripQuotes(value.text);
    throw new InvalidParameterError(NOT_QUOTED(value.text));
  }
  throw new InvalidParameterError(otherwise);
}

/** Unescapes a list item as Python's `ast.literal_eval` would for the escapes that matter. */
function listItem(token: Token): string {
  return token.text.slice(1, -1).replace(/\\(['"\\])/g, '$1');
}

/** MLflow's `_parse_list_from_sql_token` / `_check_valid_identifier_list`. */
function stringList(value: Extract<RawValue, { kind: 'list' }>): string[] {
  if (!value.wellFormed) {
    throw new InvalidParameterError(
      'While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.',
    );
  }
  if (value.items.length === 0) {
    throw new InvalidParameterError(
      'While parsing a list in the query, expected a non-empty list of string values, but got empty list',
    );
  }
  if (!value.items.every((item) => item.type === 'sq' || item.type === 'dq')) {
    throw new InvalidParameterError(
      'While parsing a list in the query, expected string value, punctuation, or whitespace, ' +
        `but got different type in list: ${value.text}`,
    );
  }
  return value.items.map(listItem);
}

function checkValue(id: ResolvedIdentifier, comparator: Comparator, value: RawValue): Clause['value'] {
  const isListComparator = comparator === 'IN' || comparator === 'NOT IN';
  if (value.kind === 'list' && !isListComparator && (id.kind === 'attribute' || id.kind === 'dataset')) {
    if (id.kind === 'attribute' && !id.attribute!.list) throw onlyRunIdLists();
    throw new InvalidParameterError(
      `Invalid comparison with ${value.text}: a list of values needs IN or NOT IN, not '${comparator}'`,
    );
  }
  switch (id.kind) {
    case 'metric':
      if (value.kind !== 'number') {
        throw new InvalidParameterError(`Expected numeric value type for metric. Found ${value.text}`);
      }
      return Number(value.text);
    case 'param':
    case 'tag':
      return quotedString(
        value,
        `Expected a quoted string value for ${id.kind} (e.g. 'my-value'). Got value ${value.text}`,
      );
    case 'dataset':
      if (value.kind === 'list') return stringList(value);
      return quotedString(
        value,
        `Expected a quoted string value for dataset attributes. Got value ${value.text}`,
      );
    case 'attribute': {
      const attribute = id.attribute!;
      if (attribute.type === 'numeric') {
        if (value.kind === 'number') return Number(value.text);
        // Model versions: `version_number = '3'` works in MLflow (the SQL engine casts it).
        if (attribute.quotedNumber && (value.kind === 'string' || value.kind === 'identifier')) {
          const text = stripQuotes(value.text);
          if (text !== value.text && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
        }
        throw new InvalidParameterError(
          `Expected numeric value type for numeric attribute: ${id.key}. Found ${value.text}`,
        );
      }
      if (value.kind === 'list') {
        if (!attribute.list) throw onlyRunIdLists();
        return stringList(value);
      }
      return quotedString(value, `Expected a quoted string value for attributes. Got value ${value.text}`);
    }
  }
}

function onlyRunIdLists(): InvalidParameterError {
  return new InvalidParameterError(
    "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
  );
}

/**
 * Parses an MLflow search filter for one dialect.
 *
 * @param filter The `filter` (or `filter_string`) request parameter; `undefined`, empty or
 *   whitespace-only means "no filter".
 * @returns The conditions, all of which must hold (MLflow only has AND).
 * @throws InvalidParameterError with an MLflow-like message naming the offending token.
 *
 * @example
 * parseSearchFilter("metrics.acc > 0.9 AND tags.`team name` = 'ml'", 'runs');
 * // [{ kind: 'metric', key: 'acc', comparator: '>', value: 0.9 },
 * //  { kind: 'tag', key: 'team name', comparator: '=', value: 'ml' }]
 */
export function parseSearchFilter(filter: string | undefined, dialect: SearchDialect): Clause[] {
  if (filter === undefined || filter.trim() === '') return [];
  const raw = parseShape(filter, tokenize(filter));
  const rules = FILTER_RULES[dialect];
  const invalidAttribute = (key: string) =>
    `Invalid attribute key '${key}' specified. Valid keys are ${formatList([...rules.attributes.keys()].sort())}`;
  return raw.map((clause) => {
    const id = resolveIdentifier(clause.identifier, dialect, rules.attributes, invalidAttribute);
    const comparator = checkComparator(clause.comparator, id, dialect);
    return { kind: id.kind, key: id.key, comparator, value: checkValue(id, comparator, clause.value) };
  });
}
