import { useEffect, useMemo, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { ApiError, api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { DeploymentWire, EndpointStatisticsWire, EndpointWire } from '../api/wire.ts';
import { href } from '../app/router.ts';
import { colorOf } from '../charts/series.ts';
import { UPlotChart } from '../charts/uplot-chart.tsx';
import { EndpointMonitors } from '../monitoring/endpoint-monitors.tsx';
import {
  Card,
  ErrorBox,
  formatDuration,
  formatPercent,
  formatTime,
  KeyValues,
  Loading,
  Page,
  Status,
} from '../ui/common.tsx';
import { inputExampleOf } from './input-example.ts';
import { TrafficSplit } from './traffic-split.tsx';

/** How often the page re-reads the endpoint and its history while a deploy runs. */
const LIVE_REFRESH_MS = 2000;

/** An endpoint: live split, deployment timeline, per-version charts, and a box to try it. */
export function EndpointPage({ name }: { name: string }) {
  const endpoint = useApi(
    () => api.get<{ endpoint: EndpointWire }>(`runway/endpoints/${encodeURIComponent(name)}`),
    [name],
  );
  const deployments = useApi(
    () =>
      api.get<{ deployments?: DeploymentWire[] }>(
        `runway/endpoints/${encodeURIComponent(name)}/deployments`,
        { max_results: 50 },
      ),
    [name],
  );
  const running =
    (deployments.data?.deployments ?? []).some((d) => d.status === 'InProgress') ||
    endpoint.data?.endpoint.status === 'Updating';
  // Re-read every few seconds: a deploy moves traffic in steps, and a new one may start any time.
  useEffect(() => {
    const timer = setInterval(
      () => {
        endpoint.reload();
        deployments.reload();
      },
      running ? LIVE_REFRESH_MS : LIVE_REFRESH_MS * 3,
    );
    return () => clearInterval(timer);
  }, [running, endpoint.reload, deployments.reload]);
  const data = endpoint.data?.endpoint;
  return (
    <Page
      title={
        <>
          {name}
          <span class="sub">endpoint</span>
        </>
      }
      actions={data ? <Status value={data.status} /> : null}
    >
      <ErrorBox error={endpoint.error} />
      <Loading when={endpoint.loading && !endpoint.data} />
      {data ? (
        <>
          <div class="grid">
            <Card title="Traffic">
              <TrafficSplit traffic={data.traffic} />
              <KeyValues
                items={[
                  { key: 'model', value: <a href={href('models', data.model_name)}>{data.model_name}</a> },
                  {
                    key: 'follows',
                    value:
                      'alias' in data.follows
                        ? `alias @${data.follows.alias}`
                        : `stage ${data.follows.stage}`,
                  },
                  { key: 'target', value: data.target },
                  { key: 'canary steps', value: `${data.rollout_policy.traffic_steps.join('%, ')}%` },
                  { key: 'bake', value: `${data.rollout_policy.bake_seconds} s a step` },
                  {
                    key: 'rolls back above',
                    value: `${formatPercent(data.rollout_policy.max_error_rate)} errors or ${data.rollout_policy.max_latency_ms} ms p99`,
                  },
                  {
                    key: 'invocations URL',
                    value: `${window.location.origin}/endpoints/${name}/invocations`,
                  },
                ]}
              />
            </Card>
            <TryIt endpoint={data} />
          </div>
          <Statistics name={name} />
          <EndpointMonitors endpoint={name} />
          <Card title="Deployment history">
            <ErrorBox error={deployments.error} />
            <Timeline deployments={deployments.data?.deployments ?? []} />
          </Card>
        </>
      ) : null}
    </Page>
  );
}

function Timeline({ deployments }: { deployments: DeploymentWire[] }) {
  if (deployments.length === 0) return <p class="muted">No deployments yet.</p>;
  return (
    <ol class="timeline" data-testid="deployment-timeline">
      {deployments.map((deployment) => (
        <li
          class={deployment.status.toLowerCase()}
          key={deployment.deployment_id}
          data-version={deployment.version}
          data-status={deployment.status}
        >
          <div class="actions">
            <strong>v{deployment.version}</strong>
            <Status value={deployment.status} />
            <span class="muted small">
              {deployment.previous_version ? `from v${deployment.previous_version}, ` : ''}
              {deployment.trigger.replace(/_/g, ' ').toLowerCase()} · {formatTime(deployment.start_time)}
              {deployment.end_time ? ` · ${formatDuration(deployment.end_time - deployment.start_time)}` : ''}
            </span>
          </div>
          {deployment.reason ? (
            <p class={deployment.status === 'Succeeded' ? 'small' : 'small reason'}>{deployment.reason}</p>
          ) : null}
          {deployment.steps.length > 0 ? (
            <div class="steps">
              {deployment.steps.map((step) => (
                <span class="step" key={step.timestamp}>
                  {step.weight}% · {step.invocations} calls · errors {formatPercent(step.error_rate)} · p99{' '}
                  {step.p99_latency_ms === null ? 'n/a' : `${step.p99_latency_ms} ms`}
                </span>
              ))}
            </div>
          ) : null}
        </li>
      ))}
    </ol>
  );
}

type StatsPoint = EndpointStatisticsWire['versions'][number]['points'][number];

const WINDOWS = [
  ['15 min', 15 * 60_000],
  ['1 hour', 3_600_000],
  ['6 hours', 6 * 3_600_000],
  ['24 hours', 24 * 3_600_000],
] as const;

function Statistics({ name }: { name: string }) {
  const [windowMs, setWindowMs] = useState<number>(WINDOWS[1][1]);
  const stats = useApi(
    () =>
      api.get<EndpointStatisticsWire>(`runway/endpoints/${encodeURIComponent(name)}/statistics`, {
        since: Date.now() - windowMs,
      }),
    [name, windowMs],
  );
  const charts = useMemo(() => {
    const versions = stats.data?.versions ?? [];
    if (versions.every((v) => v.points.length === 0)) return null;
    // Every interval of the window, so an interval without calls is a gap, not a line across it.
    const { resolution_ms: step, since } = stats.data as EndpointStatisticsWire;
    const grid: number[] = [];
    for (let t = since - (since % step); t <= Date.now(); t += step) grid.push(t);
    const build = (
      title: string,
      pick: (p: StatsPoint) => number | null,
      unit: string,
      empty: number | null,
    ) => {
      const options: Omit<uPlot.Options, 'width' | 'height'> = {
        title,
        scales: { x: { time: true } },
        axes: [{}, { size: 60, label: unit }],
        series: [
          {},
          ...versions.map((v, i) => ({
            label: `v${v.version}`,
            stroke: colorOf(i),
            width: 1.5,
            spanGaps: false,
            points: { show: true, size: 4 },
          })),
        ],
      };
      const columns = versions.map((v) => {
        const byTime = new Map(v.points.map((p) => [p.time, pick(p)]));
        return grid.map((t) => (byTime.has(t) ? (byTime.get(t) as number | null) : empty));
      });
      return { options, data: [grid.map((t) => t / 1000), ...columns] as uPlot.AlignedData };
    };
    return {
      latency: build('p99 latency by version', (p) => p.p99_latency_ms, 'ms', null),
      errors: build(
        'error rate by version',
        (p) => (p.invocations > 0 ? p.error_rate * 100 : null),
        '%',
        null,
      ),
      calls: build('invocations by version', (p) => p.invocations, 'calls', 0),
    };
  }, [stats.data]);
  return (
    <div class="card">
      <div class="toolbar">
        <h2 style={{ margin: 0 }}>Per-version statistics</h2>
        <select
          value={windowMs}
          onChange={(e) => setWindowMs(Number(e.currentTarget.value))}
          aria-label="window"
        >
          {WINDOWS.map(([label, ms]) => (
            <option value={ms} key={label}>
              last {label}
            </option>
          ))}
        </select>
        {stats.data ? <span class="muted small">{stats.data.resolution_ms / 1000} s buckets</span> : null}
        <button type="button" onClick={stats.reload}>
          Refresh
        </button>
      </div>
      <ErrorBox error={stats.error} />
      {charts === null ? <p class="muted">No invocations in this window.</p> : null}
      {charts ? (
        <div class="grid" data-testid="endpoint-charts">
          <UPlotChart options={charts.latency.options} data={charts.latency.data} height={220} />
          <UPlotChart options={charts.errors.options} data={charts.errors.data} height={220} />
          <UPlotChart options={charts.calls.options} data={charts.calls.data} height={220} />
        </div>
      ) : null}
    </div>
  );
}

/** Invokes the endpoint with the served model's own input example (editable). */
function TryIt({ endpoint }: { endpoint: EndpointWire }) {
  const [body, setBody] = useState('');
  const [answer, setAnswer] = useState<{ status: string; text: string } | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const served = endpoint.traffic.primary;
  useEffect(() => {
    if (!served) return;
    inputExampleOf(endpoint.model_name, served.version).then(
      (example) => setBody(example ?? ''),
      () => setBody(''),
    );
  }, [endpoint.model_name, served?.version]);
  const invoke = async () => {
    setBusy(true);
    setError(undefined);
    const started = performance.now();
    try {
      const result = await api.call<unknown>(
        'POST',
        `/endpoints/${encodeURIComponent(endpoint.name)}/invocations`,
        JSON.parse(body),
      );
      setAnswer({
        status: `200 in ${Math.round(performance.now() - started)} ms`,
        text: JSON.stringify(result, null, 2),
      });
    } catch (caught) {
      setAnswer(undefined);
      setError(
        caught instanceof ApiError
          ? caught
          : new ApiError(0, 'INVALID_JSON', `The request is not JSON: ${(caught as Error).message}`),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title="Try it">
      {!served ? <p class="muted">Nothing is deployed yet.</p> : null}
      <textarea
        rows={7}
        value={body}
        onInput={(e) => setBody(e.currentTarget.value)}
        aria-label="request body"
        placeholder='{"inputs": [[...]]}'
      />
      <div class="actions">
        <button type="button" class="primary" onClick={invoke} disabled={busy || !served || !body.trim()}>
          Invoke
        </button>
        {answer ? <span class="muted small">{answer.status}</span> : null}
      </div>
      <ErrorBox error={error} />
      {answer ? (
        <pre class="small" data-testid="invocation-answer">
          {answer.text}
        </pre>
      ) : null}
    </Card>
  );
}
