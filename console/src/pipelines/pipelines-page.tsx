import { api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { PipelineExecutionSummaryWire } from '../api/wire.ts';
import { href } from '../app/router.ts';
import { ErrorBox, formatDuration, formatTime, Loading, Page, Status } from '../ui/common.tsx';
import { StartForm } from './start-form.tsx';

/** The training pipeline's executions, newest first, and a form that starts one. */
export function PipelinesPage() {
  const executions = useApi(
    () =>
      api.get<{ executions?: PipelineExecutionSummaryWire[]; next_page_token?: string }>(
        'runway/pipelines/executions',
        { max_results: 50 },
      ),
    [],
  );
  const list = executions.data?.executions ?? [];
  return (
    <Page title="Pipelines">
      <StartForm />
      <div class="card">
        <h2>Executions of the training pipeline</h2>
        <ErrorBox error={executions.error} />
        <Loading when={executions.loading && !executions.data} />
        {executions.data && list.length === 0 ? <p class="muted">No executions yet.</p> : null}
        {list.length > 0 ? (
          <table data-testid="executions">
            <thead>
              <tr>
                <th>Execution</th>
                <th>Model</th>
                <th>Status</th>
                <th>Started</th>
                <th>Took</th>
              </tr>
            </thead>
            <tbody>
              {list.map((execution) => (
                <tr key={execution.execution_arn}>
                  <td>
                    <a href={href('pipelines', execution.name)}>{execution.name}</a>
                  </td>
                  <td>
                    {execution.model_name ? (
                      <a href={href('models', execution.model_name)}>{execution.model_name}</a>
                    ) : (
                      ''
                    )}
                  </td>
                  <td>
                    <Status value={execution.status} />
                  </td>
                  <td>{formatTime(execution.start_time)}</td>
                  <td>
                    {execution.stop_time ? formatDuration(execution.stop_time - execution.start_time) : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </div>
    </Page>
  );
}
