/**
 * MLflow's trace search grammar (mlflow/utils/search_utils.py `SearchTraceUtils`, and the SQL store's
 * `_get_filter_clauses_for_search_traces` / `_get_orderby_clauses_for_search_traces` for what each
 * clause means), parsed once per request into {@link TraceClause}s and evaluated in memory.
 *
 * Filters are `<identifier> <comparator> <value>` conditions joined by `AND`. Identifiers:
 * `tags.<key>` (`tag`), `metadata.<key>` (`request_metadata`), `feedback.<name>`,
 * `expectation.<name>`, and attributes, bare or as `attributes.`/`trace.`: `request_id`,
 * `timestamp[_ms]`, `execution_time[_ms]`, `end_time[_ms]`, `status`, `client_request_id`, and the
 * keys MLflow maps elsewhere: `name` is the tag `mlflow.traceName`, `run_id` the metadata
 * `mlflow.sourceRun` (or a run the trace was linked to), `prompt` the tag `mlflow.linkedPrompts`.
 *
 * Span clauses (`span.name`, `span.type`, `text`) and `issue.id` need spans indexed on the server;
 * Runway keeps spans as files, so they are refused with a 400 naming why, as MLflow's own in-memory
 * search does (`SearchTraceUtils._does_trace_match_clause`).
 */
import { InvalidParameterError } from '../../../platform/errors.ts';
import { stringTest as comparisonOf, numberTest } from '../../search/search-filter.evaluator.ts';
import { TokenCursor, tokenize } from '../../search/search-filter.parser.ts';
import type { Assessment } from '../assessment.model.ts';
import { type TraceInfo, traceEndTime } from '../model.ts';
import type { TraceFields } from '../ports.ts';

export type TraceComparator =
  | '='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'LIKE'
  | 'ILIKE'
  | 'RLIKE'
  | 'IN'
  | 'NOT IN'
  | 'IS NULL'
  | 'IS NOT NULL';

export type TraceNumericAttribute = 'timestamp_ms' | 'execution_time_ms' | 'end_time_ms';
export type TraceStringAttribute = 'request_id' | 'status' | 'client_request_id';

/** One parsed condition. Keys are canonical: aliases resolved, quotes and backticks removed. */
export type TraceClause =
  | { kind: 'attribute'; key: TraceNumericAttribute; comparator: TraceComparator; value: number }
  | { kind: 'attribute'; key: TraceStringAttribute; comparator: TraceComparator; value: string | string[] }
  | { kind: 'tag' | 'metadata'; key: string; comparator: TraceComparator; value: string | string[] | null }
  /** `run_id = 'x'`: the trace's source run is x, or the trace was linked to x. */
  | { kind: 'run'; comparator: '='; value: string }
  /** `prompt = 'name/version'`: the trace used that prompt version (`mlflow.linkedPrompts`). */
  | { kind: 'prompt'; comparator: '='; value: string }
  | { kind: 'feedback' | 'expectation'; key: string; comparator: TraceComparator; value: string | null };

/** What a trace exposes to search: its info and the runs linked to it. */
export interface SearchableTrace extends TraceInfo {
  linkedRuns: readonly string[];
}

const NUMERIC: readonly TraceComparator[] = ['>', '>=', '!=', '=', '<', '<='];
const STRING_ATTRIBUTE: readonly TraceComparator[] = ['!=', '=', 'IN', 'NOT IN', 'LIKE', 'ILIKE', 'RLIKE'];
const KEYED: readonly TraceComparator[] = ['!=', '=', 'LIKE', 'ILIKE', 'RLIKE', 'IS NULL', 'IS NOT NULL'];
/** `name` and `run_id` lists: MLflow lists them as IN-able, then refuses IN once they map to a tag. */
const KEYED_WITH_LISTS: readonly TraceComparator[] = [...KEYED, 'IN', 'NOT IN'];

const ENTITY_TYPES = new Map<
  string,
  'tag' | 'metadata' | 'attribute' | 'span' | 'feedback' | 'expectation' | 'issue'
>([
  ['tag', 'tag'],
  ['tags', 'tag'],
  ['attribute', 'attribute'],
  ['attributes', 'attribute'],
  ['trace', 'attribute'],
  ['request_metadata', 'metadata'],
  ['metadata', 'metadata'],
  ['span', 'span'],
  ['feedback', 'feedback'],
  ['expectation', 'expectation'],
  ['issue', 'issue'],
]);

