import { useMemo, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { RunWire } from '../api/wire.ts';
import { href, location } from '../app/router.ts';
import { align, colorOf } from '../charts/series.ts';
import { UPlotChart } from '../charts/uplot-chart.tsx';
import { availableKeys, type IndexedRun, indexRun } from '../experiments/run-columns.ts';
import { Card, ErrorBox, Loading, Page, Tabs } from '../ui/common.tsx';
import { buildAxis } from './axes.ts';
import { ParallelCoordinates } from './parallel-coordinates.tsx';

/** A quoted list for MLflow's `IN (...)`. */
const inList = (ids: string[]) => ids.map((id) => `'${id.replace(/'/g, '')}'`).join(', ');

/** Compare runs: a param against a metric as a scatter, or every param and metric as parallel coordinates. */
export function ComparePage({ experimentId }: { experimentId: string }) {
  const ids = (location.value.search.get('runs') ?? '').split(',').filter(Boolean);
  const runs = useApi(
    () =>
      api.post<{ runs?: RunWire[] }>('mlflow/runs/search', {
        experiment_ids: [experimentId],
        filter: `attributes.run_id IN (${inList(ids)})`,
        max_results: 1000,
      }),
    [experimentId, ids.join(',')],
  );
  const rows = useMemo(() => (runs.data?.runs ?? []).map(indexRun), [runs.data]);
  const keys = useMemo(() => availableKeys(rows), [rows]);
  const [view, setView] = useState<'scatter' | 'parallel'>('scatter');
  return (
    <Page
      title={
        <>
          Compare {rows.length} runs{' '}
          <span class="sub">
            <a href={href('experiments', experimentId)}>experiment {experimentId}</a>
          </span>
        </>
      }
    >
      <ErrorBox error={runs.error} />
      <Loading when={runs.loading} />
      <Tabs
        tabs={[
          ['scatter', 'Scatter'],
          ['parallel', 'Parallel coordinates'],
        ]}
        active={view}
        onChange={setView}
      />
      {rows.length > 0 && view === 'scatter' ? <Scatter rows={rows} keys={keys} /> : null}
      {rows.length > 0 && view === 'parallel' ? <Parallel rows={rows} keys={keys} /> : null}
    </Page>
  );
}

type Keys = ReturnType<typeof availableKeys>;

const runValue = (row: IndexedRun, id: string) => {
  const [kind, ...rest] = id.split('.');
  const key = rest.join('.');
  return kind === 'params' ? row.params.get(key) : row.metrics.get(key);
};

function Scatter({ rows, keys }: { rows: IndexedRun[]; keys: Keys }) {
  const [x, setX] = useState(
    keys.params[0] ? `params.${keys.params[0]}` : `metrics.${keys.metrics[0] ?? ''}`,
  );
  const [y, setY] = useState(`metrics.${keys.metrics[0] ?? ''}`);
  const chart = useMemo(() => {
    const xAxis = buildAxis(
      x,
      x,
      rows.map((row) => runValue(row, x)),
    );
    const yAxis = buildAxis(
      y,
      y,
      rows.map((row) => runValue(row, y)),
    );
    const series = rows.map((row, i) => ({
      label: row.run.info.run_name,
      points:
        xAxis.positions[i] !== null && yAxis.positions[i] !== null
          ? [{ x: xAxis.positions[i] as number, y: yAxis.positions[i] as number }]
          : [],
    }));
    const options: Omit<uPlot.Options, 'width' | 'height'> = {
      title: `${y} against ${x}`,
      scales: { x: { time: false } },
      axes: [
        {
          label: x,
          ...(xAxis.categories
            ? { values: (_u: uPlot, ticks: number[]) => ticks.map((t) => xAxis.categories?.[t] ?? '') }
            : {}),
        },
        { label: y, size: 60 },
      ],
      series: [
        { label: x },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: colorOf(i),
          fill: colorOf(i),
          paths: () => null,
          points: { show: true, size: 9 },
        })),
      ],
    };
    return { options, data: align(series) as uPlot.AlignedData };
  }, [rows, x, y]);
  const choices = [...keys.params.map((k) => `params.${k}`), ...keys.metrics.map((k) => `metrics.${k}`)];
  return (
    <Card>
      <div class="chart-controls">
        <label class="inline">
          x
          <select value={x} onChange={(e) => setX(e.currentTarget.value)}>
            {choices.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <label class="inline">
          y
          <select value={y} onChange={(e) => setY(e.currentTarget.value)}>
            {keys.metrics.map((k) => (
              <option key={k}>{`metrics.${k}`}</option>
            ))}
          </select>
        </label>
      </div>
      <UPlotChart options={chart.options} data={chart.data} height={340} />
    </Card>
  );
}

function Parallel({ rows, keys }: { rows: IndexedRun[]; keys: Keys }) {
  const axes = useMemo(
    () => [
      ...keys.params.map((key) =>
        buildAxis(
          `params.${key}`,
          key,
          rows.map((row) => row.params.get(key)),
        ),
      ),
      ...keys.metrics.map((key) =>
        buildAxis(
          `metrics.${key}`,
          key,
          rows.map((row) => row.metrics.get(key)),
        ),
      ),
    ],
    [rows, keys],
  );
  const names = useMemo(() => rows.map((row) => row.run.info.run_name), [rows]);
  if (axes.length < 2) return <p class="muted">Parallel coordinates need at least two params or metrics.</p>;
  return (
    <Card>
      <ParallelCoordinates axes={axes} runNames={names} />
    </Card>
  );
}
