import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../shared/platform/errors.ts';
import type { LinkedMetric, LoggedModelWithMetrics } from '../../shared/tracking/logged-models/model.ts';
import { parseLoggedModelFilter } from '../../shared/tracking/logged-models/search/logged-model-filter.parser.ts';
import {
  compileLoggedModelFilter,
  type DatasetFilter,
  parseLoggedModelOrderBy,
  readsMetrics,
  sortLoggedModels,
} from '../../shared/tracking/logged-models/search/logged-model-search.ts';

const metric = (key: string, value: number, extra: Partial<LinkedMetric> = {}): LinkedMetric => ({
  key,
  value,
  timestamp: 100,
  step: 0,
  runId: 'r1',
  modelId: 'm',
  ...extra,
});

function model(id: string, extra: Partial<LoggedModelWithMetrics> = {}): LoggedModelWithMetrics {
  return {
    modelId: id,
    experimentId: '1',
    name: id,
    artifactLocation: `mlflow-artifacts:/1/models/${id}/artifacts`,
    creationTimestamp: 1000,
    lastUpdatedTimestamp: 1000,
    status: 'LOGGED_MODEL_PENDING',
    modelType: '',
    sourceRunId: '',
    lifecycleStage: 'active',
    tags: {},
    params: {},
    metrics: [],
    ...extra,
  };
}

const ids = (models: readonly LoggedModelWithMetrics[]) => models.map((m) => m.modelId);
const matching = (filter: string, models: LoggedModelWithMetrics[], datasets: DatasetFilter[] = []) =>
  ids(models.filter(compileLoggedModelFilter(parseLoggedModelFilter(filter), datasets)));

describe('compileLoggedModelFilter', () => {
  const models = [
    model('a', { name: 'Alpha', tags: { team: 'ml' }, params: { lr: '0.1' }, status: 'LOGGED_MODEL_READY' }),
    model('b', { name: 'beta', tags: { team: 'DS' }, params: { lr: '0.2' }, modelType: 'agent' }),
    model('c', { name: 'gamma 100%', creationTimestamp: 2000 }),
  ];

  it('never matches a missing param or tag, whatever the comparator', () => {
    expect(matching("tags.team != 'ml'", models)).toEqual(['b']);
    expect(matching("params.lr NOT IN ('0.1')", models)).toEqual(['b']);
    expect(matching("tags.absent != 'x'", models)).toEqual([]);
    // Keys are the model's own: nothing inherited from Object.prototype is a tag or param.
    expect(matching("tags.constructor != 'x'", models)).toEqual([]);
    expect(matching("params.__proto__ != 'x'", models)).toEqual([]);
  });

  it('compares = and LIKE case-sensitively and ILIKE not, with escapes in patterns', () => {
    expect(matching("name = 'alpha'", models)).toEqual([]);
    expect(matching("name LIKE 'A%'", models)).toEqual(['a']);
    expect(matching("name ILIKE 'a%'", models)).toEqual(['a']);
    expect(matching("name LIKE '%100\\%'", models)).toEqual(['c']);
    expect(matching("name LIKE '_eta'", models)).toEqual(['b']);
  });

  it('compares timestamps as numbers and other attributes as text', () => {
    expect(matching('creation_timestamp > 1500', models)).toEqual(['c']);
    expect(matching('last_updated_timestamp = 1000', models)).toEqual(['a', 'b', 'c']);
    expect(matching("model_type = ''", models)).toEqual(['a', 'c']);
    expect(matching("status IN ('READY')", models)).toEqual(['a']);
    expect(matching("model_id NOT IN ('a', 'b')", models)).toEqual(['c']);
  });

  it('matches a metric clause when any linked metric with the key satisfies it', () => {
    const scored = [
      model('x', { metrics: [metric('acc', 0.5), metric('acc', 0.95, { step: 1 })] }),
      model('y', { metrics: [metric('acc', 0.7)] }),
      model('z', { metrics: [metric('loss', 0.99)] }),
    ];
    expect(matching('metrics.acc > 0.9', scored)).toEqual(['x']);
    expect(matching('metrics.acc < 0.6', scored)).toEqual(['x']);
    expect(matching('metrics.acc >= 0', scored)).toEqual(['x', 'y']);
  });

  it('only counts metrics on the given datasets, and keeps models with some metric on them', () => {
    const scored = [
      model('x', {
        metrics: [metric('acc', 0.95, { datasetName: 'train' }), metric('acc', 0.6, { datasetName: 'test' })],
      }),
      model('y', { metrics: [metric('acc', 0.92, { datasetName: 'test', datasetDigest: 'd1' })] }),
      model('z', { metrics: [metric('acc', 0.99)] }),
    ];
    expect(matching('metrics.acc > 0.9', scored, [{ datasetName: 'test' }])).toEqual(['y']);
    expect(matching('metrics.acc > 0.9', scored, [{ datasetName: 'test', datasetDigest: 'other' }])).toEqual(
      [],
    );
    expect(matching('', scored, [{ datasetName: 'test' }])).toEqual(['x', 'y']);
    expect(matching("name = 'y'", scored, [{ datasetName: 'train' }])).toEqual([]);
    expect(matching('', scored, [{ datasetName: 'test', datasetDigest: 'd1' }])).toEqual(['y']);
  });
});

