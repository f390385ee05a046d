import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../shared/platform/errors.ts';
import {
  type Clause,
  compileFilter,
  type DatasetSummary,
  LikePattern,
  matchesFilter,
  parseSearchFilter,
  type SearchableEntity,
  type SearchDialect,
} from '../../shared/tracking/search/index.ts';

function rejects(filter: string, dialect: SearchDialect = 'runs'): string {
  try {
    parseSearchFilter(filter, dialect);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).errorCode).toBe('INVALID_PARAMETER_VALUE');
    return (error as Error).message;
  }
  throw new Error(`expected '${filter}' to be rejected`);
}

const clause = (
  kind: Clause['kind'],
  key: string,
  comparator: Clause['comparator'],
  value: Clause['value'],
) => ({
  kind,
  key,
  comparator,
  value,
});

describe('parseSearchFilter: valid run filters (from MLflow test_search_utils.py::test_filter)', () => {
  it.each<[string, Clause[]]>([
    ['metric.acc >= 0.94', [clause('metric', 'acc', '>=', 0.94)]],
    ['metric.acc>=100', [clause('metric', 'acc', '>=', 100)]],
    ["params.m!='tf'", [clause('param', 'm', '!=', 'tf')]],
    ['params."m"!="tf"', [clause('param', 'm', '!=', 'tf')]],
    ['metric."legit name" >= 0.243', [clause('metric', 'legit name', '>=', 0.243)]],
    ['metrics.XYZ = 3', [clause('metric', 'XYZ', '=', 3)]],
    ['params."cat dog" = "pets"', [clause('param', 'cat dog', '=', 'pets')]],
    ['metrics."X-Y-Z" = 3', [clause('metric', 'X-Y-Z', '=', 3)]],
    ['metrics."X//Y#$$@&Z" = 3', [clause('metric', 'X//Y#$$@&Z', '=', 3)]],
    ["params.model = 'LinearRegression'", [clause('param', 'model', '=', 'LinearRegression')]],
    [
      "metrics.rmse < 1 and params.model_class = 'LR'",
      [clause('metric', 'rmse', '<', 1), clause('param', 'model_class', '=', 'LR')],
    ],
    ['', []],
    ['   ', []],
    ['`metric`.a >= 0.1', [clause('metric', 'a', '>=', 0.1)]],
    ["tags.version = 'commit-hash'", [clause('tag', 'version', '=', 'commit-hash')]],
    ["`tags`.source_name = 'a notebook'", [clause('tag', 'source_name', '=', 'a notebook')]],
    ['metrics."accuracy.2.0" > 5', [clause('metric', 'accuracy.2.0', '>', 5)]],
    ['metrics.`spacey name` > 5', [clause('metric', 'spacey name', '>', 5)]],
    ['params."p.a.r.a.m" != "a"', [clause('param', 'p.a.r.a.m', '!=', 'a')]],
    ['tags."t.a.g" = "a"', [clause('tag', 't.a.g', '=', 'a')]],
    ["attribute.artifact_uri = '1/23/4'", [clause('attribute', 'artifact_uri', '=', '1/23/4')]],
    ['attribute.start_time >= 1234', [clause('attribute', 'start_time', '>=', 1234)]],
    ["run.status = 'RUNNING'", [clause('attribute', 'status', '=', 'RUNNING')]],
    ["dataset.name = 'my_dataset'", [clause('dataset', 'name', '=', 'my_dataset')]],
    // test_correct_quote_trimming
    ["params.m = 'LR'", [clause('param', 'm', '=', 'LR')]],
    ['params.m = "LR"', [clause('param', 'm', '=', 'LR')]],
    ['params.m = "L\'Hosp"', [clause('param', 'm', '=', "L'Hosp")]],
  ])('%s', (filter, expected) => {
    expect(parseSearchFilter(filter, 'runs')).toEqual(expected);
  });

  it('treats an absent filter as no filter', () => {
    expect(parseSearchFilter(undefined, 'runs')).toEqual([]);
  });
});

