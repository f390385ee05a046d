import { useState } from 'preact/hooks';
import { api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { LoggedModelWire, RunWire } from '../api/wire.ts';
import { href, location, setQuery } from '../app/router.ts';
import { ChartControls, type ChartSettings, DEFAULT_SETTINGS, MetricChart } from '../charts/metric-chart.tsx';
import {
  Card,
  ErrorBox,
  formatDuration,
  formatNumber,
  formatTime,
  KeyValues,
  Loading,
  Page,
  Status,
  Tabs,
} from '../ui/common.tsx';
import { ArtifactBrowser } from './artifact-browser.tsx';

type Tab = 'overview' | 'metrics' | 'artifacts';

/** One run: its params, metrics, tags, dataset inputs and logged models; its charts; its artifacts. */
export function RunPage({ experimentId, runId }: { experimentId: string; runId: string }) {
  const query = location.value.search;
  const run = useApi(() => api.get<{ run: RunWire }>('mlflow/runs/get', { run_id: runId }), [runId]);
  const [tab, setTab] = useState<Tab>((query.get('tab') as Tab | null) ?? 'overview');
  const info = run.data?.run.info;
  return (
    <Page
      title={
        <>
          {info?.run_name ?? runId}
          <span class="sub">
            run <span class="mono">{runId}</span> in{' '}
            <a href={href('experiments', experimentId)}>experiment {experimentId}</a>
          </span>
        </>
      }
      actions={info ? <Status value={info.status} /> : null}
    >
      <ErrorBox error={run.error} />
      <Loading when={run.loading && !run.data} />
      {run.data ? (
        <>
          <Tabs
            tabs={[
              ['overview', 'Overview'],
              ['metrics', 'Metric charts'],
              ['artifacts', 'Artifacts'],
            ]}
            active={tab}
            onChange={(next) => {
              setTab(next);
              setQuery({ tab: next === 'overview' ? undefined : next });
            }}
          />
          {tab === 'overview' ? <Overview run={run.data.run} /> : null}
          {tab === 'metrics' ? <RunCharts run={run.data.run} /> : null}
          {tab === 'artifacts' ? (
            <ArtifactBrowser
              runId={runId}
              artifactRoot={run.data.run.info.artifact_uri}
              initial={query.get('file') ?? undefined}
            />
          ) : null}
        </>
      ) : null}
    </Page>
  );
}

function Overview({ run }: { run: RunWire }) {
  const { info, data, inputs } = run;
  const modelIds = [
    ...(run.outputs?.model_outputs ?? []).map((output) => ({ id: output.model_id, role: 'output' })),
    ...(inputs.model_inputs ?? []).map((input) => ({ id: input.model_id, role: 'input' })),
  ];
  return (
    <div class="grid">
      <Card title="Run">
        <KeyValues
          items={[
            { key: 'status', value: info.status },
            { key: 'started', value: formatTime(info.start_time) },
            { key: 'ended', value: formatTime(info.end_time) },
            { key: 'duration', value: info.end_time ? formatDuration(info.end_time - info.start_time) : '' },
            { key: 'user', value: info.user_id },
            { key: 'artifact root', value: info.artifact_uri },
            { key: 'lifecycle', value: info.lifecycle_stage },
          ]}
        />
      </Card>
      <Card title={`Metrics (${data.metrics?.length ?? 0})`}>
        <KeyValues
          items={(data.metrics ?? []).map((metric) => ({
            key: metric.key,
            value: `${formatNumber(metric.value)}  (step ${metric.step})`,
          }))}
        />
      </Card>
      <Card title={`Parameters (${data.params?.length ?? 0})`}>
        <KeyValues items={(data.params ?? []).map((param) => ({ key: param.key, value: param.value }))} />
      </Card>
      <Card title={`Tags (${data.tags?.length ?? 0})`}>
        <KeyValues items={(data.tags ?? []).map((tag) => ({ key: tag.key, value: tag.value }))} />
      </Card>
      <Card title={`Dataset inputs (${inputs.dataset_inputs?.length ?? 0})`}>
        {(inputs.dataset_inputs ?? []).length === 0 ? <p class="muted">None</p> : null}
        {(inputs.dataset_inputs ?? []).map((input) => (
          <KeyValues
            key={`${input.dataset.name}-${input.dataset.digest}`}
            items={[
              { key: 'name', value: input.dataset.name },
              { key: 'digest', value: input.dataset.digest },
              { key: 'source', value: `${input.dataset.source_type}: ${input.dataset.source}` },
              ...(input.tags ?? []).map((tag) => ({ key: `tag ${tag.key}`, value: tag.value })),
              ...(input.dataset.schema
                ? [{ key: 'schema', value: <pre class="small">{input.dataset.schema.slice(0, 2000)}</pre> }]
                : []),
            ]}
          />
        ))}
      </Card>
      <Card title={`Logged models (${modelIds.length})`}>
        {modelIds.length === 0 ? <p class="muted">None</p> : null}
        {modelIds.map((model) => (
          <LoggedModel id={model.id} role={model.role} key={`${model.role}-${model.id}`} />
        ))}
      </Card>
    </div>
  );
}

function LoggedModel({ id, role }: { id: string; role: string }) {
  const model = useApi(
    () => api.get<{ model: LoggedModelWire }>(`mlflow/logged-models/${encodeURIComponent(id)}`),
    [id],
  );
  if (model.error) return <ErrorBox error={model.error} />;
  const info = model.data?.model.info;
  return (
    <KeyValues
      items={[
        { key: 'model', value: `${info?.name ?? ''} (${role})` },
        { key: 'model id', value: id },
        { key: 'status', value: info?.status ?? '' },
        { key: 'artifacts', value: info?.artifact_uri ?? '' },
      ]}
    />
  );
}

function RunCharts({ run }: { run: RunWire }) {
  const query = location.value.search;
  const [settings, setSettings] = useState<ChartSettings>({
    ...DEFAULT_SETTINGS,
    allPoints: query.get('points') === 'all',
  });
  const keys = (run.data.metrics ?? []).map((metric) => metric.key);
  if (keys.length === 0) return <p class="muted">This run logged no metrics.</p>;
  const runs = [{ runId: run.info.run_id, name: run.info.run_name }];
  return (
    <div>
      <ChartControls settings={settings} onChange={setSettings} />
      <div class="grid">
        {keys.map((key) => (
          <MetricChart metricKey={key} runs={runs} settings={settings} key={key} />
        ))}
      </div>
    </div>
  );
}
