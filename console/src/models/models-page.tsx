import { api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { RegisteredModelWire } from '../api/wire.ts';
import { href } from '../app/router.ts';
import { ErrorBox, formatTime, Loading, Page } from '../ui/common.tsx';

/** Registered models the caller may read, with their aliases and latest versions. */
export function ModelsPage() {
  const models = useApi(
    () =>
      api.get<{ registered_models?: RegisteredModelWire[] }>('mlflow/registered-models/search', {
        max_results: 1000,
      }),
    [],
  );
  const list = models.data?.registered_models ?? [];
  return (
    <Page title="Models">
      <ErrorBox error={models.error} />
      <Loading when={models.loading} />
      {models.data && list.length === 0 ? <p class="muted">No registered models yet.</p> : null}
      {list.length > 0 ? (
        <div class="card">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Latest versions</th>
                <th>Aliases</th>
                <th>Last update</th>
              </tr>
            </thead>
            <tbody>
              {list.map((model) => (
                <tr key={model.name}>
                  <td>
                    <a href={href('models', model.name)}>{model.name}</a>
                  </td>
                  <td>
                    {(model.latest_versions ?? [])
                      .map((v) => `v${v.version} (${v.current_stage})`)
                      .join(', ')}
                  </td>
                  <td>{(model.aliases ?? []).map((a) => `@${a.alias} → v${a.version}`).join(', ')}</td>
                  <td>{formatTime(model.last_updated_timestamp)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Page>
  );
}