describe('parseSearchFilter: identifiers, aliases and literals', () => {
  it.each<[string, Clause[]]>([
    ['parameter.lr = "0.1"', [clause('param', 'lr', '=', '0.1')]],
    ["parameters.lr = '0.1'", [clause('param', 'lr', '=', '0.1')]],
    ["param.lr LIKE '0.%'", [clause('param', 'lr', 'LIKE', '0.%')]],
    ["tag.team ILIKE '%ML%'", [clause('tag', 'team', 'ILIKE', '%ML%')]],
    ["attr.user_id = 'bob'", [clause('attribute', 'user_id', '=', 'bob')]],
    ["attributes.run_name like 'run-%'", [clause('attribute', 'run_name', 'LIKE', 'run-%')]],
    ['attributes.created > 5', [clause('attribute', 'start_time', '>', 5)]],
    ['attributes.Created <= 5', [clause('attribute', 'start_time', '<=', 5)]],
    ['attributes."run name" = \'x\'', [clause('attribute', 'run_name', '=', 'x')]],
    ["attributes.`Run Name` = 'x'", [clause('attribute', 'run_name', '=', 'x')]],
    ["status = 'FAILED'", [clause('attribute', 'status', '=', 'FAILED')]],
    ['end_time < -1.5e3', [clause('attribute', 'end_time', '<', -1500)]],
    ['metrics.a > .5', [clause('metric', 'a', '>', 0.5)]],
    ['metrics.a > 1.', [clause('metric', 'a', '>', 1)]],
    ["tags.'quoted key' = 'v'", [clause('tag', 'quoted key', '=', 'v')]],
    ['attributes.run_id IN (\'abc\', "def")', [clause('attribute', 'run_id', 'IN', ['abc', 'def'])]],
    ["attributes.run_id not   in ('abc',)", [clause('attribute', 'run_id', 'NOT IN', ['abc'])]],
    ["datasets.digest IN ('d1', 'd2')", [clause('dataset', 'digest', 'IN', ['d1', 'd2'])]],
    ["datasets.context = 'train'", [clause('dataset', 'context', '=', 'train')]],
    // MLflow trims one pair of quotes and does not unescape what is inside.
    ["params.p = 'it''s'", [clause('param', 'p', '=', "it''s")]],
  ])('%s', (filter, expected) => {
    expect(parseSearchFilter(filter, 'runs')).toEqual(expected);
  });
});

describe('parseSearchFilter: invalid filters (from MLflow test_search_utils.py)', () => {
  it.each([
    ['metric.acc >= 0.94; metrics.rmse < 1', 'Search filter contained multiple expression'],
    ['m.acc >= 0.94', "Invalid entity type 'm'"],
    ['acc >= 0.94', "Invalid attribute key 'acc'"],
    ["p.model >= 'LR'", 'Invalid entity type'],
    ['attri.x != 1', 'Invalid entity type'],
    ['a.x != 1', 'Invalid entity type'],
    ["model >= 'LR'", 'Invalid attribute key'],
    ["metrics.A > 0.1 OR params.B = 'LR'", "Invalid clause(s) in filter string: 'OR'"],
    ["metrics.A > 0.1 NAND params.B = 'LR'", "Invalid clause(s) in filter string: 'NAND'"],
    ["metrics.A > 0.1 AND (params.B = 'LR')", 'Invalid clause(s) in filter string'],
    ['`metrics.A > 0.1', 'Invalid clause(s) in filter string'],
    ['param`.A > 0.1', 'Invalid clause(s) in filter string'],
    ['`dummy.A > 0.1', 'Invalid clause(s) in filter string'],
    ['dummy`.A > 0.1', 'Invalid clause(s) in filter string'],
    ['attribute.start != 1', 'Invalid attribute key'],
    ['attribute.experiment_id != 1', "Invalid attribute key 'experiment_id'"],
    ["attribute.lifecycle_stage = 'ACTIVE'", "Invalid attribute key 'lifecycle_stage'"],
    ['attribute.name != 1', 'Invalid attribute key'],
    ['attribute.time != 1', 'Invalid attribute key'],
    ["attribute._status != 'RUNNING'", 'Invalid attribute key'],
    ['attribute.status = true', 'Invalid clause(s) in filter string'],
    ["dataset.status = 'true'", "Invalid dataset key 'status'"],
    ["dataset.profile = 'num_rows: 10'", 'Invalid dataset key'],
    // test_error_comparison_clauses
    ["metric.model = 'LR'", 'Expected numeric value type for metric'],
    ["metric.model = '5'", 'Expected numeric value type for metric'],
    ['params.acc = 5', 'Expected a quoted string value for param'],
    ['tags.acc = 5', 'Expected a quoted string value for tag'],
    ['metrics.acc != metrics.acc', 'Expected numeric value type for metric'],
    ['1.0 > metrics.acc', "Expected 'Identifier' found '1.0'"],
    ['attribute.status = 1', 'Expected a quoted string value for attributes'],
    // test_bad_quotes
    ['params.acc = LR', 'value is either not quoted or unidentified quote types'],
    ['tags.acc = LR', 'value is either not quoted or unidentified quote types'],
    ['params.acc = `LR`', 'value is either not quoted or unidentified quote types'],
    ["params.'acc = LR", 'Invalid clause(s) in filter string'],
    ["params.acc = 'LR", 'Invalid clause(s) in filter string'],
    ["params.acc = LR'", 'Invalid clause(s) in filter string'],
    ['params.acc = "LR\'', 'Invalid clause(s) in filter string'],
    ['tags.acc = "LR\'', 'Invalid clause(s) in filter string'],
    ["tags.acc = = 'LR'", "Invalid clause(s) in filter string: '='"],
    ["attribute.status IS 'RUNNING'", 'Invalid clause(s) in filter string'],
    // test_invalid_clauses
    ['params.acc LR !=', "Invalid clause(s) in filter string: 'LR'"],
    ['params.acc LR', 'Invalid clause(s) in filter string'],
    ['metric.acc !=', 'Invalid clause(s) in filter string: incomplete condition'],
    ['acc != 1.0', 'Invalid attribute key'],
    ['1=1', "Expected 'Identifier' found '1'"],
    ['1==2', "Expected 'Identifier' found '1'"],
  ])('%s', (filter, message) => {
    expect(rejects(filter)).toContain(message);
  });
});

