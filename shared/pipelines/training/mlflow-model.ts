/**
 * The MLflow model directory the built-in trainer writes, in the layout MLflow 3.11's
 * `mlflow.onnx.log_model` produces for a logged model (see shared/fixtures/mlflow3-onnx-logreg; MLflow
 * 2.22's run-artifact layout without one): `MLmodel` with the
 * `onnx` and `python_function` flavors, a tensor signature and input example, `model.onnx`, the
 * environment files, and `runway_model.json` (the coefficients, so a later pipeline can score this
 * model without an ONNX runtime). Any MLflow client can load it (`mlflow.pyfunc.load_model`), and
 * Runway's model server serves it.
 */
import { randomUUID } from 'node:crypto';
import { linearModelOnnx } from '../onnx/onnx-model.ts';
import type { LinearModel } from './linear-models.ts';

/**
 * The MLflow and library versions the files declare: those of the reference fixtures, MLflow 2.22.4's
 * run-artifact layout (shared/fixtures/mlflow-onnx-logreg) and MLflow 3.11.1's logged-model layout
 * (shared/fixtures/mlflow3-onnx-logreg).
 */
const LAYOUTS = {
  mlflow2: {
    mlflow: '2.22.4',
    onnx: '1.12.0',
    onnxruntime: '1.17.0',
    python: '3.11.2',
    pip: '23.0.1',
    buildDependencies: ['pip==23.0.1', 'setuptools==66.1.1', 'wheel==0.38.4'],
  },
  mlflow3: {
    mlflow: '3.11.1',
    onnx: '1.23.1',
    onnxruntime: '1.30.0',
    python: '3.11.7',
    pip: '23.2.1',
    buildDependencies: ['pip==23.2.1', 'setuptools==65.5.0', 'wheel'],
  },
} as const;
/** The file beside `model.onnx` that carries the fitted model as JSON. */
export const MODEL_PARAMETERS_FILE = 'runway_model.json';

export interface ModelFiles {
  /** File name -> contents, all relative to the model directory. */
  files: Record<string, Uint8Array>;
  /** What MLflow's `runs/log-model` records in the run's `mlflow.log-model.history` tag. */
  modelJson: Record<string, unknown>;
}

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

const tensorSpec = (columns: number) =>
  JSON.stringify([{ type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, columns] } }]).replaceAll(
    /([:,])(?=\S)/g,
    '$1 ',
  );

/** MLflow writes timestamps as `YYYY-MM-DD HH:MM:SS.ffffff` (UTC). */
const utcTime = (date: Date): string => `${date.toISOString().replace('T', ' ').replace('Z', '')}000`;

const yamlQuote = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/**
 * Every file of the model directory for `model`, trained in run `runId`: as MLflow 3.11's
 * `mlflow.onnx.log_model(model, name=...)` writes a logged model's when `loggedModel` is given (its
 * `MLmodel` names the model id and its artifact location), else as MLflow 2.22's run artifact `model/`.
 */
