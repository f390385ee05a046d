import { useMemo } from 'preact/hooks';
import type uPlot from 'uplot';
import { useApi } from '../api/use-api.ts';
import { ErrorBox, Loading } from '../ui/common.tsx';
import { loadFullHistory, loadOverview, OVERVIEW_POINTS, type XAxis } from './metric-history.ts';
import { align, colorOf, positiveOnly, smooth } from './series.ts';
import { UPlotChart } from './uplot-chart.tsx';

export interface ChartRun {
  runId: string;
  name: string;
}

export interface ChartSettings {
  x: XAxis;
  log: boolean;
  smoothing: number;
  allPoints: boolean;
}

export const DEFAULT_SETTINGS: ChartSettings = { x: 'step', log: false, smoothing: 0, allPoints: false };

/** The controls every metric chart shares: x axis, log scale, smoothing, all points. */
export function ChartControls({
  settings,
  onChange,
}: {
  settings: ChartSettings;
  onChange: (next: ChartSettings) => void;
}) {
  return (
    <div class="chart-controls">
      <label class="inline">
        x axis
        <select
          value={settings.x}
          onChange={(e) => onChange({ ...settings, x: e.currentTarget.value as XAxis })}
        >
          <option value="step">step</option>
          <option value="time">time</option>
        </select>
      </label>
      <label class="inline">
        <input
          type="checkbox"
          checked={settings.log}
          onChange={(e) => onChange({ ...settings, log: e.currentTarget.checked })}
        />
        log scale
      </label>
      <label class="inline">
        smoothing
        <input
          type="range"
          min="0"
          max="0.99"
          step="0.01"
          value={settings.smoothing}
          onInput={(e) => onChange({ ...settings, smoothing: Number(e.currentTarget.value) })}
        />
        <span class="mono">{settings.smoothing.toFixed(2)}</span>
      </label>
      <label
        class="inline"
        title={`By default each run shows at most ${OVERVIEW_POINTS} points, spread evenly over its steps`}
      >
        <input
          type="checkbox"
          checked={settings.allPoints}
          onChange={(e) => onChange({ ...settings, allPoints: e.currentTarget.checked })}
        />
        all points
      </label>
    </div>
  );
}

/** One metric of several runs, overlaid. */
export function MetricChart({
  metricKey,
  runs,
  settings,
}: {
  metricKey: string;
  runs: ChartRun[];
  settings: ChartSettings;
}) {
  const runIds = runs.map((run) => run.runId);
  const histories = useApi(
    () =>
      settings.allPoints
        ? Promise.all(runIds.map((id) => loadFullHistory(id, metricKey, settings.x)))
        : loadOverview(runIds, metricKey, settings.x),
    [runIds.join(','), metricKey, settings.x, settings.allPoints],
  );
  const chart = useMemo(() => {
    if (!histories.data) return undefined;
    // The console benchmark measures from here (data in hand) to the chart drawn.
    performance.mark('runway:chart-data');
    const names = new Map(runs.map((run) => [run.runId, run.name]));
    const present = histories.data.filter((history) => history.points.length > 0);
    if (present.length === 0) return null;
    const [xs, ...ys] = align(present.map((h) => ({ label: h.runId, points: h.points })));
    const shaped = ys.map((column) => {
      const smoothed = smooth(column, settings.smoothing);
      return settings.log ? positiveOnly(smoothed) : smoothed;
    });
    const options: Omit<uPlot.Options, 'width' | 'height'> = {
      title: metricKey,
      scales: {
        x: { time: settings.x === 'time' },
        y: settings.log ? { distr: 3 } : {},
      },
      axes: [{ label: settings.x }, { size: 60 }],
      series: [
        { label: settings.x },
        ...present.map((history) => {
          const index = runs.findIndex((run) => run.runId === history.runId);
          return {
            label: names.get(history.runId) ?? history.runId,
            stroke: colorOf(index),
            width: 1.5,
            spanGaps: true,
            points: { show: false },
          };
        }),
      ],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    };
    const points = present.reduce((sum, h) => sum + h.points.length, 0);
    return { options, data: [xs, ...shaped] as uPlot.AlignedData, points };
  }, [histories.data, settings.smoothing, settings.log, settings.x, metricKey, runs]);
  return (
    <div class="card" data-metric={metricKey}>
      <ErrorBox error={histories.error} />
      <Loading when={histories.loading && !histories.data} />
      {chart === null ? <p class="muted">No points for {metricKey}.</p> : null}
      {chart ? (
        <>
          <UPlotChart options={chart.options} data={chart.data} />
          <p class="muted small">
            {chart.points.toLocaleString()} points
            {settings.allPoints ? '' : ` (at most ${OVERVIEW_POINTS} a run)`} · drag to zoom, double-click to
            reset
          </p>
        </>
      ) : null}
    </div>
  );
}
