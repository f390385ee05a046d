import { api } from '../api/client.ts';
import type { MetricWire, RunMetricWire } from '../api/wire.ts';
import { metricNumber, type Point } from './series.ts';

/** `get-history-bulk-interval` takes at most 100 runs and answers at most 2500 points per run. */
const BULK_RUNS = 100;
export const OVERVIEW_POINTS = 2500;
/** `get-history` pages hold at most 25,000 points. */
const HISTORY_PAGE = 25_000;

export type XAxis = 'step' | 'time';

export interface RunHistory {
  runId: string;
  points: Point[];
}

const toPoint = (metric: MetricWire, x: XAxis): Point => ({
  x: x === 'step' ? metric.step : metric.timestamp / 1000,
  y: metricNumber(metric.value),
});

/**
 * A metric's history for several runs, downsampled by the server (`get-history-bulk-interval`: every
 * run's first and last step and evenly spread steps between, at most 2500 points a run), so a run
 * with a million points costs the browser no more than one with 2500.
 */
export async function loadOverview(runIds: string[], key: string, x: XAxis): Promise<RunHistory[]> {
  const byRun = new Map<string, Point[]>(runIds.map((id) => [id, []]));
  for (let i = 0; i < runIds.length; i += BULK_RUNS) {
    const chunk = runIds.slice(i, i + BULK_RUNS);
    const answer = await api.get<{ metrics?: RunMetricWire[] }>('mlflow/metrics/get-history-bulk-interval', {
      run_ids: chunk,
      metric_key: key,
      max_results: OVERVIEW_POINTS,
    });
    for (const metric of answer.metrics ?? []) byRun.get(metric.run_id)?.push(toPoint(metric, x));
  }
  return runIds.map((runId) => ({ runId, points: byRun.get(runId) ?? [] }));
}

/** Every point of one run's history (`get-history`, 25,000 a page): for "all points". */
export async function loadFullHistory(runId: string, key: string, x: XAxis): Promise<RunHistory> {
  const points: Point[] = [];
  let pageToken: string | undefined;
  do {
    const page = await api.get<{ metrics?: MetricWire[]; next_page_token?: string }>(
      'mlflow/metrics/get-history',
      {
        run_id: runId,
        metric_key: key,
        max_results: HISTORY_PAGE,
        page_token: pageToken,
      },
    );
    for (const metric of page.metrics ?? []) points.push(toPoint(metric, x));
    pageToken = page.next_page_token;
  } while (pageToken);
  return { runId, points };
}
