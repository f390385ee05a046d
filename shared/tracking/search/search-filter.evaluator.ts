/**
 * Evaluates parsed filter clauses against entities in memory, with the semantics of MLflow's
 * SQL stores (mlflow/store/tracking/sqlalchemy_store.py, mlflow/store/model_registry/
 * sqlalchemy_store.py, 2.22), which is what MLflow servers answer with in production:
 *
 * - Every clause joins the entity to the row it names, so an entity without that metric, param,
 *   tag or attribute value never matches, whatever the comparator: `tags.x != 'a'` does not
 *   return entities that lack tag `x`, `attributes.end_time > 0` skips running runs.
 * - Metrics compare their latest value (MLflow's `latest_metrics` table). The SQL store stores a
 *   NaN as 0 (flagged `is_nan`) and ±Infinity as ±1.7976931348623157e308, and filters on the
 *   stored value, so `metrics.loss = 0` matches a NaN loss. We copy that.
 * - `=`, `!=` and `LIKE` are case-sensitive (MLflow sets `PRAGMA case_sensitive_like` on SQLite
 *   and uses `BINARY` on MySQL); `ILIKE` is not.
 * - Dataset clauses match when any one of the run's dataset inputs satisfies them.
 */
import type { Clause } from './search-filter.parser.ts';

/** A dataset a run used, as far as search can see it (`context` is the `mlflow.data.context` input tag). */
export interface DatasetSummary {
  readonly name: string;
  readonly digest: string;
  readonly context?: string | null | undefined;
}

/**
 * Read access to one experiment, run, registered model or model version, so that filtering and
 * ordering work for all of them. Return `undefined` (or `null`) for what the entity lacks.
 *
 * Attribute keys asked for (canonical, see `Clause.key`):
 * - runs: `run_id`, `run_name`, `status`, `user_id`, `artifact_uri`, `start_time`, `end_time`;
 * - experiments: `name`, `experiment_id`, `creation_time`, `last_update_time`;
 * - registered models: `name`, `creation_timestamp`, `last_updated_timestamp`;
 * - model versions: `name`, `version_number`, `run_id`, `source_path`, `creation_timestamp`,
 *   `last_updated_timestamp`.
 *
 * Numeric attributes should be returned as numbers (numeric strings are converted).
 */
export interface SearchableEntity {
  attribute(key: string): string | number | null | undefined;
  /** The metric's latest value: greatest (step, timestamp, value), as MLflow's `latest_metrics`. */
  metric?(key: string): number | null | undefined;
  param?(key: string): string | null | undefined;
  tag(key: string): string | null | undefined;
  datasets?(): ReadonlyArray<DatasetSummary>;
}

/** A compiled filter: true when the entity satisfies every clause. */
export type EntityPredicate = (entity: SearchableEntity) => boolean;

// ---------------------------------------------------------------------------------------------
// LIKE
// ---------------------------------------------------------------------------------------------

type PatternPart = { readonly kind: 'literal'; readonly char: string } | { readonly kind: 'one' | 'many' };

/**
 * A SQL LIKE pattern: `%` is any run of characters (newlines included), `_` exactly one
 * character, and a backslash makes the next character literal (Postgres' and MySQL's default
 * escape, so `'100\%'` finds "100%"). Everything else, regex metacharacters included, is literal.
 *
 * Matching does not use a RegExp: a pattern with many `%` compiled to `.*` chains backtracks
 * polynomially in the value length, and a client controls the pattern. The wildcard walk below
 * is O(pattern × value) at worst.
 */
export class LikePattern {
  private readonly parts: readonly PatternPart[];

  constructor(
    pattern: string,
    private readonly caseInsensitive: boolean,
  ) {
    const chars = Array.from(caseInsensitive ? pattern.toLowerCase() : pattern);
    const parts: PatternPart[] = [];
    for (let i = 0; i < chars.length; i += 1) {
      const char = chars[i]!;
      if (char === '\\' && i + 1 < chars.length) {
        i += 1;
        parts.push({ kind: 'literal', char: chars[i]! });
      } else if (char === '%') {
        // Consecutive %s mean the same as one.
        if (parts.at(-1)?.kind !== 'many') parts.push({ kind: 'many' });
      } else if (char === '_') {
        parts.push({ kind: 'one' });
      } else {
        parts.push({ kind: 'literal', char });
      }
    }
    this.parts = parts;
  }

  /** Whether the whole of `value` matches the pattern. */
  test(value: string): boolean {
    const chars = Array.from(this.caseInsensitive ? value.toLowerCase() : value);
    const parts = this.parts;
    let p = 0;
    let c = 0;
    let starPart = -1;
    let starChar = 0;
    while (c < chars.length) {
      const part = parts[p];
      if (part && (part.kind === 'one' || (part.kind === 'literal' && part.char === chars[c]))) {
        p += 1;
        c += 1;
      } else if (part?.kind === 'many') {
        starPart = p;
        starChar = c;
        p += 1;
      } else if (starPart >= 0) {
        // Let the last % swallow one more character and retry from just after it.
        p = starPart + 1;
        starChar += 1;
        c = starChar;
      } else {
        return false;
      }
    }
    while (parts[p]?.kind === 'many') p += 1;
    return p === parts.length;
  }
}

