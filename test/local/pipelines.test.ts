import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_ACCOUNT, LOCAL_REGION, LocalRuntime } from '../../infra/local/runtime.ts';
import { DEFAULT_PIPELINE_NAME } from '../../shared/pipelines/model.ts';
import { predict } from '../../shared/pipelines/training/linear-models.ts';
import { fakeSageMaker } from '../support/fake-sagemaker-training.ts';
import { IRIS_FEATURES, IRIS_PATH, iris } from '../support/iris.ts';
import { LocalDeployDriver } from '../support/local-deploy.ts';
import { runRunwayCli } from '../support/runway-cli.ts';

const MACHINE = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${DEFAULT_PIPELINE_NAME}`;
const INPUT = {
  datasetUri: 'mlflow-artifacts:/datasets/iris.csv',
  targetColumn: 'species',
  positiveClass: 'virginica',
  modelType: 'logistic_regression',
  hyperparameters: { l2: 0.1 },
  modelName: 'iris-classifier',
  threshold: 0.9,
  alias: 'production',
};

let dataDir: string;
let runtime: LocalRuntime;
const sagemaker = fakeSageMaker(() => runtime.environment.AWS_ENDPOINT_URL_S3 ?? '');

/** The app's default training image repository, as the local runtime's account and region name it. */
const TRAINING_REPOSITORY = '000000000000.dkr.ecr.us-east-1.amazonaws.com/runway-training';

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered.
async function api(pathname: string, init?: RequestInit): Promise<any> {
  const response = await fetch(`${runtime.url}${pathname}`, init);
  expect(response.status, pathname).toBe(200);
  return response.json();
}

async function upload(name: string, body: string): Promise<void> {
  const response = await fetch(`${runtime.url}/api/2.0/mlflow-artifacts/artifacts/datasets/${name}`, {
    method: 'PUT',
    body,
  });
  expect(response.status).toBe(200);
}

/** A file below an artifact root (a run's `artifact_uri` or a logged model's), through the proxy. */
async function artifact(rootUri: string, relative: string): Promise<Uint8Array> {
  const proxyPath = rootUri.replace(/^mlflow-artifacts:\//, '');
  const response = await fetch(`${runtime.url}/api/2.0/mlflow-artifacts/artifacts/${proxyPath}/${relative}`);
  expect(response.status, relative).toBe(200);
  return new Uint8Array(await response.arrayBuffer());
}

async function execute(input: unknown) {
  const { executionArn } = await runtime.stepFunctions.startExecution({
    stateMachineArn: MACHINE,
    input: JSON.stringify(input),
  });
  const description = await runtime.stepFunctions.waitForExecution(executionArn, 60_000);
  const { events = [] } = await runtime.stepFunctions.getExecutionHistory({ executionArn, maxResults: 1000 });
  return { executionArn, description, events };
}

const entered = (events: readonly HistoryEvent[]) =>
  events.flatMap((event) =>
    event.stateEnteredEventDetails?.name ? [event.stateEnteredEventDetails.name] : [],
  );

/** The logged model a run produced (MLflow 3: the run's `outputs.model_outputs`). */
async function loggedModelOf(runId: string) {
  const { run } = await api(`/api/2.0/mlflow/runs/get?run_id=${runId}`);
  const outputs = run.outputs.model_outputs as Array<{ model_id: string; step: number }>;
  expect(outputs).toHaveLength(1);
  return (await api(`/api/2.0/mlflow/logged-models/${outputs[0]!.model_id}`)).model;
}

const versionsOf = async (name: string) =>
  (await api(`/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent(`name='${name}'`)}`))
    .model_versions ?? [];

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-pipelines-'));
  runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    functionLogs: 'silent',
    log: () => undefined,
    runJob: sagemaker.runJob,
    stopJob: sagemaker.stopJob,
  });
  await upload('iris.csv', iris().text);
}, 180_000);

afterAll(async () => {
  await runtime?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the training pipeline in the local runtime', () => {
  let first: Awaited<ReturnType<typeof execute>>;

  it('runs every step on the demo dataset and registers version 1 under the alias', async () => {
    first = await execute(INPUT);
    expect(first.description.status, first.description.cause).toBe('SUCCEEDED');
    expect(entered(first.events)).toEqual([
      'Prepare',
      'ValidateData',
      'Split',
      'Which trainer?',
      'Train',
      'Evaluate',
      'Gate',
      'Gate passed?',
      'Register',
      'Alias requested?',
      'SetAlias',
      'Finish',
      'Done',
    ]);
    const output = JSON.parse(first.description.output ?? '{}');
    expect(output).toMatchObject({
      modelName: 'iris-classifier',
      metric: 'accuracy',
      registered: true,
      version: '1',
      alias: 'production',
    });
    expect(output.value).toBeGreaterThanOrEqual(0.9);
  });

  it('tracks the execution as an MLflow run: params, metrics, dataset input, artifacts, execution ARN', async () => {
    const output = JSON.parse(first.description.output ?? '{}');
    const { run } = await api(`/api/2.0/mlflow/runs/get?run_id=${output.runId}`);
    expect(run.info.status).toBe('FINISHED');
    const tags = Object.fromEntries(
      run.data.tags.map((t: { key: string; value: string }) => [t.key, t.value]),
    );
    expect(tags['runway.pipeline.execution_arn']).toBe(first.executionArn);
    expect(tags['runway.pipeline.gate']).toBe('passed');
    const params = Object.fromEntries(
      run.data.params.map((p: { key: string; value: string }) => [p.key, p.value]),
    );
    expect(params).toMatchObject({ model_type: 'logistic_regression', target_column: 'species', l2: '0.1' });
    const metrics = Object.fromEntries(
      run.data.metrics.map((m: { key: string; value: number }) => [m.key, m.value]),
    );
    expect(metrics.test_accuracy).toBe(output.value);
    expect(metrics).toMatchObject({ train_rows: 120, test_rows: 30, dataset_rows: 150, data_anomalies: 0 });
    expect(run.inputs.dataset_inputs[0].dataset).toMatchObject({
      name: 'iris.csv',
      digest: tags['runway.dataset.digest'].slice(0, 32),
    });
    // The trained model is an MLflow 3 logged model, the run's output, as `log_model(name="model")` makes it.
    const model = await loggedModelOf(output.runId);
    expect(model.info).toMatchObject({
      name: 'model',
      source_run_id: output.runId,
      experiment_id: run.info.experiment_id,
      status: 'LOGGED_MODEL_READY',
      artifact_uri: `mlflow-artifacts:/${run.info.experiment_id}/models/${model.info.model_id}/artifacts`,
    });
    expect(model.data.params).toEqual(
      expect.arrayContaining([{ key: 'model_type', value: 'logistic_regression' }]),
    );
    expect(model.data.metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'test_accuracy', value: output.value, run_id: output.runId }),
      ]),
    );
    const listing = await api(`/api/2.0/mlflow/logged-models/${model.info.model_id}/artifacts/directories`);
    expect(listing.files.map((f: { path: string }) => f.path)).toEqual(
      expect.arrayContaining(['MLmodel', 'model.onnx', 'input_example.json', 'runway_model.json']),
    );
    const mlmodel = new TextDecoder().decode(await artifact(model.info.artifact_uri, 'MLmodel'));
    expect(mlmodel).toContain(`model_id: ${model.info.model_id}`);
    expect(mlmodel).toContain(`artifact_path: ${model.info.artifact_uri}`);
    expect(mlmodel).toContain(`run_id: ${output.runId}`);
    // Found as a user finds it: search_logged_models with a metric filter.
    const found = await api('/api/2.0/mlflow/logged-models/search', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        experiment_ids: [run.info.experiment_id],
        filter: 'metrics.test_accuracy >= 0.9',
      }),
    });
    expect(found.models.map((m: { info: { model_id: string } }) => m.info.model_id)).toContain(
      model.info.model_id,
    );
  });

  it('links the version to its run and dataset digest, and its ONNX model predicts what was trained', async () => {
    const output = JSON.parse(first.description.output ?? '{}');
    const { model_version: version } = await api(
      '/api/2.0/mlflow/registered-models/alias?name=iris-classifier&alias=production',
    );
    const model = await loggedModelOf(output.runId);
    // Registered MLflow 3's way: from the logged model, whose files the version's download URI names.
    expect(version).toMatchObject({
      version: '1',
      run_id: output.runId,
      source: `models:/${model.info.model_id}`,
    });
    const download = await api(
      '/api/2.0/mlflow/model-versions/get-download-uri?name=iris-classifier&version=1',
    );
    expect(download.artifact_uri).toBe(model.info.artifact_uri);
    const links = model.info.tags.find((t: { key: string }) => t.key === 'mlflow.modelVersions');
    expect(links?.value).toBe('[{"name": "iris-classifier", "version": 1}]');
    const tags = Object.fromEntries(
      version.tags.map((t: { key: string; value: string }) => [t.key, t.value]),
    );
    const { run } = await api(`/api/2.0/mlflow/runs/get?run_id=${output.runId}`);
    const digest = run.data.tags.find((t: { key: string }) => t.key === 'runway.dataset.digest').value;
    expect(tags['runway.dataset.digest']).toBe(digest);
    expect(tags['runway.dataset.statistics_uri']).toBe(`${run.info.artifact_uri}/data/statistics.json`);
    const onnx = await artifact(model.info.artifact_uri, 'model.onnx');
    const parameters = JSON.parse(
      new TextDecoder().decode(await artifact(model.info.artifact_uri, 'runway_model.json')),
    );
    const session = await ort.InferenceSession.create(onnx);
    const rows = iris()
      .rows.slice(45, 55)
      .map((row) => row.slice(0, 4).map(Number));
    const { output: probabilities } = await session.run({
      input: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 4]),
    });
    [...(probabilities!.data as Float32Array)].forEach((p, i) => {
      expect(p).toBeCloseTo(predict(parameters, rows[i]!), 5);
    });
  });

  it('does not register a model that does not beat the one under the alias', async () => {
    const again = await execute(INPUT);
    expect(again.description.status).toBe('SUCCEEDED');
    const output = JSON.parse(again.description.output ?? '{}');
    expect(output.registered).toBe(false);
    expect(output.gate).toContain('does not beat version 1 under alias "production"');
    expect(entered(again.events)).not.toContain('Register');
    expect(await versionsOf('iris-classifier')).toHaveLength(1);
  });

  it('fails a corrupted dataset at validation with the anomaly report, marks the run FAILED and registers nothing', async () => {
    const lines = iris().text.trimEnd().split('\n');
    lines[3] = '4.7,abc,1.3,0.2,setosa';
    lines[8] = '4.4,2.9,,0.2,setosa';
    await upload('iris-corrupted.csv', `${lines.join('\n')}\n`);
    const { description, events } = await execute({
      ...INPUT,
      datasetUri: 'mlflow-artifacts:/datasets/iris-corrupted.csv',
      threshold: 0,
    });
    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('DataValidationError');
    expect(description.cause).toMatch(
      /^ValidateData failed: Data validation failed for mlflow-artifacts:\/datasets\/iris-corrupted.csv against the schema of model iris-classifier version 1/,
    );
    expect(description.cause).toContain('TYPE_MISMATCH in column "sepal_width"');
    expect(description.cause).toContain('MISSING_VALUES in column "petal_length"');
    expect(entered(events)).not.toContain('Split');
    expect(await versionsOf('iris-classifier')).toHaveLength(1);
    const experiment = await api(
      '/api/2.0/mlflow/experiments/get-by-name?experiment_name=pipeline-iris-classifier',
    );
    const search = await fetch(`${runtime.url}/api/2.0/mlflow/runs/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        experiment_ids: [experiment.experiment.experiment_id],
        filter: "tags.`runway.pipeline.failed_step` = 'ValidateData'",
      }),
    });
    const { runs } = (await search.json()) as { runs: Array<{ info: { status: string } }> };
    expect(runs).toHaveLength(1);
    expect(runs[0]!.info.status).toBe('FAILED');
  });

  it('fails a bad input at the first step, naming every problem', async () => {
    const { description } = await execute({ ...INPUT, datasetUri: '/tmp/iris.csv', threshold: 'high' });
    expect(description.status).toBe('FAILED');
    expect(description.error).toBe('PipelineInputError');
    expect(description.cause).toContain('Prepare failed: Invalid pipeline input: datasetUri: must be s3://');
    expect(description.cause).toContain('threshold:');
  });

  it('trains in a SageMaker job (.sync, bound to a fake) and imports, evaluates and registers its model', async () => {
    const { description, events } = await execute({
      ...INPUT,
      modelName: 'iris-sagemaker',
      alias: undefined,
      trainer: {
        type: 'sagemaker',
        image: `${TRAINING_REPOSITORY}:1`,
        volumeSizeGb: 30,
        maxRuntimeSeconds: 1800,
      },
    });
    expect(description.status, description.cause).toBe('SUCCEEDED');
    expect(entered(events)).toEqual(
      expect.arrayContaining(['Which trainer?', 'TrainInSageMaker', 'ImportModel', 'Evaluate', 'Register']),
    );
    expect(entered(events)).not.toContain('Train');
    const output = JSON.parse(description.output ?? '{}');
    const call = sagemaker.calls.at(-1)!;
    expect(call).toMatchObject({
      TrainingJobName: `runway-${output.runId}`,
      AlgorithmSpecification: { TrainingImage: `${TRAINING_REPOSITORY}:1`, TrainingInputMode: 'File' },
      // The input's limits reach the job: SageMaker stops it at its run time limit.
      ResourceConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 30 },
      StoppingCondition: { MaxRuntimeInSeconds: 1800 },
      HyperParameters: { target_column: 'species', model_type: 'logistic_regression' },
      EnableNetworkIsolation: true,
    });
    const { run } = await api(`/api/2.0/mlflow/runs/get?run_id=${output.runId}`);
    const metrics = Object.fromEntries(
      run.data.metrics.map((m: { key: string; value: number }) => [m.key, m.value]),
    );
    expect(metrics.test_accuracy).toBe(output.value);
    const model = await loggedModelOf(output.runId);
    expect(model.info.status).toBe('LOGGED_MODEL_READY');
    const onnx = await artifact(model.info.artifact_uri, 'model.onnx');
    expect((await ort.InferenceSession.create(onnx)).inputNames).toEqual(['input']);
    expect(output).toMatchObject({ registered: true, version: '1' });
  });

  it('fails a SageMaker job failure at its step, naming it', async () => {
    const { description, events } = await execute({
      ...INPUT,
      modelName: 'iris-sagemaker',
      alias: undefined,
      trainer: { type: 'sagemaker', image: `${TRAINING_REPOSITORY}:missing` },
    });
    expect(description.status).toBe('FAILED');
    expect(entered(events)).not.toContain('ImportModel');
    expect(description.error).toBe('SageMaker.TrainingJobFailedException');
    expect(description.cause).toBe(
      `TrainInSageMaker failed: ClientError: Cannot pull the training image "${TRAINING_REPOSITORY}:missing"`,
    );
  });

  it('refuses, before anything is created, an image of another repository and a run time the execution cannot wait for', async () => {
    const foreign = await execute({
      ...INPUT,
      modelName: 'iris-sagemaker',
      trainer: { type: 'sagemaker', image: '999999999999.dkr.ecr.us-east-1.amazonaws.com/trainer:1' },
    });
    expect(foreign.description).toMatchObject({ status: 'FAILED', error: 'PipelineInputError' });
    expect(foreign.description.cause).toContain(
      `trainer.image: '999999999999.dkr.ecr.us-east-1.amazonaws.com/trainer:1' is not in a repository this Runway may pull from (${TRAINING_REPOSITORY}`,
    );
    const long = await execute({
      ...INPUT,
      modelName: 'iris-sagemaker',
      trainer: { type: 'sagemaker', image: `${TRAINING_REPOSITORY}:1`, maxRuntimeSeconds: 7200 },
    });
    expect(long.description.cause).toContain('trainer.maxRuntimeSeconds: at most 6300');
  });

  it('stops the training job when the execution is stopped', async () => {
    const { executionArn } = await runtime.stepFunctions.startExecution({
      stateMachineArn: MACHINE,
      input: JSON.stringify({
        ...INPUT,
        modelName: 'iris-sagemaker',
        alias: undefined,
        trainer: { type: 'sagemaker', image: `${TRAINING_REPOSITORY}:forever` },
      }),
    });
    const started = () =>
      sagemaker.calls.find((call) =>
        String(
          call.TrainingImage ??
            (call.AlgorithmSpecification as { TrainingImage?: string } | undefined)?.TrainingImage,
        ).endsWith(':forever'),
      );
    for (let i = 0; i < 400 && !started(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const job = String(started()?.TrainingJobName);
    await runtime.stepFunctions.stopExecution({ executionArn, error: 'Operator', cause: 'changed my mind' });
    expect((await runtime.stepFunctions.waitForExecution(executionArn, 10_000)).status).toBe('ABORTED');
    expect(sagemaker.calls).toContainEqual({
      service: 'sagemaker',
      action: 'stopTrainingJob',
      TrainingJobName: job,
    });
  });

  it('is started, listed and described by `runway pipelines` against the running runtime', async () => {
    const inputFile = path.join(dataDir, 'pipeline.json');
    const { datasetUri: _unused, ...input } = INPUT;
    writeFileSync(inputFile, JSON.stringify({ ...input, modelName: 'iris-cli', alias: undefined }));
    const started = await cli(
      'pipelines',
      'start',
      '--input',
      inputFile,
      '--dataset',
      IRIS_PATH,
      '--name',
      'cli-run',
      '--wait',
      '--data-dir',
      dataDir,
    );
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toContain('status:    SUCCEEDED');
    expect(started.stdout).toMatch(/steps:\n {2}Prepare\n {2}ValidateData\n/);
    expect(started.stdout).toContain('"registered": true');
    const listed = await cli('pipelines', 'list', '--data-dir', dataDir);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^cli-run {2}SUCCEEDED {2}/m);
    const described = await cli('pipelines', 'describe', 'cli-run', '--data-dir', dataDir);
    expect(described.stdout).toContain(
      `execution: ${MACHINE.replace(':stateMachine:', ':execution:')}:cli-run`,
    );
    const failed = await cli(
      'pipelines',
      'start',
      '--input-json',
      '{"modelName":"x"}',
      '--wait',
      '--data-dir',
      dataDir,
    );
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('error:     PipelineInputError');
    expect((await cli('pipelines', 'start', '--data-dir', dataDir)).code).toBe(2);
  }, 180_000);
});

