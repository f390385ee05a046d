/**
 * Held-out metrics of a model's predictions, with the names MLflow's evaluator logs (`accuracy_score`
 * is `accuracy` here, and so on), and which direction is better for each.
 */

export const REGRESSION_METRICS = ['rmse', 'mae', 'mse', 'r2'] as const;
export const CLASSIFICATION_METRICS = [
  'accuracy',
  'precision',
  'recall',
  'f1',
  'log_loss',
  'roc_auc',
] as const;
export type MetricName = (typeof REGRESSION_METRICS)[number] | (typeof CLASSIFICATION_METRICS)[number];

const LOWER_IS_BETTER = new Set<MetricName>(['rmse', 'mae', 'mse', 'log_loss']);

export const isLowerBetter = (metric: MetricName): boolean => LOWER_IS_BETTER.has(metric);

/** Regression metrics of predictions `predicted` for targets `actual`. */
export function regressionMetrics(actual: readonly number[], predicted: readonly number[]) {
  const n = actual.length;
  const mean = actual.reduce((s, v) => s + v, 0) / n;
  let squared = 0;
  let absolute = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const error = (actual[i] as number) - (predicted[i] as number);
    squared += error * error;
    absolute += Math.abs(error);
    total += ((actual[i] as number) - mean) ** 2;
  }
  return {
    mse: squared / n,
    rmse: Math.sqrt(squared / n),
    mae: absolute / n,
    r2: total === 0 ? 0 : 1 - squared / total,
  } satisfies Record<(typeof REGRESSION_METRICS)[number], number>;
}

/**
 * Area under the ROC curve by the rank statistic (Mann-Whitney U), ties counted half; 0.5 when one
 * class is absent.
 */
export function rocAuc(actual: readonly number[], scores: readonly number[]): number {
  const order = scores
    .map((score, i) => ({ score, positive: actual[i] === 1 }))
    .sort((a, b) => a.score - b.score);
  const positives = order.filter((item) => item.positive).length;
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return 0.5;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]!.score === order[i]!.score) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (order[k]!.positive) rankSum += averageRank;
    i = j;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Binary classification metrics of positive-class probabilities, at a decision threshold (0.5 by default). */
export function classificationMetrics(
  actual: readonly number[],
  probabilities: readonly number[],
  threshold = 0.5,
) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  let logLoss = 0;
  const eps = 1e-15;
  for (let i = 0; i < actual.length; i++) {
    const p = Math.min(Math.max(probabilities[i] as number, eps), 1 - eps);
    const positive = actual[i] === 1;
    const predicted = (probabilities[i] as number) >= threshold;
    if (predicted && positive) tp++;
    else if (predicted) fp++;
    else if (positive) fn++;
    else tn++;
    logLoss -= positive ? Math.log(p) : Math.log(1 - p);
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  return {
    accuracy: (tp + tn) / actual.length,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    log_loss: logLoss / actual.length,
    roc_auc: rocAuc(actual, probabilities),
  } satisfies Record<(typeof CLASSIFICATION_METRICS)[number], number>;
}
