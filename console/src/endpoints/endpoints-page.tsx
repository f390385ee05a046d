import { api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { EndpointWire } from '../api/wire.ts';
import { href } from '../app/router.ts';
import { ErrorBox, formatTime, Loading, Page, Status } from '../ui/common.tsx';
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
          <table>
            <thead>
              <tr>
                <th>Endpoint</th>
                <th>Model</th>
                <th>Follows</th>
                <th>Status</th>
                <th style={{ width: '35%' }}>Traffic</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.map((endpoint) => (
                <tr key={endpoint.name}>
                  <td>
                    <a href={href('endpoints', endpoint.name)}>{endpoint.name}</a>
                  </td>
                  <td>
                    <a href={href('models', endpoint.model_name)}>{endpoint.model_name}</a>
                  </td>
                  <td class="mono">
                    {'alias' in endpoint.follows ? `@${endpoint.follows.alias}` : endpoint.follows.stage}
                  </td>
                  <td>
                    <Status value={endpoint.status} />
                  </td>
                  <td>
                    <TrafficSplit traffic={endpoint.traffic} />
                  </td>
                  <td>{formatTime(endpoint.last_updated_timestamp)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Page>
  );
}
