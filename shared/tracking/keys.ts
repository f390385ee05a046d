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
export const TRACKING_INDEXES = { gsi1: 'gsi1' } as const;

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
   * Sorts points by step, then timestamp; the value makes an identical point (a client retry) land
   * on the same key, so it is stored once. Steps are signed 64-bit: offset so they sort as strings.
   */
  historySort: (step: number, timestamp: number, value: string) =>
    `${(BigInt(step) + OFFSET_63).toString(16).padStart(16, '0')}#${BigInt(timestamp).toString(16).padStart(16, '0')}#${value}`,
  /** The first sort key at or after `step` (for interval reads). */
  historyStepStart: (step: number) => `${(BigInt(step) + OFFSET_63).toString(16).padStart(16, '0')}#`,
} as const;

/** The digest naming a spilled value (`runKeys.spilled`). */
export function valueDigest(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url').slice(0, 16);
}