const FILTER_ATTRIBUTES = [
  'request_id',
  'timestamp',
  'timestamp_ms',
  'execution_time',
  'execution_time_ms',
  'end_time',
  'end_time_ms',
  'status',
  'client_request_id',
  'name',
  'run_id',
  'prompt',
  'text',
];
const ORDER_ATTRIBUTES = [
  'experiment_id',
  'timestamp',
  'timestamp_ms',
  'execution_time',
  'execution_time_ms',
  'end_time',
  'end_time_ms',
  'status',
  'request_id',
  'name',
  'run_id',
];
const ATTRIBUTE_ALIASES: Record<string, string> = {
  timestamp: 'timestamp_ms',
  execution_time: 'execution_time_ms',
  end_time: 'end_time_ms',
};
const NUMERIC_ATTRIBUTES = new Set(['timestamp_ms', 'execution_time_ms', 'end_time_ms']);
const SOURCE_RUN = 'mlflow.sourceRun';
const TRACE_NAME = 'mlflow.traceName';
const LINKED_PROMPTS = 'mlflow.linkedPrompts';

/** A regular expression a client may send (RLIKE); longer ones are refused before any work. */
const MAX_PATTERN_LENGTH = 500;

interface Identifier {
  type: 'tag' | 'metadata' | 'attribute' | 'span' | 'feedback' | 'expectation' | 'issue';
  key: string;
}

function isQuoted(text: string, quote: string): boolean {
  return text.length >= 2 && text.startsWith(quote) && text.endsWith(quote);
}
const stripQuotes = (text: string) => (isQuoted(text, "'") || isQuoted(text, '"') ? text.slice(1, -1) : text);
const trimBackticks = (text: string) => (isQuoted(text, '`') ? text.slice(1, -1) : text);

/**
 * MLflow's `_get_identifier` then `_replace_key_to_tag_or_metadata`: split at the first dot (none:
 * an attribute), check the entity type and attribute keys, then map `name`, `prompt`, `run_id`,
 * `text` and the time aliases, whatever the entity type said (as MLflow does, so `tags.name` is
 * the trace name too).
 */
function resolveIdentifier(raw: string, attributes: readonly string[]): Identifier {
  const dot = raw.indexOf('.');
  let type: Identifier['type'] = 'attribute';
  let rawKey = raw;
  if (dot >= 0) {
    const entity = trimBackticks(raw.slice(0, dot));
    const found = ENTITY_TYPES.get(entity);
    if (!found) {
      throw new InvalidParameterError(
        `Invalid entity type '${entity}'. Valid values are ${[...ENTITY_TYPES.keys()].map((k) => `'${k}'`).join(', ')}`,
      );
    }
    type = found;
    rawKey = raw.slice(dot + 1);
  }
  const key = trimBackticks(stripQuotes(rawKey));
  if (key === '') throw new InvalidParameterError(`Invalid identifier '${raw}': the key is empty`);
  if (type === 'attribute' && !attributes.includes(key)) {
    throw new InvalidParameterError(
      `Invalid attribute key '${key}' specified. Valid keys are ${attributes.map((k) => `'${k}'`).join(', ')}`,
    );
  }
  if (type === 'span') return { type, key };
  const lower = key.toLowerCase();
  if (lower === 'name') return { type: 'tag', key: TRACE_NAME };
  if (lower === 'prompt') return { type: 'tag', key: LINKED_PROMPTS };
  if (lower === 'run_id') return { type: 'metadata', key: SOURCE_RUN };
  if (lower === 'text') return { type: 'span', key: 'content' };
  return { type, key: ATTRIBUTE_ALIASES[lower] ?? key };
}

// ---------------------------------------------------------------------------------------------
// Filter
// ---------------------------------------------------------------------------------------------

interface RawCondition {
  identifier: string;
  comparator: string;
  value:
    | { kind: 'number'; text: string }
    | { kind: 'string'; text: string }
    | { kind: 'list'; items: string[] }
    | { kind: 'none' };
}

function invalidClause(source: string, text: string | undefined, hint?: string): InvalidParameterError {
  return new InvalidParameterError(
    `Invalid clause(s) in filter string: ${text === undefined ? `incomplete condition at the end of '${source}'` : `'${text}'`}${hint ? `. ${hint}` : ''}`,
  );
}

