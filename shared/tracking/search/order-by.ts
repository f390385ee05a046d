/**
 * MLflow's `order_by` grammar and the ordering its SQL stores produce (2.22).
 *
 * Each order_by string is `<identifier> [ASC|DESC]` (direction case-insensitive, ascending by
 * default), with the same identifiers as filters. After the client's terms MLflow appends
 * tie-breakers so that paging is stable; {@link effectiveOrder} lists them per dialect.
 * Missing values sort last whichever the direction (the SQL store orders by a `CASE ... IS NULL`
 * column first), and for metrics NaN sorts after every number but before missing values.
 */
import { InvalidParameterError } from '../../platform/errors.ts';
import type { SearchableEntity } from './search-filter.evaluator.ts';
import {
  type AttributeRule,
  type ClauseKind,
  resolveIdentifier,
  type SearchDialect,
  TokenCursor,
  tokenize,
} from './search-filter.parser.ts';

/** One sort key. `kind` is never `dataset`: MLflow cannot order by datasets. */
export interface OrderTerm {
  readonly kind: Exclude<ClauseKind, 'dataset'>;
  readonly key: string;
  readonly ascending: boolean;
}

// ---------------------------------------------------------------------------------------------
// Keys per dialect
// ---------------------------------------------------------------------------------------------

function orderKeys(keys: string[], aliases: Record<string, string> = {}): ReadonlyMap<string, AttributeRule> {
  const rules = new Map<string, AttributeRule>();
  const make = (canonical: string): AttributeRule => ({ canonical, type: 'string', comparators: [] });
  for (const key of keys) rules.set(key, make(key));
  for (const [alias, target] of Object.entries(aliases)) rules.set(alias, make(target));
  return rules;
}

// Runs: RunInfo.get_orderable_attributes() plus `created`/`Created` (not the "run name" aliases,
// which MLflow only accepts in filters).
const ORDER_KEYS: Record<SearchDialect, ReadonlyMap<string, AttributeRule>> = {
  runs: orderKeys(['artifact_uri', 'end_time', 'run_id', 'run_name', 'start_time', 'status', 'user_id'], {
    created: 'start_time',
    Created: 'start_time',
  }),
  experiments: orderKeys(['name', 'experiment_id', 'creation_time', 'last_update_time']),
  // `timestamp` is MLflow's recommended spelling of `last_updated_timestamp`. The SQL store
  // refuses `creation_timestamp` but the file store (SearchModelUtils) sorts by it; we accept it.
  registered_models: orderKeys(['name', 'last_updated_timestamp', 'creation_timestamp'], {
    timestamp: 'last_updated_timestamp',
  }),
  model_versions: orderKeys(['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp']),
};

/** Attributes compared as numbers even when an accessor hands back a numeric string. */
const NUMERIC_ATTRIBUTES = new Set([
  'start_time',
  'end_time',
  'experiment_id',
  'creation_time',
  'last_update_time',
  'creation_timestamp',
  'last_updated_timestamp',
  'version_number',
]);

