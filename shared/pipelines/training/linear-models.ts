/**
 * The built-in trainer for tabular data: linear regression (least squares, optionally ridge) and
 * binary logistic regression (maximum likelihood, optionally L2-penalised), both on standardised
 * features with an unpenalised intercept. Linear regression is solved exactly by Householder QR;
 * logistic regression by Newton's method (IRLS) with a backtracking line search, which converges
 * quadratically to the same optimum as R's `glm` or scikit-learn's `newton-cholesky`.
 *
 * The fitted coefficients are reported on the raw feature scale (standardisation folded in), so a
 * prediction is `intercept + x · coefficients` (through the logistic function for a classifier):
 * exactly what the exported ONNX graph computes.
 */
import { leastSquaresQr, SingularMatrixError, solveCholesky } from './linear-algebra.ts';

export type ModelType = 'linear_regression' | 'logistic_regression';

export interface TrainingOptions {
  /** L2 penalty on the standardised coefficients (not the intercept). @default 0 */
  l2: number;
  /** Newton iterations at most (logistic regression). @default 100 */
  maxIterations: number;
  /** Convergence: the objective's relative change below this. @default 1e-10 */
  tolerance: number;
}

export const DEFAULT_TRAINING_OPTIONS: TrainingOptions = { l2: 0, maxIterations: 100, tolerance: 1e-10 };

export interface LinearModel {
  type: ModelType;
  features: string[];
  /** On the raw feature scale. */
  coefficients: number[];
  intercept: number;
  /** Per feature: the training mean and standard deviation the optimiser worked with. */
  standardization: { mean: number[]; scale: number[] };
  /** Coefficients on the standardised scale (comparable across features). */
  standardizedCoefficients: number[];
  fit: {
    rows: number;
    iterations: number;
    converged: boolean;
    /** Residual sum of squares (linear) or deviance, -2·log-likelihood (logistic), unpenalised. */
    loss: number;
    l2: number;
  };
}

export class TrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingError';
  }
}

const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** log(1 + e^z) without overflow. */
const softplus = (z: number): number => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));

function standardize(x: readonly (readonly number[])[], features: readonly string[]) {
  const n = x.length;
  const p = features.length;
  const mean = new Array<number>(p).fill(0);
  const scale = new Array<number>(p).fill(0);
  for (const row of x) for (let j = 0; j < p; j++) mean[j]! += (row[j] as number) / n;
  for (const row of x) for (let j = 0; j < p; j++) scale[j]! += ((row[j] as number) - mean[j]!) ** 2 / n;
  for (let j = 0; j < p; j++) {
    scale[j] = Math.sqrt(scale[j]!);
    if (!(scale[j]! > 1e-12 * Math.max(1, Math.abs(mean[j]!)))) {
      throw new TrainingError(`feature "${features[j]}" is constant in the training data`);
    }
  }
  // Design matrix: a column of ones for the intercept, then the standardised features.
  const design = x.map((row) => [1, ...row.map((value, j) => (value - mean[j]!) / scale[j]!)]);
  return { mean, scale, design };
}

function unstandardize(beta: readonly number[], mean: readonly number[], scale: readonly number[]) {
  const coefficients = beta.slice(1).map((b, j) => b / scale[j]!);
  const intercept = (beta[0] as number) - coefficients.reduce((sum, c, j) => sum + c * mean[j]!, 0);
  return { coefficients, intercept };
}

const dot = (a: readonly number[], b: readonly number[]): number =>
  a.reduce((sum, value, i) => sum + value * (b[i] as number), 0);

function fitLinear(design: number[][], y: readonly number[], l2: number) {
  const p = (design[0]?.length ?? 1) - 1;
  // Ridge as least squares on rows augmented with sqrt(l2)·I (the intercept column unpenalised).
  const rows = l2 > 0 ? [...design, ...Array.from({ length: p }, (_, j) => rowOfPenalty(p, j, l2))] : design;
  const targets = l2 > 0 ? [...y, ...new Array<number>(p).fill(0)] : [...y];
  const beta = leastSquaresQr(rows, targets);
  const loss = design.reduce((sum, row, i) => sum + ((y[i] as number) - dot(row, beta)) ** 2, 0);
  return { beta, iterations: 1, converged: true, loss };
}

function rowOfPenalty(p: number, j: number, l2: number): number[] {
  const row = new Array<number>(p + 1).fill(0);
  row[j + 1] = Math.sqrt(l2);
  return row;
}

