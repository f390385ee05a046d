/**
 * Which part of a run search the index can answer (`shared/tracking/README.md`, "Why search reads in
 * proportion to its hits"). A plan names the runs to read: every run the search can return is among
 * them (the rest of the filter, the view type, the order and the page are applied to the runs read,
 * exactly as for a full read), so a plan only has to be a superset of the hits, as small as it can.
 */
import type { EqualityProbe, MetricWalk } from '../ports.ts';
import { metricValueOrder, RUN_NAME_TAG } from '../run.model.ts';
import type { OrderTerm } from './order-by.ts';
import type { Clause, Comparator } from './search-filter.parser.ts';

export type RunSearchPlan =
  /** `run_id = ...` or `run_id IN (...)`: the runs themselves. */
  | { kind: 'ids'; runIds: string[] }
  /** An equality on a param, a tag (the run name is one) or the status. */
  | { kind: 'equality'; probe: EqualityProbe }
  /** A threshold on a metric's latest value, read in value order. */
  | { kind: 'metric-range'; walk: MetricWalk }
  /**
   * The page's order starts with a metric: walk its values in that order until the page is full.
   * `complete`: the filter names that metric, so runs without it never match and the walk's end is
   * the end of the answer; otherwise the runs without the metric would come after the walk's.
   */
  | { kind: 'metric-order'; walk: MetricWalk; complete: boolean };

/**
 * The plan for a search, or undefined when the index cannot narrow it (no equality, threshold or
 * metric order it keeps; LIKE, !=, NOT IN, user, times, datasets alone). The most selective kind
 * wins: run ids, then run name, tag and param equalities, then a metric threshold (ordered by the
 * same metric or not), then a status, then an order by a metric with nothing else to narrow it.
 */
export function planRunSearch(
  clauses: readonly Clause[],
  order: readonly OrderTerm[],
): RunSearchPlan | undefined {
  const ids = clauses.find((c) => c.kind === 'attribute' && c.key === 'run_id' && isEquality(c.comparator));
  if (ids) return { kind: 'ids', runIds: listOf(ids.value) };

  const equality = (kind: Clause['kind'], key?: string) =>
    clauses.find((c) => c.kind === kind && (key === undefined || c.key === key) && isEquality(c.comparator));
  const runName = equality('attribute', 'run_name');
  if (runName)
    return { kind: 'equality', probe: { kind: 'tag', key: RUN_NAME_TAG, values: listOf(runName.value) } };
  for (const kind of ['tag', 'param'] as const) {
    const clause = equality(kind);
    if (clause) return { kind: 'equality', probe: { kind, key: clause.key, values: listOf(clause.value) } };
  }

  const [first] = order;
  const ordered = first?.kind === 'metric' ? first : undefined;
  const thresholds = clauses.filter((c) => c.kind === 'metric' && c.comparator !== '!=');
  const thresholdKey =
    thresholds.find((c) => c.key === ordered?.key)?.key ?? (thresholds[0] as Clause | undefined)?.key;
  if (thresholdKey !== undefined) {
    const walk = metricWalk(
      clauses,
      thresholdKey,
      ordered?.key === thresholdKey ? !ordered.ascending : false,
    );
    return ordered?.key === thresholdKey
      ? { kind: 'metric-order', walk, complete: true }
      : { kind: 'metric-range', walk };
  }

  const status = equality('attribute', 'status');
  if (status) return { kind: 'equality', probe: { kind: 'status', values: listOf(status.value) } };

  if (ordered) {
    const complete = clauses.some((c) => c.kind === 'metric' && c.key === ordered.key);
    return { kind: 'metric-order', walk: metricWalk(clauses, ordered.key, !ordered.ascending), complete };
  }
  return undefined;
}

function isEquality(comparator: Comparator): boolean {
  return comparator === '=' || comparator === 'IN';
}

function listOf(value: Clause['value']): string[] {
  return Array.isArray(value) ? value : [String(value)];
}

/**
 * The walk over metric `key` that holds every run the clauses on it can match: the tightest bounds
 * of their comparisons, and the NaN runs if a NaN passes them all. (The filter compares what MLflow's
 * SQL store keeps: NaN as 0, so `metrics.loss <= 0` matches a NaN loss; ±Infinity are stored as the
 * largest doubles, which are numbers here.)
 */
function metricWalk(clauses: readonly Clause[], key: string, descending: boolean): MetricWalk {
  let lower: MetricWalk['lower'];
  let upper: MetricWalk['upper'];
  let nan = true;
  const tighter = (
    bound: MetricWalk['lower'],
    candidate: NonNullable<MetricWalk['lower']>,
    higher: boolean,
  ) => {
    if (!bound || bound.order !== candidate.order) {
      if (!bound) return candidate;
      return candidate.order > bound.order === higher ? candidate : bound;
    }
    return bound.inclusive && candidate.inclusive ? bound : { order: bound.order, inclusive: false };
  };
  for (const clause of clauses) {
    if (clause.kind !== 'metric' || clause.key !== key || typeof clause.value !== 'number') continue;
    const order = metricValueOrder(clause.value);
    const { comparator, value } = clause;
    if (comparator === '>' || comparator === '>=' || comparator === '=') {
      lower = tighter(lower, { order, inclusive: comparator !== '>' }, true);
    }
    if (comparator === '<' || comparator === '<=' || comparator === '=') {
      upper = tighter(upper, { order, inclusive: comparator !== '<' }, false);
    }
    if (!compare(0, comparator, value)) nan = false;
  }
  return { key, descending, lower, upper, nan };
}

function compare(actual: number, comparator: Comparator, expected: number): boolean {
  switch (comparator) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    default:
      return true;
  }
}