function formatList(items: Iterable<string>): string {
  return [...items].map((item) => `'${item}'`).join(', ');
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

function unparseable(clause: string): InvalidParameterError {
  return new InvalidParameterError(`Invalid order_by clause '${clause}'. Could not be parsed.`);
}

function parseOne(clause: string, dialect: SearchDialect): OrderTerm {
  // MLflow refuses surrounding whitespace only by accident of sqlparse's grouping; we trim it.
  const tokens = tokenize(clause.trim());
  const cursor = new TokenCursor(clause.trim(), tokens);
  const identifier = cursor.identifier();
  if (identifier === undefined) throw unparseable(clause);
  let ascending = true;
  const direction = cursor.next();
  if (direction) {
    // More than `<identifier> <direction>` cannot be parsed at all, as in MLflow.
    if (direction.type !== 'word' || !direction.spaceBefore || cursor.peek()) throw unparseable(clause);
    const word = direction.text.toLowerCase();
    if (word !== 'asc' && word !== 'desc') {
      throw new InvalidParameterError(`Invalid ordering key in order_by clause '${clause}'.`);
    }
    ascending = word === 'asc';
  }

  const keys = ORDER_KEYS[dialect];
  const invalidKey =
    dialect === 'registered_models'
      ? (key: string) => `Invalid order by key '${key}' specified. Valid keys are ${formatList(keys.keys())}`
      : (key: string) =>
          `Invalid attribute key '${key}' specified. Valid keys are ${formatList([...keys.keys()].sort())}`;
  const id = resolveIdentifier(identifier, dialect, keys, invalidKey);
  if (id.kind === 'dataset') throw new InvalidParameterError(`Invalid order_by entity type '${id.kind}'`);
  if (dialect !== 'runs' && id.kind !== 'attribute') {
    throw new InvalidParameterError(`Invalid order_by entity: ${id.kind}`);
  }
  return { kind: id.kind, key: id.key, ascending };
}

/**
 * Parses the `order_by` request parameter.
 *
 * @returns The client's terms only; {@link compareEntities} adds MLflow's defaults and
 *   tie-breakers.
 * @throws InvalidParameterError for unparseable clauses, unknown keys, or (runs, registered
 *   models, model versions) a field named twice, as MLflow's SQL stores do.
 */
export function parseOrderBy(orderBy: readonly string[] | undefined, dialect: SearchDialect): OrderTerm[] {
  const terms = (orderBy ?? []).map((clause) => parseOne(clause, dialect));
  if (dialect !== 'experiments') {
    const seen = new Set<string>();
    for (const term of terms) {
      const field = `${term.kind}.${term.key}`;
      if (seen.has(field)) {
        throw new InvalidParameterError(
          `\`order_by\` contains duplicate fields: [${formatList(orderBy ?? [])}]`,
        );
      }
      seen.add(field);
    }
  }
  return terms;
}

// ---------------------------------------------------------------------------------------------
// Ordering
// ---------------------------------------------------------------------------------------------

function has(terms: readonly OrderTerm[], key: string): boolean {
  return terms.some((term) => term.kind === 'attribute' && term.key === key);
}

const attribute = (key: string, ascending: boolean): OrderTerm => ({ kind: 'attribute', key, ascending });

/**
 * The full ordering MLflow's SQL store applies: the client's terms, or the default, plus
 * tie-breakers.
 *
 * - runs: terms, then `start_time DESC` (unless ordered by it), then `run_id ASC`;
 * - experiments: default `creation_time DESC, experiment_id ASC`; else terms, then
 *   `experiment_id DESC` unless ordered by it;
 * - registered models: terms, then `name ASC` unless ordered by it;
 * - model versions: default `last_updated_timestamp DESC, name ASC, version_number DESC`; else
 *   terms, then `name ASC` and `version_number DESC` unless ordered by them.
 */
export function effectiveOrder(terms: readonly OrderTerm[], dialect: SearchDialect): OrderTerm[] {
  switch (dialect) {
    case 'runs':
      return [
        ...terms,
        ...(has(terms, 'start_time') ? [] : [attribute('start_time', false)]),
        attribute('run_id', true),
      ];
    case 'experiments':
      if (terms.length === 0) return [attribute('creation_time', false), attribute('experiment_id', true)];
      return [...terms, ...(has(terms, 'experiment_id') ? [] : [attribute('experiment_id', false)])];
    case 'registered_models':
      return [...terms, ...(has(terms, 'name') ? [] : [attribute('name', true)])];
    case 'model_versions': {
      const base =
        terms.length === 0
          ? [
              attribute('last_updated_timestamp', false),
              attribute('name', true),
              attribute('version_number', false),
            ]
          : terms;
      return [
        ...base,
        ...(has(base, 'name') ? [] : [attribute('name', true)]),
        ...(has(base, 'version_number') ? [] : [attribute('version_number', false)]),
      ];
    }
  }
}

/** A value ready for comparison: rank 0 present, 1 NaN (metrics), 2 missing. */
interface SortValue {
  readonly rank: 0 | 1 | 2;
  readonly value: string | number;
}

const MISSING: SortValue = { rank: 2, value: '' };
const NAN: SortValue = { rank: 1, value: '' };

function sortValue(entity: SearchableEntity, term: OrderTerm): SortValue {
  let value: string | number | null | undefined;
  switch (term.kind) {
    case 'metric':
      value = entity.metric?.(term.key);
      break;
    case 'param':
      value = entity.param?.(term.key);
      break;
    case 'tag':
      value = entity.tag(term.key);
      break;
    case 'attribute':
      value = entity.attribute(term.key);
      if (typeof value === 'string' && NUMERIC_ATTRIBUTES.has(term.key) && value.trim() !== '') {
        const number = Number(value);
        if (!Number.isNaN(number)) value = number;
      }
      break;
  }
  if (value == null) return MISSING;
  if (typeof value === 'number' && Number.isNaN(value)) return NAN;
  return { rank: 0, value };
}

function compareValues(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  // Code-unit order, as the SQL stores' binary collations; mixed types compare as text.
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareSortValue(x: SortValue, y: SortValue, ascending: boolean): number {
  // NaN and missing go last in both directions: the SQL store sorts on a `CASE` column first.
  if (x.rank !== y.rank) return x.rank - y.rank;
  if (x.rank !== 0) return 0;
  const result = compareValues(x.value, y.value);
  return ascending ? result : -result;
}

/**
 * A comparator for `Array.prototype.sort` giving MLflow's order for the dialect (see
 * {@link effectiveOrder}); pass `[]` for the default order.
 */
export function compareEntities(
  terms: readonly OrderTerm[],
  dialect: SearchDialect,
): (a: SearchableEntity, b: SearchableEntity) => number {
  const order = effectiveOrder(terms, dialect);
  // Reads sort keys lazily: most comparisons are settled by the first term.
  return (a, b) => {
    for (const term of order) {
      const result = compareSortValue(sortValue(a, term), sortValue(b, term), term.ascending);
      if (result !== 0) return result;
    }
    return 0;
  };
}

/**
 * Sorts a copy of `items` as {@link compareEntities} would, reading each entity's sort keys once
 * instead of once per comparison: the better choice for large result sets.
 */
export function sortEntities<T>(
  items: readonly T[],
  entityOf: (item: T) => SearchableEntity,
  terms: readonly OrderTerm[],
  dialect: SearchDialect,
): T[] {
  const order = effectiveOrder(terms, dialect);
  return items
    .map((item) => {
      const entity = entityOf(item);
      return { item, values: order.map((term) => sortValue(entity, term)) };
    })
    .sort((a, b) => {
      for (let i = 0; i < order.length; i += 1) {
        const result = compareSortValue(a.values[i]!, b.values[i]!, order[i]!.ascending);
        if (result !== 0) return result;
      }
      return 0;
    })
    .map(({ item }) => item);
}
