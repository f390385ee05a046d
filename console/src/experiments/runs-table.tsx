import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../api/client.ts';
import type { RunWire } from '../api/wire.ts';
import { href } from '../app/router.ts';
import { ErrorBox, formatDuration, formatTime } from '../ui/common.tsx';
import { type Column, cellText, type IndexedRun, indexRun } from './run-columns.ts';

/** One height for every row, so the visible slice is arithmetic and the DOM holds ~40 rows at most. */
export const ROW_HEIGHT = 32;
const PAGE_SIZE = 1000;
/** Rows drawn above and below the visible ones, so a quick scroll shows no blank rows. */
const OVERSCAN = 12;
/** Fetch the next page when the visible rows come this close to the last loaded one. */
const PREFETCH_ROWS = 300;

const FIXED: Column[] = [
  {
    id: 'name',
    kind: 'attribute',
    key: 'run_name',
    label: 'Run',
    width: 220,
    orderBy: 'attributes.run_name',
  },
  {
    id: 'status',
    kind: 'attribute',
    key: 'status',
    label: 'Status',
    width: 100,
    orderBy: 'attributes.status',
  },
  {
    id: 'start',
    kind: 'attribute',
    key: 'start_time',
    label: 'Started',
    width: 180,
    orderBy: 'attributes.start_time',
  },
  { id: 'duration', kind: 'attribute', key: 'duration', label: 'Duration', width: 100 },
];

export interface SearchState {
  filter: string;
  /** MLflow's `order_by` clause, e.g. `metrics.\`loss\` ASC`. */
  orderBy: string;
}

/**
 * The runs of an experiment: searched with MLflow's filter syntax and `order_by` on the server,
 * fetched 1000 at a time as the user scrolls, and drawn as a virtualised list (only the visible
 * rows exist in the DOM), so 10,000 runs scroll as smoothly as 10.
 */
export function RunsTable({
  experimentId,
  search,
  columns,
  selected,
  onToggle,
  onSort,
  onLoaded,
}: {
  experimentId: string;
  search: SearchState;
  columns: Column[];
  selected: ReadonlySet<string>;
  onToggle: (runId: string, name: string) => void;
  onSort: (orderBy: string) => void;
  /** The first page of a new search (what the column picker and the charts read), once per search. */
  onLoaded: (rows: IndexedRun[]) => void;
}) {
  const [rows, setRows] = useState<IndexedRun[]>([]);
  const [nextToken, setNextToken] = useState<string | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [loading, setLoading] = useState(false);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(560);
  const scroller = useRef<HTMLDivElement>(null);
  const generation = useRef(0);

  const fetchPage = async (pageToken: string | undefined, reset: boolean) => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const answer = await api.post<{ runs?: RunWire[]; next_page_token?: string }>('mlflow/runs/search', {
        experiment_ids: [experimentId],
        ...(search.filter.trim() ? { filter: search.filter } : {}),
        order_by: search.orderBy ? [search.orderBy] : [],
        max_results: PAGE_SIZE,
        ...(pageToken ? { page_token: pageToken } : {}),
      });
      if (mine !== generation.current) return;
      const page = (answer.runs ?? []).map(indexRun);
      setRows((previous) => (reset ? page : previous.concat(page)));
      // Only the first page goes up: a parent re-rendering on every page would cost frames while scrolling.
      if (reset) onLoaded(page);
      setNextToken(answer.next_page_token);
      setError(undefined);
    } catch (caught) {
      if (mine !== generation.current) return;
      if (reset) {
        setRows([]);
        onLoaded([]);
      }
      setNextToken(undefined);
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'CONSOLE_ERROR', String(caught)));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };

  useEffect(() => {
    scroller.current?.scrollTo(0, 0);
    setScrollTop(0);
    fetchPage(undefined, true);
  }, [experimentId, search.filter, search.orderBy]);

  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setViewHeight(element.clientHeight));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + viewHeight) / ROW_HEIGHT) + OVERSCAN);

  useEffect(() => {
    if (nextToken && !loading && last + PREFETCH_ROWS >= rows.length) fetchPage(nextToken, false);
  }, [last, rows.length, nextToken, loading]);

  const all = useMemo(() => [...FIXED, ...columns], [columns]);
  const template = `36px ${all.map((column) => `${column.width}px`).join(' ')}`;
  const [sortKey, sortDirection] = splitOrder(search.orderBy);
  const sortBy = (column: Column) => {
    if (!column.orderBy) return;
    const direction = sortKey === column.orderBy && sortDirection === 'DESC' ? 'ASC' : 'DESC';
    onSort(`${column.orderBy} ${direction}`);
  };

  const visible = [];
  for (let i = first; i < last; i++) {
    const row = rows[i] as IndexedRun;
    const info = row.run.info;
    const isSelected = selected.has(info.run_id);
    visible.push(
      <div
        class={`vtable-row${isSelected ? ' selected' : ''}`}
        style={{ top: `${34 + i * ROW_HEIGHT}px`, gridTemplateColumns: template }}
        key={info.run_id}
        data-run-id={info.run_id}
      >
        <div>
          <input
            type="checkbox"
            aria-label={`select ${info.run_name}`}
            checked={isSelected}
            onChange={() => onToggle(info.run_id, info.run_name)}
          />
        </div>
        <div title={info.run_name}>
          <a href={href('experiments', experimentId, 'runs', info.run_id)}>{info.run_name || info.run_id}</a>
        </div>
        <div>
          <span class={`status status-${info.status.toLowerCase()}`}>{info.status}</span>
        </div>
        <div>{formatTime(info.start_time)}</div>
        <div>{info.end_time ? formatDuration(info.end_time - info.start_time) : ''}</div>
        {columns.map((column) => (
          <div class="mono" key={column.id}>
            {cellText(row, column)}
          </div>
        ))}
      </div>,
    );
  }

  return (
    <div class="vtable">
      <ErrorBox error={error} />
      <div
        class="vtable-scroll"
        ref={scroller}
        onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}
        data-testid="runs-scroll"
      >
        <div class="vtable-head" style={{ gridTemplateColumns: template }}>
          <div />
          {all.map((column) => (
            <div key={column.id}>
              <button
                type="button"
                title={column.orderBy ? `Sort by ${column.orderBy}` : column.label}
                disabled={!column.orderBy}
                onClick={() => sortBy(column)}
              >
                {column.kind === 'attribute' ? '' : <span class="muted">{column.kind.slice(0, -1)} </span>}
                {column.label}
                {sortKey === column.orderBy ? (sortDirection === 'ASC' ? ' ▲' : ' ▼') : ''}
              </button>
            </div>
          ))}
        </div>
        <div style={{ height: `${rows.length * ROW_HEIGHT}px` }} />
        {visible}
      </div>
      <div class="vtable-foot">
        <span data-testid="runs-count">
          {rows.length.toLocaleString()} run{rows.length === 1 ? '' : 's'}
          {nextToken ? ' loaded, more as you scroll' : ''}
        </span>
        <span>{loading ? 'Loading…' : `${selected.size} selected`}</span>
      </div>
    </div>
  );
}

function splitOrder(orderBy: string): [string, 'ASC' | 'DESC'] {
  const match = /^(.*?)\s+(ASC|DESC)$/i.exec(orderBy.trim());
  return match
    ? [match[1] as string, (match[2] as string).toUpperCase() as 'ASC' | 'DESC']
    : [orderBy, 'ASC'];
}
