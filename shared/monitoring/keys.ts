/**
 * Key builders for the monitoring table (single-table design). A monitor lives in one partition
 * `MONITOR#<name>`: the monitor item (its settings and the retrain action's cooldown state) and its
 * runs, newest first by a reversed window-end sort key, so `reports` is one Query.
 */

/** Sorts newest first: a fixed-width complement of the epoch milliseconds. */
const newestFirst = (epochMs: number) => String(9_999_999_999_999 - epochMs).padStart(13, '0');

export const monitoringKeys = {
  partition: (name: string) => `MONITOR#${name}`,
  monitor: (name: string) => ({ pk: `MONITOR#${name}`, sk: 'MONITOR' }),
  /** A run's id starts with its window end (`<epoch-ms>-<8 hex>`), so its key follows from the id alone. */
  run: (name: string, runId: string) => ({
    pk: `MONITOR#${name}`,
    sk: `RUN#${newestFirst(Number(runId.slice(0, 13)))}#${runId}`,
  }),
  runPrefix: 'RUN#',
  /** GSI1: every monitor by name. */
  monitorsPartition: 'MONITORS',
  /** GSI2: the monitors of one endpoint, by name. */
  endpointPartition: (endpoint: string) => `ENDPOINT#${endpoint}`,
} as const;

/** Index names, matching the table in `infra/stacks/stateful.stack.ts`. */
export const MONITORING_INDEXES = { gsi1: 'gsi1', gsi2: 'gsi2' } as const;

/** Run ids: `<window end, 13 digits>-<8 hex>`. */
export const RUN_ID = /^\d{13}-[0-9a-f]{8}$/;
