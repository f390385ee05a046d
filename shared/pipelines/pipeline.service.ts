import { createHash } from 'node:crypto';
import { imageRepository } from '../deployments/sagemaker-limits.ts';
import { ResourceAlreadyExistsError, ResourceDoesNotExistError } from '../platform/errors.ts';
import type { ModelVersion } from '../registry/model.ts';
import { versionFilesLocation } from '../registry/model-source.ts';
import { proxyPathOfArtifactUri } from '../tracking/artifacts/artifact-path.ts';
import type { Metric, Param, RunTag } from '../tracking/run.model.ts';
import { CsvError, formatCsv, parseCsv, type Table } from './dataset/csv.ts';
import { splitRows } from './dataset/split.ts';
import {
  computeStatistics,
  type DatasetSchema,
  type DatasetStatistics,
  inferSchema,
  isMissing,
  numberOf,
} from './dataset/statistics.ts';
import { type Baseline, formatAnomalyReport, validateDataset } from './dataset/validation.ts';
import {
  DatasetChangedError,
  DatasetUnreadableError,
  DataValidationError,
  PipelineInputError,
} from './errors.ts';
import { decideGate } from './evaluation/gate.ts';
import { classificationMetrics, isLowerBetter, regressionMetrics } from './evaluation/metrics.ts';
import {
  ARTIFACTS,
  type DataOutcome,
  type EvaluationOutcome,
  type ExecutionRef,
  type GateOutcome,
  PIPELINE_TAGS,
  type PipelineConfig,
  PipelineInputSchema,
  type PipelineState,
  type RegistrationOutcome,
  type RunRef,
  type SplitOutcome,
  type TrainingOutcome,
} from './model.ts';
import type { ArtifactFiles, Clock, DatasetReader, Registry, Tracking } from './ports.ts';
import { type LinearModel, predict, TrainingError, trainLinearModel } from './training/linear-models.ts';
import { MODEL_PARAMETERS_FILE, mlflowModelFiles } from './training/mlflow-model.ts';
import { readTarGz } from './training/tar.ts';

/** What MLflow 3's `log_model(model, name="model")` names a logged model; the trainer names its so. */
const LOGGED_MODEL_NAME = 'model';

/** The largest dataset a step reads (it is held in memory, parsed, in a Lambda). */
export const MAX_DATASET_BYTES = 64 * 1024 * 1024;
/** Artifacts the steps read back (statistics, schemas, models) are small. */
const MAX_ARTIFACT_BYTES = 16 * 1024 * 1024;

export interface PipelineServiceDeps {
  tracking: Tracking;
  registry: Registry;
  artifacts: ArtifactFiles;
  datasets: DatasetReader;
  /** Written into the models' `producer_version`. */
  runwayVersion: string;
  /** The `s3://` URI of an artifact path (for jobs that read and write S3 themselves, e.g. SageMaker). */
  s3UriOf?: (artifactPath: string) => string;
  /**
   * What the SageMaker trainer may run: images of these ECR repositories (`<registry>/<name>`, the
   * only ones the training job's role may pull), for at most `maxRuntimeSeconds` (less than the
   * execution's own timeout, so a job never outlives its execution). @default none allowed
   */
  sagemakerTraining?: { imageRepositories: readonly string[]; maxRuntimeSeconds: number };
  clock?: Clock;
}

/** A failed step as the state machine hands it to {@link PipelineService.recordFailure}. */
export interface StepFailure {
  step: string;
  /** The task's `Error` and `Cause` (for a Lambda error, the cause is its JSON error payload). */
  error: string;
  cause?: string | undefined;
  run?: RunRef | undefined;
}

/** What the execution outputs when it ends. */
export interface PipelineSummary {
  runId: string;
  experimentId: string;
  modelName: string;
  metric: string;
  value: number;
  registered: boolean;
  gate: string;
  version?: string;
  alias?: string;
}

