/**
 * Key builders for traces in the tracking table (see `README.md` beside this file). Every key this
 * folder writes is built here; the table and its `gsi1` index are the tracking context's
 * (`shared/tracking/keys.ts`, `infra/stacks/stateful.stack.ts`).
 */

/** Milliseconds, zero-padded so that they sort as numbers (15 digits reach the year 33658). */
const padTime = (ms: number) => Math.max(0, Math.trunc(ms)).toString().padStart(15, '0');

export const traceKeys = {
  /** The trace item: info, tags, metadata, assessments and where its spans are; a get is one GetItem. */
  item: (traceId: string) => ({ pk: `TRACE#${traceId}`, sk: 'TRACE' }),
  /**
   * GSI1 partition of an experiment's traces, sorted by start time then id: a search in MLflow's
   * default order (newest first) or by time reads only the page it answers, and a time range is a
   * key condition.
   */
  experimentPartition: (experimentId: string) => `EXP#${experimentId}#TRACES`,
  experimentSort: (requestTime: number, traceId: string) => `${padTime(requestTime)}#${traceId}`,
  /** The first sort key of a millisecond (`#` sorts before every character a trace id may hold). */
  timeStart: (ms: number) => `${padTime(ms)}#`,
  /** Past the last sort key of a millisecond (`$` follows `#`). */
  timeEnd: (ms: number) => `${padTime(ms)}$`,
  /**
   * A trace's link to a run (the run it was made in, `mlflow.sourceRun`, or one it was linked to),
   * in the trace's partition, indexed in the run's GSI1 partition by the trace's start time: a search
   * by `run_id` reads the run's traces, not the experiment's.
   */
  runLink: (traceId: string, runId: string) => ({ pk: `TRACE#${traceId}`, sk: `RUN#${runId}` }),
  runPartition: (runId: string) => `RUN#${runId}#TRACES`,
  /** IAM `dynamodb:LeadingKeys` patterns of the items and the index partitions above. */
  leadingKeyPatterns: { item: 'TRACE#*', experimentPartition: 'EXP#*#TRACES', runPartition: 'RUN#*#TRACES' },
} as const;
