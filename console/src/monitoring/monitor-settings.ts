/**
 * The monitor form's fields (text as typed) and the request body they make: pure, so unit-tested in
 * Node. The body is in the API's words (docs/monitoring.md); the API checks it.
 */
import { DRIFT_METHOD_NAMES } from '../../../shared/monitoring/drift-methods.ts';
import type { MonitorWire } from '../api/wire.ts';

/** The form's fields as typed (text), from a monitor's settings or blank (the API's defaults). */
export function draftOf(monitor: MonitorWire | undefined, endpoint: string | undefined) {
  const numbers = (value: number | undefined) => (value === undefined ? '' : String(value));
  const thresholds = monitor?.drift.thresholds ?? {};
  return {
    name: monitor?.name ?? '',
    endpoint_name: monitor?.endpoint_name ?? endpoint ?? '',
    description: monitor?.description ?? '',
    schedule: monitor?.schedule ?? '',
    window_seconds: numbers(monitor?.window_seconds),
    baseline: monitor?.baseline.type ?? 'training',
    dataset_uri: monitor?.baseline.type === 'dataset' ? monitor.baseline.dataset_uri : '',
    features: monitor?.features?.join(', ') ?? '',
    numeric_test: monitor?.drift.numeric_methods.includes('wasserstein') ? 'wasserstein' : 'ks',
    ...Object.fromEntries(
      DRIFT_METHOD_NAMES.map((m) => [`threshold_${m}`, numbers(thresholds[m as keyof typeof thresholds])]),
    ),
    significance: numbers(monitor?.drift.significance),
    max_missing_increase: numbers(monitor?.drift.max_missing_increase),
    prediction_drift: monitor?.prediction_drift ?? true,
    min_samples: numbers(monitor?.min_samples),
    quality_limits: Object.entries(monitor?.quality?.limits ?? {})
      .map(([metric, limit]) => `${metric}=${limit}`)
      .join(', '),
    problem_type: monitor?.quality?.problem_type ?? '',
    positive_class: monitor?.quality?.positive_class ?? '',
    min_labeled: numbers(monitor?.quality?.min_labeled),
    max_error_rate: numbers(monitor?.health.max_error_rate),
    max_p99_ms: numbers(monitor?.health.max_p99_ms),
    min_invocations: numbers(monitor?.health.min_invocations),
    retrain_input: monitor?.actions.retrain
      ? JSON.stringify(monitor.actions.retrain.pipeline_input, null, 2)
      : '',
    cooldown_seconds: numbers(monitor?.actions.retrain?.cooldown_seconds),
    enabled: monitor?.enabled ?? true,
  } as Record<string, string | boolean>;
}

export type Draft = ReturnType<typeof draftOf>;

/**
 * A number as typed: a blank field is left out (the API's default on create, the current value on an
 * update); anything else is sent as a number when it reads as one, else as typed, so the API's own
 * check words the problem (`Invalid value for parameter 'min_samples' supplied: ...`).
 */
const numberOf = (text: string) => {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  return Number.isNaN(value) ? trimmed : value;
};

const compact = (object: Record<string, unknown>) => {
  const entries = Object.entries(object).filter(([, v]) => v !== undefined);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
};

/** The request body: the settings in the API's words (docs/monitoring.md), nothing the API would not take. */
export function settingsOf(draft: Draft, editing: MonitorWire | undefined): Record<string, unknown> {
  const text = (key: string) => String(draft[key] ?? '').trim();
  const thresholds = compact(
    Object.fromEntries(DRIFT_METHOD_NAMES.map((m) => [m, numberOf(text(`threshold_${m}`))])),
  );
  const limits: Record<string, unknown> = {};
  for (const part of text('quality_limits').split(',')) {
    const [metric, limit] = part.split('=').map((s) => s.trim());
    if (metric) limits[metric] = numberOf(limit ?? '') ?? limit ?? '';
  }
  const quality = compact({
    problem_type: text('problem_type') || undefined,
    positive_class: text('positive_class') || undefined,
    min_labeled: numberOf(text('min_labeled')),
    // Emptied on an edit, the limits go (`{}`); the other quality settings keep their values.
    limits:
      Object.keys(limits).length > 0
        ? limits
        : Object.keys(editing?.quality?.limits ?? {}).length > 0
          ? {}
          : undefined,
  });
  let retrain: unknown;
  if (text('retrain_input')) {
    let pipelineInput: unknown;
    try {
      pipelineInput = JSON.parse(text('retrain_input'));
    } catch (error) {
      throw new SyntaxError(`The retrain pipeline input is not JSON: ${(error as Error).message}`);
    }
    retrain = compact({
      pipeline_input: pipelineInput,
      cooldown_seconds: numberOf(text('cooldown_seconds')),
    });
  }
  return (
    compact({
      ...(editing ? {} : { name: text('name'), endpoint_name: text('endpoint_name') }),
      description: text('description') || (editing?.description ? '' : undefined),
      schedule: text('schedule') || undefined,
      window_seconds: numberOf(text('window_seconds')),
      baseline:
        draft.baseline === 'dataset'
          ? { type: 'dataset', dataset_uri: text('dataset_uri') }
          : { type: 'training' },
      features: text('features')
        ? text('features')
            .split(',')
            .map((f) => f.trim())
            .filter(Boolean)
        : undefined,
      drift: compact({
        numeric_methods: ['psi', draft.numeric_test],
        thresholds,
        significance: numberOf(text('significance')),
        max_missing_increase: numberOf(text('max_missing_increase')),
      }),
      prediction_drift: draft.prediction_drift,
      min_samples: numberOf(text('min_samples')),
      quality,
      health: compact({
        max_error_rate: numberOf(text('max_error_rate')),
        max_p99_ms: numberOf(text('max_p99_ms')),
        min_invocations: numberOf(text('min_invocations')),
      }),
      // An emptied retrain box removes the action (`actions: {}`); left empty on a create, nothing.
      actions: retrain ? { retrain } : editing?.actions.retrain ? {} : undefined,
      enabled: draft.enabled,
    }) ?? {}
  );
}
