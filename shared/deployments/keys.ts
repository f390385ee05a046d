/**
 * Key builders for the deployments table (single-table design). Every key the deployments and serving
 * contexts write is built here and nowhere else.
 *
 * An endpoint lives in one partition `ENDPOINT#<name>`: the endpoint item (configuration and live
 * traffic, read by the model server in one GetItem), its deployments (newest first by a reversed
 * timestamp sort key) and the model server's per-variant statistics buckets.
 */

/** Sorts newest first: a fixed-width complement of the epoch milliseconds. */
const newestFirst = (epochMs: number) => String(9_999_999_999_999 - epochMs).padStart(13, '0');

export const deploymentKeys = {
  partition: (name: string) => `ENDPOINT#${name}`,
  endpoint: (name: string) => ({ pk: `ENDPOINT#${name}`, sk: 'ENDPOINT' }),
  deployment: (name: string, startedAt: number, deploymentId: string) => ({
    pk: `ENDPOINT#${name}`,
    sk: `DEPLOYMENT#${newestFirst(startedAt)}#${deploymentId}`,
  }),
  deploymentPrefix: 'DEPLOYMENT#',
  /** Per-variant invocation statistics, one item per version and time bucket (written by the model server). */
  stats: (name: string, version: string, bucketStartMs: number) => ({
    pk: `ENDPOINT#${name}`,
    sk: `STATS#${version}#${String(bucketStartMs).padStart(13, '0')}`,
  }),
  statsPrefix: (version: string) => `STATS#${version}#`,
  /** GSI1: every endpoint, for list (paged) and for the reconciler. */
  endpointsPartition: 'ENDPOINTS',
  endpointsSort: (name: string) => name,
  /** GSI1: endpoints by the model they follow, so a registry event finds its endpoints in one Query. */
  modelPartition: (modelName: string) => `MODEL#${modelName}`,
} as const;

/** Index names, matching the table definition in `infra/stacks/stateful.stack.ts`. */
export const DEPLOYMENT_INDEXES = { gsi1: 'gsi1' } as const;
