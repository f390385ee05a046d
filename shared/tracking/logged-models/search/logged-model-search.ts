/**
 * Filtering and ordering logged models in memory, with the semantics of MLflow 3's stores
 * (mlflow/store/tracking/sqlalchemy_store.py, `SearchLoggedModelsUtils` in search_utils.py):
 *
 * - A clause on a param, tag or metric the model lacks never matches, whatever the comparator
 *   (the SQL store joins the row it names). `=`, `!=` and `LIKE` are case-sensitive, `ILIKE` not.
 * - A metric clause matches when any linked metric with that key satisfies it (NaN compares as 0,
 *   as in the runs search); with `datasets`, only metrics recorded on one of those datasets count. `datasets` without a metric clause keeps
 *   the models that have some metric on one of them.
 * - `order_by` takes attributes and `metrics.<key>` (the latest value, on the given dataset if one
 *   is named); missing values sort last in both directions. MLflow's tie-breakers follow:
 *   `creation_timestamp` descending, then `model_id` ascending, unless already ordered by.
 */
import { InvalidParameterError } from '../../../platform/errors.ts';
import { type Clause, compileFilter, type SearchableEntity } from '../../search/index.ts';
import type { LinkedMetric, LoggedModelWithMetrics } from '../model.ts';
import {
  ATTRIBUTE_KEYS,
  type LoggedModelAttribute,
  type LoggedModelClause,
} from './logged-model-filter.parser.ts';

/** One entry of the search's `datasets`: metrics filters only consider metrics on these. */
export interface DatasetFilter {
  datasetName: string;
  datasetDigest?: string | undefined;
}

/** One entry of the search's `order_by`, as the client sends it. */
export interface OrderByInput {
  fieldName: string;
  ascending?: boolean | undefined;
  datasetName?: string | undefined;
  datasetDigest?: string | undefined;
}

/** A validated sort key. */
export interface LoggedModelOrderTerm {
  readonly kind: 'attribute' | 'metric';
  readonly key: string;
  readonly ascending: boolean;
  readonly datasetName?: string | undefined;
  readonly datasetDigest?: string | undefined;
}

/** A model as filters and sort keys see it. */
export type SearchableModel = LoggedModelWithMetrics;

function attributeValue(model: SearchableModel, key: LoggedModelAttribute): string | number {
  switch (key) {
    case 'name':
      return model.name;
    case 'model_id':
      return model.modelId;
    case 'model_type':
      return model.modelType;
    case 'status':
      return model.status;
    case 'source_run_id':
      return model.sourceRunId;
    case 'creation_timestamp':
      return model.creationTimestamp;
    case 'last_updated_timestamp':
      return model.lastUpdatedTimestamp;
  }
}

function onDataset(metric: LinkedMetric, dataset: DatasetFilter): boolean {
  return (
    metric.datasetName === dataset.datasetName &&
    (dataset.datasetDigest === undefined || metric.datasetDigest === dataset.datasetDigest)
  );
}

type Predicate = (model: SearchableModel) => boolean;

/** A model as the shared evaluator reads attributes, params and tags (own keys only: no `__proto__`). */
function searchable(model: SearchableModel): SearchableEntity {
  return {
    attribute: (key) => attributeValue(model, key as LoggedModelAttribute),
    param: (key) => (Object.hasOwn(model.params, key) ? model.params[key] : undefined),
    tag: (key) => (Object.hasOwn(model.tags, key) ? model.tags[key] : undefined),
  };
}

const NO_ATTRIBUTES = () => undefined;

/**
 * A metric clause holds when any linked metric with its key (on one of `datasets`, if given)
 * satisfies it; each metric is judged by the shared evaluator as a run's metric would be.
 */
function metricPredicate(clause: Clause, datasets: readonly DatasetFilter[]): Predicate {
  const test = compileFilter([clause]);
  return (model) =>
    model.metrics.some(
      (metric) =>
        metric.key === clause.key &&
        (datasets.length === 0 || datasets.some((dataset) => onDataset(metric, dataset))) &&
        test({ attribute: NO_ATTRIBUTES, tag: NO_ATTRIBUTES, metric: () => metric.value }),
    );
}

/**
 * Compiles parsed clauses and the `datasets` parameter into one predicate. Attributes, params and
 * tags go through the shared evaluator (`shared/tracking/search`), so LIKE, ILIKE and IN mean what
 * they mean in every other search; metrics are matched against each linked metric.
 */
export function compileLoggedModelFilter(
  clauses: readonly LoggedModelClause[],
  datasets: readonly DatasetFilter[] = [],
): Predicate {
  const others = compileFilter(clauses.filter((clause) => clause.kind !== 'metric'));
  const predicates: Predicate[] = [(model) => others(searchable(model))];
  for (const clause of clauses) {
    if (clause.kind === 'metric') predicates.push(metricPredicate(clause, datasets));
  }
  if (datasets.length > 0 && !clauses.some((clause) => clause.kind === 'metric')) {
    predicates.push((model) =>
      model.metrics.some((metric) => datasets.some((dataset) => onDataset(metric, dataset))),
    );
  }
  return (model) => predicates.every((predicate) => predicate(model));
}