describe('parseSearchFilter: comparators per identifier type (MLflow test_bad_comparators)', () => {
  it.each([
    ['metrics.abc ~ 1.0', "Invalid comparator '~' for metric 'abc'"],
    ['metrics.abc ~= 1.0', "Invalid comparator '~='"],
    ["metrics.abc LIKE '1'", "Invalid comparator 'LIKE' for metric"],
    ['metrics.abc == 1', "Invalid comparator '=='"],
    ["params.abc > 'my-param-value'", "Invalid comparator '>' for param 'abc'"],
    ["params.abc <= 'my-param-value'", "Invalid comparator '<='"],
    ["`params`.model >= 'LR'", "Invalid comparator '>='"],
    ["tags.abc < 'my-tag-value'", "Invalid comparator '<' for tag 'abc'"],
    ["params.abc IN ('a')", "Invalid comparator 'IN' for param"],
    ["params.abc NOT LIKE 'a%'", "Invalid comparator 'NOT LIKE'"],
    ["tags.abc RLIKE 'a'", "Invalid comparator 'RLIKE'"],
    ["attributes.status > 'my-tag-value'", "Invalid comparator '>' for string attribute 'status'"],
    ["attributes.start_time LIKE '1234'", "Invalid comparator 'LIKE' for numeric attribute 'start_time'"],
    ["datasets.name >= 'my-dataset-name'", "Invalid comparator '>=' for dataset key 'name'"],
  ])('%s', (filter, message) => {
    expect(rejects(filter)).toContain(message);
  });

  it('names the valid comparators', () => {
    expect(rejects("attributes.status > 'x'")).toContain("'=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'");
  });
});

describe('parseSearchFilter: lists, null checks and other rejections', () => {
  it.each([
    ["attributes.status IN ('a')", "Only the 'run_id' attribute supports comparison with a list"],
    ["attributes.run_id = ('a')", 'a list of values needs IN or NOT IN'],
    ['attributes.run_id IN ()', 'but got empty list'],
    ["attributes.run_id IN ('a' 'b')", 'but got ill-formed list'],
    ["attributes.run_id IN (,'a')", 'but got ill-formed list'],
    ["attributes.run_id IN (('a'))", 'but got ill-formed list'],
    ["attributes.run_id IN ('a', 1)", 'but got different type in list'],
    ["attributes.run_id IN 'a'", "Invalid clause(s) in filter string: ''a''"],
    ["attributes.run_id IN ('a'", 'Unbalanced parenthesis'],
    ['tags.version IS NULL', 'IS NULL / IS NOT NULL comparisons are not supported'],
    ['params.lr IS NOT NULL', 'IS NULL / IS NOT NULL comparisons are not supported'],
    ['tags.x = NULL', "Invalid clause(s) in filter string: 'NULL'"],
    ['metrics.a > 1 AND', "Nothing follows 'AND'"],
    ["metrics.a > 1 AND AND params.b = 'x'", "Invalid clause(s) in filter string: 'AND'"],
    ['metrics.a > +1', "Invalid clause(s) in filter string: '+'"],
    ["params. = 'x'", 'the key is empty'],
    ['metrics.a > 1;', 'Invalid clause(s) in filter string'],
  ])('%s', (filter, message) => {
    expect(rejects(filter)).toContain(message);
  });
});

