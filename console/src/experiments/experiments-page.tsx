import { api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { ExperimentWire } from '../api/wire.ts';
import { href } from '../app/router.ts';
import { ErrorBox, formatTime, Loading, Page } from '../ui/common.tsx';

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
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Id</th>
                <th>Last update</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {list.map((experiment) => (
                <tr key={experiment.experiment_id}>
                  <td>
                    <a href={href('experiments', experiment.experiment_id)}>{experiment.name}</a>
                  </td>
                  <td class="mono">{experiment.experiment_id}</td>
                  <td>{formatTime(experiment.last_update_time)}</td>
                  <td>{formatTime(experiment.creation_time)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Page>
  );
}