describe('parseLoggedModelOrderBy', () => {
  it('accepts attributes with aliases and metrics with datasets', () => {
    expect(
      parseLoggedModelOrderBy([
        { fieldName: 'creation_time', ascending: false },
        { fieldName: ' name ' },
        { fieldName: 'metrics.acc', datasetName: 'test', datasetDigest: 'd1' },
        { fieldName: 'metrics.`val loss`' },
      ]),
    ).toEqual([
      { kind: 'attribute', key: 'creation_timestamp', ascending: false },
      { kind: 'attribute', key: 'name', ascending: true },
      { kind: 'metric', key: 'acc', ascending: true, datasetName: 'test', datasetDigest: 'd1' },
      { kind: 'metric', key: 'val loss', ascending: true, datasetName: undefined, datasetDigest: undefined },
    ]);
    expect(parseLoggedModelOrderBy(undefined)).toEqual([]);
  });

  it.each([
    [{ fieldName: 'params.lr' }, 'Invalid order by field name: params, only `metrics.<name>` is allowed.'],
    [{ fieldName: 'metrics.' }, 'Invalid order by field name: metrics, only `metrics.<name>` is allowed.'],
    [{ fieldName: 'bogus' }, 'Invalid order by field name: bogus.'],
    [
      { fieldName: 'metrics.acc', datasetDigest: 'd1' },
      '`dataset_digest` can only be specified if `dataset_name` is also specified.',
    ],
  ])('refuses %o', (term, message) => {
    expect(() => parseLoggedModelOrderBy([term])).toThrow(new InvalidParameterError(message));
  });
});

describe('sortLoggedModels', () => {
  it('breaks ties by creation time, newest first, then model id', () => {
    const models = [
      model('m2', { creationTimestamp: 1 }),
      model('m3', { creationTimestamp: 2 }),
      model('m1', { creationTimestamp: 1 }),
    ];
    expect(ids(sortLoggedModels(models, []))).toEqual(['m3', 'm1', 'm2']);
    expect(
      ids(sortLoggedModels(models, parseLoggedModelOrderBy([{ fieldName: 'model_id', ascending: false }]))),
    ).toEqual(['m3', 'm2', 'm1']);
  });

  it('orders by the latest metric value on the named dataset, missing values last both ways', () => {
    const models = [
      model('none'),
      model('low', { metrics: [metric('acc', 0.9, { timestamp: 1 }), metric('acc', 0.2, { timestamp: 5 })] }),
      model('high', { metrics: [metric('acc', 0.8, { datasetName: 'test' })] }),
      model('nan', { metrics: [metric('acc', Number.NaN)] }),
    ];
    const order = (ascending: boolean, datasetName?: string) =>
      ids(
        sortLoggedModels(
          models,
          parseLoggedModelOrderBy([{ fieldName: 'metrics.acc', ascending, datasetName }]),
        ),
      );
    expect(order(true).slice(0, 2)).toEqual(['low', 'high']);
    expect(order(false).slice(0, 2)).toEqual(['high', 'low']);
    expect(order(true).slice(2).sort()).toEqual(['nan', 'none']);
    expect(order(false, 'test')[0]).toBe('high');
  });

  it('does not reorder its input', () => {
    const models = [model('b'), model('a')];
    sortLoggedModels(models, parseLoggedModelOrderBy([{ fieldName: 'name' }]));
    expect(ids(models)).toEqual(['b', 'a']);
  });
});

describe('readsMetrics', () => {
  it('says when linked metrics are needed for every candidate', () => {
    expect(readsMetrics(parseLoggedModelFilter("name = 'a'"), [], [])).toBe(false);
    expect(readsMetrics(parseLoggedModelFilter('metrics.a > 1'), [], [])).toBe(true);
    expect(readsMetrics([], parseLoggedModelOrderBy([{ fieldName: 'metrics.a' }]), [])).toBe(true);
    expect(readsMetrics([], [], [{ datasetName: 'test' }])).toBe(true);
  });
});
