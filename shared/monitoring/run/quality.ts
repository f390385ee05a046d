/**
 * Live quality of one version: its captured predictions joined, by inference id, with the ground
 * truth sent to `POST /endpoints/{name}/feedback`, scored with the training pipeline's own metrics
 * (`shared/pipelines/evaluation/metrics.ts`): the same definitions on live data as on held-out rows.
 */
import { classificationMetrics, regressionMetrics } from '../../pipelines/evaluation/metrics.ts';
import { LOWER_IS_BETTER_QUALITY, type QualityMetric, type QualitySettings } from '../model.ts';

export interface QualityReport {
  modelVersion: string;
  problemType: 'binary_classification' | 'regression';
  labeled: number;
  /** Labels that could not be read as the problem type wants (a string label of a regression, ...). */
  unusable: number;
  metrics: Partial<Record<QualityMetric, number>>;
  limits: Partial<Record<QualityMetric, number>>;
  breaches: Array<{ metric: QualityMetric; value: number; limit: number }>;
  notEnoughData?: string;
}

/** Reads a ground-truth value as 1/0 for a classifier. */
function classOf(value: unknown, positiveClass: string | undefined): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (positiveClass !== undefined) return String(value) === positiveClass ? 1 : 0;
  if (value === 1 || value === '1') return 1;
  if (value === 0 || value === '0') return 0;
  return undefined;
}

export class QualityCollector {
  private readonly actual: number[] = [];
  private readonly predicted: number[] = [];
  private unusable = 0;

  constructor(
    readonly modelVersion: string,
    private readonly problemType: 'binary_classification' | 'regression',
    private readonly settings: QualitySettings,
  ) {}

  add(groundTruth: unknown, prediction: unknown): void {
    if (this.problemType === 'regression') {
      const actual = typeof groundTruth === 'number' ? groundTruth : Number(groundTruth);
      const predicted = typeof prediction === 'number' ? prediction : Number(prediction);
      if (!Number.isFinite(actual) || !Number.isFinite(predicted) || typeof groundTruth === 'boolean') {
        this.unusable++;
        return;
      }
      this.actual.push(actual);
      this.predicted.push(predicted);
      return;
    }
    const actual = classOf(groundTruth, this.settings.positiveClass);
    // A probability of class 1, or a predicted label.
    const predicted =
      typeof prediction === 'number' && prediction >= 0 && prediction <= 1
        ? prediction
        : classOf(prediction, this.settings.positiveClass);
    if (actual === undefined || predicted === undefined) {
      this.unusable++;
      return;
    }
    this.actual.push(actual);
    this.predicted.push(predicted);
  }

  get labeled(): number {
    return this.actual.length;
  }

  report(): QualityReport {
    const limits = this.settings.limits;
    const base = {
      modelVersion: this.modelVersion,
      problemType: this.problemType,
      labeled: this.actual.length,
      unusable: this.unusable,
      limits,
    };
    if (this.actual.length < this.settings.minLabeled) {
      return {
        ...base,
        metrics: {},
        breaches: [],
        notEnoughData: `not enough data (${this.actual.length} of ${this.settings.minLabeled} labeled)`,
      };
    }
    const all: Partial<Record<QualityMetric, number>> =
      this.problemType === 'regression'
        ? pick(regressionMetrics(this.actual, this.predicted), ['rmse', 'mae', 'r2'])
        : pick(classificationMetrics(this.actual, this.predicted, this.settings.decisionThreshold), [
            'accuracy',
            'precision',
            'recall',
            'f1',
            'roc_auc',
          ]);
    const breaches: QualityReport['breaches'] = [];
    for (const [metric, limit] of Object.entries(limits) as Array<[QualityMetric, number]>) {
      const value = all[metric];
      if (value === undefined) continue;
      const broken = LOWER_IS_BETTER_QUALITY.has(metric) ? value > limit : value < limit;
      if (broken) breaches.push({ metric, value, limit });
    }
    return { ...base, metrics: all, breaches };
  }
}

function pick<T extends Record<string, number>>(values: T, keys: readonly (keyof T & QualityMetric)[]) {
  return Object.fromEntries(keys.map((key) => [key, values[key]])) as Partial<Record<QualityMetric, number>>;
}
