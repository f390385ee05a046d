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
  /** GSI1: endpoints being deleted, whose SageMaker resources the reconciler tears down. */
  deletingPartition: 'ENDPOINTS#DELETING',
  endpointsSort: (name: string) => name,
  /**
   * GSI2 (`gsi2pk`, `gsi2sk`): endpoints by the model they follow, so a registry event finds its
   * endpoints in one Query. A second index rather than GSI1 because one item has one `gsi1pk`, and
   * the endpoint item must be in both listings; a second item per endpoint would need a transaction
   * (or a repair path) to stay in step with it, an index does not.
   */
  modelPartition: (modelName: string) => `MODEL#${modelName}`,
  modelSort: (name: string) => name,
} as const;

/**
 * Index names, matching the table definition in `infra/stacks/stateful.stack.ts`. The endpoint item
 * carries `gsi1pk = ENDPOINTS`, `gsi1sk = <name>` (every endpoint, by name) and
 * `gsi2pk = MODEL#<model>`, `gsi2sk = <name>` (the endpoints of a model, by name); a deleting endpoint
 * loses both, so it leaves the listings at its delete's commit point.
 */
export const DEPLOYMENT_INDEXES = { gsi1: 'gsi1', gsi2: 'gsi2' } as const;