// ---------------------------------------------------------------------------------------------
// Comparisons
// ---------------------------------------------------------------------------------------------

/** What the SQL store keeps for a metric value (`_get_metric_value_details`). */
export function storedMetricValue(value: number): number {
  if (Number.isNaN(value)) return 0;
  if (value === Number.POSITIVE_INFINITY) return Number.MAX_VALUE;
  if (value === Number.NEGATIVE_INFINITY) return -Number.MAX_VALUE;
  return value;
}

/** A numeric comparison, compiled once (`=`, `!=`, `<`, `<=`, `>`, `>=`). */
export function numberTest(comparator: string, expected: number): (actual: number) => boolean {
  switch (comparator) {
    case '=':
      return (actual) => actual === expected;
    case '!=':
      return (actual) => actual !== expected;
    case '<':
      return (actual) => actual < expected;
    case '<=':
      return (actual) => actual <= expected;
    case '>':
      return (actual) => actual > expected;
    case '>=':
      return (actual) => actual >= expected;
    default:
      throw new TypeError(`Comparator ${comparator} does not apply to numbers`);
  }
}

/** A string comparison, compiled once (`=`, `!=`, `LIKE`, `ILIKE`, `IN`, `NOT IN`). */
export function stringTest(
  comparator: string,
  expected: Clause['value'] | null,
): (actual: string) => boolean {
  if (comparator === 'IN' || comparator === 'NOT IN') {
    if (!Array.isArray(expected)) throw new TypeError(`${comparator} needs a list value`);
    const values = new Set(expected);
    return comparator === 'IN' ? (actual) => values.has(actual) : (actual) => !values.has(actual);
  }
  if (typeof expected !== 'string') throw new TypeError(`${comparator} needs a string value`);
  switch (comparator) {
    case '=':
      return (actual) => actual === expected;
    case '!=':
      return (actual) => actual !== expected;
    case 'LIKE':
    case 'ILIKE': {
      const pattern = new LikePattern(expected, comparator === 'ILIKE');
      return (actual) => pattern.test(actual);
    }
    default:
      throw new TypeError(`Comparator ${comparator} does not apply to strings`);
  }
}

function numeric(value: string | number): number | undefined {
  const number = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  return Number.isNaN(number) ? undefined : number;
}

function compileClause(clause: Clause): EntityPredicate {
  const { key, comparator, value } = clause;
  switch (clause.kind) {
    case 'metric': {
      if (typeof value !== 'number') throw new TypeError('A metric clause needs a numeric value');
      const test = numberTest(comparator, value);
      return (entity) => {
        const actual = entity.metric?.(key);
        return actual != null && test(storedMetricValue(actual));
      };
    }
    case 'param': {
      const test = stringTest(comparator, value);
      return (entity) => {
        const actual = entity.param?.(key);
        return actual != null && test(actual);
      };
    }
    case 'tag': {
      const test = stringTest(comparator, value);
      return (entity) => {
        const actual = entity.tag(key);
        return actual != null && test(actual);
      };
    }
    case 'attribute': {
      if (typeof value === 'number') {
        const test = numberTest(comparator, value);
        return (entity) => {
          const actual = entity.attribute(key);
          const number = actual == null ? undefined : numeric(actual);
          return number !== undefined && test(number);
        };
      }
      const test = stringTest(comparator, value);
      return (entity) => {
        const actual = entity.attribute(key);
        return actual != null && test(String(actual));
      };
    }
    case 'dataset': {
      if (key !== 'name' && key !== 'digest' && key !== 'context') {
        throw new TypeError(`Unknown dataset key ${key}`);
      }
      const test = stringTest(comparator, value);
      return (entity) =>
        (entity.datasets?.() ?? []).some((dataset) => {
          const actual = dataset[key];
          return actual != null && test(actual);
        });
    }
  }
}

/**
 * Compiles parsed clauses into one predicate: LIKE patterns and IN sets are built once, so
 * filtering many entities costs only the comparisons.
 */
export function compileFilter(clauses: readonly Clause[]): EntityPredicate {
  const predicates = clauses.map(compileClause);
  if (predicates.length === 0) return () => true;
  return (entity) => predicates.every((predicate) => predicate(entity));
}

const compiled = new WeakMap<readonly Clause[], EntityPredicate>();

/**
 * Whether `entity` satisfies every clause (an empty list matches everything). The clauses are
 * compiled on first use and the result cached per array, so calling this in a loop over many
 * entities with the same parsed filter is cheap.
 */
export function matchesFilter(clauses: readonly Clause[], entity: SearchableEntity): boolean {
  let predicate = compiled.get(clauses);
  if (!predicate) {
    predicate = compileFilter(clauses);
    compiled.set(clauses, predicate);
  }
  return predicate(entity);
}