describe('parseSearchFilter: other dialects', () => {
  it.each<[SearchDialect, string, Clause[]]>([
    ['experiments', "name LIKE 'a%'", [clause('attribute', 'name', 'LIKE', 'a%')]],
    ['experiments', "attribute.name = 'x'", [clause('attribute', 'name', '=', 'x')]],
    [
      'experiments',
      'creation_time > 100 AND last_update_time <= 200',
      [clause('attribute', 'creation_time', '>', 100), clause('attribute', 'last_update_time', '<=', 200)],
    ],
    ['experiments', "tags.`team name` != 'ml'", [clause('tag', 'team name', '!=', 'ml')]],
    ['registered_models', "name ilike '%prod%'", [clause('attribute', 'name', 'ILIKE', '%prod%')]],
    ['registered_models', "tag.stage = 'x'", [clause('tag', 'stage', '=', 'x')]],
    [
      'model_versions',
      "name = 'm' AND version_number >= 2",
      [clause('attribute', 'name', '=', 'm'), clause('attribute', 'version_number', '>=', 2)],
    ],
    ['model_versions', "version_number = '3'", [clause('attribute', 'version_number', '=', 3)]],
    ['model_versions', "run_id IN ('r1', 'r2')", [clause('attribute', 'run_id', 'IN', ['r1', 'r2'])]],
    ['model_versions', "source_path LIKE 's3://%'", [clause('attribute', 'source_path', 'LIKE', 's3://%')]],
  ])('%s: %s', (dialect, filter, expected) => {
    expect(parseSearchFilter(filter, dialect)).toEqual(expected);
  });

  it.each<[SearchDialect, string, string]>([
    ['experiments', "attributes.name = 'x'", "Invalid entity type 'attributes'. Valid entity types are"],
    ['experiments', 'metrics.a > 1', "Invalid entity type 'metrics'"],
    ['experiments', "`tags`.a = 'x'", "Invalid entity type '`tags`'"],
    ['experiments', 'experiment_id = 1', "Invalid attribute key 'experiment_id'"],
    [
      'experiments',
      "creation_time > '5'",
      'Expected numeric value type for numeric attribute: creation_time',
    ],
    ['experiments', "name IN ('a')", "Invalid comparator 'IN' for string attribute 'name'"],
    ['experiments', "tags.a < 'x'", "Invalid comparator '<' for tag 'a'"],
    ['registered_models', 'name = 3', 'Expected a quoted string value for attributes'],
    ['registered_models', "run_id = 'x'", "Invalid attribute key 'run_id'"],
    ['registered_models', "params.a = 'x'", 'Invalid entity type'],
    ['model_versions', "run_id NOT IN ('a')", "Invalid comparator 'NOT IN'"],
    ['model_versions', "name IN ('a')", "Invalid comparator 'IN' for string attribute 'name'"],
    [
      'model_versions',
      "version_number = 'abc'",
      'Expected numeric value type for numeric attribute: version_number',
    ],
    ['model_versions', "version_number LIKE '1%'", "Invalid comparator 'LIKE' for numeric attribute"],
    ['model_versions', 'creation_timestamp > 1', "Invalid attribute key 'creation_timestamp'"],
  ])('%s rejects %s', (dialect, filter, message) => {
    expect(rejects(filter, dialect)).toContain(message);
  });
});

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

interface FakeRun {
  attributes: Record<string, string | number | null>;
  metrics?: Record<string, number>;
  params?: Record<string, string>;
  tags?: Record<string, string>;
  datasets?: DatasetSummary[];
}

function entity(run: FakeRun): SearchableEntity {
  return {
    attribute: (key) => run.attributes[key],
    metric: (key) => run.metrics?.[key],
    param: (key) => run.params?.[key],
    tag: (key) => run.tags?.[key],
    datasets: () => run.datasets ?? [],
  };
}