export function mlflowModelFiles(options: {
  model: LinearModel;
  runId: string;
  /** The MLflow 3 logged model the files are written to. */
  loggedModel?: { modelId: string; artifactLocation: string } | undefined;
  target: string;
  positiveClass?: string | undefined;
  /** Rows of raw feature values for the input example (MLflow keeps a handful). */
  example: readonly (readonly number[])[];
  runwayVersion: string;
  now?: Date;
}): ModelFiles {
  const { model, runId, loggedModel } = options;
  const now = options.now ?? new Date();
  const layout = loggedModel ? LAYOUTS.mlflow3 : LAYOUTS.mlflow2;
  const modelUuid = loggedModel?.modelId ?? randomUUID().replaceAll('-', '');
  const onnx = linearModelOnnx({
    weights: model.coefficients,
    intercept: model.intercept,
    link: model.type === 'logistic_regression' ? 'logistic' : 'identity',
    producerVersion: options.runwayVersion,
    docString: `${model.type} of ${options.target} on ${model.features.join(', ')}`,
    metadata: { features: JSON.stringify(model.features), target: options.target },
  });
  const example = options.example.slice(0, 5).map((row) => row.map((value) => Math.fround(value)));
  const inputs = tensorSpec(model.features.length);
  const outputs = tensorSpec(1);
  const parameters = {
    ...model,
    target: options.target,
    ...(options.positiveClass === undefined ? {} : { positiveClass: options.positiveClass }),
  };
  const files: Record<string, Uint8Array> = {
    'model.onnx': onnx,
    [MODEL_PARAMETERS_FILE]: text(`${JSON.stringify(parameters, null, 2)}\n`),
    'input_example.json': text(JSON.stringify(example)),
    'serving_input_example.json': text(`${JSON.stringify({ inputs: example }, null, 2)}`),
    'conda.yaml': text(
      [
        'channels:',
        '- conda-forge',
        'dependencies:',
        `- python=${layout.python}`,
        `- pip<=${layout.pip}`,
        '- pip:',
        `  - mlflow==${layout.mlflow}`,
        `  - onnx==${layout.onnx}`,
        `  - onnxruntime==${layout.onnxruntime}`,
        'name: mlflow-env',
        '',
      ].join('\n'),
    ),
    'python_env.yaml': text(
      [
        `python: ${layout.python}`,
        'build_dependencies:',
        ...layout.buildDependencies.map((dependency) => `- ${dependency}`),
        'dependencies:',
        '- -r requirements.txt',
        '',
      ].join('\n'),
    ),
    'requirements.txt': text(
      [`mlflow==${layout.mlflow}`, `onnx==${layout.onnx}`, `onnxruntime==${layout.onnxruntime}`, ''].join(
        '\n',
      ),
    ),
  };
  const size = Object.values(files).reduce((sum, bytes) => sum + bytes.byteLength, 0);
  const created = utcTime(now);
  files.MLmodel = text(
    [
      `artifact_path: ${loggedModel?.artifactLocation ?? 'model'}`,
      'flavors:',
      '  onnx:',
      '    code: null',
      '    data: model.onnx',
      '    onnx_session_options: null',
      `    onnx_version: ${layout.onnx}`,
      '    providers:',
      '    - CPUExecutionProvider',
      '  python_function:',
      '    data: model.onnx',
      '    env:',
      '      conda: conda.yaml',
      '      virtualenv: python_env.yaml',
      '    loader_module: mlflow.onnx',
      `    python_version: ${layout.python}`,
      'is_signature_from_type_hint: false',
      'metadata:',
      `  features: ${yamlQuote(JSON.stringify(model.features))}`,
      `  model_type: ${model.type}`,
      `  target: ${yamlQuote(options.target)}`,
      ...(options.positiveClass === undefined
        ? []
        : [`  positive_class: ${yamlQuote(options.positiveClass)}`]),
      `mlflow_version: ${layout.mlflow}`,
      ...(loggedModel ? [`model_id: ${loggedModel.modelId}`] : []),
      `model_size_bytes: ${size}`,
      `model_uuid: ${modelUuid}`,
      'prompts: null',
      `run_id: ${runId}`,
      'saved_input_example_info:',
      '  artifact_path: input_example.json',
      '  serving_input_path: serving_input_example.json',
      '  type: ndarray',
      'signature:',
      `  inputs: ${yamlQuote(inputs)}`,
      `  outputs: ${yamlQuote(outputs)}`,
      '  params: null',
      'type_hint_from_example: false',
      `utc_time_created: ${yamlQuote(created)}`,
      '',
    ].join('\n'),
  );
  const modelJson = {
    artifact_path: 'model',
    flavors: {
      onnx: { code: null, data: 'model.onnx', onnx_session_options: null, onnx_version: layout.onnx },
      python_function: {
        data: 'model.onnx',
        env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' },
        loader_module: 'mlflow.onnx',
        python_version: layout.python,
      },
    },
    mlflow_version: layout.mlflow,
    model_size_bytes: size,
    model_uuid: modelUuid,
    run_id: runId,
    saved_input_example_info: {
      artifact_path: 'input_example.json',
      serving_input_path: 'serving_input_example.json',
      type: 'ndarray',
    },
    signature: { inputs, outputs, params: null },
    utc_time_created: created,
  };
  return { files, modelJson };
}
