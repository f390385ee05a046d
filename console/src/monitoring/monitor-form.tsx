import { useState } from 'preact/hooks';
import { DEFAULT_THRESHOLDS, DRIFT_METHOD_NAMES } from '../../../shared/monitoring/drift-methods.ts';
import { ApiError } from '../api/client.ts';
import type { MonitorWire } from '../api/wire.ts';
import { href, navigate } from '../app/router.ts';
import { ErrorBox } from '../ui/common.tsx';
import { monitorsApi } from './monitors-api.ts';

/** The form's fields as typed (text), from a monitor's settings or blank (the API's defaults). */
function draftOf(monitor: MonitorWire | undefined, endpoint: string | undefined) {
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

type Draft = ReturnType<typeof draftOf>;

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
    limits: Object.keys(limits).length > 0 ? limits : undefined,
  });
  let retrain: unknown;
  if (text('retrain_input')) {
    let pipelineInput: unknown;
    try {
      pipelineInput = JSON.parse(text('retrain_input'));
    } catch (error) {
      throw new ApiError(
        0,
        'INVALID_JSON',
        `The retrain pipeline input is not JSON: ${(error as Error).message}`,
      );
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

/**
 * Creates a monitor, or changes one. The API checks every field (its errors are shown as worded);
 * blank fields take the API's defaults, shown as placeholders.
 */
export function MonitorForm({
  monitor,
  endpoints = [],
  endpoint,
  onCancel,
  onSaved,
}: {
  monitor?: MonitorWire;
  endpoints?: string[];
  endpoint?: string | undefined;
  onCancel: () => void;
  onSaved?: (monitor: MonitorWire) => void;
}) {
  const [draft, setDraft] = useState(() => draftOf(monitor, endpoint));
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const field = (key: string) => ({
    name: key,
    value: String(draft[key] ?? ''),
    onInput: (e: Event) => setDraft({ ...draft, [key]: (e.currentTarget as HTMLInputElement).value }),
  });
  const check = (key: string) => ({
    name: key,
    type: 'checkbox' as const,
    checked: draft[key] === true,
    onChange: (e: Event) => setDraft({ ...draft, [key]: (e.currentTarget as HTMLInputElement).checked }),
  });
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body = settingsOf(draft, monitor);
      const saved = monitor ? await monitorsApi.update(monitor.name, body) : await monitorsApi.create(body);
      if (onSaved) onSaved(saved.monitor);
      else navigate(href('monitors', saved.monitor.name));
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'CONSOLE_ERROR', String(caught)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={submit} data-testid="monitor-form">
      <h2>{monitor ? `Edit ${monitor.name}` : 'Create a monitor'}</h2>
      <div class="form-grid">
        {monitor ? null : (
          <>
            <label>
              Name
              <input {...field('name')} required />
            </label>
            <label>
              Endpoint
              <input {...field('endpoint_name')} list="monitor-endpoints" required />
              <datalist id="monitor-endpoints">
                {endpoints.map((name) => (
                  <option key={name} value={name} />
                ))}
              </datalist>
            </label>
          </>
        )}
        <label>
          Description
          <input {...field('description')} />
        </label>
        <label>
          Schedule
          <input {...field('schedule')} placeholder="rate(1 hour)" />
        </label>
        <label>
          Window (seconds)
          <input {...field('window_seconds')} inputMode="numeric" placeholder="3600" />
        </label>
        <label>
          Minimum sample size
          <input {...field('min_samples')} inputMode="numeric" placeholder="100" />
        </label>
        <label>
          Baseline
          <select {...field('baseline')} onChange={field('baseline').onInput}>
            <option value="training">the served version's training statistics</option>
            <option value="dataset">a dataset</option>
          </select>
        </label>
        <label>
          Baseline dataset URI
          <input
            {...field('dataset_uri')}
            placeholder="mlflow-artifacts:/datasets/… or s3://…"
            disabled={draft.baseline !== 'dataset'}
          />
        </label>
        <label>
          Features (comma-separated)
          <input {...field('features')} placeholder="every input of the model" />
        </label>
        <label>
          Numeric test beside PSI
          <select {...field('numeric_test')} onChange={field('numeric_test').onInput}>
            <option value="ks">Kolmogorov-Smirnov</option>
            <option value="wasserstein">Wasserstein</option>
          </select>
        </label>
        {DRIFT_METHOD_NAMES.map((method) => (
          <label key={method}>
            Limit: {method.replace('_', '-')}
            <input
              {...field(`threshold_${method}`)}
              inputMode="decimal"
              placeholder={String(DEFAULT_THRESHOLDS[method])}
            />
          </label>
        ))}
        <label>
          Significance (family-wise)
          <input {...field('significance')} inputMode="decimal" placeholder="0.05" />
        </label>
        <label>
          Max rise of missing share
          <input {...field('max_missing_increase')} inputMode="decimal" placeholder="0.1" />
        </label>
        <label>
          Quality limits
          <input {...field('quality_limits')} placeholder="accuracy=0.9, rmse=2" />
        </label>
        <label>
          Problem type
          <select {...field('problem_type')} onChange={field('problem_type').onInput}>
            <option value="">the model's</option>
            <option value="binary_classification">binary classification</option>
            <option value="regression">regression</option>
          </select>
        </label>
        <label>
          Positive class
          <input {...field('positive_class')} placeholder="the model's" />
        </label>
        <label>
          Labeled predictions needed
          <input {...field('min_labeled')} inputMode="numeric" placeholder="30" />
        </label>
        <label>
          Max error rate
          <input {...field('max_error_rate')} inputMode="decimal" placeholder="0.05" />
        </label>
        <label>
          Max p99 (ms)
          <input {...field('max_p99_ms')} inputMode="numeric" placeholder="1000" />
        </label>
        <label>
          Invocations needed
          <input {...field('min_invocations')} inputMode="numeric" placeholder="10" />
        </label>
        <label>
          Retrain cooldown (seconds)
          <input {...field('cooldown_seconds')} inputMode="numeric" placeholder="86400" />
        </label>
        <label class="inline">
          <input {...check('prediction_drift')} /> prediction drift
        </label>
        <label class="inline">
          <input {...check('enabled')} /> schedule on
        </label>
      </div>
      <label>
        Retrain: the training pipeline's input (JSON, docs/pipelines.md; empty for no retraining)
        <textarea
          {...field('retrain_input')}
          rows={4}
          placeholder='{"datasetUri": "mlflow-artifacts:/datasets/newer.csv", ...}'
        />
      </label>
      <ErrorBox error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {monitor ? 'Save' : 'Create'}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