const json = (value: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
const utf8 = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** The target as the model sees it: 1 for the positive class, else 0 (classification); the number (regression). */
function targetValue(config: PipelineConfig, field: string): number | undefined {
  if (config.modelType === 'linear_regression') return numberOf(field);
  if (config.positiveClass !== undefined) return field.trim() === config.positiveClass ? 1 : 0;
  const value = numberOf(field);
  return value === 0 || value === 1 ? value : undefined;
}

/** Feature matrix and targets of a table holding the feature columns and the target. */
function matrixOf(table: Table, config: PipelineConfig, features: readonly string[]) {
  const indexes = features.map((name) => table.columns.indexOf(name));
  const target = table.columns.indexOf(config.targetColumn);
  const x = table.rows.map((row) => indexes.map((index) => numberOf(row[index] as string) as number));
  const y = table.rows.map((row) => targetValue(config, row[target] as string) as number);
  return { x, y };
}

function scoreModel(
  model: Pick<LinearModel, 'type' | 'coefficients' | 'intercept'>,
  x: number[][],
  y: number[],
) {
  const predictions = x.map((row) => predict(model, row));
  return model.type === 'logistic_regression'
    ? classificationMetrics(y, predictions)
    : regressionMetrics(y, predictions);
}

/**
 * The steps of Runway's training pipeline, one method per Step Functions task: each reads the
 * execution state, does its work, records it in the execution's MLflow run, and returns its part of
 * the state. Every step is safe to retry: it writes the same artifacts and values again, and
 * registration reuses a version already created for the run.
 */
export class PipelineService {
  private readonly tracking: Tracking;
  private readonly registry: Registry;
  private readonly artifacts: ArtifactFiles;
  private readonly datasets: DatasetReader;
  private readonly runwayVersion: string;
  private readonly s3UriOf: ((artifactPath: string) => string) | undefined;
  private readonly clock: Clock;

  private readonly sagemakerTraining: NonNullable<PipelineServiceDeps['sagemakerTraining']>;

  constructor(deps: PipelineServiceDeps) {
    this.tracking = deps.tracking;
    this.registry = deps.registry;
    this.artifacts = deps.artifacts;
    this.datasets = deps.datasets;
    this.runwayVersion = deps.runwayVersion;
    this.s3UriOf = deps.s3UriOf;
    this.sagemakerTraining = deps.sagemakerTraining ?? { imageRepositories: [], maxRuntimeSeconds: 0 };
    this.clock = deps.clock ?? { now: () => Date.now() };
  }

  /** Step 1: validates the input (zod) and starts the execution's MLflow run. */
  async prepare(input: unknown, execution: ExecutionRef): Promise<PipelineState> {
    const config = parseInput(input);
    if (config.trainer.type === 'sagemaker') this.checkSageMakerTrainer(config.trainer);
    const experimentId = await this.experimentId(config.experimentName);
    const now = this.clock.now();
    const run = await this.tracking.runs.create({
      experimentId,
      runName: execution.executionName.slice(0, 250),
      startTime: now,
      tags: [
        { key: PIPELINE_TAGS.executionArn, value: execution.executionArn },
        { key: PIPELINE_TAGS.stateMachineArn, value: execution.stateMachineArn },
        { key: 'mlflow.source.type', value: 'JOB' },
        { key: 'mlflow.source.name', value: execution.stateMachineArn },
        { key: 'mlflow.user', value: 'runway-pipeline' },
        { key: PIPELINE_TAGS.datasetUri, value: config.datasetUri },
      ],
    });
    const params: Param[] = [
      ['dataset_uri', config.datasetUri],
      ['target_column', config.targetColumn],
      ['model_type', config.modelType],
      ['model_name', config.modelName],
      ['metric', config.metric],
      ['threshold', String(config.threshold)],
      ['l2', String(config.hyperparameters.l2)],
      ['max_iterations', String(config.hyperparameters.maxIterations)],
      ['tolerance', String(config.hyperparameters.tolerance)],
      ['test_fraction', String(config.split.testFraction)],
      ['seed', String(config.split.seed)],
      ['trainer', config.trainer.type],
      ...(config.positiveClass === undefined ? [] : [['positive_class', config.positiveClass]]),
      ...(config.alias === undefined ? [] : [['alias', config.alias]]),
    ].map(([key, value]) => ({ key: key as string, value: value as string }));
    await this.tracking.runs.logBatch({ runId: run.info.runId, params });
    return {
      config,
      run: { runId: run.info.runId, experimentId, artifactUri: run.info.artifactUri },
    };
  }

  /**
   * Step 2: statistics and schema of the dataset, checked against the schema and statistics of the
   * last registered version of the model that recorded them. Both are written to the run either way;
   * anomalies fail the step with the report.
   */
  async validateData(state: PipelineState): Promise<DataOutcome> {
    const { config, run } = state;
    const { bytes, digest } = await this.readDataset(config.datasetUri);
    const table = parseDataset(bytes, config.datasetUri);
    const statistics = computeStatistics(table);
    const featureColumns = config.featureColumns ?? table.columns.filter((c) => c !== config.targetColumn);
    const baseline = await this.baseline(config.modelName);
    const anomalies = validateDataset(
      table,
      statistics,
      {
        targetColumn: config.targetColumn,
        featureColumns,
        task: config.modelType === 'linear_regression' ? 'regression' : 'binary_classification',
        positiveClass: config.positiveClass,
      },
      baseline,
      config.validation,
    );
    const report = formatAnomalyReport(anomalies, {
      dataset: config.datasetUri,
      baseline: baseline?.description,
    });
    const schema = inferSchema(statistics);
    await Promise.all([
      this.writeArtifact(run, ARTIFACTS.statistics, json(statistics)),
      this.writeArtifact(run, ARTIFACTS.schema, json(schema)),
      this.writeArtifact(run, ARTIFACTS.anomalies, json({ anomalies })),
      this.writeArtifact(run, ARTIFACTS.report, new TextEncoder().encode(`${report}\n`), 'text/plain'),
    ]);
    await this.tracking.runs.logInputs(run.runId, [datasetInput(config.datasetUri, digest, statistics)]);
    const errors = anomalies.filter((anomaly) => anomaly.severity === 'error');
    await this.tracking.runs.logBatch({
      runId: run.runId,
      metrics: [
        this.metric('dataset_rows', statistics.rows),
        this.metric('data_anomalies', errors.length),
        this.metric('data_warnings', anomalies.length - errors.length),
      ],
      tags: [{ key: PIPELINE_TAGS.datasetDigest, value: digest }],
    });
    if (errors.length > 0) throw new DataValidationError(report);
    return {
      digest,
      rows: statistics.rows,
      featureColumns,
      ...(baseline ? { baselineVersion: baseline.version } : {}),
      warnings: anomalies.length - errors.length,
      statisticsPath: ARTIFACTS.statistics,
      schemaPath: ARTIFACTS.schema,
    };
  }

  /**
   * Step 3: a reproducible (stratified, for classification) train/test split of the rows that have
   * every value the model needs, written to the run as two CSV files of those columns.
   */
  async split(state: PipelineState): Promise<SplitOutcome> {
    const { config, run } = state;
    const data = requireStep(state.data, 'ValidateData');
    const { bytes, digest } = await this.readDataset(config.datasetUri);
    if (digest !== data.digest) {
      throw new DatasetChangedError(
        `${config.datasetUri} changed while the pipeline ran (sha256 ${data.digest} at validation, ${digest} now)`,
      );
    }
    const table = parseDataset(bytes, config.datasetUri);
    const columns = [...data.featureColumns, config.targetColumn];
    const indexes = columns.map((name) => table.columns.indexOf(name));
    const complete = table.rows
      .map((row) => indexes.map((index) => (row[index] as string).trim()))
      .filter((row) => row.every((field) => !isMissing(field)));
    const strata =
      config.modelType === 'logistic_regression'
        ? complete.map((row) => String(targetValue(config, row.at(-1) as string)))
        : undefined;
    const parts = splitRows(complete.length, { ...config.split, strata });
    const train: Table = { columns, rows: parts.train.map((i) => complete[i] as string[]) };
    const test: Table = { columns, rows: parts.test.map((i) => complete[i] as string[]) };
    await Promise.all([
      this.writeArtifact(run, ARTIFACTS.train, new TextEncoder().encode(formatCsv(train)), 'text/csv'),
      this.writeArtifact(run, ARTIFACTS.test, new TextEncoder().encode(formatCsv(test)), 'text/csv'),
    ]);
    await this.tracking.runs.logBatch({
      runId: run.runId,
      metrics: [
        this.metric('train_rows', train.rows.length),
        this.metric('test_rows', test.rows.length),
        this.metric('dropped_rows', table.rows.length - complete.length),
      ],
    });
    const s3 = this.s3UriOf;
    const root = proxyPathOfArtifactUri(run.artifactUri);
    return {
      trainPath: ARTIFACTS.train,
      testPath: ARTIFACTS.test,
      trainRows: train.rows.length,
      testRows: test.rows.length,
      ...(s3
        ? {
            trainS3Uri: s3(`${root}/${ARTIFACTS.train}`),
            testS3Uri: s3(`${root}/${ARTIFACTS.test}`),
            outputS3Uri: s3(`${root}/${ARTIFACTS.sagemakerOutput}`),
          }
        : {}),
    };
  }

  /** Step 4 (built-in trainer): fits the model and writes it to the run as an MLflow ONNX model. */
  async train(state: PipelineState): Promise<TrainingOutcome> {
    const { config, run } = state;
    const data = requireStep(state.data, 'ValidateData');
    const split = requireStep(state.split, 'Split');
    const train = parseCsv(utf8(await this.readArtifact(run, split.trainPath)));
    const { x, y } = matrixOf(train, config, data.featureColumns);
    const started = performance.now();
    const model = trainLinearModel(config.modelType, data.featureColumns, x, y, config.hyperparameters);
    const seconds = (performance.now() - started) / 1000;
    const logged = await this.loggedModelOf(state);
    const { files } = mlflowModelFiles({
      model,
      runId: run.runId,
      loggedModel: { modelId: logged.modelId, artifactLocation: logged.artifactLocation },
      target: config.targetColumn,
      positiveClass: config.positiveClass,
      example: x.slice(0, 5),
      runwayVersion: this.runwayVersion,
      now: new Date(this.clock.now()),
    });
    await this.writeModelFiles(logged.artifactLocation, Object.entries(files));
    await this.tracking.models.finalize(logged.modelId, 'LOGGED_MODEL_READY');
    await this.tracking.runs.logBatch({
      runId: run.runId,
      metrics: [
        this.metric(
          model.type === 'logistic_regression' ? 'training_deviance' : 'training_rss',
          model.fit.loss,
        ),
        this.metric('training_iterations', model.fit.iterations),
        this.metric('training_seconds', seconds),
      ],
      tags: [{ key: 'runway.model.converged', value: String(model.fit.converged) }],
    });
    return {
      modelId: logged.modelId,
      modelUri: logged.artifactLocation,
      iterations: model.fit.iterations,
      converged: model.fit.converged,
    };
  }

  /**
   * Step 4 (SageMaker trainer), after the `.sync` training job: unpacks the job's `model.tar.gz`,
   * which must hold an MLflow model with an ONNX flavor (`MLmodel`, `model.onnx`) and `metrics.json`
   * (the container's metrics on the `test` channel), into the run's `model/`.
   */
  async importSageMakerModel(state: PipelineState): Promise<TrainingOutcome> {
    const { run } = state;
    const job = requireStep(state.sagemaker, 'TrainInSageMaker');
    const archive = await this.datasets.read(job.modelArtifacts, MAX_DATASET_BYTES);
    if (!(archive instanceof Uint8Array)) {
      throw new DatasetUnreadableError(`Cannot read ${job.modelArtifacts} (${archive ?? 'missing'})`);
    }
    let files: Map<string, Uint8Array>;
    try {
      files = readTarGz(archive, MAX_DATASET_BYTES);
    } catch (error) {
      throw new TrainingError(`${job.modelArtifacts} is not a readable .tar.gz: ${(error as Error).message}`);
    }
    const missing = ['MLmodel', 'model.onnx', 'metrics.json'].filter((name) => !files.has(name));
    if (missing.length > 0) {
      throw new TrainingError(
        `The training job ${job.trainingJobName} wrote no ${missing.join(', ')} in /opt/ml/model: a SageMaker trainer must write an MLflow ONNX model and metrics.json (its metrics on the test channel)`,
      );
    }
    const metrics = files.get('metrics.json') as Uint8Array;
    files.delete('metrics.json');
    const logged = await this.loggedModelOf(state);
    await Promise.all([
      this.writeModelFiles(logged.artifactLocation, [...files]),
      this.writeArtifact(run, ARTIFACTS.containerMetrics, metrics),
    ]);
    await this.tracking.models.finalize(logged.modelId, 'LOGGED_MODEL_READY');
    await this.tracking.runs.logBatch({
      runId: run.runId,
      tags: [{ key: 'runway.sagemaker.training_job', value: job.trainingJobName }],
    });
    return {
      modelId: logged.modelId,
      modelUri: logged.artifactLocation,
      iterations: 0,
      converged: true,
      containerMetricsPath: ARTIFACTS.containerMetrics,
    };
  }

  /** Step 5: the model's metrics on the held-out split, logged to the run as `test_<metric>`. */
  async evaluate(state: PipelineState): Promise<EvaluationOutcome> {
    const { config, run } = state;
    const training = requireStep(state.training, 'Train');
    const metrics = training.containerMetricsPath
      ? await this.containerMetrics(run, training.containerMetricsPath, config.metric)
      : await this.scoreOnTestSplit(state, await this.loadModel(training.modelUri));
    await this.writeArtifact(run, ARTIFACTS.evaluation, json(metrics));
    // Linked to the logged model too, as MLflow 3 links metrics logged for a model: searches of logged
    // models filter and order on them (`metrics.test_accuracy > 0.9`).
    await this.tracking.runs.logBatch({
      runId: run.runId,
      metrics: Object.entries(metrics).map(([key, value]) => ({
        ...this.metric(`test_${key}`, value),
        modelId: training.modelId,
      })),
    });
    return { metric: config.metric, value: metrics[config.metric] as number, metrics };
  }

  /**
   * Step 6: the gate. The candidate must clear the threshold and, when an alias is configured and a
   * version holds it, beat that version on the same held-out rows.
   */
  async gate(state: PipelineState): Promise<GateOutcome> {
    const { config, run } = state;
    const evaluation = requireStep(state.evaluation, 'Evaluate');
    const champion = config.alias ? await this.champion(state, config.alias) : undefined;
    const decision = decideGate({
      metric: config.metric,
      candidate: evaluation.value,
      threshold: config.threshold,
      champion,
      alias: config.alias,
    });
    await this.tracking.runs.logBatch({
      runId: run.runId,
      tags: [
        { key: PIPELINE_TAGS.gate, value: decision.passed ? 'passed' : 'rejected' },
        { key: 'runway.pipeline.gate_reason', value: decision.reason.slice(0, 5000) },
      ],
      metrics: champion ? [this.metric(`champion_test_${config.metric}`, champion.value)] : [],
    });
    return {
      ...decision,
      ...(champion ? { championVersion: champion.version, championValue: champion.value } : {}),
    };
  }

  /**
   * Step 7: registers the trained logged model as a new version (`models:/<model_id>`, as MLflow 3's
   * `register_model` does), linked to the run and the dataset digest,
   * with the dataset schema and statistics as the next baseline.
   * A retry finds the version it created for this run instead of creating another.
   */
  async register(state: PipelineState): Promise<RegistrationOutcome> {
    const { config, run } = state;
    const data = requireStep(state.data, 'ValidateData');
    const training = requireStep(state.training, 'Train');
    const evaluation = requireStep(state.evaluation, 'Evaluate');
    await this.registry
      .createModel({
        name: config.modelName,
        description: `Trained by Runway pipelines: ${config.modelType}`,
      })
      .catch((error: unknown) => {
        if (!(error instanceof ResourceAlreadyExistsError)) throw error;
      });
    const existing = await this.registry.searchVersions({
      filter: `name = '${escapeFilter(config.modelName)}' and run_id = '${run.runId}'`,
      maxResults: 1,
    });
    const version =
      existing.versions[0] ??
      (await this.registry.createVersion({
        name: config.modelName,
        // MLflow 3's way, as `mlflow.register_model(model_info.model_uri, name)` sends it.
        source: `models:/${training.modelId}`,
        modelId: training.modelId,
        runId: run.runId,
        description: `${config.metric} = ${evaluation.value} on ${state.split?.testRows ?? '?'} held-out rows`,
        tags: [
          { key: PIPELINE_TAGS.datasetDigest, value: data.digest },
          { key: PIPELINE_TAGS.datasetUri, value: config.datasetUri },
          { key: PIPELINE_TAGS.datasetSchema, value: artifactUri(run, data.schemaPath) },
          { key: PIPELINE_TAGS.datasetStatistics, value: artifactUri(run, data.statisticsPath) },
          { key: `runway.metrics.test_${config.metric}`, value: String(evaluation.value) },
          { key: PIPELINE_TAGS.executionArn, value: runTagValue(await this.tracking.runs.get(run.runId)) },
        ],
      }));
    await this.tracking.runs.logBatch({
      runId: run.runId,
      tags: [
        { key: 'runway.registered_model.name', value: config.modelName },
        { key: 'runway.registered_model.version', value: String(version.version) },
      ],
    });
    return { name: config.modelName, version: String(version.version) };
  }

  /** Step 8 (when the input names an alias): points the alias at the new version. */
  async setAlias(state: PipelineState): Promise<RegistrationOutcome> {
    const { config } = state;
    const registration = requireStep(state.registration, 'Register');
    if (!config.alias) throw new PipelineInputError('The input names no alias to set');
    await this.registry.setAlias(registration.name, config.alias, registration.version);
    await this.tracking.runs.logBatch({
      runId: state.run.runId,
      tags: [{ key: 'runway.registered_model.alias', value: config.alias }],
    });
    return { ...registration, alias: config.alias };
  }

  /** The last step: ends the run as FINISHED and summarises the execution. */
  async finish(state: PipelineState): Promise<PipelineSummary> {
    const { config, run } = state;
    const evaluation = requireStep(state.evaluation, 'Evaluate');
    const gate = requireStep(state.gate, 'Gate');
    await this.tracking.runs.update({ runId: run.runId, status: 'FINISHED', endTime: this.clock.now() });
    return {
      runId: run.runId,
      experimentId: run.experimentId,
      modelName: config.modelName,
      metric: evaluation.metric,
      value: evaluation.value,
      registered: state.registration !== undefined,
      gate: gate.reason,
      ...(state.registration ? { version: state.registration.version } : {}),
      ...(state.registration?.alias ? { alias: state.registration.alias } : {}),
    };
  }

  /**
   * The failure path: marks the run FAILED with the step and reason as tags, and returns the
   * `error`/`cause` the execution fails with (the cause names the step).
   */
  async recordFailure(failure: StepFailure): Promise<{ error: string; cause: string }> {
    const reason = causeText(failure.cause);
    const cause = `${failure.step} failed: ${reason}`;
    if (failure.run) {
      const { runId } = failure.run;
      await this.tracking.runs.logBatch({
        runId,
        tags: [
          { key: PIPELINE_TAGS.failedStep, value: failure.step },
          { key: 'runway.pipeline.error', value: `${failure.error}: ${reason}`.slice(0, 5000) },
        ],
      });
      await this.tracking.runs.update({ runId, status: 'FAILED', endTime: this.clock.now() });
    }
    return { error: failure.error, cause: cause.slice(0, 32_000) };
  }

  private metric(key: string, value: number): Metric {
    return { key, value, timestamp: this.clock.now(), step: 0 };
  }

  /** The trainer's image and run time, within what the deployer allowed (before anything is created). */
  private checkSageMakerTrainer(trainer: { image: string; maxRuntimeSeconds: number }): void {
    const allowed = this.sagemakerTraining;
    const repository = imageRepository(trainer.image);
    if (!repository || !allowed.imageRepositories.includes(repository)) {
      throw new PipelineInputError(
        `Invalid pipeline input: trainer.image: '${trainer.image}' is not in a repository this Runway may pull from (${allowed.imageRepositories.join(', ') || 'none'}; the deployer names them with -c trainingImageRepositories=...)`,
      );
    }
    if (trainer.maxRuntimeSeconds > allowed.maxRuntimeSeconds) {
      throw new PipelineInputError(
        `Invalid pipeline input: trainer.maxRuntimeSeconds: at most ${allowed.maxRuntimeSeconds}, so that the job ends before the pipeline's execution times out`,
      );
    }
  }

  private experimentId(name: string): Promise<string> {
    return experimentIdByName(this.tracking, name, 'Runs of a Runway training pipeline');
  }

  private async readDataset(uri: string): Promise<{ bytes: Uint8Array; digest: string }> {
    const bytes = await this.datasets.read(uri, MAX_DATASET_BYTES);
    if (bytes === undefined) throw new DatasetUnreadableError(`No dataset at ${uri}`);
    if (bytes === 'too-large') {
      throw new DatasetUnreadableError(
        `The dataset at ${uri} is larger than ${MAX_DATASET_BYTES} bytes, the most the built-in steps read; train larger datasets with the SageMaker trainer`,
      );
    }
    return { bytes, digest: createHash('sha256').update(bytes).digest('hex') };
  }

  private async readArtifact(run: RunRef, relative: string): Promise<Uint8Array> {
    const path = `${proxyPathOfArtifactUri(run.artifactUri)}/${relative}`;
    const bytes = await this.artifacts.read(path, MAX_ARTIFACT_BYTES);
    if (bytes === undefined || bytes === 'too-large') {
      throw new DatasetUnreadableError(`Cannot read the run artifact ${relative} (${bytes ?? 'missing'})`);
    }
    return bytes;
  }

  private writeArtifact(run: RunRef, relative: string, bytes: Uint8Array, contentType = 'application/json') {
    return this.artifacts.write(`${proxyPathOfArtifactUri(run.artifactUri)}/${relative}`, bytes, contentType);
  }

  private async containerMetrics(run: RunRef, path: string, metric: string): Promise<Record<string, number>> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8(await this.readArtifact(run, path)));
    } catch {
      throw new TrainingError('metrics.json from the training job is not JSON');
    }
    const metrics = Object.fromEntries(
      Object.entries(parsed && typeof parsed === 'object' ? parsed : {}).filter(
        (entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]),
      ),
    );
    if (metrics[metric] === undefined) {
      throw new TrainingError(
        `metrics.json from the training job has no numeric "${metric}", the gate's metric`,
      );
    }
    return metrics;
  }

  private async loadModel(modelUri: string): Promise<LinearModel> {
    const path = `${proxyPathOfArtifactUri(modelUri)}/${MODEL_PARAMETERS_FILE}`;
    const bytes = await this.artifacts.read(path, MAX_ARTIFACT_BYTES);
    if (bytes === undefined || bytes === 'too-large') {
      throw new DatasetUnreadableError(`Cannot read the model's ${MODEL_PARAMETERS_FILE} at ${modelUri}`);
    }
    return JSON.parse(utf8(bytes)) as LinearModel;
  }

  /**
   * The run's logged model, as `mlflow.<flavor>.log_model(model, name="model")` makes it in MLflow 3:
   * created PENDING with the run's params, named as the run's output (`runs/outputs`), its files at
   * its own artifact location. A retried step finds the one it made before instead of making another.
   */
  private async loggedModelOf(state: PipelineState): Promise<{ modelId: string; artifactLocation: string }> {
    const { run } = state;
    const found = await this.tracking.models.search({
      experimentIds: [run.experimentId],
      filter: `source_run_id = '${run.runId}' AND name = '${LOGGED_MODEL_NAME}'`,
      maxResults: 1,
    });
    const existing = found.models[0];
    if (existing) return existing;
    const stored = await this.tracking.runs.get(run.runId);
    const created = await this.tracking.models.create({
      experimentId: run.experimentId,
      name: LOGGED_MODEL_NAME,
      sourceRunId: run.runId,
      params: stored.params,
      tags: [
        { key: 'mlflow.source.type', value: 'JOB' },
        { key: 'mlflow.user', value: 'runway-pipeline' },
        { key: PIPELINE_TAGS.executionArn, value: runTagValue(stored) },
      ],
    });
    await this.tracking.runs.logOutputs(run.runId, [{ modelId: created.modelId, step: 0 }]);
    return created;
  }

  private writeModelFiles(artifactLocation: string, files: ReadonlyArray<[string, Uint8Array]>) {
    const root = proxyPathOfArtifactUri(artifactLocation);
    return Promise.all(
      files.map(([name, bytes]) => this.artifacts.write(`${root}/${name}`, bytes, contentTypeOf(name))),
    );
  }

  private async scoreOnTestSplit(
    state: PipelineState,
    model: Pick<LinearModel, 'type' | 'coefficients' | 'intercept'>,
  ) {
    const split = requireStep(state.split, 'Split');
    const data = requireStep(state.data, 'ValidateData');
    const test = parseCsv(utf8(await this.readArtifact(state.run, split.testPath)));
    const { x, y } = matrixOf(test, state.config, data.featureColumns);
    return scoreModel(model, x, y) as Record<string, number>;
  }

  /** The newest version of `modelName` that recorded its dataset schema and statistics. */
  private async baseline(modelName: string): Promise<(Baseline & { version: string }) | undefined> {
    let versions: ModelVersion[];
    try {
      ({ versions } = await this.registry.searchVersions({
        filter: `name = '${escapeFilter(modelName)}'`,
        orderBy: ['version_number DESC'],
        maxResults: 50,
      }));
    } catch (error) {
      if (error instanceof ResourceDoesNotExistError) return undefined;
      throw error;
    }
    const version = versions.find(
      (candidate) =>
        candidate.tags[PIPELINE_TAGS.datasetSchema] && candidate.tags[PIPELINE_TAGS.datasetStatistics],
    );
    if (!version) return undefined;
    const read = async (uri: string) => {
      const path = proxyPathOfArtifactUri(uri);
      const bytes = path === undefined ? undefined : await this.artifacts.read(path, MAX_ARTIFACT_BYTES);
      if (bytes === undefined || bytes === 'too-large') {
        throw new DatasetUnreadableError(
          `Cannot read the baseline ${uri} of ${modelName} version ${version.version}`,
        );
      }
      return JSON.parse(utf8(bytes)) as unknown;
    };
    const [schema, statistics] = await Promise.all([
      read(version.tags[PIPELINE_TAGS.datasetSchema] as string),
      read(version.tags[PIPELINE_TAGS.datasetStatistics] as string),
    ]);
    return {
      schema: schema as DatasetSchema,
      statistics: statistics as DatasetStatistics,
      description: `model ${modelName} version ${version.version}`,
      version: String(version.version),
    };
  }

  /**
   * The version under `alias` and its metric on this execution's held-out rows. A version Runway
   * trained is re-scored (its coefficients are beside its ONNX file); any other falls back to the
   * `test_<metric>` its run logged, and a version with neither cannot be beaten knowingly: the gate
   * then refuses, rather than replace a production model blindly.
   */
  private async champion(
    state: PipelineState,
    alias: string,
  ): Promise<{ version: string; value: number } | undefined> {
    const { config } = state;
    let aliased: number | undefined;
    try {
      aliased = (await this.registry.getModel(config.modelName)).aliases[alias];
    } catch (error) {
      if (error instanceof ResourceDoesNotExistError) return undefined;
      throw error;
    }
    if (aliased === undefined) return undefined;
    const version = await this.registry.getVersion(config.modelName, String(aliased));
    const location = versionFilesLocation(version);
    const data = requireStep(state.data, 'ValidateData');
    if (location.startsWith('mlflow-artifacts:')) {
      const bytes = await this.artifacts.read(
        `${proxyPathOfArtifactUri(location)}/${MODEL_PARAMETERS_FILE}`,
        MAX_ARTIFACT_BYTES,
      );
      if (bytes instanceof Uint8Array) {
        const model = JSON.parse(utf8(bytes)) as LinearModel;
        if (model.type === config.modelType && sameList(model.features, data.featureColumns)) {
          const metrics = await this.scoreOnTestSplit(state, model);
          return { version: String(version.version), value: metrics[config.metric] as number };
        }
      }
    }
    const logged = version.runId
      ? (await this.tracking.runs.get(version.runId).catch(() => undefined))?.metrics.find(
          (metric) => metric.key === `test_${config.metric}`,
        )
      : undefined;
    if (logged) return { version: String(version.version), value: logged.value };
    return {
      version: String(version.version),
      value: isLowerBetter(config.metric) ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY,
    };
  }
}

