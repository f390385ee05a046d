import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../shared/platform/errors.ts';
import {
  compareEntities,
  effectiveOrder,
  type OrderTerm,
  parseOrderBy,
  type SearchableEntity,
  type SearchDialect,
  sortEntities,
} from '../../shared/tracking/search/index.ts';

function rejects(orderBy: string[], dialect: SearchDialect = 'runs'): string {
  try {
    parseOrderBy(orderBy, dialect);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(orderBy)} to be rejected`);
}

const term = (kind: OrderTerm['kind'], key: string, ascending = true): OrderTerm => ({
  kind,
  key,
  ascending,
});

describe('parseOrderBy: valid clauses', () => {
  it.each<[SearchDialect, string, OrderTerm]>([
    ['runs', 'metrics.acc DESC', term('metric', 'acc', false)],
    ['runs', 'metrics.`Mean Square Error`', term('metric', 'Mean Square Error')],
    ['runs', 'metrics.`Mean Square Error` ASC', term('metric', 'Mean Square Error')],
    ['runs', 'metrics.`Mean Square Error` DESC', term('metric', 'Mean Square Error', false)],
    ['runs', '`metrics`.`a b` ASC', term('metric', 'a b')],
    ['runs', 'metrics."key1"  desc', term('metric', 'key1', false)],
    ['runs', 'params.my_param aSc', term('param', 'my_param')],
    ['runs', 'params.`my_param` DESC', term('param', 'my_param', false)],
    ['runs', 'tags.tag1    DESC', term('tag', 'tag1', false)],
    ['runs', 'attributes.start_time', term('attribute', 'start_time')],
    ['runs', 'Created DESC', term('attribute', 'start_time', false)],
    ['runs', 'attribute.run_name', term('attribute', 'run_name')],
    ['runs', 'params.my_param ', term('param', 'my_param')],
    ['experiments', 'name', term('attribute', 'name')],
    ['experiments', 'attribute.experiment_id DESC', term('attribute', 'experiment_id', false)],
    ['experiments', 'last_update_time desc', term('attribute', 'last_update_time', false)],
    ['registered_models', 'timestamp DESC', term('attribute', 'last_updated_timestamp', false)],
    ['registered_models', 'last_updated_timestamp', term('attribute', 'last_updated_timestamp')],
    ['registered_models', 'creation_timestamp ASC', term('attribute', 'creation_timestamp')],
    ['model_versions', 'version_number DESC', term('attribute', 'version_number', false)],
    ['model_versions', 'creation_timestamp', term('attribute', 'creation_timestamp')],
  ])('%s: %s', (dialect, clause, expected) => {
    expect(parseOrderBy([clause], dialect)).toEqual([expected]);
  });

  it('keeps the order of several clauses and accepts none', () => {
    expect(parseOrderBy(['params.a', 'metrics.b DESC'], 'runs')).toEqual([
      term('param', 'a'),
      term('metric', 'b', false),
    ]);
    expect(parseOrderBy(undefined, 'runs')).toEqual([]);
    expect(parseOrderBy([], 'experiments')).toEqual([]);
  });
});

describe('parseOrderBy: invalid clauses (from MLflow test_search_utils.py)', () => {
  it.each<[SearchDialect, string[], string]>([
    ['runs', ['m.acc'], "Invalid entity type 'm'"],
    ['runs', ['acc'], "Invalid attribute key 'acc'"],
    ['runs', ['attri.x'], 'Invalid entity type'],
    ['runs', ['`metrics.A'], 'Invalid order_by clause'],
    ['runs', ['`metrics.A`'], 'Invalid entity type'],
    ['runs', ['attribute.start'], 'Invalid attribute key'],
    ['runs', ['attribute.experiment_id'], "Invalid attribute key 'experiment_id'"],
    ['runs', ['metrics.A != 1'], "Invalid order_by clause 'metrics.A != 1'. Could not be parsed."],
    ['runs', ['attribute.run_id ACS'], "Invalid ordering key in order_by clause 'attribute.run_id ACS'."],
    ['runs', ['attribute.run_id decs'], 'Invalid ordering key'],
    ['runs', ['datasets.name'], "Invalid order_by entity type 'dataset'"],
    ['runs', ['metrics.a', 'metrics.a DESC'], '`order_by` contains duplicate fields'],
    ['runs', ['created', 'attributes.start_time'], '`order_by` contains duplicate fields'],
    ['registered_models', ['creation_time DESC'], "Invalid order by key 'creation_time'"],
    ['registered_models', ['last_updated_timestamp DESC blah'], 'Invalid order_by clause'],
    ['registered_models', [''], "Invalid order_by clause ''. Could not be parsed."],
    ['registered_models', ['timestamp somerandomstuff ASC'], 'Invalid order_by clause'],
    ['registered_models', ['timestamp decs'], 'Invalid ordering key'],
    ['registered_models', ['name aCs'], 'Invalid ordering key'],
    ['registered_models', ['timestamp', 'last_updated_timestamp DESC'], 'duplicate fields'],
    ['registered_models', ['tags.a'], 'Invalid order_by entity: tag'],
    ['experiments', ['tags.a'], 'Invalid order_by entity: tag'],
    ['experiments', ['metrics.a'], "Invalid entity type 'metrics'"],
    ['model_versions', ['run_id'], "Invalid attribute key 'run_id'"],
    ['model_versions', ['name', 'name DESC'], 'duplicate fields'],
  ])('%s: %j', (dialect, orderBy, message) => {
    expect(rejects(orderBy, dialect)).toContain(message);
  });

  it('allows a repeated field for experiments, as MLflow does', () => {
    expect(parseOrderBy(['name', 'name DESC'], 'experiments')).toHaveLength(2);
  });
});

