/**
 * The training pipeline's input (what an ML engineer passes to StartExecution) and the state each
 * step adds to it. The input is validated here, at the first step, so a mistake fails the execution
 * at once with every problem named, before a run or anything else is created.
 */
import * as z from 'zod';
import { CLASSIFICATION_METRICS, type MetricName, REGRESSION_METRICS } from './evaluation/metrics.ts';

const COLUMN = z.string().trim().min(1).max(250);
/** MLflow's alias rule (`_validate_model_alias_name`): `[\w-]`, not `latest`, not `v<N>`. */
const ALIAS = z
  .string()
  .regex(/^[\w-]{1,255}$/, 'aliases may contain only letters, digits, _ and -')
  .refine((alias) => alias.toLowerCase() !== 'latest' && !/^[vV]\d+$/.test(alias), 'this alias is reserved');

/**
 * Where the dataset is: a CSV object in S3 (`s3://bucket/key`, the bucket readable by the pipeline)
 * or under the artifact proxy (`mlflow-artifacts:/path`, i.e. in the artifact bucket).
 */
export const DATASET_URI = z
  .string()
  .max(2048)
  .regex(/^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/\S+|mlflow-artifacts:\/\S+)$/, {
    message: 'must be s3://<bucket>/<key> or mlflow-artifacts:/<path>',
  });

const builtinTrainer = z.object({ type: z.literal('builtin') }).strict();

/** A user container trained by a SageMaker training job (see the README's "SageMaker" section). */
const sagemakerTrainer = z
  .object({
    type: z.literal('sagemaker'),
    image: z.string().min(1).max(255),
    instanceType: z
      .string()
      .regex(/^ml\.[a-z0-9.]+$/)
      .default('ml.m5.large'),
    instanceCount: z.number().int().min(1).max(10).default(1),
    volumeSizeGb: z.number().int().min(1).max(512).default(10),
    maxRuntimeSeconds: z.number().int().min(60).max(432_000).default(3600),
  })
  .strict();

export const PipelineInputSchema = z
  .object({
    datasetUri: DATASET_URI,
    targetColumn: COLUMN,
    /** @default every column but the target */
    featureColumns: z.array(COLUMN).min(1).max(500).optional(),
    modelType: z.enum(['linear_regression', 'logistic_regression']),
    /** The target value counted as the positive class; required unless the target is 0/1. */
    positiveClass: z.string().min(1).max(250).optional(),
    hyperparameters: z
      .object({
        l2: z.number().min(0).max(1e6).default(0),
        maxIterations: z.number().int().min(1).max(1000).default(100),
        tolerance: z.number().positive().max(1e-2).default(1e-10),
      })
      .strict()
      .default({ l2: 0, maxIterations: 100, tolerance: 1e-10 }),
    split: z
      .object({
        testFraction: z.number().gt(0).max(0.5).default(0.2),
        seed: z
          .number()
          .int()
          .min(0)
          .max(2 ** 32 - 1)
          .default(42),
      })
      .strict()
      .default({ testFraction: 0.2, seed: 42 }),
    validation: z
      .object({
        minRows: z.number().int().min(2).max(1e9).default(10),
        rangeMargin: z.number().min(0).max(100).default(0.25),
        maxNumericDrift: z.number().min(0).max(1).default(0.3),
        maxCategoricalDrift: z.number().min(0).max(1).default(0.3),
      })
      .strict()
      .default({ minRows: 10, rangeMargin: 0.25, maxNumericDrift: 0.3, maxCategoricalDrift: 0.3 }),
    modelName: z.string().trim().min(1).max(256),
    /** @default `pipeline-<modelName>` */
    experimentName: z.string().trim().min(1).max(500).optional(),
    /** @default accuracy (logistic), rmse (linear) */
    metric: z.enum([...REGRESSION_METRICS, ...CLASSIFICATION_METRICS]).optional(),
    threshold: z.number().finite(),
    /** When set, a version that passes the gate gets this alias (and must beat the model under it). */
    alias: ALIAS.optional(),
    trainer: z.discriminatedUnion('type', [builtinTrainer, sagemakerTrainer]).default({ type: 'builtin' }),
  })
  .strict()
  .superRefine((input, context) => {
    const classification = input.modelType === 'logistic_regression';
    const allowed: readonly string[] = classification ? CLASSIFICATION_METRICS : REGRESSION_METRICS;
    if (input.metric && !allowed.includes(input.metric)) {
      context.addIssue({
        code: 'custom',
        path: ['metric'],
        message: `${input.modelType} is evaluated by ${allowed.join(', ')}`,
      });
    }
    if (!classification && input.positiveClass !== undefined) {
      context.addIssue({ code: 'custom', path: ['positiveClass'], message: 'only for logistic_regression' });
    }
    if (input.featureColumns?.includes(input.targetColumn)) {
      context.addIssue({ code: 'custom', path: ['featureColumns'], message: 'must not include the target' });
    }
    if (input.featureColumns && new Set(input.featureColumns).size !== input.featureColumns.length) {
      context.addIssue({ code: 'custom', path: ['featureColumns'], message: 'names a column twice' });
    }
  });

