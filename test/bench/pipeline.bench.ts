import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LOCAL_ACCOUNT, LOCAL_REGION, LocalRuntime } from '../../infra/local/runtime.ts';
import { classificationMetrics, regressionMetrics } from '../../shared/pipelines/evaluation/metrics.ts';
import { DEFAULT_PIPELINE_NAME } from '../../shared/pipelines/model.ts';
import { predict, trainLinearModel } from '../../shared/pipelines/training/linear-models.ts';
import { IRIS_FEATURES, iris, R_GLM, R_LM, versicolorVirginica } from '../support/iris.ts';
import { printTable, summarize } from './stats.ts';

const RUNS = 5;

/**
 * The training pipeline:
 * - end to end on the demo dataset in the local runtime (target < 10 s): the first execution after
 *   start (functions still cold) and then warm ones, each registering a new version (the threshold
 *   is 0 and no alias, so every gate passes);
 * - the built-in trainer alone (median of many fits) and its quality against textbook results on the
 *   same data: R's glm and lm, coefficient by coefficient, and the fitted models' in-sample metrics.
 */
export async function pipelineBench(): Promise<void> {
  trainerFigures();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-bench-pipeline-'));
  const runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    functionLogs: 'silent',
    log: () => undefined,
  });
  try {
    const upload = await fetch(`${runtime.url}/api/2.0/mlflow-artifacts/artifacts/datasets/iris.csv`, {
      method: 'PUT',
      body: iris().text,
    });
    if (!upload.ok) throw new Error(`upload failed: ${upload.status}`);
    const stateMachineArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${DEFAULT_PIPELINE_NAME}`;
    const input = JSON.stringify({
      datasetUri: 'mlflow-artifacts:/datasets/iris.csv',
      targetColumn: 'species',
      positiveClass: 'virginica',
      modelType: 'logistic_regression',
      hyperparameters: { l2: 0.1 },
      modelName: 'iris-bench',
      threshold: 0,
    });
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      const { executionArn } = await runtime.stepFunctions.startExecution({ stateMachineArn, input });
      const result = await runtime.stepFunctions.waitForExecution(executionArn, 120_000);
      times.push(performance.now() - started);
      if (result.status !== 'SUCCEEDED')
        throw new Error(`execution ${i + 1}: ${result.status} ${result.cause}`);
    }
    const warm = summarize(times.slice(1));
    printTable(
      'Training pipeline end to end, Iris (150 rows), local runtime (ms; target < 10000)',
      ['', 'first (cold functions)', 'warm p50', 'warm max'],
      [['StartExecution -> SUCCEEDED', Math.round(times[0]!), Math.round(warm.p50), Math.round(warm.max)]],
    );
  } finally {
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function timeFits(train: () => void, n = 200): number {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    train();
    samples.push(performance.now() - started);
  }
  return summarize(samples).p50;
}

function trainerFigures(): void {
  const { x, y } = versicolorVirginica();
  const logistic = trainLinearModel('logistic_regression', IRIS_FEATURES, x, y);
  const rows = iris().rows;
  const lx = rows.map((row) => row.slice(0, 3).map(Number));
  const ly = rows.map((row) => Number(row[3]));
  const linear = trainLinearModel('linear_regression', IRIS_FEATURES.slice(0, 3), lx, ly);
  const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
  const logisticFit = classificationMetrics(
    y,
    x.map((row) => predict(logistic, row)),
  );
  const linearFit = regressionMetrics(
    ly,
    lx.map((row) => predict(linear, row)),
  );
  printTable(
    'Built-in trainer vs textbook results on Iris (R 4.x; coefficients printed to 3-5 digits)',
    ['model', 'fit p50 (ms)', 'iterations', 'max |coef - R|', 'loss (R)', 'in-sample'],
    [
      [
        'logistic, versicolor vs virginica (glm)',
        timeFits(() => trainLinearModel('logistic_regression', IRIS_FEATURES, x, y)).toFixed(3),
        String(logistic.fit.iterations),
        maxDiff(
          [logistic.intercept, ...logistic.coefficients],
          [R_GLM.intercept, ...R_GLM.coefficients],
        ).toExponential(2),
        `deviance ${logistic.fit.loss.toFixed(3)} (${R_GLM.deviance})`,
        `accuracy ${logisticFit.accuracy.toFixed(3)}, AUC ${logisticFit.roc_auc.toFixed(4)}`,
      ],
      [
        'linear, petal width (lm)',
        timeFits(() => trainLinearModel('linear_regression', IRIS_FEATURES.slice(0, 3), lx, ly)).toFixed(3),
        String(linear.fit.iterations),
        maxDiff(
          [linear.intercept, ...linear.coefficients],
          [R_LM.intercept, ...R_LM.coefficients],
        ).toExponential(2),
        `RSS ${linear.fit.loss.toFixed(4)}`,
        `R² ${linearFit.r2.toFixed(4)}, RMSE ${linearFit.rmse.toFixed(4)}`,
      ],
    ],
  );
}