/**
 * Validates `order_by` as MLflow's `parse_order_by_for_logged_models`: attributes, or
 * `metrics.<key>`; `dataset_digest` only with `dataset_name`.
 */
export function parseLoggedModelOrderBy(
  orderBy: readonly OrderByInput[] | undefined,
): LoggedModelOrderTerm[] {
  return (orderBy ?? []).map((term) => {
    const field = term.fieldName.trim();
    if (term.datasetDigest !== undefined && term.datasetName === undefined) {
      throw new InvalidParameterError(
        '`dataset_digest` can only be specified if `dataset_name` is also specified.',
      );
    }
    const ascending = term.ascending ?? true;
    const dot = field.indexOf('.');
    if (dot >= 0) {
      const entity = field.slice(0, dot);
      const key = field.slice(dot + 1).replace(/^`(.*)`$/s, '$1');
      if (entity !== 'metrics' || key === '') {
        throw new InvalidParameterError(
          `Invalid order by field name: ${entity}, only \`metrics.<name>\` is allowed.`,
        );
      }
      return {
        kind: 'metric',
        key,
        ascending,
        datasetName: term.datasetName,
        datasetDigest: term.datasetDigest,
      };
    }
    const attribute = ATTRIBUTE_KEYS.get(field);
    if (!attribute) throw new InvalidParameterError(`Invalid order by field name: ${field}.`);
    return { kind: 'attribute', key: attribute, ascending };
  });
}

/** MLflow's full order: the client's terms, then its tie-breakers. */
function effectiveOrder(terms: readonly LoggedModelOrderTerm[]): LoggedModelOrderTerm[] {
  const has = (key: string) => terms.some((term) => term.kind === 'attribute' && term.key === key);
  return [
    ...terms,
    ...(has('creation_timestamp')
      ? []
      : [{ kind: 'attribute', key: 'creation_timestamp', ascending: false } as const]),
    ...(has('model_id') ? [] : [{ kind: 'attribute', key: 'model_id', ascending: true } as const]),
  ];
}

/** The latest value (by timestamp, then step) of a metric, on the term's dataset if it names one. */
function latestMetric(model: SearchableModel, term: LoggedModelOrderTerm): number | undefined {
  let latest: LinkedMetric | undefined;
  for (const metric of model.metrics) {
    if (metric.key !== term.key) continue;
    if (term.datasetName !== undefined && metric.datasetName !== term.datasetName) continue;
    if (term.datasetDigest !== undefined && metric.datasetDigest !== term.datasetDigest) continue;
    if (
      !latest ||
      metric.timestamp > latest.timestamp ||
      (metric.timestamp === latest.timestamp && metric.step > latest.step)
    ) {
      latest = metric;
    }
  }
  return latest?.value;
}

function sortValue(model: SearchableModel, term: LoggedModelOrderTerm): string | number | undefined {
  if (term.kind === 'metric') {
    const value = latestMetric(model, term);
    return value === undefined || Number.isNaN(value) ? undefined : value;
  }
  return attributeValue(model, term.key as LoggedModelAttribute);
}

function compare(a: string | number | undefined, b: string | number | undefined, ascending: boolean): number {
  // Missing values go last whichever the direction, as the SQL store's NULLs-last ordering.
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  const result = a < b ? -1 : a > b ? 1 : 0;
  return ascending ? result : -result;
}

/** Sorts a copy of `models` by the terms and MLflow's tie-breakers, reading each sort key once. */
export function sortLoggedModels<T extends SearchableModel>(
  models: readonly T[],
  terms: readonly LoggedModelOrderTerm[],
): T[] {
  const order = effectiveOrder(terms);
  return models
    .map((model) => ({ model, values: order.map((term) => sortValue(model, term)) }))
    .sort((x, y) => {
      for (let i = 0; i < order.length; i += 1) {
        const result = compare(x.values[i], y.values[i], order[i]!.ascending);
        if (result !== 0) return result;
      }
      return 0;
    })
    .map(({ model }) => model);
}

/** Whether filtering or ordering reads linked metrics (so they must be fetched for every candidate). */
export function readsMetrics(
  clauses: readonly LoggedModelClause[],
  terms: readonly LoggedModelOrderTerm[],
  datasets: readonly DatasetFilter[],
): boolean {
  return (
    datasets.length > 0 ||
    clauses.some((clause) => clause.kind === 'metric') ||
    terms.some((term) => term.kind === 'metric')
  );
}
