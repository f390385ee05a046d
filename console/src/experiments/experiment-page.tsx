import { useMemo, useState } from 'preact/hooks';
import { api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { ExperimentWire } from '../api/wire.ts';
import { href, location, navigate, setQuery } from '../app/router.ts';
import { ChartControls, type ChartSettings, DEFAULT_SETTINGS, MetricChart } from '../charts/metric-chart.tsx';
import { TracesList } from '../traces/traces-list.tsx';
import { ErrorBox, Page, Tabs } from '../ui/common.tsx';
import { FilterForm } from '../ui/filter-form.tsx';
import { availableKeys, type Column, type IndexedRun, keyColumn, parseColumns } from './run-columns.ts';
import { RunsTable } from './runs-table.tsx';

const DEFAULT_ORDER = 'attributes.start_time DESC';
/** Runs drawn on the charts tab when none are selected. */
const CHART_DEFAULT_RUNS = 10;

/** An experiment: its runs (filter, columns, sort, selection) and their metrics overlaid. */
export function ExperimentPage({ experimentId }: { experimentId: string }) {
  const query = location.value.search;
  const experiment = useApi(
    () => api.get<{ experiment: ExperimentWire }>('mlflow/experiments/get', { experiment_id: experimentId }),
    [experimentId],
  );
  const filter = query.get('filter') ?? '';
  const orderBy = query.get('order') ?? DEFAULT_ORDER;
  const [rows, setRows] = useState<IndexedRun[]>([]);
  const [selected, setSelected] = useState<Map<string, string>>(new Map());
  const [tab, setTab] = useState<Tab>(tabOf(query.get('tab')));
  const keys = useMemo(() => availableKeys(rows.slice(0, 2000)), [rows]);
  const chosen = query.has('cols') ? parseColumns(query.get('cols')) : defaultColumns(keys);
  const toggle = (runId: string, name: string) =>
    setSelected((previous) => {
      const next = new Map(previous);
      if (next.has(runId)) next.delete(runId);
      else next.set(runId, name);
      return next;
    });
  const name = experiment.data?.experiment.name ?? experimentId;
  return (
    <Page
      title={
        <>
          {name}
          <span class="sub">experiment {experimentId}</span>
        </>
      }
      actions={
        <button
          type="button"
          disabled={selected.size < 2}
          onClick={() =>
            navigate(`${href('experiments', experimentId, 'compare')}?runs=${[...selected.keys()].join(',')}`)
          }
        >
          Compare {selected.size > 0 ? selected.size : ''} runs
        </button>
      }
    >
      <ErrorBox error={experiment.error} />
      <div hidden={tab === 'traces'}>
        <FilterForm
          name="filter"
          applied={filter}
          placeholder="metrics.loss < 0.5 and params.lr = '0.01' and tags.team LIKE 'gr%'"
          label="Filter runs (MLflow search syntax)"
          onApply={(next) => setQuery({ filter: next })}
        >
          <ColumnPicker keys={keys} chosen={chosen} />
        </FilterForm>
      </div>
      <Tabs
        tabs={[
          ['runs', 'Runs'],
          ['charts', 'Charts'],
          ['traces', 'Traces'],
        ]}
        active={tab}
        onChange={(next) => {
          setTab(next);
          setQuery({ tab: next === 'runs' ? undefined : next });
        }}
      />
      <div hidden={tab !== 'runs'}>
        <RunsTable
          experimentId={experimentId}
          search={{ filter, orderBy }}
          columns={chosen}
          selected={new Set(selected.keys())}
          onToggle={toggle}
          onSort={(order) => setQuery({ order })}
          onLoaded={setRows}
        />
      </div>
      {tab === 'charts' ? (
        <ExperimentCharts rows={rows} selected={selected} metricKeys={keys.metrics} />
      ) : null}
      {tab === 'traces' ? <TracesList experimentId={experimentId} /> : null}
    </Page>
  );
}

type Tab = 'runs' | 'charts' | 'traces';

function tabOf(value: string | null): Tab {
  return value === 'charts' || value === 'traces' ? value : 'runs';
}

function defaultColumns(keys: ReturnType<typeof availableKeys>): Column[] {
  return [
    ...keys.metrics.slice(0, 5).map((key) => keyColumn('metrics', key)),
    ...keys.params.slice(0, 5).map((key) => keyColumn('params', key)),
  ];
}

function ColumnPicker({ keys, chosen }: { keys: ReturnType<typeof availableKeys>; chosen: Column[] }) {
  const [open, setOpen] = useState(false);
  const ids = new Set(chosen.map((column) => column.id));
  const toggle = (id: string) => {
    const next = ids.has(id)
      ? chosen.map((c) => c.id).filter((c) => c !== id)
      : [...chosen.map((c) => c.id), id];
    setQuery({ cols: next.join(',') || ',' });
  };
  return (
    <div class="columns-picker">
      <button type="button" onClick={() => setOpen(!open)} aria-expanded={open}>
        Columns ({chosen.length})
      </button>
      {open ? (
        <div class="menu">
          {(['metrics', 'params', 'tags'] as const).map((kind) => (
            <div key={kind}>
              <h3>{kind}</h3>
              {keys[kind].length === 0 ? <p class="muted small">none in these runs</p> : null}
              {keys[kind].map((key) => (
                <label class="inline" key={key}>
                  <input
                    type="checkbox"
                    checked={ids.has(`${kind}.${key}`)}
                    onChange={() => toggle(`${kind}.${key}`)}
                  />
                  <span class="mono">{key}</span>
                </label>
              ))}
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}

function ExperimentCharts({
  rows,
  selected,
  metricKeys,
}: {
  rows: IndexedRun[];
  selected: Map<string, string>;
  metricKeys: string[];
}) {
  const [settings, setSettings] = useState<ChartSettings>(DEFAULT_SETTINGS);
  const runs = useMemo(
    () =>
      selected.size > 0
        ? [...selected].map(([runId, name]) => ({ runId, name }))
        : rows
            .slice(0, CHART_DEFAULT_RUNS)
            .map((row) => ({ runId: row.run.info.run_id, name: row.run.info.run_name })),
    [rows, selected],
  );
  if (metricKeys.length === 0) return <p class="muted">These runs logged no metrics.</p>;
  return (
    <div>
      <p class="muted">
        {selected.size > 0
          ? `${selected.size} selected runs`
          : `The first ${runs.length} runs in the table (select runs to choose)`}
      </p>
      <ChartControls settings={settings} onChange={setSettings} />
      <div class="grid">
        {metricKeys.slice(0, 12).map((key) => (
          <MetricChart metricKey={key} runs={runs} settings={settings} key={key} />
        ))}
      </div>
    </div>
  );
}
