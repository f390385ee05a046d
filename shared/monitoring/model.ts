/**
 * The monitoring context's vocabulary and its API's wire shapes. A monitor watches one endpoint: on a
 * schedule (or on demand) a run reads one window of the endpoint's captured invocations, compares the
 * inputs and predictions with a baseline (drift), joins ground-truth feedback (live quality), reads
 * the serving statistics (health), and reports. Domain objects are camelCase; the API speaks
 * snake_case JSON like MLflow's REST API, and its shapes are the zod schemas below (`*Wire`), which the
 * console imports: one definition of what travels.
 */
import * as z from 'zod';
import { endpointName } from '../deployments/model.ts';
import { PipelineInputSchema } from '../pipelines/model.ts';
import { CATEGORICAL_METHODS, NUMERIC_METHODS } from './drift-methods.ts';

/** Monitor names are path segments, like endpoint names. */
export const monitorName = endpointName;

/** What a monitor run compares live inputs with. */
export const baselineSource = z.union([
  /** The served version's training statistics (version tag `runway.dataset.statistics_uri`). */
  z.object({ type: z.literal('training') }).strict(),
  /** A CSV dataset (`s3://` or `mlflow-artifacts:/`), read and profiled by each run. */
  z
    .object({
      type: z.literal('dataset'),
      datasetUri: z
        .string()
        .max(2048)
        .regex(/^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/\S+|mlflow-artifacts:\/\S+)$/, {
          message: 'must be s3://<bucket>/<key> or mlflow-artifacts:/<path>',
        }),
    })
    .strict(),
]);
export type BaselineSource = z.infer<typeof baselineSource>;

export {
  CATEGORICAL_METHODS,
  type CategoricalMethod,
  DEFAULT_THRESHOLDS,
  type DriftMethod,
  NUMERIC_METHODS,
  type NumericMethod,
} from './drift-methods.ts';

const threshold = z.number().min(0).max(100);
const thresholds = z
  .object({
    psi: threshold.optional(),
    ks: threshold.max(1).optional(),
    wasserstein: threshold.optional(),
    jensen_shannon: threshold.max(1).optional(),
    l_infinity: threshold.max(1).optional(),
  })
  .strict();
export type Thresholds = z.infer<typeof thresholds>;

const FEATURE = z.string().min(1).max(250);

export const driftSettings = z
  .object({
    /** Numbers: PSI and one of KS or Wasserstein. */
    numericMethods: z
      .array(z.enum(NUMERIC_METHODS))
      .min(1)
      .max(2)
      .default(['psi', 'ks'])
      .refine((methods) => !(methods.includes('ks') && methods.includes('wasserstein')), {
        message: 'choose ks or wasserstein, not both',
      })
      .refine((methods) => new Set(methods).size === methods.length, { message: 'names a method twice' }),
    /** Categories: Jensen-Shannon and L-infinity, as TFDV. */
    categoricalMethods: z
      .array(z.enum(CATEGORICAL_METHODS))
      .min(1)
      .max(2)
      .default(['jensen_shannon', 'l_infinity'])
      .refine((methods) => new Set(methods).size === methods.length, { message: 'names a method twice' }),
    /** Limits per method; unset ones are {@link DEFAULT_THRESHOLDS}. */
    thresholds: thresholds.default({}),
    /** Limits of single features, over `thresholds`. */
    featureThresholds: z.record(FEATURE, thresholds).default({}),
    /**
     * The family-wise false-alarm rate of one run: a feature drifts only when its distance is past its
     * limit and its test (KS for numbers, chi-square for categories) is significant at
     * `significance / tests` (Bonferroni over every feature tested, predictions included).
     */
    significance: z.number().gt(0).max(0.5).default(0.05),
    /** A feature whose share of missing values rose by more than this over the baseline's drifts. */
    maxMissingIncrease: z.number().min(0).max(1).default(0.1),
  })
  .strict();
export type DriftSettings = z.output<typeof driftSettings>;

export const QUALITY_METRICS = [
  'accuracy',
  'precision',
  'recall',
  'f1',
  'roc_auc',
  'rmse',
  'mae',
  'r2',
] as const;
export type QualityMetric = (typeof QUALITY_METRICS)[number];
/** Errors: a limit is a maximum; everything else a minimum. */
export const LOWER_IS_BETTER_QUALITY: ReadonlySet<QualityMetric> = new Set(['rmse', 'mae']);

