import { api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { PipelineExecutionSummaryWire } from '../api/wire.ts';
import { href } from '../app/router.ts';
import { ErrorBox, formatDuration, formatTime, Loading, Page, Status } from '../ui/common.tsx';
import { DataTable } from '../ui/data-table.tsx';
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
          <DataTable
            testId="executions"
            rows={list}
            rowKey={(execution) => execution.execution_arn}
            columns={[
              { label: 'Execution', cell: (x) => <a href={href('pipelines', x.name)}>{x.name}</a> },
              {
                label: 'Model',
                cell: (x) => (x.model_name ? <a href={href('models', x.model_name)}>{x.model_name}</a> : ''),
              },
              { label: 'Status', cell: (x) => <Status value={x.status} /> },
              { label: 'Started', cell: (x) => formatTime(x.start_time) },
              { label: 'Took', cell: (x) => (x.stop_time ? formatDuration(x.stop_time - x.start_time) : '') },
            ]}
          />
        ) : null}
      </div>
    </Page>
  );
}
