import type { MetricWalk, RunRepository } from './ports.ts';
import { metricValueOrder, type Run } from './run.model.ts';
import type { RunSearchPlan } from './search/run-search-plan.ts';

/**
 * The most runs an indexed search reads for its candidates before it reads every run instead: past
 * it (a common status, a threshold most runs pass) a full read costs fewer read units, since a
 * Query charges 4 KB for many small items and a read by key 4 KB for each.
 */
export const INDEX_CANDIDATE_LIMIT = 2000;

/** The most entries a metric walk reads a page, and the most it reads in all. */
const WALK_PAGE = 100;
const WALK_LIMIT = 5000;

/** Whether a run that was read is a hit: its view type and every clause, on the whole run. */
export interface CandidateCheck {
  matches(run: Run): boolean;
}

/**
 * Reads the runs a plan names (`planRunSearch`), whole, from the experiments asked for; undefined
 * when the index cannot answer exactly and the caller must read every run: an experiment made before
 * the index, more candidates than `INDEX_CANDIDATE_LIMIT`, or a walk that ends before the page is
 * full while runs without the metric could follow.
 * `rows` is how many hits in order the page needs (its offset, its size and one more, so the caller
 * can tell whether a next page exists); for a metric order only those are read, otherwise every hit.
 */
export async function readIndexedCandidates(
  runs: RunRepository,
  experimentIds: readonly string[],
  plan: RunSearchPlan,
  check: CandidateCheck,
  rows: number,
): Promise<Run[] | undefined> {
  const indexed = await Promise.all(experimentIds.map((id) => runs.isIndexed(id)));
  if (indexed.includes(false)) return undefined;
  const inExperiments = (run: Run) => experimentIds.includes(run.info.experimentId);

  switch (plan.kind) {
    case 'ids':
      return (await runs.getMany(plan.runIds.slice(0, INDEX_CANDIDATE_LIMIT))).filter(inExperiments);
    case 'equality': {
      const ids = await Promise.all(
        experimentIds.map((id) => runs.runIdsWhere(id, plan.probe, INDEX_CANDIDATE_LIMIT)),
      );
      const all = [...new Set(ids.flat())];
      if (ids.some((list) => list.length > INDEX_CANDIDATE_LIMIT) || all.length > INDEX_CANDIDATE_LIMIT) {
        return undefined;
      }
      return (await runs.getMany(all)).filter(inExperiments);
    }
    case 'metric-range': {
      const entries = await Promise.all(
        experimentIds.map((id) => runs.metricEntries(id, plan.walk, { limit: INDEX_CANDIDATE_LIMIT + 1 })),
      );
      const all = entries.flatMap((page) => page.entries);
      if (entries.some((page) => page.cursor !== undefined) || all.length > INDEX_CANDIDATE_LIMIT) {
        return undefined;
      }
      return (await runs.getMany([...new Set(all.map((entry) => entry.runId))])).filter(inExperiments);
    }
    case 'metric-order': {
      const perExperiment = await Promise.all(
        experimentIds.map((id) => walkInOrder(runs, id, plan.walk, plan.complete, check, rows)),
      );
      if (perExperiment.includes(undefined)) return undefined;
      return (perExperiment as Run[][]).flat();
    }
  }
}

/**
 * Walks one experiment's runs by a metric in the page's direction, reading each page of entries'
 * runs, until `rows` hits are found and every run tied with the last of them is read (ties are
 * ordered by the later terms, the start time and the run id). Every hit better placed than the
 * last one read is then among those read, as the entries come in value order.
 */
async function walkInOrder(
  runs: RunRepository,
  experimentId: string,
  walk: MetricWalk,
  complete: boolean,
  check: CandidateCheck,
  rows: number,
): Promise<Run[] | undefined> {
  const hits: Run[] = [];
  const seen = new Set<string>();
  let read = 0;
  let cursor: string | undefined;
  let boundary: string | undefined;
  for (;;) {
    // A top 10 reads about 10 runs (and one entry more, which shows whether the last is tied); a
    // walk that meets runs the filter drops reads further, a page at a time.
    const page = await runs.metricEntries(experimentId, walk, {
      limit: Math.min(WALK_PAGE, rows + 1),
      cursor,
    });
    read += page.entries.length;
    // Once the page is full, only the runs tied with its last hit remain to be read.
    const tied = boundary === undefined ? -1 : page.entries.findIndex((entry) => entry.order !== boundary);
    const entries = tied < 0 ? page.entries : page.entries.slice(0, tied);
    const byId = new Map(
      (await runs.getMany(entries.map((e) => e.runId))).map((run) => [run.info.runId, run]),
    );
    for (const entry of entries) {
      if (boundary !== undefined && entry.order !== boundary) return hits;
      const run = byId.get(entry.runId);
      if (!run || run.info.experimentId !== experimentId || seen.has(run.info.runId)) continue;
      seen.add(run.info.runId);
      // The run is ranked by its own latest value. An entry that names another one lags a write
      // (under way, or cut short and never retried): it is brought up to the run's value.
      const latest = run.metrics.find((metric) => metric.key === walk.key);
      if (latest && metricValueOrder(latest.value) !== entry.order) {
        await runs.mendMetricEntry(run.info.runId, experimentId, latest);
      }
      if (!check.matches(run)) continue;
      hits.push(run);
      if (hits.length === rows) boundary = entry.order;
    }
    if (tied >= 0) return hits;
    cursor = page.cursor;
    if (cursor === undefined) return complete || hits.length >= rows ? hits : undefined;
    if (read >= WALK_LIMIT) return undefined;
  }
}