export const qualitySettings = z
  .object({
    /** @default from the model's `MLmodel` metadata (`model_type`), as the pipeline writes it */
    problemType: z.enum(['binary_classification', 'regression']).optional(),
    /** The label that is class 1; 0/1 and true/false labels need none. @default the model's `positive_class` */
    positiveClass: z.string().min(1).max(250).optional(),
    /** A predicted probability at or above this is class 1. */
    decisionThreshold: z.number().gt(0).lt(1).default(0.5),
    /** Labeled predictions a version needs before its quality counts. */
    minLabeled: z.number().int().min(1).max(1_000_000).default(30),
    /** Metric -> limit: a minimum for accuracy, precision, recall, f1, roc_auc, r2; a maximum for rmse, mae. */
    limits: z.partialRecord(z.enum(QUALITY_METRICS), z.number().finite()).default({}),
  })
  .strict();
export type QualitySettings = z.output<typeof qualitySettings>;

export const healthSettings = z
  .object({
    /** Model errors over invocations (the serving statistics' error rate). */
    maxErrorRate: z.number().min(0).max(1).default(0.05),
    /** The p99 latency in milliseconds. */
    maxP99Ms: z.number().int().min(1).max(600_000).default(1000),
    /** Invocations a version needs in the window before its health counts. */
    minInvocations: z.number().int().min(1).max(1_000_000).default(10),
  })
  .strict();
export type HealthSettings = z.output<typeof healthSettings>;

export const retrainAction = z
  .object({
    /** The training pipeline's input (docs/pipelines.md), usually naming a newer dataset. */
    pipelineInput: PipelineInputSchema,
    /** At most one retraining per this many seconds. */
    cooldownSeconds: z
      .number()
      .int()
      .min(60)
      .max(90 * 86400)
      .default(86400),
    /** Which events retrain. */
    on: z
      .array(z.enum(['drift', 'quality']))
      .min(1)
      .default(['drift', 'quality']),
  })
  .strict();
export type RetrainAction = z.output<typeof retrainAction>;

/** Rate (at least 5 minutes apart) or cron, EventBridge's grammar. */
export const scheduleExpression = z
  .string()
  .max(256)
  .regex(/^(rate\(\s*\d+\s+(minute|minutes|hour|hours|day|days)\s*\)|cron\(.+\))$/, {
    message:
      "must be 'rate(<n> minutes|hours|days)' or 'cron(<minutes> <hours> <day> <month> <weekday> <year>)'",
  })
  .refine(
    (expression) => {
      const rate = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(expression);
      return !rate || (rate[2]?.startsWith('minute') ? Number(rate[1]) >= 5 : Number(rate[1]) >= 1);
    },
    { message: 'runs at most every 5 minutes' },
  );

export const DEFAULT_SCHEDULE = 'rate(1 hour)';
export const MAX_WINDOW_SECONDS = 7 * 86400;

/** What a user configures (create, and update where given). */
export const monitorSettings = z.object({
  description: z.string().max(5000).optional(),
  schedule: scheduleExpression.default(DEFAULT_SCHEDULE),
  /** The window a scheduled run reads, ending at its scheduled time. @default one hour */
  windowSeconds: z.number().int().min(300).max(MAX_WINDOW_SECONDS).default(3600),
  baseline: baselineSource.default({ type: 'training' }),
  /** @default every input the model takes (else every baseline column seen) */
  features: z.array(FEATURE).min(1).max(500).optional(),
  drift: driftSettings.default(driftSettings.parse({})),
  /** Compare the distribution of predictions with the version's first full window. */
  predictionDrift: z.boolean().default(true),
  /** Rows a window needs before drift is judged; fewer is "not enough data", never drift. */
  minSamples: z.number().int().min(1).max(10_000_000).default(100),
  quality: qualitySettings.optional(),
  health: healthSettings.default(healthSettings.parse({})),
  actions: z.object({ retrain: retrainAction.optional() }).strict().default({}),
  /** A disabled monitor keeps its schedule off; on-demand runs still work. */
  enabled: z.boolean().default(true),
});
export type MonitorSettings = z.output<typeof monitorSettings>;

