import { useMemo, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { DRIFT_METHODS, type DriftMethod } from '../../../shared/monitoring/drift-methods.ts';
import type { MonitorWire } from '../api/wire.ts';
import { colorOf, positiveOnly } from '../charts/series.ts';
import { UPlotChart } from '../charts/uplot-chart.tsx';
import {
  type ChartSeries,
  driftSeries,
  healthSeries,
  limitOf,
  methodsIn,
  qualitySeries,
  type TimedReport,
} from './report-series.ts';

/** Limits in near-black, dashed: apart from every series colour (the palette has a red). */
const LIMIT_COLOR = '#111827';

/** uPlot's options and data for series over time, with limits drawn as dashed lines. */
function chartOf(
  title: string,
  series: ChartSeries,
  unit: string,
  options: { limits?: Array<{ label: string; value: number }>; log?: boolean } = {},
) {
  const columns = series.data.slice(1) as Array<Array<number | null>>;
  const data = [
    series.data[0],
    ...(options.log ? columns.map(positiveOnly) : columns),
    ...(options.limits ?? []).map((limit) => series.data[0].map(() => limit.value)),
  ] as uPlot.AlignedData;
  const single = series.data[0].length === 1;
  return {
    options: {
      title,
      scales: { x: { time: true }, y: options.log ? { distr: 3 } : {} },
      axes: [{}, { size: 60, label: unit }],
      series: [
        {},
        ...series.labels.map((label, i) => ({
          label,
          stroke: colorOf(i),
          width: 1.5,
          spanGaps: false,
          points: { show: true, size: single ? 8 : 5 },
        })),
        ...(options.limits ?? []).map((limit) => ({
          label: limit.label,
          stroke: LIMIT_COLOR,
          width: 1.5,
          dash: [6, 4],
          points: { show: false },
        })),
      ],
    } satisfies Omit<uPlot.Options, 'width' | 'height'>,
    data,
  };
}

/** Drift per feature over the runs: one line per feature, the monitor's limit as a dashed line. */
export function DriftChart({ monitor, reports }: { monitor: MonitorWire; reports: TimedReport[] }) {
  const methods = methodsIn(reports);
  const [chosen, setMethod] = useState<DriftMethod | undefined>();
  const [log, setLog] = useState(false);
  const method = chosen && methods.includes(chosen) ? chosen : methods[0];
  const chart = useMemo(() => {
    if (!method) return null;
    const series = driftSeries(reports, method);
    if (!series) return null;
    return chartOf(`drift by ${DRIFT_METHODS[method].label} per feature`, series, method, {
      limits: [{ label: `limit ${limitOf(monitor, method)}`, value: limitOf(monitor, method) }],
      log,
    });
  }, [reports, method, log, monitor]);
  const overrides = Object.entries(monitor.drift.feature_thresholds)
    .filter(([, limits]) => method && limits[method] !== undefined)
    .map(([feature, limits]) => `${feature} ${limits[method as DriftMethod]}`);
  if (!method || !chart) return <p class="muted">No run has compared features yet.</p>;
  return (
    <div data-testid="drift-chart">
      <div class="chart-controls">
        <label class="inline">
          method
          <select
            value={method}
            onChange={(e) => setMethod(e.currentTarget.value as DriftMethod)}
            aria-label="method"
          >
            {methods.map((m) => (
              <option value={m} key={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label class="inline">
          <input type="checkbox" checked={log} onChange={(e) => setLog(e.currentTarget.checked)} />
          log scale
        </label>
        {overrides.length > 0 ? <span class="muted small">own limits: {overrides.join(', ')}</span> : null}
      </div>
      <UPlotChart options={chart.options} data={chart.data} height={300} />
    </div>
  );
}

/** Live quality and health per version over the runs, when the reports carry them. */
export function QualityHealthCharts({ monitor, reports }: { monitor: MonitorWire; reports: TimedReport[] }) {
  const charts = useMemo(() => {
    const quality = qualitySeries(reports);
    const p99 = healthSeries(reports, 'p99Ms');
    const errors = healthSeries(reports, 'errorRate');
    return [
      quality
        ? chartOf('live quality by version', quality, 'metric', {
            limits: Object.entries(monitor.quality?.limits ?? {}).map(([metric, value]) => ({
              label: `limit ${metric} ${value}`,
              value,
            })),
          })
        : null,
      p99
        ? chartOf('p99 latency by version', p99, 'ms', {
            limits: [{ label: `limit ${monitor.health.max_p99_ms} ms`, value: monitor.health.max_p99_ms }],
          })
        : null,
      errors
        ? chartOf('error rate by version', errors, '%', {
            limits: [
              {
                label: `limit ${monitor.health.max_error_rate * 100}%`,
                value: monitor.health.max_error_rate * 100,
              },
            ],
          })
        : null,
    ].filter((chart) => chart !== null);
  }, [reports, monitor]);
  if (charts.length === 0) return <p class="muted">No run has measured quality or health yet.</p>;
  return (
    <div class="grid" data-testid="quality-health-charts">
      {charts.map((chart) => (
        <UPlotChart key={chart.options.title} options={chart.options} data={chart.data} height={220} />
      ))}
    </div>
  );
}
