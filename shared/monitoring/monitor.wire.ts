/**
 * The monitors API's translation between the wire (snake_case, `model.ts`'s `*Wire` schemas) and the
 * domain (camelCase). Settings arrive partial: create lays them over the defaults, update over the
 * monitor's current settings; the whole is then checked by the domain schema, whose problems are named
 * by their wire fields (`drift.thresholds.psi`).
 */
import type * as z from 'zod';
import { InvalidParameterError } from '../platform/errors.ts';
import {
  type Monitor,
  type MonitorRun,
  type MonitorRunWire,
  type MonitorSettings,
  type MonitorSettingsWire,
  type MonitorWire,
  monitorSettings,
} from './model.ts';

type Loose = Record<string, unknown>;

const WIRE_NAMES: Record<string, string> = {
  windowSeconds: 'window_seconds',
  datasetUri: 'dataset_uri',
  numericMethods: 'numeric_methods',
  categoricalMethods: 'categorical_methods',
  featureThresholds: 'feature_thresholds',
  maxMissingIncrease: 'max_missing_increase',
  predictionDrift: 'prediction_drift',
  minSamples: 'min_samples',
  problemType: 'problem_type',
  positiveClass: 'positive_class',
  decisionThreshold: 'decision_threshold',
  minLabeled: 'min_labeled',
  maxErrorRate: 'max_error_rate',
  maxP99Ms: 'max_p99_ms',
  minInvocations: 'min_invocations',
  pipelineInput: 'pipeline_input',
  cooldownSeconds: 'cooldown_seconds',
};

/** Objects whose keys are data (feature names, metric names, the pipeline's own camelCase input). */
const VERBATIM = new Set(['featureThresholds', 'limits', 'pipelineInput', 'thresholds']);

const defined = (entries: Array<[string, unknown]>) =>
  Object.fromEntries(entries.filter(([, v]) => v !== undefined));

/** Settings from the wire, over `base` (the defaults for a create, the current settings for an update). */
export function settingsFromWire(
  wire: MonitorSettingsWire,
  base: MonitorSettings | undefined,
): MonitorSettings {
  const drift = wire.drift;
  const quality = wire.quality;
  const health = wire.health;
  const retrain = wire.actions?.retrain;
  const current = base ?? monitorSettings.parse({});
  const merged: Loose = {
    ...current,
    ...defined([
      ['description', wire.description],
      ['schedule', wire.schedule],
      ['windowSeconds', wire.window_seconds],
      [
        'baseline',
        wire.baseline &&
          (wire.baseline.type === 'dataset'
            ? { type: 'dataset', datasetUri: wire.baseline.dataset_uri }
            : { type: 'training' }),
      ],
      ['features', wire.features],
      ['predictionDrift', wire.prediction_drift],
      ['minSamples', wire.min_samples],
      ['enabled', wire.enabled],
    ]),
    drift: {
      ...current.drift,
      ...defined([
        ['numericMethods', drift?.numeric_methods],
        ['categoricalMethods', drift?.categorical_methods],
        ['thresholds', drift?.thresholds && { ...current.drift.thresholds, ...drift.thresholds }],
        ['featureThresholds', drift?.feature_thresholds],
        ['significance', drift?.significance],
        ['maxMissingIncrease', drift?.max_missing_increase],
      ]),
    },
    health: {
      ...current.health,
      ...defined([
        ['maxErrorRate', health?.max_error_rate],
        ['maxP99Ms', health?.max_p99_ms],
        ['minInvocations', health?.min_invocations],
      ]),
    },
  };
  if (quality) {
    merged.quality = {
      ...(current.quality ?? {}),
      ...defined([
        ['problemType', quality.problem_type],
        ['positiveClass', quality.positive_class],
        ['decisionThreshold', quality.decision_threshold],
        ['minLabeled', quality.min_labeled],
        ['limits', quality.limits],
      ]),
    };
  }
  if (wire.actions) {
    merged.actions = retrain
      ? {
          retrain: {
            ...(current.actions.retrain ?? {}),
            ...defined([
              ['pipelineInput', retrain.pipeline_input],
              ['cooldownSeconds', retrain.cooldown_seconds],
              ['on', retrain.on],
            ]),
          },
        }
      : {};
  }
  const result = monitorSettings.safeParse(merged);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = (issue?.path ?? []).map(String);
  // Keys inside verbatim objects stay as sent; the rest are named as on the wire.
  const wirePath = path.map((part, i) =>
    i > 0 && VERBATIM.has(path[i - 1] ?? '') ? part : (WIRE_NAMES[part] ?? part),
  );
  throw new InvalidParameterError(
    `Invalid value for parameter '${wirePath.join('.') || 'monitor'}' supplied: ${issue?.message ?? 'invalid'}`,
  );
}