function isWord(text: string | undefined, word: string, type: string | undefined): boolean {
  return type === 'word' && text?.toUpperCase() === word;
}

/** Splits the filter into conditions (the shape pass of MLflow's `_process_statement`). */
function parseConditions(source: string): RawCondition[] {
  const tokens = tokenize(source);
  const cursor = new TokenCursor(source, tokens);
  const conditions: RawCondition[] = [];
  for (;;) {
    const start = cursor.peek();
    if (start?.type === 'number' || start?.type === 'sq') {
      throw new InvalidParameterError(
        `Invalid comparison clause. Expected 'Identifier' found '${start.text}'`,
      );
    }
    const identifier = cursor.identifier();
    if (identifier === undefined || ['AND', 'OR', 'NOT', 'IS', 'IN'].includes(identifier.toUpperCase())) {
      throw invalidClause(source, start?.text);
    }
    conditions.push({ identifier, ...parseComparison(cursor, source) });
    const next = cursor.peek();
    if (!next) return conditions;
    if (isWord(next.text, 'AND', next.type)) {
      cursor.next();
      if (!cursor.peek()) throw invalidClause(source, next.text, "Nothing follows 'AND'");
      continue;
    }
    if (isWord(next.text, 'OR', next.type)) {
      throw invalidClause(source, next.text, 'Conditions can only be combined with AND; OR is not supported');
    }
    throw invalidClause(source, next.text);
  }
}

function parseComparison(cursor: TokenCursor, source: string): Pick<RawCondition, 'comparator' | 'value'> {
  const token = cursor.next();
  if (!token) throw invalidClause(source, undefined);
  let comparator: string;
  if (token.type === 'op') comparator = token.text;
  else if (token.type === 'word') {
    const word = token.text.toUpperCase();
    const following = cursor.peek();
    if (word === 'IS') {
      if (isWord(following?.text, 'NULL', following?.type)) {
        cursor.next();
        return { comparator: 'IS NULL', value: { kind: 'none' } };
      }
      const after = cursor.peek(1);
      if (isWord(following?.text, 'NOT', following?.type) && isWord(after?.text, 'NULL', after?.type)) {
        cursor.next();
        cursor.next();
        return { comparator: 'IS NOT NULL', value: { kind: 'none' } };
      }
      throw invalidClause(source, token.text);
    }
    if (word === 'NOT' && isWord(following?.text, 'IN', following?.type)) {
      cursor.next();
      comparator = 'NOT IN';
    } else if (['LIKE', 'ILIKE', 'RLIKE', 'IN'].includes(word)) comparator = word;
    else throw invalidClause(source, token.text);
  } else throw invalidClause(source, token.text);

  const value = cursor.peek();
  if (!value) throw invalidClause(source, undefined);
  if (value.type === 'lparen')
    return { comparator, value: { kind: 'list', items: parseList(cursor, source) } };
  if (value.type === 'number') {
    cursor.next();
    return { comparator, value: { kind: 'number', text: value.text } };
  }
  if (value.type === 'sq' || value.type === 'dq') {
    cursor.next();
    return { comparator, value: { kind: 'string', text: value.text } };
  }
  if (comparator === 'IN' || comparator === 'NOT IN') {
    throw invalidClause(source, value.text, `${comparator} must be followed by a list like ('a', 'b')`);
  }
  throw new InvalidParameterError(
    `Parameter value is either not quoted or unidentified quote types used for string value ${value.text}. Use either single or double quotes.`,
  );
}

