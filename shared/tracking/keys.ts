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