const thresholdsToWire = (thresholds: Loose) => thresholds as MonitorWire['drift']['thresholds'];

export function monitorToWire(monitor: Monitor): MonitorWire {
  const { drift, quality, health, actions } = monitor;
  return {
    name: monitor.name,
    endpoint_name: monitor.endpointName,
    model_name: monitor.modelName,
    ...(monitor.description !== undefined ? { description: monitor.description } : {}),
    schedule: monitor.schedule,
    window_seconds: monitor.windowSeconds,
    baseline:
      monitor.baseline.type === 'dataset'
        ? { type: 'dataset', dataset_uri: monitor.baseline.datasetUri }
        : { type: 'training' },
    ...(monitor.features ? { features: monitor.features } : {}),
    drift: {
      numeric_methods: drift.numericMethods,
      categorical_methods: drift.categoricalMethods,
      thresholds: thresholdsToWire(drift.thresholds),
      feature_thresholds: drift.featureThresholds,
      significance: drift.significance,
      max_missing_increase: drift.maxMissingIncrease,
    },
    prediction_drift: monitor.predictionDrift,
    min_samples: monitor.minSamples,
    ...(quality
      ? {
          quality: {
            ...(quality.problemType ? { problem_type: quality.problemType } : {}),
            ...(quality.positiveClass ? { positive_class: quality.positiveClass } : {}),
            decision_threshold: quality.decisionThreshold,
            min_labeled: quality.minLabeled,
            limits: quality.limits,
          },
        }
      : {}),
    health: {
      max_error_rate: health.maxErrorRate,
      max_p99_ms: health.maxP99Ms,
      min_invocations: health.minInvocations,
    },
    actions: actions.retrain
      ? {
          retrain: {
            pipeline_input: actions.retrain.pipelineInput as Record<string, unknown>,
            cooldown_seconds: actions.retrain.cooldownSeconds,
            on: actions.retrain.on,
          },
        }
      : {},
    enabled: monitor.enabled,
    creation_timestamp: monitor.createdAt,
    last_updated_timestamp: monitor.updatedAt,
    ...(monitor.lastRetrain
      ? {
          last_retrain: {
            timestamp: monitor.lastRetrain.at,
            run_id: monitor.lastRetrain.runId,
            execution_arn: monitor.lastRetrain.executionArn,
          },
        }
      : {}),
  };
}

export function runToWire(run: MonitorRun): MonitorRunWire {
  const findings = run.findings;
  return {
    run_id: run.runId,
    monitor_name: run.monitorName,
    endpoint_name: run.endpointName,
    trigger: run.trigger,
    window_start: run.windowStart,
    window_end: run.windowEnd,
    status: run.status,
    ...(findings
      ? {
          rows: findings.rows,
          labeled: findings.labeled,
          ...(findings.notEnoughData ? { not_enough_data: findings.notEnoughData } : {}),
          drifted_features: findings.drifted,
          prediction_drift: findings.predictionDrift,
          quality_degraded: findings.qualityDegraded,
          health_degraded: findings.healthDegraded,
          summary: findings.summary,
        }
      : {}),
    ...(run.reportUri ? { report_uri: run.reportUri } : {}),
    ...(run.mlflowRunId ? { mlflow_run_id: run.mlflowRunId } : {}),
    ...(run.experimentId ? { experiment_id: run.experimentId } : {}),
    ...(run.executionArn ? { execution_arn: run.executionArn } : {}),
    ...(run.error ? { error: run.error } : {}),
    start_time: run.startedAt,
    ...(run.finishedAt !== undefined ? { end_time: run.finishedAt } : {}),
  };
}

export type { z };
