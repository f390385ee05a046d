import { DRIFT_METHOD_NAMES, DRIFT_METHODS } from '../../../shared/monitoring/drift-methods.ts';
import { eventKindsOf, MONITORING_EVENT_NAMES } from '../../../shared/monitoring/events/names.ts';
import { useApi } from '../api/use-api.ts';
import type { FeatureReport, MonitorReport, MonitorRunWire } from '../api/wire.ts';
import { href } from '../app/router.ts';
import {
  Card,
  ErrorBox,
  formatNumber,
  formatPercent,
  formatTime,
  KeyValues,
  Loading,
  Page,
  Status,
} from '../ui/common.tsx';
import { monitorsApi } from './monitors-api.ts';
import { RunFlags } from './run-flags.tsx';

/** One monitor run's report: the verdict, the data it read, each feature against its baseline, events. */
export function ReportPage({ monitor, runId }: { monitor: string; runId: string }) {
  const answer = useApi(() => monitorsApi.report(monitor, runId), [monitor, runId]);
  const run = answer.data?.run;
  const report = answer.data?.report;
  return (
    <Page
      title={
        <>
          <a href={href('monitors', monitor)}>{monitor}</a> / {runId}
          <span class="sub">monitor report</span>
        </>
      }
      actions={run ? <Status value={run.status} /> : null}
    >
      <ErrorBox error={answer.error} />
      <Loading when={answer.loading && !answer.data} />
      {run ? <RunHeader run={run} /> : null}
      {run && !report && run.status === 'Running' ? (
        <p class="muted">The run is reading its window.</p>
      ) : null}
      {report ? <ReportBody report={report} run={run as MonitorRunWire} /> : null}
    </Page>
  );
}

function RunHeader({ run }: { run: MonitorRunWire }) {
  const mlflowRun =
    run.experiment_id && run.mlflow_run_id
      ? href('experiments', run.experiment_id, 'runs', run.mlflow_run_id)
      : undefined;
  return (
    <Card>
      <p class="verdict" data-testid="report-summary">
        {run.summary ?? run.error ?? ''}
      </p>
      <KeyValues
        items={[
          { key: 'verdict', value: <RunFlags run={run} /> },
          { key: 'window', value: `${formatTime(run.window_start)} to ${formatTime(run.window_end)}` },
          { key: 'trigger', value: run.trigger },
          {
            key: 'ran',
            value: `${formatTime(run.start_time)}${run.end_time ? ` to ${formatTime(run.end_time)}` : ''}`,
          },
          ...(mlflowRun
            ? [
                {
                  key: 'MLflow run',
                  value: (
                    <>
                      <a href={mlflowRun}>its metrics</a> ·{' '}
                      <a href={`${mlflowRun}?tab=artifacts`}>report.json and report.txt</a>
                    </>
                  ),
                },
              ]
            : []),
        ]}
      />
    </Card>
  );
}

