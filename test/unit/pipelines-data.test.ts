import { describe, expect, it } from 'vitest';
import { CsvError, formatCsv, parseCsv, type Table } from '../../shared/pipelines/dataset/csv.ts';
import { splitRows } from '../../shared/pipelines/dataset/split.ts';
import { computeStatistics, inferSchema } from '../../shared/pipelines/dataset/statistics.ts';
import {
  type Baseline,
  DEFAULT_VALIDATION_OPTIONS,
  formatAnomalyReport,
  jensenShannon,
  validateDataset,
} from '../../shared/pipelines/dataset/validation.ts';
import { IRIS_FEATURES, iris } from '../support/iris.ts';

const NEEDS = {
  targetColumn: 'species',
  featureColumns: IRIS_FEATURES,
  task: 'binary_classification' as const,
  positiveClass: 'virginica',
};

function baselineOf(table: Table): Baseline {
  const statistics = computeStatistics(table);
  return { schema: inferSchema(statistics), statistics, description: 'model iris version 1' };
}

const check = (table: Table, baseline?: Baseline) =>
  validateDataset(table, computeStatistics(table), NEEDS, baseline, DEFAULT_VALIDATION_OPTIONS);

const withRows = (table: Table, edit: (rows: string[][]) => string[][]): Table => ({
  columns: table.columns,
  rows: edit(table.rows.map((row) => [...row])),
});

describe('CSV', () => {
  it('reads quoted fields, doubled quotes, CRLF, a BOM and blank lines; writes what it reads', () => {
    const table = parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\r\n\r\n1,\n');
    expect(table).toEqual({
      columns: ['a', 'b'],
      rows: [
        ['x, y', 'say "hi"'],
        ['1', ''],
      ],
    });
    expect(parseCsv(formatCsv(table))).toEqual(table);
  });

  it('names the line of a malformed file', () => {
    expect(() => parseCsv('')).toThrow(/empty/);
    expect(() => parseCsv('a,a\n1,2')).toThrow(/"a" appears twice/);
    expect(() => parseCsv('a,b\n1,2\n3\n')).toThrow(/row 2: 1 fields where the header has 2/);
    expect(() => parseCsv('a\n"open\n')).toThrow(CsvError);
  });
});

describe('statistics and schema', () => {
  it('infers types, ranges, quantiles, histograms and domains from Iris', () => {
    const statistics = computeStatistics(iris().table);
    expect(statistics.rows).toBe(150);
    const petal = statistics.columns.find((c) => c.name === 'petal_length')!;
    expect(petal.type).toBe('float');
    expect(petal.numeric).toMatchObject({ min: 1, max: 6.9 });
    expect(petal.numeric!.mean).toBeCloseTo(3.758, 3);
    expect(petal.numeric!.quantiles[2]).toBeCloseTo(4.35, 6);
    expect(petal.numeric!.histogram.counts.reduce((a, b) => a + b, 0)).toBe(150);
    const species = statistics.columns.find((c) => c.name === 'species')!;
    expect(species.categorical).toEqual({
      unique: 3,
      frequencies: { setosa: 50, versicolor: 50, virginica: 50 },
    });
    const schema = inferSchema(statistics);
    expect(schema.columns.find((c) => c.name === 'species')).toEqual({
      name: 'species',
      type: 'string',
      minPresence: 1,
      domain: ['setosa', 'versicolor', 'virginica'],
    });
  });

  it('counts missing values and types integers', () => {
    const statistics = computeStatistics(parseCsv('n,s\n1,a\nNA,b\n3,\n'));
    expect(statistics.columns[0]).toMatchObject({ type: 'integer', missing: 1 });
    expect(statistics.columns[1]).toMatchObject({ type: 'string', missing: 1 });
  });
});

