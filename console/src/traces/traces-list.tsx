import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api3 } from '../api/client.ts';
import type { TraceInfoWire } from '../api/wire.ts';
import { href, location, setQuery } from '../app/router.ts';
import { ErrorBox, formatDuration, formatTime, Loading, Status } from '../ui/common.tsx';
import { DataTable } from '../ui/data-table.tsx';
import { FilterForm } from '../ui/filter-form.tsx';
import { durationMs, sourceRun, stateLabel, timestampMs, traceName, userTags } from './spans.ts';

/** Traces a page of the list asks for (MLflow's UI asks for 100 too; the API allows 500). */
const PAGE = 100;

const ORDERS = [
  ['timestamp_ms DESC', 'Newest first'],
  ['timestamp_ms ASC', 'Oldest first'],
  ['execution_time_ms DESC', 'Slowest first'],
] as const;

interface Listed {
  traces: TraceInfoWire[];
  next?: string;
  error?: ApiError;
  loading: boolean;
}

/**
 * An experiment's traces (`SearchTracesV3`): a filter in MLflow's trace grammar, an order, pages of
 * 100 read on demand. Each row links to the trace's span tree.
 */
export function TracesList({ experimentId }: { experimentId: string }) {
  const query = location.value.search;
  const filter = query.get('trace_filter') ?? '';
  const order = query.get('trace_order') ?? ORDERS[0][0];
  const [listed, setListed] = useState<Listed>({ traces: [], loading: true });
  // The latest load wins: an answer to an older filter that arrives late is dropped.
  const generation = useRef(0);

  const load = async (pageToken: string | undefined, previous: TraceInfoWire[]) => {
    const mine = ++generation.current;
    setListed({ traces: previous, loading: true });
    try {
      const page = await api3.post<{ traces?: TraceInfoWire[]; next_page_token?: string }>(
        'mlflow/traces/search',
        {
          locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }],
          filter: filter || undefined,
          order_by: [order],
          max_results: PAGE,
          page_token: pageToken,
        },
      );
      if (mine !== generation.current) return;
      setListed({
        traces: [...previous, ...(page.traces ?? [])],
        next: page.next_page_token,
        loading: false,
      });
    } catch (error) {
      if (mine !== generation.current) return;
      setListed({
        traces: previous,
        loading: false,
        error: error instanceof ApiError ? error : new ApiError(0, 'CONSOLE_ERROR', String(error)),
      });
    }
  };
  useEffect(() => {
    void load(undefined, []);
  }, [experimentId, filter, order]);

  return (
    <div>
      <FilterForm
        name="trace_filter"
        testId="traces-filter"
        applied={filter}
        placeholder="status = 'ERROR' and tags.team = 'search' and execution_time_ms > 1000"
        label="Filter traces (MLflow's trace search syntax)"
        onApply={(next) => setQuery({ trace_filter: next })}
      >
        <select
          aria-label="Order of the traces"
          value={order}
          onChange={(event) =>
            setQuery({
              trace_order: event.currentTarget.value === ORDERS[0][0] ? undefined : event.currentTarget.value,
            })
          }
        >
          {ORDERS.map(([value, label]) => (
            <option value={value} key={value}>
              {label}
            </option>
          ))}
        </select>
      </FilterForm>
      <ErrorBox error={listed.error} />
      <p class="muted small" data-testid="traces-count">
        {listed.traces.length.toLocaleString()}
        {listed.next ? '+' : ''} traces
      </p>
      {listed.traces.length > 0 ? (
        <div class="card">
          <DataTable
            testId="traces"
            rows={listed.traces}
            rowKey={(trace) => trace.trace_id}
            columns={[
              {
                label: 'Trace',
                cell: (t) => (
                  <a href={href('experiments', experimentId, 'traces', t.trace_id)} title={t.trace_id}>
                    {traceName(t)}
                  </a>
                ),
              },
              { label: 'State', cell: (t) => <Status value={stateLabel(t.state)} /> },
              { label: 'Started', cell: (t) => formatTime(timestampMs(t.request_time)) },
              { label: 'Duration', cell: (t) => formatDuration(durationMs(t.execution_duration)) },
              { label: 'Request', cell: (t) => <Preview text={t.request_preview} />, class: 'mono' },
              { label: 'Response', cell: (t) => <Preview text={t.response_preview} />, class: 'mono' },
              {
                label: 'Run',
                cell: (t) => {
                  const run = sourceRun(t);
                  return run ? (
                    <a href={href('experiments', experimentId, 'runs', run)} class="mono">
                      {run.slice(0, 8)}
                    </a>
                  ) : null;
                },
              },
              {
                label: 'Tags',
                cell: (t) =>
                  userTags(t)
                    .map(([key, value]) => `${key}=${value}`)
                    .join(', '),
              },
            ]}
          />
        </div>
      ) : null}
      {!listed.loading && !listed.error && listed.traces.length === 0 ? (
        <p class="muted">
          No traces{filter ? ' match this filter' : ' in this experiment yet'}. Decorate a function with{' '}
          <code>@mlflow.trace</code> and call it with{' '}
          <code>MLFLOW_TRACKING_URI={window.location.origin}</code>.
        </p>
      ) : null}
      <Loading when={listed.loading} />
      {listed.next && !listed.loading ? (
        <button type="button" onClick={() => void load(listed.next, listed.traces)}>
          Load {PAGE} more
        </button>
      ) : null}
    </div>
  );
}

/** A request or response preview on one line (the API keeps at most 1000 characters of each). */
function Preview({ text }: { text: string | undefined }) {
  if (!text) return null;
  return (
    <span class="preview-cell" title={text}>
      {text.length > 120 ? `${text.slice(0, 120)}…` : text}
    </span>
  );
}