// The three runs of MLflow's test_correct_filtering.
const runs = [
  {
    attributes: { run_id: 'hi', status: 'FAILED', start_time: 0, end_time: 1 },
    metrics: { key1: 121 },
    params: { my_param: 'A' },
    datasets: [{ name: 'name1', digest: 'digest1', context: 'train' }],
  },
  {
    attributes: { run_id: 'hi2', status: 'FINISHED', start_time: 0, end_time: 1 },
    metrics: { key1: 123 },
    params: { my_param: 'A' },
    tags: { tag1: 'C' },
    datasets: [{ name: 'name1', digest: 'digest1' }],
  },
  {
    attributes: { run_id: 'hi3', status: 'FAILED', start_time: 0, end_time: 1 },
    metrics: { key1: 125 },
    params: { my_param: 'B' },
    tags: { tag1: 'D' },
    datasets: [{ name: 'name2', digest: 'digest2' }],
  },
].map(entity);

function matching(
  filter: string,
  entities: SearchableEntity[] = runs,
  dialect: SearchDialect = 'runs',
): number[] {
  const clauses = parseSearchFilter(filter, dialect);
  return entities.flatMap((e, index) => (matchesFilter(clauses, e) ? [index] : []));
}

describe('matchesFilter: MLflow test_correct_filtering', () => {
  it.each<[string, number[]]>([
    ['', [0, 1, 2]],
    ["attributes.status = 'FAILED'", [0, 2]],
    ['metrics.key1 = 123', [1]],
    ['metrics.key1 != 123', [0, 2]],
    ['metrics.key1 >= 123', [1, 2]],
    ["params.my_param = 'A'", [0, 1]],
    ["tags.tag1 = 'D'", [2]],
    ["tags.tag1 != 'D'", [1]],
    ["params.my_param = 'A' AND attributes.status = 'FAILED'", [0]],
    ["datasets.name = 'name1'", [0, 1]],
    ["datasets.name IN ('name1', 'name2')", [0, 1, 2]],
    ["datasets.digest IN ('digest1', 'digest2')", [0, 1, 2]],
    ["datasets.name = 'name1' AND datasets.digest = 'digest2'", []],
    ["datasets.context = 'train'", [0]],
    ["datasets.name = 'name1' AND datasets.context = 'train'", [0]],
    ["datasets.name NOT IN ('name1')", [2]],
    ["attributes.run_id IN ('hi', 'hi3')", [0, 2]],
    ["attributes.run_id NOT IN ('hi', 'hi3')", [1]],
    ["attributes.run_id LIKE 'hi_'", [1, 2]],
  ])('%s', (filter, expected) => {
    expect(matching(filter)).toEqual(expected);
  });
});

describe('matchesFilter: numeric attributes (MLflow test_filter_runs_by_start_time / end_time)', () => {
  const timed = [0, 1, 2].map((i) =>
    entity({ attributes: { run_id: String(i), start_time: i, end_time: i === 2 ? null : i } }),
  );
  it.each<[string, number[]]>([
    ['attribute.start_time >= 0', [0, 1, 2]],
    ['attribute.start_time > 1', [2]],
    ['attribute.start_time = 2', [2]],
    ['attributes.created < 2', [0, 1]],
    // A running run has no end_time: no comparison matches it, != included (SQL NULL).
    ['attribute.end_time != 5', [0, 1]],
    ['attribute.end_time >= 0', [0, 1]],
  ])('%s', (filter, expected) => {
    expect(matching(filter, timed)).toEqual(expected);
  });
});

describe('matchesFilter: missing keys never match', () => {
  const bare = [entity({ attributes: {} })];
  it.each([
    'metrics.m != 1',
    'metrics.m < 0',
    "params.p != 'x'",
    "params.p LIKE '%'",
    "tags.t != 'x'",
    "tags.t ILIKE '%'",
    "attributes.status != 'RUNNING'",
    "attributes.run_id NOT IN ('x')",
    "datasets.name != 'x'",
    "datasets.name NOT IN ('x')",
  ])('%s', (filter) => {
    expect(matching(filter, bare)).toEqual([]);
  });
});