/** A monitor as stored and answered. */
export interface Monitor extends MonitorSettings {
  name: string;
  endpointName: string;
  /** The registered model the endpoint serves (its grants are the monitor's). */
  modelName: string;
  createdAt: number;
  updatedAt: number;
  /** When the retrain action last started the pipeline, and for which run. */
  lastRetrain?: { at: number; runId: string; executionArn: string } | undefined;
}

/** The outcome of one monitor run, kept per run (the report's summary). */
export const RUN_STATUSES = ['Running', 'Completed', 'Failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface MonitorRun {
  runId: string;
  monitorName: string;
  endpointName: string;
  trigger: 'schedule' | 'manual';
  windowStart: number;
  windowEnd: number;
  status: RunStatus;
  /** Set once the run analyzed its window. */
  findings?: RunFindings | undefined;
  reportUri?: string | undefined;
  mlflowRunId?: string | undefined;
  experimentId?: string | undefined;
  executionArn?: string | undefined;
  error?: string | undefined;
  startedAt: number;
  finishedAt?: number | undefined;
}

export interface RunFindings {
  rows: number;
  labeled: number;
  /** "not enough data (n of min)" when set: nothing was judged drifted. */
  notEnoughData?: string | undefined;
  drifted: string[];
  predictionDrift: boolean;
  qualityDegraded: string[];
  healthDegraded: string[];
  /** One sentence. */
  summary: string;
}

// ---- Wire shapes (snake_case), shared with the console ----

const thresholdsWire = thresholds;

export const driftSettingsWire = z
  .object({
    numeric_methods: driftSettings.shape.numericMethods.optional(),
    categorical_methods: driftSettings.shape.categoricalMethods.optional(),
    thresholds: thresholdsWire.optional(),
    feature_thresholds: z.record(FEATURE, thresholdsWire).optional(),
    significance: z.number().gt(0).max(0.5).optional(),
    max_missing_increase: z.number().min(0).max(1).optional(),
  })
  .strict();

export const qualitySettingsWire = z
  .object({
    problem_type: z.enum(['binary_classification', 'regression']).optional(),
    positive_class: z.string().min(1).max(250).optional(),
    decision_threshold: z.number().gt(0).lt(1).optional(),
    min_labeled: z.number().int().min(1).max(1_000_000).optional(),
    limits: z.partialRecord(z.enum(QUALITY_METRICS), z.number().finite()).optional(),
  })
  .strict();