/** The id of the experiment named `name`, created (with `note` as its description) when there is none. */
export async function experimentIdByName(
  tracking: Pick<Tracking, 'experiments'>,
  name: string,
  note: string,
): Promise<string> {
  try {
    return (await tracking.experiments.getByName(name)).experimentId;
  } catch (error) {
    if (!(error instanceof ResourceDoesNotExistError)) throw error;
  }
  try {
    return await tracking.experiments.create({ name, tags: [{ key: 'mlflow.note.content', value: note }] });
  } catch (error) {
    // Another execution created it first.
    if (!(error instanceof ResourceAlreadyExistsError)) throw error;
    return (await tracking.experiments.getByName(name)).experimentId;
  }
}

function parseInput(input: unknown): PipelineConfig {
  const parsed = PipelineInputSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(input)'}: ${issue.message}`,
    );
    throw new PipelineInputError(`Invalid pipeline input: ${problems.join('; ')}`);
  }
  const value = parsed.data;
  return {
    ...value,
    metric: value.metric ?? (value.modelType === 'logistic_regression' ? 'accuracy' : 'rmse'),
    experimentName: value.experimentName ?? `pipeline-${value.modelName}`,
  };
}

export function parseDataset(bytes: Uint8Array, uri: string): Table {
  try {
    return parseCsv(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    if (error instanceof CsvError)
      throw new DataValidationError(`${uri} is not a valid CSV file: ${error.message}`);
    if (error instanceof TypeError) throw new DataValidationError(`${uri} is not UTF-8 text`);
    throw error;
  }
}

function requireStep<T>(value: T | undefined, step: string): T {
  if (value === undefined) throw new PipelineInputError(`The state has no result of the ${step} step`);
  return value;
}

/** MLflow's dataset input: digest (at most 36 characters), source, MLflow colspec schema and a profile. */
function datasetInput(uri: string, digest: string, statistics: DatasetStatistics) {
  const mlflowType = { integer: 'long', float: 'double', string: 'string' } as const;
  return {
    dataset: {
      name: uri.split('/').pop() || uri,
      digest: digest.slice(0, 32),
      sourceType: uri.startsWith('s3://') ? 's3' : 'http',
      source: JSON.stringify({ uri }),
      schema: JSON.stringify({
        mlflow_colspec: statistics.columns.map((column) => ({
          type: mlflowType[column.type],
          name: column.name,
          required: column.missing === 0,
        })),
      }),
      profile: JSON.stringify({
        num_rows: statistics.rows,
        num_elements: statistics.rows * statistics.columns.length,
      }),
    },
    tags: [{ key: 'mlflow.data.context', value: 'training' }] as RunTag[],
  };
}

function artifactUri(run: RunRef, relative: string): string {
  return `${run.artifactUri.replace(/\/+$/, '')}/${relative}`;
}

function runTagValue(run: { tags: RunTag[] }): string {
  return run.tags.find((tag) => tag.key === PIPELINE_TAGS.executionArn)?.value ?? '';
}

const escapeFilter = (value: string): string => value.replaceAll("'", "\\'");

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((value, i) => value === b[i]);

function contentTypeOf(name: string): string {
  if (name.endsWith('.json')) return 'application/json';
  if (name.endsWith('.onnx')) return 'application/octet-stream';
  return 'text/plain';
}

/** A Lambda error's cause is its JSON payload; a person wants the message. */
export function causeText(cause: string | undefined): string {
  if (!cause) return 'no cause was reported';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: the cause is the message itself.
  }
  return cause;
}
