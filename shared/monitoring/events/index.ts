import * as z from 'zod';
import { MONITORING_EVENT_NAMES } from './names.ts';

/**
 * The monitoring context's domain events on the Runway bus (source `runway.monitoring`), published by
 * a monitor run when its window breaks a limit. Like the registry's and the deployments', each detail
 * carries a schema `version` and an `idempotencyKey` (`<monitor>:<run id>:<event>`): a retried step
 * may publish twice, and consumers (the retrain rule's function among them) deduplicate on the key. A
 * change that would break a consumer gets a new event version, never an edit of an old one.
 */
export const MONITORING_EVENT_SOURCE = 'runway.monitoring';

const envelope = {
  version: z.literal(1),
  idempotencyKey: z.string().min(1),
  occurredAt: z.iso.datetime(),
  monitorName: z.string().min(1),
  endpointName: z.string().min(1),
  modelName: z.string().min(1),
  /** The run that found it (`<window end ms>-<8 hex>`). */
  runId: z.string().min(1),
  windowStart: z.iso.datetime(),
  windowEnd: z.iso.datetime(),
  /** The JSON report (`mlflow-artifacts:/...`) and the MLflow run that holds it. */
  reportUri: z.string().min(1),
  mlflowRunId: z.string().min(1),
  /** The monitor's actions at the time (a rule can match `retrain` without reading the monitor). */
  actions: z.array(z.enum(['retrain'])),
};

const statistic = z.number().nullable();

const module = <N extends string, S extends z.ZodRawShape>(name: N, own: S) =>
  ({ name, source: MONITORING_EVENT_SOURCE, version: 1, schema: z.object({ ...envelope, ...own }) }) as const;

/** Inputs (or predictions) moved away from the baseline: each drifted feature with its statistics. */
export const DriftDetected = module(MONITORING_EVENT_NAMES.drift, {
  /** The version whose baseline the window was compared with. */
  modelVersion: z.string().regex(/^\d+$/).nullable(),
  rows: z.number().int().min(0),
  features: z
    .array(
      z.object({
        name: z.string(),
        /** `input` for a feature, `prediction` for the model's output. */
        kind: z.enum(['input', 'prediction']),
        type: z.enum(['numeric', 'categorical']),
        /** Why it drifted, in words ("psi 1.84 > 0.2", "missing 31% (baseline 0%)"). */
        reasons: z.array(z.string()).min(1),
        psi: statistic.optional(),
        ks: statistic.optional(),
        wasserstein: statistic.optional(),
        jensenShannon: statistic.optional(),
        lInfinity: statistic.optional(),
        pValue: statistic.optional(),
        mean: statistic.optional(),
        baselineMean: statistic.optional(),
        missing: z.number().int().min(0),
      }),
    )
    .min(1),
});

/** Live quality (feedback joined with predictions) fell below a limit, per version. */
export const QualityDegraded = module(MONITORING_EVENT_NAMES.quality, {
  breaches: z
    .array(
      z.object({
        modelVersion: z.string(),
        metric: z.string(),
        value: z.number(),
        limit: z.number(),
        labeled: z.number().int().min(0),
      }),
    )
    .min(1),
});

/** A version's error rate or p99 latency broke its limit over the window. */
export const HealthDegraded = module(MONITORING_EVENT_NAMES.health, {
  breaches: z
    .array(
      z.object({
        modelVersion: z.string(),
        metric: z.enum(['error_rate', 'p99_ms']),
        value: z.number(),
        limit: z.number(),
        invocations: z.number().int().min(0),
      }),
    )
    .min(1),
});

export const MONITORING_EVENT_MODULES = [DriftDetected, QualityDegraded, HealthDegraded] as const;
export type MonitoringEventName = (typeof MONITORING_EVENT_MODULES)[number]['name'];

export interface MonitoringEvent {
  name: MonitoringEventName;
  detail: Record<string, unknown>;
}

export function monitoringEventModule(name: string) {
  return MONITORING_EVENT_MODULES.find((candidate) => candidate.name === name);
}