function logisticObjective(design: number[][], y: readonly number[], beta: readonly number[], l2: number) {
  let deviance = 0;
  for (let i = 0; i < design.length; i++) {
    const z = dot(design[i] as number[], beta);
    deviance += 2 * (softplus(z) - (y[i] as number) * z);
  }
  const penalty = l2 * beta.slice(1).reduce((sum, b) => sum + b * b, 0);
  return { deviance, objective: deviance / 2 + penalty / 2 };
}

function fitLogistic(design: number[][], y: readonly number[], options: TrainingOptions) {
  const k = design[0]?.length ?? 1;
  let beta = new Array<number>(k).fill(0);
  let current = logisticObjective(design, y, beta, options.l2);
  for (let iteration = 1; iteration <= options.maxIterations; iteration++) {
    const gradient = new Array<number>(k).fill(0);
    const hessian = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    for (let i = 0; i < design.length; i++) {
      const row = design[i] as number[];
      const p = sigmoid(dot(row, beta));
      const w = Math.max(p * (1 - p), 1e-12);
      for (let a = 0; a < k; a++) {
        gradient[a]! += (p - (y[i] as number)) * row[a]!;
        for (let b = 0; b <= a; b++) hessian[a]![b]! += w * row[a]! * row[b]!;
      }
    }
    for (let a = 1; a < k; a++) {
      gradient[a]! += options.l2 * beta[a]!;
      hessian[a]![a]! += options.l2;
    }
    for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) hessian[a]![b] = hessian[b]![a]!;
    let step: number[];
    try {
      step = solveCholesky(hessian, gradient);
    } catch (error) {
      if (error instanceof SingularMatrixError) {
        throw new TrainingError(
          'the classes are perfectly separated or the features are collinear: set hyperparameters.l2 > 0',
        );
      }
      throw error;
    }
    // Backtracking: halve the Newton step until the objective decreases.
    let t = 1;
    let candidate = beta.map((b, i) => b - step[i]!);
    let next = logisticObjective(design, y, candidate, options.l2);
    while (next.objective > current.objective && t > 1e-8) {
      t /= 2;
      candidate = beta.map((b, i) => b - t * step[i]!);
      next = logisticObjective(design, y, candidate, options.l2);
    }
    const change = Math.abs(current.objective - next.objective) / (Math.abs(next.objective) + 1e-12);
    beta = candidate;
    current = next;
    if (change < options.tolerance || next.objective < 1e-9) {
      if (next.deviance < 1e-6 && options.l2 === 0) {
        throw new TrainingError(
          'the classes are perfectly separated: the maximum-likelihood coefficients are infinite; set hyperparameters.l2 > 0',
        );
      }
      return { beta, iterations: iteration, converged: true, loss: current.deviance };
    }
  }
  return { beta, iterations: options.maxIterations, converged: false, loss: current.deviance };
}

/**
 * Fits a model on `x` (rows of feature values, every value finite) and `y` (numbers; 0/1 for
 * logistic regression).
 */
export function trainLinearModel(
  type: ModelType,
  features: readonly string[],
  x: readonly (readonly number[])[],
  y: readonly number[],
  options: Partial<TrainingOptions> = {},
): LinearModel {
  const settings = { ...DEFAULT_TRAINING_OPTIONS, ...options };
  if (x.length !== y.length) throw new RangeError('x and y have different numbers of rows');
  if (x.length <= features.length) {
    throw new TrainingError(`${x.length} training rows cannot fit ${features.length + 1} coefficients`);
  }
  if (type === 'logistic_regression' && y.some((value) => value !== 0 && value !== 1)) {
    throw new TrainingError('logistic regression needs 0/1 targets');
  }
  const { mean, scale, design } = standardize(x, features);
  let fitted: { beta: number[]; iterations: number; converged: boolean; loss: number };
  try {
    fitted =
      type === 'linear_regression' ? fitLinear(design, y, settings.l2) : fitLogistic(design, y, settings);
  } catch (error) {
    if (error instanceof SingularMatrixError) {
      throw new TrainingError(`the features are collinear (${error.message}); drop one or set l2 > 0`);
    }
    throw error;
  }
  return {
    type,
    features: [...features],
    ...unstandardize(fitted.beta, mean, scale),
    standardization: { mean, scale },
    standardizedCoefficients: fitted.beta.slice(1),
    fit: {
      rows: x.length,
      iterations: fitted.iterations,
      converged: fitted.converged,
      loss: fitted.loss,
      l2: settings.l2,
    },
  };
}

/** The model's prediction for one row: the value (linear) or the positive class's probability (logistic). */
export function predict(
  model: Pick<LinearModel, 'type' | 'coefficients' | 'intercept'>,
  row: readonly number[],
) {
  const z = model.intercept + dot(model.coefficients, row);
  return model.type === 'logistic_regression' ? sigmoid(z) : z;
}