export const healthSettingsWire = z
  .object({
    max_error_rate: z.number().min(0).max(1).optional(),
    max_p99_ms: z.number().int().min(1).max(600_000).optional(),
    min_invocations: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict();

export const retrainActionWire = z
  .object({
    /** The pipeline input as `runway pipelines start` takes it (camelCase, docs/pipelines.md). */
    pipeline_input: z.record(z.string(), z.unknown()),
    cooldown_seconds: retrainAction.shape.cooldownSeconds.unwrap().optional(),
    on: z
      .array(z.enum(['drift', 'quality']))
      .min(1)
      .optional(),
  })
  .strict();

export const baselineWire = z.union([
  z.object({ type: z.literal('training') }).strict(),
  z.object({ type: z.literal('dataset'), dataset_uri: z.string() }).strict(),
]);

/** The settings a create or an update sends; every field optional (create fills defaults, update keeps values). */
export const monitorSettingsWire = z
  .object({
    description: z.string().max(5000).optional(),
    schedule: scheduleExpression.optional(),
    window_seconds: z.number().int().min(300).max(MAX_WINDOW_SECONDS).optional(),
    baseline: baselineWire.optional(),
    features: z.array(FEATURE).min(1).max(500).optional(),
    drift: driftSettingsWire.optional(),
    prediction_drift: z.boolean().optional(),
    min_samples: z.number().int().min(1).max(10_000_000).optional(),
    quality: qualitySettingsWire.optional(),
    health: healthSettingsWire.optional(),
    actions: z.object({ retrain: retrainActionWire.optional() }).strict().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
export type MonitorSettingsWire = z.infer<typeof monitorSettingsWire>;

/**
 * `POST runway/monitors` and `PATCH runway/monitors/{name}` (the name from the path): the API's input
 * schemas, which the console's monitor form checks before it sends.
 */
export const createMonitorRequest = monitorSettingsWire
  .extend({ name: monitorName, endpoint_name: endpointName })
  .strict();
export const updateMonitorRequest = monitorSettingsWire.extend({ name: monitorName }).strict();
export type CreateMonitorRequest = z.input<typeof createMonitorRequest>;

/** A monitor as the API answers it. */
export const monitorWire = z.object({
  name: z.string(),
  endpoint_name: z.string(),
  model_name: z.string(),
  description: z.string().optional(),
  schedule: z.string(),
  window_seconds: z.number(),
  baseline: baselineWire,
  features: z.array(z.string()).optional(),
  drift: z.object({
    numeric_methods: z.array(z.enum(NUMERIC_METHODS)),
    categorical_methods: z.array(z.enum(CATEGORICAL_METHODS)),
    thresholds: thresholdsWire,
    feature_thresholds: z.record(z.string(), thresholdsWire),
    significance: z.number(),
    max_missing_increase: z.number(),
  }),
  prediction_drift: z.boolean(),
  min_samples: z.number(),
  quality: z
    .object({
      problem_type: z.enum(['binary_classification', 'regression']).optional(),
      positive_class: z.string().optional(),
      decision_threshold: z.number(),
      min_labeled: z.number(),
      limits: z.partialRecord(z.enum(QUALITY_METRICS), z.number()),
    })
    .optional(),
  health: z.object({ max_error_rate: z.number(), max_p99_ms: z.number(), min_invocations: z.number() }),
  actions: z.object({
    retrain: z
      .object({
        pipeline_input: z.record(z.string(), z.unknown()),
        cooldown_seconds: z.number(),
        on: z.array(z.enum(['drift', 'quality'])),
      })
      .optional(),
  }),
  enabled: z.boolean(),
  creation_timestamp: z.number(),
  last_updated_timestamp: z.number(),
  last_retrain: z.object({ timestamp: z.number(), run_id: z.string(), execution_arn: z.string() }).optional(),
});
export type MonitorWire = z.infer<typeof monitorWire>;

/** One run as `reports` lists it. */
export const monitorRunWire = z.object({
  run_id: z.string(),
  monitor_name: z.string(),
  endpoint_name: z.string(),
  trigger: z.enum(['schedule', 'manual']),
  window_start: z.number(),
  window_end: z.number(),
  status: z.enum(RUN_STATUSES),
  rows: z.number().optional(),
  labeled: z.number().optional(),
  not_enough_data: z.string().optional(),
  drifted_features: z.array(z.string()).optional(),
  prediction_drift: z.boolean().optional(),
  quality_degraded: z.array(z.string()).optional(),
  health_degraded: z.array(z.string()).optional(),
  summary: z.string().optional(),
  report_uri: z.string().optional(),
  mlflow_run_id: z.string().optional(),
  experiment_id: z.string().optional(),
  execution_arn: z.string().optional(),
  error: z.string().optional(),
  start_time: z.number(),
  end_time: z.number().optional(),
});
export type MonitorRunWire = z.infer<typeof monitorRunWire>;

/** Feedback limits: one request. */
export const FEEDBACK_LIMITS = {
  /** Items (inference ids) in one request. */
  items: 1000,
  /** Values in one request, counting each row of a multi-row invocation. */
  values: 10_000,
  /** Feedback on an invocation older than this is refused (capture and its runs are long done). */
  maxAgeDays: 90,
  /** The request body. */
  bodyBytes: 1024 * 1024,
} as const;

const groundTruthValue = z.union([z.number().finite(), z.string().max(250), z.boolean()]);

/** `POST /endpoints/{name}/feedback`: true labels (or values) for invocations, by inference id. */
export const feedbackRequestWire = z
  .object({
    feedback: z
      .array(
        z
          .object({
            inference_id: z.string().max(64),
            /** One value, or one per row of a multi-row invocation (in the request's order). */
            ground_truth: z.union([
              groundTruthValue,
              z.array(groundTruthValue).min(1).max(FEEDBACK_LIMITS.values),
            ]),
          })
          .strict(),
      )
      .min(1)
      .max(FEEDBACK_LIMITS.items),
  })
  .strict();
export type FeedbackRequestWire = z.infer<typeof feedbackRequestWire>;

export const feedbackResponseWire = z.object({ accepted: z.number() });

/** A stored feedback line (JSON lines under `serving-feedback/`). */
export interface FeedbackRecord {
  inferenceId: string;
  groundTruth: Array<number | string | boolean>;
  receivedAt: number;
}

export const MONITORING_PAGE_LIMITS = { default: 100, max: 1000 } as const;
