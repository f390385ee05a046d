import { describe, expect, it } from 'vitest';
import { decideGate } from '../../shared/pipelines/evaluation/gate.ts';
import {
  classificationMetrics,
  regressionMetrics,
  rocAuc,
} from '../../shared/pipelines/evaluation/metrics.ts';
import { PipelineInputSchema } from '../../shared/pipelines/model.ts';

describe('metrics', () => {
  it('computes regression metrics', () => {
    const m = regressionMetrics([1, 2, 3, 4], [1, 2, 3, 6]);
    expect(m.mse).toBe(1);
    expect(m.rmse).toBe(1);
    expect(m.mae).toBe(0.5);
    expect(m.r2).toBeCloseTo(1 - 4 / 5, 12);
  });

  it('computes classification metrics at 0.5 and AUC by ranks with ties', () => {
    const m = classificationMetrics([1, 1, 0, 0], [0.9, 0.4, 0.6, 0.1]);
    expect(m).toMatchObject({ accuracy: 0.5, precision: 0.5, recall: 0.5, f1: 0.5, roc_auc: 0.75 });
    expect(m.log_loss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.4) + Math.log(0.4) + Math.log(0.9)) / 4, 12);
    expect(rocAuc([1, 0], [0.5, 0.5])).toBe(0.5);
    expect(rocAuc([1, 1], [0.2, 0.3])).toBe(0.5);
  });
});

describe('gate', () => {
  it('passes a model that clears the threshold with no champion', () => {
    expect(decideGate({ metric: 'accuracy', candidate: 0.95, threshold: 0.9 })).toMatchObject({
      passed: true,
    });
  });

  it('refuses a model below the threshold, in the metric’s direction', () => {
    expect(decideGate({ metric: 'accuracy', candidate: 0.85, threshold: 0.9 }).passed).toBe(false);
    expect(decideGate({ metric: 'rmse', candidate: 0.3, threshold: 0.25 }).passed).toBe(false);
    expect(decideGate({ metric: 'rmse', candidate: 0.2, threshold: 0.25 }).passed).toBe(true);
  });

  it('requires beating the champion strictly, and says by how much it did not', () => {
    const champion = { version: '3', value: 0.95 };
    const tie = decideGate({
      metric: 'accuracy',
      candidate: 0.95,
      threshold: 0.9,
      champion,
      alias: 'production',
    });
    expect(tie.passed).toBe(false);
    expect(tie.reason).toContain('does not beat version 3 under alias "production"');
    expect(
      decideGate({ metric: 'accuracy', candidate: 0.96, threshold: 0.9, champion, alias: 'p' }).passed,
    ).toBe(true);
    expect(
      decideGate({ metric: 'log_loss', candidate: 0.1, threshold: 1, champion: { version: '1', value: 0.2 } })
        .passed,
    ).toBe(true);
  });
});

describe('pipeline input', () => {
  const valid = {
    datasetUri: 'mlflow-artifacts:/datasets/iris.csv',
    targetColumn: 'species',
    positiveClass: 'virginica',
    modelType: 'logistic_regression',
    modelName: 'iris',
    threshold: 0.9,
  };

  it('applies defaults', () => {
    expect(PipelineInputSchema.parse(valid)).toMatchObject({
      hyperparameters: { l2: 0, maxIterations: 100 },
      split: { testFraction: 0.2, seed: 42 },
      trainer: { type: 'builtin' },
    });
  });

  it('names every problem', () => {
    const result = PipelineInputSchema.safeParse({
      ...valid,
      datasetUri: '/tmp/iris.csv',
      metric: 'rmse',
      alias: 'latest',
      featureColumns: ['species'],
      extra: 1,
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => issue.path.join('.') || issue.code);
    expect(paths).toEqual(expect.arrayContaining(['datasetUri', 'alias']));
    expect(result.error!.issues.some((issue) => issue.code === 'unrecognized_keys')).toBe(true);
    const refined = PipelineInputSchema.safeParse({ ...valid, metric: 'rmse', featureColumns: ['species'] });
    expect(refined.error!.issues.map((issue) => issue.path.join('.'))).toEqual(['metric', 'featureColumns']);
    expect(PipelineInputSchema.safeParse({ ...valid, alias: 'v2' }).success).toBe(false);
    expect(PipelineInputSchema.safeParse({ ...valid, split: { testFraction: 0.9 } }).success).toBe(false);
  });
});