function parseList(cursor: TokenCursor, source: string): string[] {
  const open = cursor.next();
  const items: string[] = [];
  let expectItem = true;
  for (;;) {
    const token = cursor.next();
    if (!token) throw invalidClause(source, open?.text, 'Unbalanced parenthesis');
    if (token.type === 'rparen') break;
    if (token.type === 'comma' && !expectItem) expectItem = true;
    else if ((token.type === 'sq' || token.type === 'dq') && expectItem) {
      items.push(token.text.slice(1, -1).replace(/\\(['"\\])/g, '$1'));
      expectItem = false;
    } else {
      throw new InvalidParameterError(
        'While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list',
      );
    }
  }
  if (items.length === 0) {
    throw new InvalidParameterError(
      'While parsing a list in the query, expected a non-empty list of string values, but got empty list',
    );
  }
  return items;
}

function checkComparator(
  comparator: string,
  allowed: readonly TraceComparator[],
  what: string,
): TraceComparator {
  const found = allowed.find((candidate) => candidate === comparator);
  if (!found) {
    throw new InvalidParameterError(
      `Invalid comparator '${comparator}' for ${what}. Valid comparators are ${allowed.map((c) => `'${c}'`).join(', ')}`,
    );
  }
  return found;
}

function stringValue(value: RawCondition['value'], comparator: TraceComparator): string | string[] | null {
  if (comparator === 'IS NULL' || comparator === 'IS NOT NULL') return null;
  if (comparator === 'IN' || comparator === 'NOT IN') {
    if (value.kind !== 'list')
      throw new InvalidParameterError(`${comparator} needs a list of quoted strings`);
    return value.items;
  }
  if (value.kind === 'string') {
    const text = stripQuotes(value.text);
    if (comparator === 'RLIKE') checkPattern(text);
    return text;
  }
  if (value.kind === 'list') {
    throw new InvalidParameterError(`A list of values needs IN or NOT IN, not '${comparator}'`);
  }
  throw new InvalidParameterError(
    `Expected a quoted string value (e.g. 'my-value'). Got value ${value.kind === 'number' ? value.text : 'nothing'}`,
  );
}

/**
 * RLIKE patterns run as JavaScript regular expressions. A quantified group that itself holds a
 * quantifier (`(a+)+`) can backtrack for minutes on a long value, and a backreference has no place
 * in a filter: both are refused, as is a pattern that does not compile.
 */
function checkPattern(pattern: string): void {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new InvalidParameterError(`RLIKE patterns may be at most ${MAX_PATTERN_LENGTH} characters`);
  }
  if (/\\[1-9]|\\k</.test(pattern) || /\([^)]*[*+}][^)]*\)\s*[*+{?]/.test(pattern)) {
    throw new InvalidParameterError(
      `RLIKE pattern '${pattern.slice(0, 100)}' nests quantifiers or uses a backreference, which Runway refuses (they can run for minutes)`,
    );
  }
  try {
    new RegExp(pattern, 'u');
  } catch (error) {
    throw new InvalidParameterError(
      `Invalid RLIKE pattern '${pattern.slice(0, 100)}': ${(error as Error).message}`,
    );
  }
}

function unsupported(what: string): InvalidParameterError {
  return new InvalidParameterError(
    `${what} filters are not supported: Runway stores spans as files and does not index their content`,
  );
}

/**
 * Parses a trace search filter. `undefined` or blank means no filter.
 * @throws InvalidParameterError naming the offending part, as MLflow answers.
 */
export function parseTraceFilter(filter: string | undefined): TraceClause[] {
  if (filter === undefined || filter.trim() === '') return [];
  return parseConditions(filter).map(toClause);
}

function toClause(condition: RawCondition): TraceClause {
  {
    const id = resolveIdentifier(condition.identifier, FILTER_ATTRIBUTES);
    const { value } = condition;
    switch (id.type) {
      case 'span':
        throw unsupported(id.key === 'content' ? "Full-text ('text')" : `Span ('span.${id.key}')`);
      case 'issue':
        throw unsupported(`Issue ('issue.${id.key}')`);
      case 'attribute': {
        if (NUMERIC_ATTRIBUTES.has(id.key)) {
          const comparator = checkComparator(condition.comparator, NUMERIC, `numeric attribute '${id.key}'`);
          const text =
            value.kind === 'number' ? value.text : value.kind === 'string' ? stripQuotes(value.text) : '';
          const number = Number(text);
          if (text.trim() === '' || !Number.isFinite(number)) {
            throw new InvalidParameterError(
              `Expected numeric value type for numeric attribute: ${id.key}. Found ${value.kind === 'list' ? 'a list' : text || 'nothing'}`,
            );
          }
          return { kind: 'attribute', key: id.key as TraceNumericAttribute, comparator, value: number };
        }
        const comparator = checkComparator(
          condition.comparator,
          STRING_ATTRIBUTE,
          `string attribute '${id.key}'`,
        );
        if (value.kind === 'number') {
          throw new InvalidParameterError(
            `Only the 'timestamp_ms', 'execution_time_ms', 'end_time_ms' attributes support comparison with numeric values.`,
          );
        }
        return {
          kind: 'attribute',
          key: id.key as TraceStringAttribute,
          comparator,
          value: stringValue(value, comparator) as string | string[],
        };
      }
      case 'tag':
      case 'metadata': {
        const mapped = id.key === TRACE_NAME || id.key === SOURCE_RUN;
        const comparator = checkComparator(
          condition.comparator,
          mapped ? KEYED_WITH_LISTS : KEYED,
          `${id.type === 'tag' ? 'tag' : 'metadata'} '${id.key}'`,
        );
        if (id.key === LINKED_PROMPTS) {
          if (comparator !== '=') {
            throw new InvalidParameterError(
              `Invalid comparator '${comparator}' for prompts filter. Only '=' is supported with format: prompt = "name/version"`,
            );
          }
          const prompt = stringValue(value, comparator) as string;
          if (prompt.split('/').length !== 2) {
            throw new InvalidParameterError(
              `Invalid prompts filter value '${prompt}'. Expected format: prompt = "name/version"`,
            );
          }
          return { kind: 'prompt', comparator: '=', value: prompt };
        }
        const parsed = stringValue(value, comparator);
        if (id.key === SOURCE_RUN && comparator === '=' && id.type === 'metadata') {
          return { kind: 'run', comparator: '=', value: parsed as string };
        }
        return { kind: id.type, key: id.key, comparator, value: parsed };
      }
      case 'feedback':
      case 'expectation': {
        const comparator = checkComparator(condition.comparator, KEYED, `${id.type} '${id.key}'`);
        return {
          kind: id.type,
          key: id.key,
          comparator,
          value: stringValue(value, comparator) as string | null,
        };
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

/** MLflow's string comparisons, and RLIKE: Postgres' `~` and SQLite's REGEXP, a match anywhere. */
function stringTest(
  comparator: TraceComparator,
  expected: string | string[] | null,
): (actual: string) => boolean {
  if (comparator !== 'RLIKE') return comparisonOf(comparator, expected);
  const regex = new RegExp(expected as string, 'u');
  return (actual) => regex.test(actual);
}

/** A trace's numeric attribute as the SQL store computes it (`end_time` = start + coalesce(duration, 0)). */
export function numericAttribute(trace: TraceInfo, key: TraceNumericAttribute): number | undefined {
  if (key === 'timestamp_ms') return trace.requestTime;
  if (key === 'execution_time_ms') return trace.executionDuration;
  return traceEndTime(trace);
}

export function stringAttribute(trace: TraceInfo, key: TraceStringAttribute): string | undefined {
  if (key === 'request_id') return trace.traceId;
  if (key === 'status') return trace.state;
  return trace.clientRequestId;
}

/**
 * Assessment values are compared as MLflow's SQL store stores them, JSON text: `= 'yes'` matches the
 * string "yes" (stored `"yes"`) and `= 'true'` or `= '5'` the boolean or number. Only valid
 * assessments count (an overridden one does not).
 */
function assessmentText(assessment: Assessment): string | undefined {
  const value =
    assessment.value.kind === 'feedback' || assessment.value.kind === 'expectation'
      ? assessment.value.value
      : undefined;
  return value === undefined ? undefined : JSON.stringify(value);
}

function compileClause(clause: TraceClause): (trace: SearchableTrace) => boolean {
  switch (clause.kind) {
    case 'attribute': {
      if (typeof clause.value === 'number') {
        const test = numberTest(clause.comparator, clause.value);
        const key = clause.key as TraceNumericAttribute;
        return (trace) => {
          const actual = numericAttribute(trace, key);
          return actual !== undefined && test(actual);
        };
      }
      const test = stringTest(clause.comparator, clause.value);
      const key = clause.key as TraceStringAttribute;
      return (trace) => {
        const actual = stringAttribute(trace, key);
        return actual !== undefined && test(actual);
      };
    }
    case 'tag':
    case 'metadata': {
      const source = clause.kind === 'tag' ? 'tags' : 'metadata';
      if (clause.comparator === 'IS NULL') return (trace) => !trace[source].has(clause.key);
      if (clause.comparator === 'IS NOT NULL') return (trace) => trace[source].has(clause.key);
      const test = stringTest(clause.comparator, clause.value);
      return (trace) => {
        const actual = trace[source].get(clause.key);
        return actual !== undefined && test(actual);
      };
    }
    case 'run':
      return (trace) =>
        trace.metadata.get(SOURCE_RUN) === clause.value || trace.linkedRuns.includes(clause.value);
    case 'prompt': {
      const [name, version] = clause.value.split('/');
      return (trace) => {
        const linked = trace.tags.get(LINKED_PROMPTS);
        if (linked === undefined) return false;
        try {
          const prompts = JSON.parse(linked) as unknown;
          return (
            Array.isArray(prompts) &&
            prompts.some(
              (prompt) =>
                typeof prompt === 'object' &&
                prompt !== null &&
                String((prompt as Record<string, unknown>).name) === name &&
                String((prompt as Record<string, unknown>).version) === version,
            )
          );
        } catch {
          return false;
        }
      };
    }
    case 'feedback':
    case 'expectation': {
      const candidates = (trace: SearchableTrace) =>
        trace.assessments.filter(
          (assessment) =>
            assessment.valid && assessment.value.kind === clause.kind && assessment.name === clause.key,
        );
      if (clause.comparator === 'IS NULL') return (trace) => candidates(trace).length === 0;
      if (clause.comparator === 'IS NOT NULL') return (trace) => candidates(trace).length > 0;
      const raw = clause.value as string;
      const test =
        clause.comparator === '=' || clause.comparator === '!='
          ? (actual: string) =>
              (actual === raw || actual === JSON.stringify(raw)) === (clause.comparator === '=')
          : stringTest(clause.comparator, raw);
      return (trace) =>
        candidates(trace).some((assessment) => {
          const actual = assessmentText(assessment);
          return actual !== undefined && test(actual);
        });
    }
  }
}

/** Compiles clauses into one predicate (patterns and sets built once). */
export function compileTraceFilter(clauses: readonly TraceClause[]): (trace: SearchableTrace) => boolean {
  const predicates = clauses.map(compileClause);
  return (trace) => predicates.every((predicate) => predicate(trace));
}

/**
 * What a search must read of each trace to filter and order it (its id and start time come always):
 * the attributes, tag and metadata keys the clauses and terms name, runs and assessments when a
 * clause needs them.
 */
export function traceFields(clauses: readonly TraceClause[], terms: readonly TraceOrderTerm[]): TraceFields {
  const tags = new Set<string>();
  const metadata = new Set<string>();
  const fields: TraceFields = {};
  const attribute = (key: string) => {
    if (key === 'status') fields.state = true;
    else if (key === 'execution_time_ms' || key === 'end_time_ms') fields.executionDuration = true;
    else if (key === 'client_request_id') fields.clientRequestId = true;
  };
  for (const clause of clauses) {
    if (clause.kind === 'attribute') attribute(clause.key);
    else if (clause.kind === 'tag') tags.add(clause.key);
    else if (clause.kind === 'metadata') metadata.add(clause.key);
    else if (clause.kind === 'run') {
      metadata.add(SOURCE_RUN);
      fields.linkedRuns = true;
    } else if (clause.kind === 'prompt') tags.add(LINKED_PROMPTS);
    else fields.assessments = true;
  }
  for (const term of effectiveTraceOrder(terms)) {
    if (term.kind === 'attribute') attribute(term.key);
    else (term.kind === 'tag' ? tags : metadata).add(term.key);
  }
  if (tags.size > 0) fields.tags = [...tags];
  if (metadata.size > 0) fields.metadata = [...metadata];
  return fields;
}

/** The time bounds the clauses put on `timestamp_ms`, for a key condition (inclusive, milliseconds). */
export function timeRange(clauses: readonly TraceClause[]): { from?: number; to?: number } {
  let from: number | undefined;
  let to: number | undefined;
  for (const clause of clauses) {
    if (clause.kind !== 'attribute' || clause.key !== 'timestamp_ms' || typeof clause.value !== 'number')
      continue;
    const value = clause.value;
    const lower =
      clause.comparator === '>'
        ? Math.floor(value) + 1
        : clause.comparator === '>=' || clause.comparator === '='
          ? Math.ceil(value)
          : undefined;
    const upper =
      clause.comparator === '<'
        ? Math.ceil(value) - 1
        : clause.comparator === '<=' || clause.comparator === '='
          ? Math.floor(value)
          : undefined;
    if (lower !== undefined) from = from === undefined ? lower : Math.max(from, lower);
    if (upper !== undefined) to = to === undefined ? upper : Math.min(to, upper);
  }
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

// ---------------------------------------------------------------------------------------------
// Order
// ---------------------------------------------------------------------------------------------

export interface TraceOrderTerm {
  kind: 'attribute' | 'tag' | 'metadata';
  key: string;
  ascending: boolean;
}

/** Parses `order_by` (`<identifier> [ASC|DESC]` each) with MLflow's keys; duplicates are refused. */
export function parseTraceOrderBy(orderBy: readonly string[] | undefined): TraceOrderTerm[] {
  const terms = (orderBy ?? []).map((clause): TraceOrderTerm => {
    const text = clause.trim();
    const cursor = new TokenCursor(text, tokenize(text));
    const identifier = cursor.identifier();
    if (identifier === undefined)
      throw new InvalidParameterError(`Invalid order_by clause '${clause}'. Could not be parsed.`);
    let ascending = true;
    const direction = cursor.next();
    if (direction) {
      if (direction.type !== 'word' || !direction.spaceBefore || cursor.peek()) {
        throw new InvalidParameterError(`Invalid order_by clause '${clause}'. Could not be parsed.`);
      }
      const word = direction.text.toUpperCase();
      if (word !== 'ASC' && word !== 'DESC') {
        throw new InvalidParameterError(`Invalid ordering key in order_by clause '${clause}'.`);
      }
      ascending = word === 'ASC';
    }
    const id = resolveIdentifier(identifier, ORDER_ATTRIBUTES);
    if (id.type !== 'attribute' && id.type !== 'tag' && id.type !== 'metadata') {
      throw new InvalidParameterError(`Invalid order_by entity \`${id.type}\` with key \`${id.key}\``);
    }
    return { kind: id.type, key: id.key, ascending };
  });
  const seen = new Set<string>();
  for (const term of terms) {
    const field = `${term.kind}.${term.key}`;
    if (seen.has(field)) {
      throw new InvalidParameterError(`\`order_by\` contains duplicate fields: ${JSON.stringify(orderBy)}`);
    }
    seen.add(field);
  }
  return terms;
}

/** The client's terms plus MLflow's tie-breakers: `timestamp_ms DESC`, then `request_id ASC`. */
export function effectiveTraceOrder(terms: readonly TraceOrderTerm[]): TraceOrderTerm[] {
  const has = (key: string) => terms.some((term) => term.kind === 'attribute' && term.key === key);
  return [
    ...terms,
    ...(has('timestamp_ms') ? [] : [{ kind: 'attribute' as const, key: 'timestamp_ms', ascending: false }]),
    ...(has('request_id') ? [] : [{ kind: 'attribute' as const, key: 'request_id', ascending: true }]),
  ];
}

/**
 * When the order is by start time (MLflow's default, newest first, or oldest first), ties by id
 * ascending: the order of the experiment's index partition, so a page reads only what it answers.
 */
export function timeOrdered(terms: readonly TraceOrderTerm[]): { ascending: boolean } | undefined {
  const order = effectiveTraceOrder(terms);
  const [first, second] = order;
  if (order.length !== 2 || first?.key !== 'timestamp_ms' || first.kind !== 'attribute') return undefined;
  if (second?.key !== 'request_id' || !second.ascending) return undefined;
  return { ascending: first.ascending };
}

function sortValue(trace: SearchableTrace, term: TraceOrderTerm): string | number | undefined {
  if (term.kind === 'tag') return trace.tags.get(term.key);
  if (term.kind === 'metadata') return trace.metadata.get(term.key);
  switch (term.key) {
    case 'experiment_id':
      return Number(trace.experimentId);
    case 'timestamp_ms':
      return trace.requestTime;
    case 'execution_time_ms':
      return trace.executionDuration;
    case 'end_time_ms':
      return traceEndTime(trace);
    case 'status':
      return trace.state;
    case 'request_id':
      return trace.traceId;
    default:
      return undefined;
  }
}

/** Sorts traces in MLflow's order for the terms; missing values last in either direction. */
export function sortTraces<T extends SearchableTrace>(
  traces: readonly T[],
  terms: readonly TraceOrderTerm[],
): T[] {
  const order = effectiveTraceOrder(terms);
  return traces
    .map((trace) => ({ trace, values: order.map((term) => sortValue(trace, term)) }))
    .sort((a, b) => {
      for (let i = 0; i < order.length; i++) {
        const x = a.values[i];
        const y = b.values[i];
        if (x === y) continue;
        if (x === undefined) return 1;
        if (y === undefined) return -1;
        const result = x < y ? -1 : 1;
        return order[i]?.ascending ? result : -result;
      }
      return 0;
    })
    .map(({ trace }) => trace);
}