describe('a model the pipeline trains and registers under an alias', () => {
  const MODEL = 'iris-served';
  const ENDPOINT = 'iris-served-api';

  it('is deployed to the endpoint that follows the alias, and the endpoint serves its predictions', async () => {
    const driver = new LocalDeployDriver(runtime);
    try {
      // The endpoint exists before the model has any version: it waits for the alias to move.
      await driver.ok('POST', 'mlflow/registered-models/create', { name: MODEL });
      await driver.ok('POST', 'runway/endpoints', {
        name: ENDPOINT,
        model_name: MODEL,
        follows: { alias: 'production' },
        rollout_policy: { traffic_steps: [50, 100], bake_seconds: 0 },
      });

      const { description } = await execute({ ...INPUT, modelName: MODEL });
      expect(description.status, description.cause).toBe('SUCCEEDED');
      const output = JSON.parse(description.output ?? '{}');
      expect(output).toMatchObject({ registered: true, version: '1', alias: 'production' });

      const served = await driver.waitForPrimary(ENDPOINT, output.version, 60_000, 250).catch(async () => {
        const history = JSON.stringify(await driver.deployments(ENDPOINT), null, 2);
        const traffic = JSON.stringify((await driver.endpoint(ENDPOINT)).traffic);
        throw new Error(
          `endpoint ${ENDPOINT} did not serve version ${output.version} within 60 s; traffic ${traffic}; deployments ${history}`,
        );
      });
      const { run } = await api(`/api/2.0/mlflow/runs/get?run_id=${output.runId}`);
      const model = await loggedModelOf(output.runId);
      // The endpoint serves the logged model's files (the version's source is models:/<model_id>).
      expect(served.primary.storage_location).toMatch(
        new RegExp(`/${run.info.experiment_id}/models/${model.info.model_id}/artifacts$`),
      );
      const [deployment] = await driver.deployments(ENDPOINT);
      expect(deployment).toMatchObject({ version: output.version, trigger: 'event', status: 'Succeeded' });

      const rows = [0, 60, 75, 120, 149].map((i) => iris().rows[i]!.slice(0, 4).map(Number));
      const invoked = await fetch(`${runtime.url}/endpoints/${ENDPOINT}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dataframe_split: { columns: IRIS_FEATURES, data: rows } }),
      });
      expect(invoked.status, await invoked.clone().text()).toBe(200);
      expect(invoked.headers.get('x-runway-model-version')).toBe(output.version);
      expect(invoked.headers.get('x-runway-variant')).toBe('primary');
      const { predictions } = (await invoked.json()) as { predictions: { output: number[][] } };
      // What the trained model computes, from the coefficients the pipeline logged beside the ONNX file.
      const parameters = JSON.parse(
        new TextDecoder().decode(await artifact(model.info.artifact_uri, 'runway_model.json')),
      );
      expect(predictions.output).toHaveLength(rows.length);
      predictions.output.forEach(([p], i) => {
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
        expect(p).toBeCloseTo(predict(parameters, rows[i]!), 5);
      });
      // Setosa rows are not virginica, virginica rows are.
      expect(predictions.output.map(([p]) => Math.round(p!))).toEqual([0, 0, 0, 1, 1]);
    } finally {
      driver.close();
    }
  }, 180_000);
});

function cli(...args: string[]) {
  return runRunwayCli(args);
}
