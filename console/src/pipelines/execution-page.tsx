import { useEffect } from 'preact/hooks';
import { ARTIFACTS } from '../../../shared/pipelines/tags.ts';
import { api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { PipelineExecutionWire } from '../api/wire.ts';
import { href } from '../app/router.ts';
import { listArtifacts, readArtifactText } from '../runs/artifacts.ts';
import {
  Card,
  ErrorBox,
  formatDuration,
  formatTime,
  KeyValues,
  Loading,
  Page,
  Status,
} from '../ui/common.tsx';

const POLL_MS = 1500;

/** One execution: its steps as a graph, the failure, the data validation report and what it registered. */
export function PipelineExecutionPage({ execution }: { execution: string }) {
  const described = useApi(
    () =>
      api.get<{ execution: PipelineExecutionWire }>(
        `runway/pipelines/executions/${encodeURIComponent(execution)}`,
      ),
    [execution],
  );
  const data = described.data?.execution;
  const running = data?.status === 'RUNNING';
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(described.reload, POLL_MS);
    return () => clearInterval(timer);
  }, [running, described.reload]);
  return (
    <Page
      title={
        <>
          {execution}
          <span class="sub">pipeline execution</span>
        </>
      }
      actions={data ? <Status value={data.status} /> : null}
    >
      <ErrorBox error={described.error} />
      <Loading when={described.loading && !described.data} />
      {data ? (
        <>
          <Card title="Steps">
            <div class="graph" data-testid="step-graph">
              {data.steps.map((step, i) => (
                <>
                  {i > 0 ? <span class="arrow">→</span> : null}
                  <span class={`node ${step.status}`} title={step.status} key={step.name}>
                    {step.name}
                    {step.end_time && step.start_time ? (
                      <span class="muted small"> {formatDuration(step.end_time - step.start_time)}</span>
                    ) : null}
                  </span>
                </>
              ))}
            </div>
          </Card>
          {data.error || data.cause ? (
            <div class="error" data-testid="failure">
              <code>{data.error}</code> {data.cause}
            </div>
          ) : null}
          <div class="grid">
            <Card title="Execution">
              <KeyValues
                items={[
                  { key: 'status', value: data.status },
                  { key: 'started', value: formatTime(data.start_time) },
                  { key: 'stopped', value: formatTime(data.stop_time) },
                  {
                    key: 'model',
                    value: data.model_name ? (
                      <a href={href('models', data.model_name)}>{data.model_name}</a>
                    ) : (
                      ''
                    ),
                  },
                  {
                    key: 'run',
                    value:
                      data.run && data.experiment_id ? (
                        <a href={href('experiments', data.experiment_id, 'runs', data.run.run_id)}>
                          {data.run.run_id}
                        </a>
                      ) : (
                        ''
                      ),
                  },
                  ...(data.registered_version
                    ? [{ key: 'registered', value: `version ${data.registered_version}` }]
                    : []),
                ]}
              />
            </Card>
            <Card title="Input">
              <pre class="small">{JSON.stringify(data.input, null, 2)}</pre>
            </Card>
            {data.output ? (
              <Card title="Output">
                <pre class="small">{JSON.stringify(data.output, null, 2)}</pre>
              </Card>
            ) : null}
          </div>
          {data.run ? (
            <ValidationReport runId={data.run.run_id} artifactRoot={data.run.artifact_uri} done={!running} />
          ) : null}
        </>
      ) : null}
    </Page>
  );
}

function ValidationReport({
  runId,
  artifactRoot,
  done,
}: {
  runId: string;
  artifactRoot: string;
  done: boolean;
}) {
  const report = useApi(async () => {
    if (!done) return undefined;
    // Listed first: a report that was never written is "none", not a 404 in the browser's console.
    const files = await listArtifacts(runId, ARTIFACTS.report.split('/')[0] as string);
    if (!files.some((file) => file.path === ARTIFACTS.report)) return null;
    return readArtifactText(artifactRoot, ARTIFACTS.report);
  }, [runId, artifactRoot, done]);
  return (
    <Card title="Data validation report">
      {!done ? <p class="muted">Written when the execution ends.</p> : null}
      {report.data === null ? <p class="muted">No report: data validation did not run.</p> : null}
      <ErrorBox error={report.error} />
      {report.data ? (
        <pre class="small" data-testid="validation-report">
          {report.data}
        </pre>
      ) : null}
    </Card>
  );
}
