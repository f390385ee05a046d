import { describe, expect, it } from 'vitest';
import { align, positiveOnly, smooth } from '../../console/src/charts/series.ts';
import { buildAxis, normalise } from '../../console/src/compare/axes.ts';
import {
  availableKeys,
  cellText,
  indexRun,
  keyColumn,
  parseColumns,
} from '../../console/src/experiments/run-columns.ts';
import { parseCsv, previewKind, proxyPath } from '../../console/src/runs/artifact-paths.ts';

/** The console's pure logic (no DOM): series for the charts, runs table columns, artifact previews, compare axes. */

describe('series', () => {
  it('aligns runs on the union of their steps, with gaps where a run has no point', () => {
    expect(
      align([
        {
          label: 'a',
          points: [
            { x: 2, y: 20 },
            { x: 0, y: 0 },
          ],
        },
        {
          label: 'b',
          points: [
            { x: 1, y: 1 },
            { x: 2, y: 2 },
          ],
        },
      ]),
    ).toEqual([
      [0, 1, 2],
      [0, null, 20],
      [null, 1, 2],
    ]);
  });

  it('sorts one run by x without a union', () => {
    expect(
      align([
        {
          label: 'a',
          points: [
            { x: 3, y: 1 },
            { x: 1, y: 2 },
          ],
        },
      ]),
    ).toEqual([
      [1, 3],
      [2, 1],
    ]);
  });

  it('smooths with a debiased moving average: a constant stays constant, nulls stay gaps', () => {
    expect(smooth([5, 5, null, 5], 0.9)).toEqual(
      [5, 5, null, 5].map((v) => (v === null ? null : expect.closeTo(5, 10))),
    );
    const smoothed = smooth([0, 10, 0, 10], 0.5);
    expect(smoothed[0]).toBe(0);
    expect(smoothed[3] as number).toBeLessThan(10);
    expect(smooth([1, 2], 0)).toEqual([1, 2]);
  });

  it('drops values a log scale cannot draw', () => {
    expect(positiveOnly([1, 0, -1, null, 0.5])).toEqual([1, null, null, null, 0.5]);
  });
});

describe('runs table columns', () => {
  const run = indexRun({
    info: { run_id: 'r', run_name: 'n' },
    data: {
      metrics: [{ key: 'loss', value: 0.123456789, step: 3, timestamp: 1 }],
      params: [{ key: 'lr', value: '0.01' }],
      tags: [
        { key: 'team', value: 'risk' },
        { key: 'mlflow.user', value: 'x' },
      ],
    },
    inputs: {},
  } as never);

  it('reads cells by key, metrics formatted', () => {
    expect(cellText(run, keyColumn('metrics', 'loss'))).toBe('0.123457');
    expect(cellText(run, keyColumn('params', 'lr'))).toBe('0.01');
    expect(cellText(run, keyColumn('tags', 'missing'))).toBe('');
  });

  it('orders by a backquoted key, so keys with dots and spaces work in MLflow syntax', () => {
    expect(keyColumn('metrics', 'val loss.x').orderBy).toBe('metrics.`val loss.x`');
  });

  it('parses the cols query parameter, ignoring what is not a param, metric or tag', () => {
    expect(parseColumns('metrics.loss,params.a.b,attributes.x,tags.t').map((c) => c.id)).toEqual([
      'metrics.loss',
      'params.a.b',
      'tags.t',
    ]);
    expect(parseColumns(null)).toEqual([]);
  });

  it("offers the runs' keys, leaving MLflow's own tags out", () => {
    expect(availableKeys([run])).toEqual({ metrics: ['loss'], params: ['lr'], tags: ['team'] });
  });
});

describe('artifacts', () => {
  it('maps a file under a proxy root to its proxy path; other roots are not served', () => {
    expect(proxyPath('mlflow-artifacts:/1/abc/artifacts', 'model/MLmodel')).toBe(
      '1/abc/artifacts/model/MLmodel',
    );
    expect(proxyPath('mlflow-artifacts:///1/abc/artifacts/', '')).toBe('1/abc/artifacts');
    expect(proxyPath('s3://bucket/1/abc', 'x')).toBeUndefined();
  });

  it('chooses a preview by name', () => {
    expect(
      ['model/MLmodel', 'a.PNG', 'b.json', 'c.tsv', 'requirements.txt', 'model.onnx'].map(previewKind),
    ).toEqual(['mlmodel', 'image', 'json', 'csv', 'text', 'none']);
  });

  it('parses CSV with quotes, doubled quotes, commas and newlines in fields, and stops at maxRows', () => {
    expect(parseCsv('a,"b\n')).toBeUndefined();
    expect(parseCsv('a,b\n"x, y","say ""hi""\nthere"\r\n1,2')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"\nthere'],
      ['1', '2'],
    ]);
    expect(parseCsv('1\n2\n3\n', ',', 2)).toEqual([['1'], ['2']]);
    expect(parseCsv('a\tb', '\t')).toEqual([['a', 'b']]);
  });
});

describe('compare axes', () => {
  it('keeps numbers numeric and makes other values sorted categories', () => {
    const numeric = buildAxis('lr', 'lr', ['0.1', 0.3, undefined]);
    expect(numeric).toMatchObject({ positions: [0.1, 0.3, null], min: 0.1, max: 0.3 });
    expect(normalise(numeric, 0.3)).toBe(1);
    const categorical = buildAxis('opt', 'opt', ['sgd', 'adam', 'sgd']);
    expect(categorical).toMatchObject({ categories: ['adam', 'sgd'], positions: [1, 0, 1], min: 0, max: 1 });
    expect(normalise(buildAxis('one', 'one', [2, 2]), 2)).toBe(0.5);
  });
});