describe('effectiveOrder: MLflow defaults and tie-breakers', () => {
  const attr = (key: string, ascending: boolean) => term('attribute', key, ascending);
  it.each<[SearchDialect, OrderTerm[], OrderTerm[]]>([
    ['runs', [], [attr('start_time', false), attr('run_id', true)]],
    ['runs', [term('metric', 'a')], [term('metric', 'a'), attr('start_time', false), attr('run_id', true)]],
    ['runs', [attr('start_time', true)], [attr('start_time', true), attr('run_id', true)]],
    ['experiments', [], [attr('creation_time', false), attr('experiment_id', true)]],
    ['experiments', [attr('name', true)], [attr('name', true), attr('experiment_id', false)]],
    ['experiments', [attr('experiment_id', true)], [attr('experiment_id', true)]],
    ['registered_models', [], [attr('name', true)]],
    [
      'registered_models',
      [attr('last_updated_timestamp', false)],
      [attr('last_updated_timestamp', false), attr('name', true)],
    ],
    [
      'model_versions',
      [],
      [attr('last_updated_timestamp', false), attr('name', true), attr('version_number', false)],
    ],
    ['model_versions', [attr('version_number', true)], [attr('version_number', true), attr('name', true)]],
  ])('%s %j', (dialect, terms, expected) => {
    expect(effectiveOrder(terms, dialect)).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// Sorting
// ---------------------------------------------------------------------------------------------

interface Fake {
  attributes: Record<string, string | number | null>;
  metrics?: Record<string, number | null>;
  params?: Record<string, string>;
  tags?: Record<string, string>;
}

function entity(fake: Fake): SearchableEntity & { id: string } {
  return {
    id: String(fake.attributes.run_id ?? fake.attributes.name),
    attribute: (key) => fake.attributes[key],
    metric: (key) => fake.metrics?.[key],
    param: (key) => fake.params?.[key],
    tag: (key) => fake.tags?.[key],
  };
}

function order<T extends SearchableEntity>(
  items: T[],
  orderBy: string[] | undefined,
  dialect: SearchDialect,
): T[] {
  const terms = parseOrderBy(orderBy, dialect);
  const sorted = [...items].sort(compareEntities(terms, dialect));
  // The precomputing variant must agree with the comparator.
  expect(sortEntities(items, (item) => item, terms, dialect)).toEqual(sorted);
  return sorted;
}

// The runs of MLflow's test_correct_sorting: ids 9, 8, 7.
const runs = [
  entity({
    attributes: { run_id: '9', status: 'FAILED', start_time: 0 },
    metrics: { key1: 121 },
    params: { my_param: 'A' },
  }),
  entity({
    attributes: { run_id: '8', status: 'FINISHED', start_time: 1 },
    metrics: { key1: 123 },
    params: { my_param: 'A' },
    tags: { tag1: 'C' },
  }),
  entity({
    attributes: { run_id: '7', status: 'FAILED', start_time: 1 },
    metrics: { key1: 125 },
    params: { my_param: 'B' },
    tags: { tag1: 'D' },
  }),
];

describe('compareEntities: MLflow test_correct_sorting', () => {
  it.each<[string[] | undefined, number[]]>([
    [undefined, [2, 1, 0]],
    [[], [2, 1, 0]],
    [['tags.noSuchTag'], [2, 1, 0]],
    [['attributes.status'], [2, 0, 1]],
    [['attributes.start_time'], [0, 2, 1]],
    [['metrics.key1 asc'], [0, 1, 2]],
    [['metrics."key1"  desc'], [2, 1, 0]],
    [['params.my_param'], [1, 0, 2]],
    [
      ['params.my_param aSc', 'attributes.status  ASC'],
      [0, 1, 2],
    ],
    [
      ['params.my_param', 'attributes.status DESC'],
      [1, 0, 2],
    ],
    [
      ['params.my_param DESC', 'attributes.status   DESC'],
      [2, 1, 0],
    ],
    [
      ['params.`my_param` DESC', 'attributes.status DESC'],
      [2, 1, 0],
    ],
    [['tags.tag1'], [1, 2, 0]],
    [['tags.tag1    DESC'], [2, 1, 0]],
  ])('%j', (orderBy, expected) => {
    expect(order(runs, orderBy, 'runs')).toEqual(expected.map((i) => runs[i]));
  });
});

describe('compareEntities: missing values and NaN', () => {
  // MLflow test_order_by_metric_with_nans_infs_nones.
  const values = ['nan', 'inf', '-inf', '-1000', '0', '1000', 'None'];
  const metricRuns = values.map((x) =>
    entity({
      attributes: { run_id: x, start_time: 0 },
      metrics: { x: x === 'None' ? null : Number(x.replace('inf', 'Infinity')) },
    }),
  );

  it('sorts NaN after numbers and missing values last, ascending', () => {
    expect(order(metricRuns, ['metrics.x asc'], 'runs').map((r) => r.id)).toEqual([
      '-inf',
      '-1000',
      '0',
      '1000',
      'inf',
      'nan',
      'None',
    ]);
  });

  it('sorts NaN after numbers and missing values last, descending', () => {
    expect(order(metricRuns, ['metrics.x desc'], 'runs').map((r) => r.id)).toEqual([
      'inf',
      '1000',
      '0',
      '-1000',
      '-inf',
      'nan',
      'None',
    ]);
  });

  it('puts runs without the param or tag last in both directions', () => {
    const mixed = [
      entity({ attributes: { run_id: 'a', start_time: 1 }, params: { p: 'y' } }),
      entity({ attributes: { run_id: 'b', start_time: 2 } }),
      entity({ attributes: { run_id: 'c', start_time: 3 }, params: { p: 'x' } }),
    ];
    expect(order(mixed, ['params.p'], 'runs').map((r) => r.id)).toEqual(['c', 'a', 'b']);
    expect(order(mixed, ['params.p DESC'], 'runs').map((r) => r.id)).toEqual(['a', 'c', 'b']);
  });

  it('puts running runs (no end_time) last', () => {
    const ended = [
      entity({ attributes: { run_id: 'a', start_time: 1, end_time: null } }),
      entity({ attributes: { run_id: 'b', start_time: 1, end_time: 5 } }),
    ];
    expect(order(ended, ['attributes.end_time DESC'], 'runs').map((r) => r.id)).toEqual(['b', 'a']);
  });

  it('breaks start_time ties by run_id ascending', () => {
    const tied = ['c', 'a', 'b'].map((id) => entity({ attributes: { run_id: id, start_time: 5 } }));
    expect(order(tied, [], 'runs').map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('compareEntities: experiments, registered models, model versions', () => {
  const experiments = [
    { name: 'b', experiment_id: 2, creation_time: 10 },
    { name: 'a', experiment_id: 10, creation_time: 10 },
    { name: 'c', experiment_id: 1, creation_time: 30 },
  ].map((attributes) => entity({ attributes }));

  it.each<[string[], string[]]>([
    [[], ['c', 'b', 'a']],
    [['name'], ['a', 'b', 'c']],
    [['creation_time'], ['a', 'b', 'c']],
    [['experiment_id'], ['c', 'b', 'a']],
    [['experiment_id DESC'], ['a', 'b', 'c']],
  ])('experiments %j', (orderBy, expected) => {
    expect(order(experiments, orderBy, 'experiments').map((e) => e.id)).toEqual(expected);
  });

  it('orders numeric ids given as strings numerically', () => {
    const stringIds = ['10', '9', '100'].map((id) =>
      entity({ attributes: { name: id, experiment_id: id, creation_time: 0 } }),
    );
    expect(order(stringIds, ['experiment_id'], 'experiments').map((e) => e.id)).toEqual(['9', '10', '100']);
  });

  const models = [
    { name: 'b', last_updated_timestamp: 5, creation_timestamp: 1 },
    { name: 'a', last_updated_timestamp: 5, creation_timestamp: 3 },
    { name: 'C', last_updated_timestamp: 9, creation_timestamp: 2 },
  ].map((attributes) => entity({ attributes }));

  it.each<[string[], string[]]>([
    [[], ['C', 'a', 'b']],
    [['name DESC'], ['b', 'a', 'C']],
    [['timestamp DESC'], ['C', 'a', 'b']],
    [['creation_timestamp'], ['b', 'C', 'a']],
  ])('registered models %j', (orderBy, expected) => {
    expect(order(models, orderBy, 'registered_models').map((m) => m.id)).toEqual(expected);
  });

  const versions = [
    { name: 'm', version_number: 1, last_updated_timestamp: 10 },
    { name: 'm', version_number: 2, last_updated_timestamp: 10 },
    { name: 'a', version_number: 1, last_updated_timestamp: 5 },
  ].map((attributes) => ({
    ...entity({ attributes }),
    id: `${attributes.name}/${attributes.version_number}`,
  }));

  it.each<[string[], string[]]>([
    [[], ['m/2', 'm/1', 'a/1']],
    [['name'], ['a/1', 'm/2', 'm/1']],
    [['version_number'], ['a/1', 'm/1', 'm/2']],
    [['last_updated_timestamp'], ['a/1', 'm/2', 'm/1']],
  ])('model versions %j', (orderBy, expected) => {
    expect(order(versions, orderBy, 'model_versions').map((v) => v.id)).toEqual(expected);
  });
});