describe('matchesFilter: LIKE and ILIKE', () => {
  const named = ['jamie-foo C+W bar', 'Model_A', 'model_b', 'a.b*c', 'line1\nline2', '100%', 'é-ü'].map(
    (name) => entity({ attributes: { run_name: name } }),
  );
  it.each<[string, number[]]>([
    ["run_name LIKE 'jamie-foo C+W bar'", [0]],
    ["run_name LIKE 'jamie-foo C+%'", [0]],
    ["run_name LIKE 'model%'", [2]],
    ["run_name ILIKE 'model%'", [1, 2]],
    ["run_name LIKE 'Model__'", [1]],
    ["run_name LIKE '%_b'", [2]],
    ["run_name LIKE 'a.b*c'", [3]],
    ["run_name LIKE 'a_b%'", [3]],
    ["run_name LIKE 'axb%'", []],
    ["run_name LIKE 'line1%line2'", [4]],
    ["run_name LIKE '%'", [0, 1, 2, 3, 4, 5, 6]],
    ["run_name LIKE '100\\%'", [5]],
    ["run_name LIKE '1\\_0%'", []],
    ["run_name LIKE '_-_'", [6]],
    ["run_name ILIKE 'É-Ü'", [6]],
    ["run_name = 'model_b'", [2]],
    ["run_name = 'MODEL_B'", []],
  ])('%s', (filter, expected) => {
    expect(matching(filter, named)).toEqual(expected);
  });

  it('matches many wildcards against long values without blowing up', () => {
    const pattern = new LikePattern(`${'%a'.repeat(30)}%b`, false);
    const started = performance.now();
    expect(pattern.test('a'.repeat(5000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('matchesFilter: metrics follow the SQL store (latest value, NaN stored as 0)', () => {
  const values = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 1.5];
  const metricRuns = values.map((value) => entity({ attributes: {}, metrics: { loss: value } }));
  it.each<[string, number[]]>([
    ['metrics.loss = 0', [0, 3]],
    ['metrics.loss > 1', [1, 4]],
    ['metrics.loss < 0', [2]],
    ['metrics.loss >= 1.7976931348623157e308', [1]],
    ['metrics.loss != 1.5', [0, 1, 2, 3]],
  ])('%s', (filter, expected) => {
    expect(matching(filter, metricRuns)).toEqual(expected);
  });
});

describe('matchesFilter: other entity kinds', () => {
  const experiments = [
    { name: 'Default', creation_time: 10, tags: {} as Record<string, string> },
    { name: 'fraud-detection', creation_time: 20, tags: { team: 'risk' } },
    { name: 'Fraud-Report', creation_time: 30, tags: { team: 'finance' } },
  ].map(({ tags, ...attributes }) => entity({ attributes, tags }));

  it.each<[string, number[]]>([
    ["name LIKE 'fraud%'", [1]],
    ["name ILIKE 'fraud%'", [1, 2]],
    ["name != 'Default'", [1, 2]],
    ['creation_time >= 20', [1, 2]],
    ["tags.team != 'risk'", [2]],
    ["name ILIKE '%fraud%' AND tags.team = 'risk'", [1]],
  ])('experiments: %s', (filter, expected) => {
    expect(matching(filter, experiments, 'experiments')).toEqual(expected);
  });

  const versions = [
    { name: 'm', version_number: 1, run_id: 'abc', source_path: 's3://b/1' },
    { name: 'm', version_number: '2', run_id: 'def', source_path: 'file:///2' },
    { name: 'n', version_number: 1, run_id: null, source_path: 's3://b/3' },
  ].map((attributes) => entity({ attributes }));

  it.each<[string, number[]]>([
    ["name = 'm' AND version_number > 1", [1]],
    ["version_number = '1'", [0, 2]],
    ["run_id IN ('abc', 'def')", [0, 1]],
    ["source_path LIKE 's3://%'", [0, 2]],
    ["run_id != 'abc'", [1]],
  ])('model versions: %s', (filter, expected) => {
    expect(matching(filter, versions, 'model_versions')).toEqual(expected);
  });
});

describe('compileFilter', () => {
  it('compiles once and filters many entities', () => {
    const predicate = compileFilter(parseSearchFilter("params.p LIKE 'v%' AND metrics.m > 10", 'runs'));
    const many = Array.from({ length: 1000 }, (_, i) =>
      entity({ attributes: {}, params: { p: i % 2 ? 'v1' : 'w' }, metrics: { m: i } }),
    );
    expect(many.filter(predicate)).toHaveLength(495);
  });

  it('accepts an empty clause list as match-all', () => {
    expect(compileFilter([])(entity({ attributes: {} }))).toBe(true);
  });

  it('refuses hand-built clauses whose value does not fit the comparator', () => {
    expect(() => compileFilter([{ kind: 'metric', key: 'a', comparator: '>', value: 'x' }])).toThrow(
      TypeError,
    );
    expect(() => compileFilter([{ kind: 'tag', key: 'a', comparator: 'IN', value: 'x' }])).toThrow(TypeError);
  });
});
