import { useMemo } from 'preact/hooks';
import { api3 } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { AssessmentWire, TraceInfoWire, TraceWire } from '../api/wire.ts';
import { href, location, setQuery } from '../app/router.ts';
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
import { DataTable } from '../ui/data-table.tsx';
import {
  barOf,
  displayValue,
  durationMs,
  formatSpanMs,
  type SpanNode,
  sourceRun,
  spanTree,
  stateLabel,
  timestampMs,
  traceName,
  userTags,
} from './spans.ts';

/**
 * One trace (`GetTrace`): its info, assessments, and its spans as a tree with a timing bar each;
 * the selected span (`?span=<id>`, the root by default) shows its inputs, outputs, timing, status,
 * attributes and events.
 */
export function TracePage({ experimentId, traceId }: { experimentId: string; traceId: string }) {
  const trace = useApi(
    // allow_partial: a trace still in progress shows the spans that have arrived.
    () => api3.get<{ trace: TraceWire }>('mlflow/traces/get', { trace_id: traceId, allow_partial: true }),
    [traceId],
  );
  const info = trace.data?.trace.trace_info;
  const tree = useMemo(() => spanTree(trace.data?.trace.spans ?? []), [trace.data]);
  const selectedId = location.value.search.get('span');
  const selected = tree.nodes.find((node) => node.id === selectedId) ?? tree.nodes[0];
  return (
    <Page
      title={
        <>
          {info ? traceName(info) : traceId}
          <span class="sub">
            trace <span class="mono">{traceId}</span> in{' '}
            <a href={`${href('experiments', experimentId)}?tab=traces`}>experiment {experimentId}</a>
          </span>
        </>
      }
      actions={info ? <Status value={stateLabel(info.state)} /> : null}
    >
      <ErrorBox error={trace.error} />
      <Loading when={trace.loading && !trace.data} />
      {info ? <Overview info={info} experimentId={experimentId} /> : null}
      {trace.data ? (
        tree.nodes.length === 0 ? (
          <p class="muted">No spans of this trace have arrived yet.</p>
        ) : (
          <div class="spans">
            <div class="card span-tree" data-testid="span-tree" role="tree" aria-label="Spans">
              <h2>
                Spans <span class="muted small">{tree.nodes.length}</span>
              </h2>
              {tree.nodes.map((node) => (
                <SpanRow
                  node={node}
                  totalMs={tree.totalMs}
                  active={node.id === selected?.id}
                  onSelect={() => setQuery({ span: node.id })}
                  key={node.id}
                />
              ))}
            </div>
            {selected ? <SpanDetail node={selected} traceStartMs={timestampMs(info?.request_time)} /> : null}
          </div>
        )
      ) : null}
    </Page>
  );
}

function Overview({ info, experimentId }: { info: TraceInfoWire; experimentId: string }) {
  const run = sourceRun(info);
  const tags = userTags(info);
  return (
    <div class="grid">
      <Card title="Trace">
        <KeyValues
          items={[
            { key: 'Started', value: formatTime(timestampMs(info.request_time)) },
            { key: 'Duration', value: formatDuration(durationMs(info.execution_duration)) },
            { key: 'Request', value: <span class="mono">{info.request_preview ?? ''}</span> },
            { key: 'Response', value: <span class="mono">{info.response_preview ?? ''}</span> },
            ...(run
              ? [
                  {
                    key: 'Run',
                    value: (
                      <a href={href('experiments', experimentId, 'runs', run)} class="mono">
                        {run}
                      </a>
                    ),
                  },
                ]
              : []),
            ...(info.client_request_id
              ? [{ key: 'Client request id', value: <span class="mono">{info.client_request_id}</span> }]
              : []),
          ]}
        />
      </Card>
      <Card title="Tags">
        <KeyValues items={tags.map(([key, value]) => ({ key, value }))} empty="No tags" />
        <details>
          <summary class="muted small">MLflow's tags and metadata</summary>
          <KeyValues
            items={[
              ...Object.entries(info.tags ?? {}).filter(([key]) => key.startsWith('mlflow.')),
              ...Object.entries(info.trace_metadata ?? {}),
            ].map(([key, value]) => ({ key, value: <span class="mono">{value}</span> }))}
          />
        </details>
      </Card>
      {info.assessments?.length ? <Assessments assessments={info.assessments} /> : null}
    </div>
  );
}

