import { api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { RegisteredModelWire } from '../api/wire.ts';
import { href } from '../app/router.ts';
import { ErrorBox, formatTime, Loading, Page } from '../ui/common.tsx';
import { DataTable } from '../ui/data-table.tsx';

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
          <DataTable
            rows={list}
            rowKey={(model) => model.name}
            columns={[
              { label: 'Name', cell: (m) => <a href={href('models', m.name)}>{m.name}</a> },
              {
                label: 'Latest versions',
                cell: (m) =>
                  (m.latest_versions ?? []).map((v) => `v${v.version} (${v.current_stage})`).join(', '),
              },
              {
                label: 'Aliases',
                cell: (m) => (m.aliases ?? []).map((a) => `@${a.alias} → v${a.version}`).join(', '),
              },
              { label: 'Last update', cell: (m) => formatTime(m.last_updated_timestamp) },
            ]}
          />
        </div>
      ) : null}
    </Page>
  );
}
