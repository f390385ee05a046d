import { useState } from 'preact/hooks';
import { ApiError, api, request } from '../api/client.ts';
import type { PipelineExecutionSummaryWire, PipelineInput } from '../api/wire.ts';
import { href, navigate } from '../app/router.ts';
import { ErrorBox } from '../ui/common.tsx';

/** Datasets uploaded from the console go here in the artifact store (4 MiB at most through the API). */
const DATASETS = 'datasets';

/**
 * Starts the training pipeline: the input is checked by the API against the pipeline's own schema
 * (its errors shown as worded), and a CSV chosen here is first uploaded through the artifact proxy.
 */
export function StartForm() {
  const [open, setOpen] = useState(false);
  const [fields, setFields] = useState({
    datasetUri: '',
    targetColumn: '',
    modelType: 'logistic_regression',
    positiveClass: '',
    modelName: '',
    metric: '',
    threshold: '',
    alias: '',
    l2: '',
  });
  const [file, setFile] = useState<File | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const set = (key: keyof typeof fields) => (event: Event) =>
    setFields({ ...fields, [key]: (event.currentTarget as HTMLInputElement).value });

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      let datasetUri = fields.datasetUri.trim();
      if (file) {
        const path = `${DATASETS}/${file.name}`;
        await request(
          'PUT',
          `/api/2.0/mlflow-artifacts/artifacts/${path.split('/').map(encodeURIComponent).join('/')}`,
          {
            body: file,
            headers: { 'content-type': 'text/csv' },
          },
        );
        datasetUri = `mlflow-artifacts:/${path}`;
      }
      const input: PipelineInput = {
        datasetUri,
        targetColumn: fields.targetColumn.trim(),
        modelType: fields.modelType as PipelineInput['modelType'],
        modelName: fields.modelName.trim(),
        threshold: Number(fields.threshold),
        ...(fields.positiveClass.trim() ? { positiveClass: fields.positiveClass.trim() } : {}),
        ...(fields.metric ? { metric: fields.metric as PipelineInput['metric'] } : {}),
        ...(fields.alias.trim() ? { alias: fields.alias.trim() } : {}),
        ...(fields.l2.trim() ? { hyperparameters: { l2: Number(fields.l2) } } : {}),
      };
      const started = await api.post<{ execution: PipelineExecutionSummaryWire }>(
        'runway/pipelines/executions',
        { input },
      );
      navigate(href('pipelines', started.execution.name));
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'CONSOLE_ERROR', String(caught)));
    } finally {
      setBusy(false);
    }
  };

  if (!open) {
    return (
      <div>
        <button type="button" class="primary" onClick={() => setOpen(true)}>
          Start a training run
        </button>
      </div>
    );
  }
  return (
    <form class="card" onSubmit={submit} data-testid="start-pipeline">
      <h2>Start the training pipeline</h2>
      <div class="form-grid">
        <label>
          Dataset (CSV with a header)
          <input
            type="file"
            name="dataset-file"
            accept=".csv,text/csv"
            onChange={(e) => setFile(e.currentTarget.files?.[0])}
          />
        </label>
        <label>
          or its URI
          <input
            name="datasetUri"
            placeholder="mlflow-artifacts:/datasets/iris.csv or s3://…"
            value={fields.datasetUri}
            onInput={set('datasetUri')}
            disabled={!!file}
          />
        </label>
        <label>
          Target column
          <input name="targetColumn" value={fields.targetColumn} onInput={set('targetColumn')} required />
        </label>
        <label>
          Model type
          <select name="modelType" value={fields.modelType} onChange={set('modelType')}>
            <option value="logistic_regression">logistic regression</option>
            <option value="linear_regression">linear regression</option>
          </select>
        </label>
        <label>
          Positive class (logistic)
          <input name="positiveClass" value={fields.positiveClass} onInput={set('positiveClass')} />
        </label>
        <label>
          Registered model name
          <input name="modelName" value={fields.modelName} onInput={set('modelName')} required />
        </label>
        <label>
          Gate metric
          <select name="metric" value={fields.metric} onChange={set('metric')}>
            <option value="">default (accuracy / rmse)</option>
            {['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss', 'rmse', 'mae', 'mse', 'r2'].map(
              (m) => (
                <option key={m}>{m}</option>
              ),
            )}
          </select>
        </label>
        <label>
          Gate threshold
          <input
            name="threshold"
            inputMode="decimal"
            value={fields.threshold}
            onInput={set('threshold')}
            required
          />
        </label>
        <label>
          Alias to set (deploys where followed)
          <input name="alias" placeholder="production" value={fields.alias} onInput={set('alias')} />
        </label>
        <label>
          L2 penalty
          <input name="l2" inputMode="decimal" value={fields.l2} onInput={set('l2')} />
        </label>
      </div>
      <ErrorBox error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Start
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