describe('data validation', () => {
  const { table } = iris();
  const baseline = baselineOf(table);

  it('accepts the same data against its own schema', () => {
    expect(check(table)).toEqual([]);
    expect(check(table, baseline)).toEqual([]);
  });

  it('finds what the pipeline needs missing, without a baseline', () => {
    const noTarget: Table = {
      columns: table.columns.slice(0, 4),
      rows: table.rows.map((r) => r.slice(0, 4)),
    };
    expect(check(noTarget).map((a) => a.kind)).toContain('MISSING_COLUMN');
    const text = withRows(table, (rows) => rows.map((r, i) => (i === 3 ? [r[0]!, 'abc', ...r.slice(2)] : r)));
    const anomalies = check(text);
    expect(anomalies).toContainEqual(
      expect.objectContaining({ kind: 'NON_NUMERIC_FEATURE', column: 'sepal_width', severity: 'error' }),
    );
    expect(anomalies[0]!.description).toContain('"abc"');
    const few = withRows(table, (rows) => rows.slice(0, 5));
    expect(check(few).map((a) => a.kind)).toContain('TOO_FEW_ROWS');
    const noPositive = withRows(table, (rows) => rows.filter((r) => r[4] !== 'virginica'));
    expect(check(noPositive)).toContainEqual(expect.objectContaining({ kind: 'INVALID_TARGET' }));
  });

  it('finds type changes, missing values, out-of-range and unexpected values against the baseline', () => {
    const corrupted = withRows(table, (rows) => {
      rows[0]![2] = 'n/a?';
      rows[1]![1] = '';
      rows[2]![0] = '55.0';
      rows[3]![4] = 'setosaa';
      return rows;
    });
    const anomalies = check(corrupted, baseline);
    const byColumn = Object.fromEntries(anomalies.map((a) => [`${a.column}:${a.kind}`, a]));
    expect(Object.keys(byColumn)).toEqual(
      expect.arrayContaining([
        'petal_length:TYPE_MISMATCH',
        'sepal_width:MISSING_VALUES',
        'sepal_length:OUT_OF_RANGE',
        'species:UNEXPECTED_VALUES',
      ]),
    );
    expect(byColumn['sepal_width:MISSING_VALUES']!.description).toContain('rows 2');
    expect(byColumn['sepal_length:OUT_OF_RANGE']!.description).toContain('55');
    const report = formatAnomalyReport(anomalies, {
      dataset: 's3://b/iris.csv',
      baseline: baseline.description,
    });
    expect(report.split('\n')[0]).toMatch(
      /^Data validation failed for s3:\/\/b\/iris.csv against the schema of model iris version 1: \d+ error\(s\)/,
    );
    expect(report).toContain('- [error] TYPE_MISMATCH in column "petal_length": expected float values');
  });

  it('finds a missing column, a new column (warning) and drift', () => {
    const dropped: Table = {
      columns: [...table.columns.slice(0, 3), 'species', 'extra'],
      rows: table.rows.map((r) => [...r.slice(0, 3), r[4]!, '1']),
    };
    const anomalies = validateDataset(
      dropped,
      computeStatistics(dropped),
      { ...NEEDS, featureColumns: IRIS_FEATURES.slice(0, 3) },
      baseline,
    );
    expect(anomalies).toContainEqual(
      expect.objectContaining({ kind: 'MISSING_COLUMN', column: 'petal_width' }),
    );
    expect(anomalies).toContainEqual(
      expect.objectContaining({ kind: 'NEW_COLUMN', column: 'extra', severity: 'warning' }),
    );
    const onlyVirginica = withRows(table, (rows) => rows.filter((r) => r[4] === 'virginica'));
    const drift = check(onlyVirginica, baseline).filter((a) => a.kind === 'DISTRIBUTION_DRIFT');
    expect(drift.map((a) => a.column)).toEqual(expect.arrayContaining(['petal_length', 'species']));
  });

  it('measures Jensen-Shannon divergence in bits', () => {
    expect(jensenShannon([1, 1], [1, 1])).toBe(0);
    expect(jensenShannon([1, 0], [0, 1])).toBeCloseTo(1, 12);
  });
});

describe('split', () => {
  it('is reproducible, disjoint, complete and stratified', () => {
    const strata = Array.from({ length: 100 }, (_, i) => (i < 30 ? 'a' : 'b'));
    const one = splitRows(100, { testFraction: 0.2, seed: 7, strata });
    expect(splitRows(100, { testFraction: 0.2, seed: 7, strata })).toEqual(one);
    expect(splitRows(100, { testFraction: 0.2, seed: 8, strata })).not.toEqual(one);
    expect([...one.train, ...one.test].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    );
    expect(one.test).toHaveLength(20);
    expect(one.test.filter((i) => i < 30)).toHaveLength(6);
  });

  it('keeps a row of each small class on both sides', () => {
    const { train, test } = splitRows(4, { testFraction: 0.01, seed: 1, strata: ['a', 'a', 'b', 'b'] });
    expect(test).toHaveLength(2);
    expect(train).toHaveLength(2);
  });
});