export type PipelineInput = z.input<typeof PipelineInputSchema>;

/** The input with defaults applied: what every step reads as `config`. */
export type PipelineConfig = z.output<typeof PipelineInputSchema> & {
  metric: MetricName;
  experimentName: string;
};

/** The state machine name of the ready pipeline; `runway pipelines` uses it by default. */
export const DEFAULT_PIPELINE_NAME = 'runway-training';

/** The MLflow run that tracks one execution. */
export interface RunRef {
  runId: string;
  experimentId: string;
  artifactUri: string;
}

/** What the execution carries from step to step (each step adds its part under its own key). */
export interface PipelineState {
  config: PipelineConfig;
  run: RunRef;
  data?: DataOutcome;
  split?: SplitOutcome;
  sagemaker?: SageMakerOutcome;
  training?: TrainingOutcome;
  evaluation?: EvaluationOutcome;
  gate?: GateOutcome;
  registration?: RegistrationOutcome;
}

export interface DataOutcome {
  /** sha256 of the dataset's bytes (hex). */
  digest: string;
  rows: number;
  featureColumns: string[];
  /** The version whose dataset schema was the baseline, if any. */
  baselineVersion?: string;
  warnings: number;
  /** Artifact paths (relative to the run's artifact root). */
  statisticsPath: string;
  schemaPath: string;
}

export interface SplitOutcome {
  trainPath: string;
  testPath: string;
  trainRows: number;
  testRows: number;
  /** Where the SageMaker trainer reads the parts and writes its output (`s3://` URIs). */
  trainS3Uri?: string;
  testS3Uri?: string;
  outputS3Uri?: string;
}

/** What the `.sync` SageMaker training task keeps of DescribeTrainingJob (its ResultSelector). */
export interface SageMakerOutcome {
  trainingJobName: string;
  modelArtifacts: string;
}

export interface TrainingOutcome {
  /** The MLflow 3 logged model the trained model is (`models:/<modelId>`), linked to the run. */
  modelId: string;
  /** Its artifact location (`mlflow-artifacts:/<exp>/models/<modelId>/artifacts`): the MLflow model directory. */
  modelUri: string;
  iterations: number;
  converged: boolean;
  /** A user container evaluated its model on the test channel itself; its metrics are here. */
  containerMetricsPath?: string;
}

export interface EvaluationOutcome {
  metric: MetricName;
  value: number;
  metrics: Record<string, number>;
}

export interface GateOutcome {
  passed: boolean;
  reason: string;
  championVersion?: string;
  championValue?: number;
}

export interface RegistrationOutcome {
  name: string;
  version: string;
  alias?: string;
}

/** The execution that runs a step, from the context object (`$$.Execution`, `$$.StateMachine`). */
export interface ExecutionRef {
  executionArn: string;
  executionName: string;
  stateMachineArn: string;
}

export { ARTIFACTS, PIPELINE_TAGS } from './tags.ts';
