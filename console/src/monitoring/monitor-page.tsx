import { useEffect, useRef, useState } from 'preact/hooks';
import { limitsOver } from '../../../shared/monitoring/drift-methods.ts';
import { ApiError } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { MonitorRunWire, MonitorWire } from '../api/wire.ts';
import { href, navigate } from '../app/router.ts';
import {
  Card,
  Confirm,
  ErrorBox,
  formatDuration,
  formatTime,
  KeyValues,
  Loading,
  Page,
  Status,
} from '../ui/common.tsx';
import { DataTable } from '../ui/data-table.tsx';
import { DriftChart, QualityHealthCharts } from './monitor-charts.tsx';
import { MonitorForm } from './monitor-form.tsx';
import { mapLimited, monitorsApi } from './monitors-api.ts';
import type { TimedReport } from './report-series.ts';
import { RunFlags } from './run-flags.tsx';

/** Runs listed on the page, and how many of the newest the charts read the reports of. */
const LISTED_RUNS = 100;
const CHARTED_RUNS = 50;
/** How often the page re-reads the runs while one it started is running. */
const RUN_POLL_MS = 1000;

const toError = (caught: unknown) =>
  caught instanceof ApiError ? caught : new ApiError(0, 'CONSOLE_ERROR', String(caught));

/** A monitor: its settings, drift per feature over its runs, quality and health, its reports, and actions. */
export function MonitorPage({ name }: { name: string }) {
  const monitor = useApi(() => monitorsApi.get(name), [name]);
  const runs = useApi(() => monitorsApi.runs(name, LISTED_RUNS), [name]);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [actionError, setActionError] = useState<ApiError | undefined>();
  const [started, setStarted] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const list = runs.data?.runs ?? [];
  const startedRun = started ? list.find((run) => run.run_id === started) : undefined;
  const waiting = started !== undefined && (!startedRun || startedRun.status === 'Running');
  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(runs.reload, RUN_POLL_MS);
    return () => clearInterval(timer);
  }, [waiting, runs.reload]);

  // The charts read each charted run's report once (a completed run's report never changes): a new
  // run adds one read.
  const read = useRef(new Map<string, TimedReport | null>());
  const charted = list.filter((run) => run.status === 'Completed' && run.report_uri).slice(0, CHARTED_RUNS);
  const chartKey = charted.map((run) => run.run_id).join(',');
  const reports = useApi(async (): Promise<TimedReport[]> => {
    const missing = charted.filter((run) => !read.current.has(run.run_id));
    const answers = await mapLimited(missing, 6, (run) => monitorsApi.report(name, run.run_id));
    for (const { run, report } of answers) {
      read.current.set(run.run_id, report ? { windowEnd: run.window_end, report } : null);
    }
    return charted.flatMap((run) => read.current.get(run.run_id) ?? []);
  }, [name, chartKey]);

  const runNow = async () => {
    setBusy(true);
    setActionError(undefined);
    try {
      const answer = await monitorsApi.run(name);
      setStarted(answer.run_id);
      runs.reload();
    } catch (caught) {
      setActionError(toError(caught));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    setActionError(undefined);
    try {
      await monitorsApi.delete(name);
      navigate('/monitors');
    } catch (caught) {
      setActionError(toError(caught));
      setDeleting(false);
    } finally {
      setBusy(false);
    }
  };

  const data = monitor.data?.monitor;
  return (
    <Page
      title={
        <>
          {name}
          <span class="sub">monitor</span>
        </>
      }
      actions={
        data ? (
          <>
            <button type="button" class="primary" onClick={runNow} disabled={busy || waiting}>
              Run now
            </button>
            <button type="button" onClick={() => setEditing(!editing)} disabled={busy}>
              Edit
            </button>
            <button type="button" onClick={() => setDeleting(true)} disabled={busy}>
              Delete
            </button>
          </>
        ) : null
      }
    >
      <ErrorBox error={monitor.error} />
      <ErrorBox error={actionError} />
      <Loading when={monitor.loading && !monitor.data} />
      {started ? <StartedRun runId={started} run={startedRun} monitor={name} /> : null}
      {deleting ? (
        <Confirm
          title={`Delete monitor ${name}?`}
          confirmLabel="Delete"
          busy={busy}
          onConfirm={remove}
          onCancel={() => setDeleting(false)}
        >
          <p>
            Its schedule and its list of runs go with it. The reports stay in MLflow, in experiment{' '}
            <code>monitor-{data?.endpoint_name}</code>.
          </p>
        </Confirm>
      ) : null}
      {data && editing ? (
        <MonitorForm
          monitor={data}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            monitor.reload();
          }}
        />
      ) : null}
      {data ? (
        <>
          <Settings monitor={data} />
          <Card title="Drift per feature">
            <ErrorBox error={reports.error} />
            <Loading when={reports.loading && !reports.data} />
            {reports.data ? <DriftChart monitor={data} reports={reports.data} /> : null}
            {charted.length === CHARTED_RUNS ? (
              <p class="muted small">The newest {CHARTED_RUNS} completed runs.</p>
            ) : null}
          </Card>
          <Card title="Quality and health">
            {reports.data ? <QualityHealthCharts monitor={data} reports={reports.data} /> : null}
          </Card>
        </>
      ) : null}
      <Card title="Reports">
        <ErrorBox error={runs.error} />
        {runs.data && list.length === 0 ? (
          <p class="muted">No runs yet: Run now, or wait for its schedule.</p>
        ) : null}
        {list.length > 0 ? <RunsTable monitor={name} runs={list} /> : null}
      </Card>
    </Page>
  );
}

