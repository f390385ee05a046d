import { createHash } from 'node:crypto';

/**
 * Key builders for the tracking table (single-table design; see `shared/tracking/README.md`).
 * Every key the tracking context writes is built here and nowhere else.
 */

/** Zero-padded so that ids sort numerically as strings in a sort key. */
const pad = (id: string) => id.padStart(20, '0');

export const experimentKeys = {
  /** The experiment item: all its attributes and tags, so a get is one GetItem. */
  item: (experimentId: string) => ({ pk: `EXP#${experimentId}`, sk: 'EXP' }),
  /**
   * The uniqueness claim on a name. Keyed by a hash so any name up to MLflow's 500 characters fits
   * DynamoDB's 2 KB partition-key limit. Claims are never shared: one name, one item.
   */
  nameClaim: (name: string) => ({
    pk: `EXPNAME#${createHash('sha256').update(name, 'utf8').digest('base64url')}`,
    sk: 'EXPNAME',
  }),
  /** GSI1 partition holding every experiment, so a listing is one Query (paged). */
  listPartition: 'EXPERIMENTS',
  listSort: (experimentId: string) => `EXP#${pad(experimentId)}`,
  /** The atomic counter experiment ids are allocated from (MLflow's ids are small integers). */
  counter: { pk: 'COUNTER#experiment', sk: 'COUNTER' },
} as const;

/** Index names, matching the table definition in `infra/stacks/stateful.stack.ts`. */
export const TRACKING_INDEXES = { gsi1: 'gsi1', gsi2: 'gsi2' } as const;

const OFFSET_63 = 2n ** 63n;

export const runKeys = {
  partition: (runId: string) => `RUN#${runId}`,
  /**
   * The run item: info (experiment, status, times, artifact URI, stage), a revision, maps of its
   * params, tags and latest metric points, and the sort keys of its inputs and model links, so a
   * run reads as one item and a page of runs by key (see README: why a run is one item).
   */
  item: (runId: string) => ({ pk: `RUN#${runId}`, sk: 'RUN' }),
  /**
   * A param or tag value too long to keep in the run item's map. The key carries a digest of the
   * value, which the map names: a writer that lost a race leaves an item nobody points to.
   */
  spilled: (runId: string, kind: 'PARAM' | 'TAG', key: string, digest: string) => ({
    pk: `RUN#${runId}`,
    sk: `${kind}#${digest}#${key}`,
  }),
  input: (runId: string, datasetId: string) => ({ pk: `RUN#${runId}`, sk: `INPUT#${datasetId}` }),
  /** MLflow 3: a logged model the run used (`MODELIN#`) or produced (`OUTPUT#`). */
  modelInput: (runId: string, modelId: string) => ({ pk: `RUN#${runId}`, sk: `MODELIN#${modelId}` }),
  output: (runId: string, modelId: string) => ({ pk: `RUN#${runId}`, sk: `OUTPUT#${modelId}` }),
  /**
   * GSI1 partition of an experiment's runs: every item of every run except metric history, so a
   * search reads runs with their params, tags and latest metrics in one Query (paged).
   */
  experimentRuns: (experimentId: string) => `EXP#${experimentId}#RUNS`,
  searchSort: (runId: string, sk: string) => `${runId}#${sk}`,
  /** A metric's history lives in its own partition, outside GSI1, so reads of runs never touch it. */
  history: (runId: string, key: string) => `METRIC#${runId}#${key}`,
  /**
   * A chunk of a metric's history: the points one request logged for the key, in one item. Sorted
   * by its first point; the digest of its points makes a retried request write the same item.
   */
  historyChunk: (step: number, timestamp: number, digest: string) =>
    `${runKeys.historySort(step, timestamp, '')}~${digest}`,
  /**
   * Sorts points by step, then timestamp; the value makes an identical point (a client retry) land
   * on the same key, so it is stored once. Steps are signed 64-bit: offset so they sort as strings.
   */
  historySort: (step: number, timestamp: number, value: string) =>
    `${(BigInt(step) + OFFSET_63).toString(16).padStart(16, '0')}#${BigInt(timestamp).toString(16).padStart(16, '0')}#${value}`,
  /** The first sort key at or after `step` (for interval reads). */
  historyStepStart: (step: number) => `${(BigInt(step) + OFFSET_63).toString(16).padStart(16, '0')}#`,
} as const;

/**
 * The search index (GSI2, keys only; see `shared/tracking/README.md`, "Why search reads in proportion
 * to its hits"). A run's entries live under `RUNIDX#<run>`, one item per metric, param and tag key,
 * each mirroring the run item's current value in GSI2 keys built here; the run item itself carries
 * its status entry. Partitions are per experiment, so a search never meets another experiment's runs.
 */
export const searchIndexKeys = {
  /** The item collection of a run's entries (outside GSI1: a full read never meets them). */
  entries: (runId: string) => `RUNIDX#${runId}`,
  metricEntry: (runId: string, key: string) => ({ pk: `RUNIDX#${runId}`, sk: `M#${key}` }),
  paramEntry: (runId: string, key: string) => ({ pk: `RUNIDX#${runId}`, sk: `P#${key}` }),
  tagEntry: (runId: string, key: string) => ({ pk: `RUNIDX#${runId}`, sk: `T#${key}` }),
  /** The run an entry (or a run item) belongs to, from its table key. */
  runOf: (pk: string) => pk.replace(/^RUN(IDX)?#/, ''),
  /** A metric's latest values in an experiment, ordered by value (`metricValueOrder`), NaN last. */
  metric: (experimentId: string, key: string) => `EXP#${experimentId}#M#${key}`,
  metricSort: (valueOrder: string, runId: string) => `${valueOrder}#${runId}`,
  /** Runs whose param `key` is `value`: one partition per key and value (any length: digested). */
  param: (experimentId: string, key: string, value: string) =>
    `EXP#${experimentId}#P#${pairDigest(key, value)}`,
  /** Runs whose tag `key` is `value` (the run name is the tag `mlflow.runName`). */
  tag: (experimentId: string, key: string, value: string) =>
    `EXP#${experimentId}#T#${pairDigest(key, value)}`,
  /** Runs with a status, on the run item itself. */
  status: (experimentId: string, status: string) => `EXP#${experimentId}#S#${status}`,
} as const;

function pairDigest(key: string, value: string): string {
  return createHash('sha256').update(`${key}\u0000${value}`, 'utf8').digest('base64url').slice(0, 22);
}

/** The digest naming a spilled value (`runKeys.spilled`). */
export function valueDigest(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url').slice(0, 16);
}
