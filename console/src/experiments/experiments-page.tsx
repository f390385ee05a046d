import { api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { ExperimentWire } from '../api/wire.ts';
import { href } from '../app/router.ts';
import { ErrorBox, formatTime, Loading, Page } from '../ui/common.tsx';
import { DataTable } from '../ui/data-table.tsx';

/** Every experiment the caller may read (the API filters the search to them). */
export function ExperimentsPage() {
  const experiments = useApi(
    () =>
      api.post<{ experiments?: ExperimentWire[] }>('mlflow/experiments/search', {
        max_results: 1000,
        order_by: ['last_update_time DESC'],
      }),
    [],
  );
  const list = experiments.data?.experiments ?? [];
  return (
    <Page title="Experiments">
      <ErrorBox error={experiments.error} />
      <Loading when={experiments.loading} />
      {experiments.data && list.length === 0 ? (
        <p class="muted">
          No experiments yet. Point the MLflow client here:{' '}
          <code>MLFLOW_TRACKING_URI={window.location.origin}</code>
        </p>
      ) : null}
      {list.length > 0 ? (
        <div class="card">
          <DataTable
            rows={list}
            rowKey={(experiment) => experiment.experiment_id}
            columns={[
              { label: 'Name', cell: (e) => <a href={href('experiments', e.experiment_id)}>{e.name}</a> },
              { label: 'Id', cell: (e) => e.experiment_id, class: 'mono' },
              { label: 'Last update', cell: (e) => formatTime(e.last_update_time) },
              { label: 'Created', cell: (e) => formatTime(e.creation_time) },
            ]}
          />
        </div>
      ) : null}
    </Page>
  );
}