/** The run "Run now" started, until it ends: then its verdict and a link to its report. */
function StartedRun({
  runId,
  run,
  monitor,
}: {
  runId: string;
  run: MonitorRunWire | undefined;
  monitor: string;
}) {
  const status = run?.status ?? 'Running';
  return (
    <div class="notice" data-testid="started-run" data-status={status}>
      Run <a href={href('monitors', monitor, 'reports', runId)}>{runId}</a> <Status value={status} />{' '}
      {status === 'Running' ? 'reading the window…' : null}
      {run?.summary ? <span>{run.summary}</span> : null}
      {run?.error ? <span class="reason">{run.error}</span> : null}
    </div>
  );
}

function Settings({ monitor }: { monitor: MonitorWire }) {
  const limits = limitsOver(monitor.drift.thresholds);
  const methods = [...monitor.drift.numeric_methods, ...monitor.drift.categorical_methods];
  const quality = monitor.quality;
  const retrain = monitor.actions.retrain;
  return (
    <div class="grid">
      <Card title="Settings">
        <KeyValues
          items={[
            {
              key: 'endpoint',
              value: (
                <>
                  <a href={href('endpoints', monitor.endpoint_name)}>{monitor.endpoint_name}</a> (model{' '}
                  <a href={href('models', monitor.model_name)}>{monitor.model_name}</a>)
                </>
              ),
            },
            ...(monitor.description ? [{ key: 'description', value: monitor.description }] : []),
            {
              key: 'schedule',
              value: (
                <span class="mono">
                  {monitor.schedule}
                  {monitor.enabled ? '' : ' (off: runs on demand only)'}
                </span>
              ),
            },
            { key: 'window', value: formatDuration(monitor.window_seconds * 1000) },
            {
              key: 'baseline',
              value:
                monitor.baseline.type === 'dataset' ? (
                  <span class="mono">{monitor.baseline.dataset_uri}</span>
                ) : (
                  "the served version's training statistics"
                ),
            },
            { key: 'features', value: monitor.features?.join(', ') ?? 'every input of the model' },
            { key: 'minimum sample', value: `${monitor.min_samples} rows` },
            { key: 'prediction drift', value: monitor.prediction_drift ? 'watched' : 'off' },
            { key: 'updated', value: formatTime(monitor.last_updated_timestamp) },
          ]}
        />
      </Card>
      <Card title="Limits and actions">
        <KeyValues
          items={[
            {
              key: 'drift',
              value: (
                <span data-testid="drift-limits">{methods.map((m) => `${m} ${limits[m]}`).join(', ')}</span>
              ),
            },
            ...Object.entries(monitor.drift.feature_thresholds).map(([feature, own]) => ({
              key: `drift: ${feature}`,
              value: Object.entries(own)
                .map(([m, v]) => `${m} ${v}`)
                .join(', '),
            })),
            {
              key: 'false alarms',
              value: `${monitor.drift.significance} a run (Bonferroni); missing share may rise ${monitor.drift.max_missing_increase}`,
            },
            {
              key: 'quality',
              value: quality
                ? `${
                    Object.entries(quality.limits)
                      .map(([m, v]) => `${m} ${v}`)
                      .join(', ') || 'no limits'
                  }; ${quality.min_labeled} labeled needed${
                    quality.problem_type ? `; ${quality.problem_type.replace('_', ' ')}` : ''
                  }`
                : 'not watched',
            },
            {
              key: 'health',
              value: `error rate ${monitor.health.max_error_rate}, p99 ${monitor.health.max_p99_ms} ms, ${monitor.health.min_invocations} invocations needed`,
            },
            {
              key: 'actions',
              value: retrain ? (
                <>
                  retrain on {retrain.on.join(' or ')}, at most once every{' '}
                  {formatDuration(retrain.cooldown_seconds * 1000)}
                  <pre class="small">{JSON.stringify(retrain.pipeline_input, null, 2)}</pre>
                </>
              ) : (
                'events only'
              ),
            },
            ...(monitor.last_retrain
              ? [
                  {
                    key: 'last retrain',
                    value: (
                      <>
                        {formatTime(monitor.last_retrain.timestamp)} by run{' '}
                        <a href={href('monitors', monitor.name, 'reports', monitor.last_retrain.run_id)}>
                          {monitor.last_retrain.run_id}
                        </a>
                      </>
                    ),
                  },
                ]
              : []),
          ]}
        />
      </Card>
    </div>
  );
}

function RunsTable({ monitor, runs }: { monitor: string; runs: MonitorRunWire[] }) {
  return (
    <DataTable
      testId="monitor-runs"
      rows={runs}
      rowKey={(run) => run.run_id}
      columns={[
        {
          label: 'Window end',
          cell: (run) => (
            <a href={href('monitors', monitor, 'reports', run.run_id)}>{formatTime(run.window_end)}</a>
          ),
        },
        { label: 'Window', cell: (run) => formatDuration(run.window_end - run.window_start) },
        { label: 'Trigger', cell: (run) => run.trigger },
        { label: 'Status', cell: (run) => <Status value={run.status} /> },
        { label: 'Rows', cell: (run) => run.rows ?? '' },
        { label: 'Verdict', cell: (run) => <RunFlags run={run} /> },
        {
          label: 'Summary',
          cell: (run) => <span class="small">{run.summary ?? run.error ?? ''}</span>,
          width: '35%',
        },
      ]}
    />
  );
}
