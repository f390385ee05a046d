import { useApi } from '../api/use-api.ts';
import { href } from '../app/router.ts';
import { Card, ErrorBox } from '../ui/common.tsx';
import { mapLimited, monitorsApi } from './monitors-api.ts';
import { RunFlags } from './run-flags.tsx';

/** An endpoint's monitors with their last verdicts, on the endpoint's page. */
export function EndpointMonitors({ endpoint }: { endpoint: string }) {
  const monitors = useApi(async () => {
    const list = (await monitorsApi.list(endpoint)).monitors ?? [];
    const last = await mapLimited(list, 6, async (m) => (await monitorsApi.runs(m.name, 1)).runs?.[0]);
    return list.map((monitor, i) => ({ monitor, last: last[i] }));
  }, [endpoint]);
  const query = `?endpoint=${encodeURIComponent(endpoint)}`;
  return (
    <Card title="Monitors">
      <ErrorBox error={monitors.error} />
      {monitors.data?.length === 0 ? (
        <p class="muted">Nothing watches this endpoint's drift, quality or health.</p>
      ) : null}
      {monitors.data && monitors.data.length > 0 ? (
        <ul class="plain" data-testid="endpoint-monitors">
          {monitors.data.map(({ monitor, last }) => (
            <li key={monitor.name}>
              <a href={href('monitors', monitor.name)}>{monitor.name}</a>{' '}
              <span class="muted small mono">{monitor.schedule}</span> <RunFlags run={last} />
            </li>
          ))}
        </ul>
      ) : null}
      <p class="small">
        <a href={`/monitors${query}`}>All monitors of this endpoint</a> ·{' '}
        <a href={`/monitors${query}&create=1`}>Create a monitor</a>
      </p>
    </Card>
  );
}