function Assessments({ assessments }: { assessments: AssessmentWire[] }) {
  return (
    <Card title="Assessments">
      <DataTable
        testId="assessments"
        rows={assessments}
        rowKey={(a) => a.assessment_id}
        columns={[
          { label: 'Name', cell: (a) => a.assessment_name },
          {
            label: 'Value',
            cell: (a) => (
              <span class="mono">
                {displayValue(a.feedback?.value ?? a.expectation?.value ?? a.feedback?.error?.error_message)}
              </span>
            ),
          },
          { label: 'Kind', cell: (a) => (a.feedback ? 'feedback' : a.expectation ? 'expectation' : 'issue') },
          { label: 'Source', cell: (a) => `${a.source.source_id} (${a.source.source_type.toLowerCase()})` },
          { label: 'Rationale', cell: (a) => a.rationale ?? '' },
        ]}
      />
    </Card>
  );
}

function SpanRow({
  node,
  totalMs,
  active,
  onSelect,
}: {
  node: SpanNode;
  totalMs: number;
  active: boolean;
  onSelect: () => void;
}) {
  const bar = barOf(node, totalMs);
  return (
    <button
      type="button"
      role="treeitem"
      aria-selected={active}
      aria-level={node.depth + 1}
      class={`span-row ${active ? 'active' : ''} span-${node.status.toLowerCase()}`}
      data-span={node.name}
      data-depth={node.depth}
      onClick={onSelect}
    >
      <span class="span-name" style={{ paddingLeft: `${node.depth * 16}px` }}>
        {node.childCount > 0 ? '▾ ' : '• '}
        {node.name}
        {node.type ? <span class="span-type">{node.type}</span> : null}
      </span>
      <span class="span-time">
        {node.durationMs === undefined ? 'running' : formatSpanMs(node.durationMs)}
      </span>
      <span class="span-track">
        <span class="span-bar" style={{ left: `${bar.left}%`, width: `${bar.width}%` }} />
      </span>
    </button>
  );
}

function SpanDetail({ node, traceStartMs }: { node: SpanNode; traceStartMs: number | undefined }) {
  return (
    <div class="card span-detail" data-testid="span-detail">
      <h2>
        {node.name} {node.type ? <span class="span-type">{node.type}</span> : null}
      </h2>
      <KeyValues
        items={[
          { key: 'Status', value: <Status value={node.status} /> },
          ...(node.statusMessage ? [{ key: 'Message', value: node.statusMessage }] : []),
          {
            key: 'Started',
            value: `+${formatSpanMs(node.offsetMs)}${traceStartMs !== undefined ? ` (${formatTime(traceStartMs + node.offsetMs)})` : ''}`,
          },
          {
            key: 'Duration',
            value: node.durationMs === undefined ? 'not ended' : formatSpanMs(node.durationMs),
          },
          { key: 'Span id', value: <span class="mono">{node.id}</span> },
        ]}
      />
      <h3>Inputs</h3>
      <pre data-kind="inputs">{displayValue(node.inputs) || '—'}</pre>
      <h3>Outputs</h3>
      <pre data-kind="outputs">{displayValue(node.outputs) || '—'}</pre>
      {node.events.length > 0 ? (
        <>
          <h3>Events</h3>
          {node.events.map((event, index) => (
            <div class="span-event" data-event={event.name} key={index}>
              <strong>{event.name}</strong> <span class="muted small">+{formatSpanMs(event.offsetMs)}</span>
              {event.attributes.map(([key, value]) => (
                <div key={key}>
                  <span class="muted small">{key}</span>
                  <pre>{displayValue(value)}</pre>
                </div>
              ))}
            </div>
          ))}
        </>
      ) : null}
      {node.attributes.length > 0 ? (
        <>
          <h3>Attributes</h3>
          <KeyValues
            items={node.attributes.map(([key, value]) => ({
              key,
              value: <span class="mono">{displayValue(value)}</span>,
            }))}
          />
        </>
      ) : null}
    </div>
  );
}
