import { useState } from 'preact/hooks';
import { DEFAULT_THRESHOLDS, DRIFT_METHOD_NAMES } from '../../../shared/monitoring/drift-methods.ts';
import { ApiError } from '../api/client.ts';
import type { MonitorWire } from '../api/wire.ts';
import { href, navigate } from '../app/router.ts';
import { ErrorBox } from '../ui/common.tsx';
import { draftOf, settingsOf } from './monitor-settings.ts';
import { monitorsApi } from './monitors-api.ts';

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
      setError(
        caught instanceof ApiError
          ? caught
          : new ApiError(
              0,
              caught instanceof SyntaxError ? 'INVALID_JSON' : 'CONSOLE_ERROR',
              (caught as Error).message,
            ),
      );
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
