import { api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { MonitorRunWire, MonitorWire } from '../api/wire.ts';
import { href, location, setQuery } from '../app/router.ts';
import { ErrorBox, formatTime, Loading, Page, Status } from '../ui/common.tsx';
import { DataTable } from '../ui/data-table.tsx';
import { MonitorForm } from './monitor-form.tsx';
import { mapLimited, monitorsApi } from './monitors-api.ts';
import { RunFlags } from './run-flags.tsx';

/** Every monitor of a model the caller may read (or of one endpoint), with its last run's verdicts. */
export function MonitorsPage() {
  const endpoint = location.value.search.get('endpoint') ?? undefined;
  const creating = location.value.search.get('create') === '1';
  const monitors = useApi(async () => {
    const list = (await monitorsApi.list(endpoint)).monitors ?? [];
    // The last run of each: one small read per monitor (the list answers settings, not runs).
    const last = await mapLimited(
      list,
      6,
      async (monitor) => (await monitorsApi.runs(monitor.name, 1)).runs?.[0],
    );
    return list.map((monitor, i) => ({ monitor, last: last[i] }));
  }, [endpoint]);
  const endpoints = useApi(
    () => api.get<{ endpoints?: Array<{ name: string }> }>('runway/endpoints', { max_results: 1000 }),
    [],
  );
  const rows = monitors.data ?? [];
  return (
    <Page
      title={
        <>
          Monitors
          {endpoint ? <span class="sub">of endpoint {endpoint}</span> : null}
        </>
      }
      actions={
        <>
          <select
            aria-label="endpoint"
            value={endpoint ?? ''}
            onChange={(e) => setQuery({ endpoint: e.currentTarget.value })}
          >
            <option value="">every endpoint</option>
            {(endpoints.data?.endpoints ?? []).map((e) => (
              <option key={e.name} value={e.name}>
                {e.name}
              </option>
            ))}
          </select>
          {creating ? null : (
            <button type="button" class="primary" onClick={() => setQuery({ create: '1' })}>
              Create a monitor
            </button>
          )}
        </>
      }
    >
      {creating ? (
        <MonitorForm
          endpoints={(endpoints.data?.endpoints ?? []).map((e) => e.name)}
          endpoint={endpoint}
          onCancel={() => setQuery({ create: undefined })}
        />
      ) : null}
      <ErrorBox error={monitors.error} />
      <Loading when={monitors.loading && !monitors.data} />
      {monitors.data && rows.length === 0 ? (
        <p class="muted">
          No monitors{endpoint ? ` on ${endpoint}` : ''} yet:{' '}
          <code>runway monitors create NAME --endpoint ENDPOINT</code>, or Create a monitor.
        </p>
      ) : null}
      {rows.length > 0 ? (
        <div class="card">
          <DataTable<{ monitor: MonitorWire; last: MonitorRunWire | undefined }>
            testId="monitors"
            rows={rows}
            rowKey={(row) => row.monitor.name}
            columns={[
              {
                label: 'Monitor',
                cell: ({ monitor }) => <a href={href('monitors', monitor.name)}>{monitor.name}</a>,
              },
              {
                label: 'Endpoint',
                cell: ({ monitor }) => (
                  <a href={href('endpoints', monitor.endpoint_name)}>{monitor.endpoint_name}</a>
                ),
              },
              {
                label: 'Schedule',
                cell: ({ monitor }) => (
                  <span class="mono">
                    {monitor.schedule}
                    {monitor.enabled ? '' : ' (off)'}
                  </span>
                ),
              },
              {
                label: 'Last run',
                cell: ({ last }) =>
                  last ? (
                    <>
                      <Status value={last.status} />{' '}
                      <span class="small muted">{formatTime(last.window_end)}</span>
                    </>
                  ) : (
                    ''
                  ),
              },
              { label: 'Verdict', cell: ({ last }) => <RunFlags run={last} />, width: '35%' },
            ]}
          />
        </div>
      ) : null}
    </Page>
  );
}
