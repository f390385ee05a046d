import { api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { EndpointWire } from '../api/wire.ts';
import { href } from '../app/router.ts';
import { ErrorBox, formatTime, Loading, Page, Status } from '../ui/common.tsx';
import { DataTable } from '../ui/data-table.tsx';
import { TrafficSplit } from './traffic-split.tsx';

/** Every endpoint of a model the caller may read, with its live traffic. */
export function EndpointsPage() {
  const endpoints = useApi(
    () => api.get<{ endpoints?: EndpointWire[] }>('runway/endpoints', { max_results: 1000 }),
    [],
  );
  const list = endpoints.data?.endpoints ?? [];
  return (
    <Page title="Endpoints">
      <ErrorBox error={endpoints.error} />
      <Loading when={endpoints.loading} />
      {endpoints.data && list.length === 0 ? (
        <p class="muted">
          No endpoints yet: <code>runway endpoints create NAME --model MODEL --alias production</code>
        </p>
      ) : null}
      {list.length > 0 ? (
        <div class="card">
          <DataTable
            rows={list}
            rowKey={(endpoint) => endpoint.name}
            columns={[
              { label: 'Endpoint', cell: (e) => <a href={href('endpoints', e.name)}>{e.name}</a> },
              { label: 'Model', cell: (e) => <a href={href('models', e.model_name)}>{e.model_name}</a> },
              {
                label: 'Follows',
                cell: (e) => ('alias' in e.follows ? `@${e.follows.alias}` : e.follows.stage),
                class: 'mono',
              },
              { label: 'Status', cell: (e) => <Status value={e.status} /> },
              { label: 'Traffic', cell: (e) => <TrafficSplit traffic={e.traffic} />, width: '35%' },
              { label: 'Updated', cell: (e) => formatTime(e.last_updated_timestamp) },
            ]}
          />
        </div>
      ) : null}
    </Page>
  );
}