function ReportBody({ report, run }: { report: MonitorReport; run: MonitorRunWire }) {
  const events = run.status === 'Completed' ? eventKindsOf(report) : [];
  const data = report.data;
  const skipped = Object.entries(data.skippedRecords);
  return (
    <>
      {report.notEnoughData ? (
        <div class="notice" data-testid="not-enough-data">
          {report.notEnoughData}: drift was not judged, and no drift event was published. The statistics below
          are shown as measured.
        </div>
      ) : null}
      <div class="grid">
        <Card title="Data">
          <KeyValues
            items={[
              {
                key: 'rows',
                value: `${data.rows} in ${data.records} captured invocations (${
                  Object.entries(data.rowsByVersion)
                    .map(([version, rows]) => `v${version}: ${rows}`)
                    .join(', ') || 'none'
                })`,
              },
              { key: 'capture objects', value: data.captureObjects },
              {
                key: 'feedback',
                value: `${data.feedback.received} received, ${data.feedback.matched} matched`,
              },
              ...(skipped.length > 0
                ? [{ key: 'skipped', value: skipped.map(([why, n]) => `${n} ${why}`).join(', ') }]
                : []),
              ...(data.newColumns.length > 0
                ? [{ key: 'not in the baseline', value: data.newColumns.join(', ') }]
                : []),
              { key: 'baseline', value: report.baseline.description },
            ]}
          />
        </Card>
        <Card title="Events published">
          {events.length === 0 ? (
            <p class="muted" data-testid="events">
              None: no limit broken.
            </p>
          ) : (
            <ul data-testid="events">
              {events.map((kind) => (
                <li key={kind}>
                  <code>{MONITORING_EVENT_NAMES[kind]}</code>
                </li>
              ))}
            </ul>
          )}
          <p class="muted small">on the Runway bus; a monitor that retrains acts on drift and quality.</p>
        </Card>
      </div>
      <Card
        title={`Drift: ${report.drift.tests} tests, each at ${report.drift.perTestSignificance.toPrecision(2)} (${report.drift.significance} a run, Bonferroni)`}
      >
        <FeatureTable
          features={report.drift.features}
          perTest={report.drift.perTestSignificance}
          testId="drift-features"
        />
      </Card>
      {report.predictionDrift.versions.length > 0 || report.predictionDrift.referencesRecorded.length > 0 ? (
        <Card title="Prediction drift (against each version's first full window)">
          <FeatureTable
            features={report.predictionDrift.versions}
            perTest={report.drift.perTestSignificance}
          />
          {report.predictionDrift.referencesRecorded.map((version) => (
            <p class="muted small" key={version}>
              Version {version}: this window's predictions are its reference from now on.
            </p>
          ))}
        </Card>
      ) : null}
      {report.quality.length > 0 ? (
        <Card title={`Quality (${data.feedback.matched} invocations labeled by feedback)`}>
          <table data-testid="quality">
            <thead>
              <tr>
                <th>Version</th>
                <th>Verdict</th>
                <th>Labeled</th>
                <th>Metrics (limit)</th>
              </tr>
            </thead>
            <tbody>
              {report.quality.map((q) => (
                <tr key={q.modelVersion}>
                  <td>v{q.modelVersion}</td>
                  <td>
                    <Verdict bad={q.breaches.length > 0} na={q.notEnoughData} label="DEGRADED" />
                  </td>
                  <td>{q.labeled}</td>
                  <td>
                    {q.notEnoughData ??
                      Object.entries(q.metrics).map(([metric, value]) => {
                        const limit = q.limits[metric as keyof typeof q.limits];
                        const broke = q.breaches.some((b) => b.metric === metric);
                        return (
                          <span key={metric} class={broke ? 'over' : ''}>
                            {metric} {formatNumber(value)}
                            {limit !== undefined ? ` (${limit})` : ''}{' '}
                          </span>
                        );
                      })}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      ) : null}
      {report.health.length > 0 ? (
        <Card title="Health (serving statistics over the window)">
          <table data-testid="health">
            <thead>
              <tr>
                <th>Version</th>
                <th>Verdict</th>
                <th>Invocations</th>
                <th>Error rate (limit)</th>
                <th>p99 (limit)</th>
              </tr>
            </thead>
            <tbody>
              {report.health.map((h) => (
                <tr key={h.modelVersion}>
                  <td>v{h.modelVersion}</td>
                  <td>
                    <Verdict bad={h.breaches.length > 0} na={h.notEnoughData} label="DEGRADED" />
                  </td>
                  <td>{h.invocations}</td>
                  <td class={h.breaches.some((b) => b.metric === 'error_rate') ? 'over' : ''}>
                    {formatPercent(h.errorRate)} ({formatPercent(h.limits.maxErrorRate)})
                  </td>
                  <td class={h.breaches.some((b) => b.metric === 'p99_ms') ? 'over' : ''}>
                    {h.p99Ms === null ? 'n/a' : `${formatNumber(h.p99Ms)} ms`} ({h.limits.maxP99Ms} ms)
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      ) : null}
    </>
  );
}

function Verdict({ bad, na, label }: { bad: boolean; na: string | undefined; label: string }) {
  if (bad) return <span class="flag flag-bad">{label}</span>;
  if (na)
    return (
      <span class="flag flag-na" title={na}>
        n/a
      </span>
    );
  return <span class="flag flag-ok">ok</span>;
}

/** Statistics to four significant digits (the JSON report and the MLflow run keep every digit). */
const short = (value: number) => (Number.isInteger(value) ? String(value) : String(+value.toPrecision(4)));
const num = (value: unknown) => (typeof value === 'number' ? short(value) : '–');

/** Each feature: its distances against their limits, the test's p-value, the window beside the baseline. */
function FeatureTable({
  features,
  perTest,
  testId,
}: {
  features: FeatureReport[];
  perTest: number;
  testId?: string;
}) {
  if (features.length === 0) return <p class="muted">No features to compare.</p>;
  return (
    <table data-testid={testId} class="report-table">
      <thead>
        <tr>
          <th>Feature</th>
          <th>Verdict</th>
          <th>Distances (limit)</th>
          <th>p-value</th>
          <th>Window</th>
          <th>Baseline</th>
          <th>Missing, unseen, out of range</th>
        </tr>
      </thead>
      <tbody>
        {features.map((f) => {
          const s = f.statistics;
          const name = f.kind === 'prediction' ? `predictions of v${f.modelVersion}` : f.name;
          const live = f.live as Record<string, unknown>;
          const base = (f.baseline ?? {}) as Record<string, unknown>;
          const shape = (side: Record<string, unknown>) =>
            'mean' in side
              ? `mean ${num(side.mean)}, std ${num(side.stdDev)}, ${num(side.min)}..${num(side.max)}`
              : 'unique' in side
                ? `${num(side.unique)} values: ${((side.top ?? []) as Array<[string, number]>)
                    .slice(0, 3)
                    .map(([value]) => value)
                    .join(', ')}`
                : `${num(side.count)} values`;
          return (
            <tr key={name} data-feature={f.name} data-drifted={f.drifted ? 'true' : 'false'}>
              <td>
                <strong>{name}</strong> <span class="muted small">{f.type}</span>
              </td>
              <td>
                <Verdict bad={f.drifted} na={f.notEnoughData} label="DRIFT" />
                {f.notEnoughData ? <div class="small muted">{f.notEnoughData}</div> : null}
              </td>
              <td class="mono">
                {DRIFT_METHOD_NAMES.filter((m) => s[DRIFT_METHODS[m].statistic] !== undefined).map((m) => {
                  const value = s[DRIFT_METHODS[m].statistic] as number;
                  const limit = f.thresholds[m];
                  const over = limit !== undefined && value > limit;
                  return (
                    <div key={m} class={over ? 'over' : ''} data-method={m}>
                      {DRIFT_METHODS[m].label} {short(value)}{' '}
                      {limit !== undefined ? `${over ? '>' : '≤'} ${limit}` : ''}
                    </div>
                  );
                })}
              </td>
              <td class={`mono ${s.pValue !== null && s.pValue < perTest ? 'over' : ''}`}>
                {s.pValue === null ? '–' : s.pValue < 1e-12 ? '< 1e-12' : s.pValue.toPrecision(2)}
                {s.test ? <span class="muted small"> ({s.test.replace('_', '-')})</span> : null}
              </td>
              <td class="small">
                {num(live.count)} rows · {shape(live)}
              </td>
              <td class="small">{f.baseline ? `${num(base.count)} rows · ${shape(base)}` : 'none'}</td>
              <td class="small">
                missing {f.missing} of {f.rows}
                {f.baselineMissingRate !== null
                  ? ` (${formatPercent(f.missingRate)}; baseline ${formatPercent(f.baselineMissingRate)})`
                  : ''}
                {f.invalid > 0 ? `, ${f.invalid} not numbers` : ''}
                {f.unseen > 0 ? `, ${f.unseen} unseen (${f.unseenExamples.join(', ')})` : ''}
                {f.belowRange + f.aboveRange > 0
                  ? `, ${f.belowRange} below / ${f.aboveRange} above the range`
                  : ''}
                {f.drifted ? <div class="reason">{f.reasons.join('; ')}</div> : null}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
