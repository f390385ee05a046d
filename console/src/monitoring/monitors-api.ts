/** The monitors API (`/api/2.0/runway/monitors...`, docs/monitoring.md), as the console calls it. */
import { api } from '../api/client.ts';
import type { MonitorReport, MonitorRunWire, MonitorWire } from '../api/wire.ts';

const path = (name: string, ...rest: string[]) =>
  ['runway/monitors', encodeURIComponent(name), ...rest.map(encodeURIComponent)].join('/');

export const monitorsApi = {
  list: (endpointName?: string) =>
    api.get<{ monitors?: MonitorWire[]; next_page_token?: string }>('runway/monitors', {
      max_results: 1000,
      endpoint_name: endpointName,
    }),
  get: (name: string) => api.get<{ monitor: MonitorWire }>(path(name)),
  create: (body: Record<string, unknown>) => api.post<{ monitor: MonitorWire }>('runway/monitors', body),
  update: (name: string, body: Record<string, unknown>) =>
    api.patch<{ monitor: MonitorWire }>(path(name), body),
  delete: (name: string) => api.delete<Record<string, never>>(path(name)),
  run: (name: string) =>
    api.post<{ run_id: string; execution_arn: string; window_start: number; window_end: number }>(
      path(name, 'run'),
    ),
  runs: (name: string, maxResults: number) =>
    api.get<{ runs?: MonitorRunWire[]; next_page_token?: string }>(path(name, 'reports'), {
      max_results: maxResults,
    }),
  report: (name: string, runId: string) =>
    api.get<{ run: MonitorRunWire; report?: MonitorReport }>(path(name, 'reports', runId)),
};

/** The server's own bounded map (a plain module): reads a few at a time, in order. */
export { mapLimited } from '../../../shared/platform/concurrency.ts';
