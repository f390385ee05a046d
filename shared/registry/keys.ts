import { createHash } from 'node:crypto';

/**
 * Key builders for the registry table (single-table design; see `shared/registry/README.md`).
 * Every key the registry context writes is built here and nowhere else.
 *
 * A model lives in one partition, its *slot* (`MODEL#<slot>`): the model item, its versions and its
 * aliases. The slot is fixed for the model's life, so a rename moves nothing. A name is claimed by an
 * item in the partition `MODEL#<hash(name)>`, and a model is created in the slot `hash(name)` when
 * that partition is free, so for a model that was never renamed one Query returns the claim, the
 * model, its versions and its aliases (the MLflow client calls `registered-models/get` before most
 * registry operations).
 */

/** Zero-padded so versions sort numerically as strings in a sort key (MLflow versions are int32). */
const padVersion = (version: number) => String(version).padStart(10, '0');

/** The slot of a name: a hash, so any name fits a partition key and names never collide by prefix. */
export function nameSlot(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('base64url');
}

export const registryKeys = {
  partition: (slot: string) => `MODEL#${slot}`,
  /** The model: name, description, tags (a map), the version counter and the stage of each version. */
  model: (slot: string) => ({ pk: `MODEL#${slot}`, sk: 'MODEL' }),
  /** The uniqueness claim on a name; it says which slot and which model own the name. */
  nameClaim: (name: string) => ({ pk: `MODEL#${nameSlot(name)}`, sk: 'NAME' }),
  version: (slot: string, version: number) => ({ pk: `MODEL#${slot}`, sk: `VERSION#${padVersion(version)}` }),
  versionPrefix: 'VERSION#',
  /** The number in a version item's sort key. */
  versionOf: (sk: string) => Number(sk.slice('VERSION#'.length)),
  alias: (slot: string, alias: string) => ({ pk: `MODEL#${slot}`, sk: `ALIAS#${alias}` }),
  aliasPrefix: 'ALIAS#',

  /** GSI1 partition of every model item, so a model search is one Query (paged). */
  modelsPartition: 'MODELS',
  modelsSort: (modelId: string) => modelId,
  /** GSI1 partition of every live version item, for version searches across models. */
  versionsPartition: 'VERSIONS',
  versionsSort: (modelId: string, version: number) => `${modelId}#${padVersion(version)}`,
  /** GSI1 partition of every alias item, so a version search shows aliases without a read per model. */
  aliasesPartition: 'ALIASES',
  aliasesSort: (modelId: string, alias: string) => `${modelId}#${alias}`,
} as const;

/** Index names, matching the table definition in `infra/stacks/stateful.stack.ts`. */
export const REGISTRY_INDEXES = { gsi1: 'gsi1' } as const;

/** The partitions of GSI1 (every model, every live version, every alias), for grants that name them. */
export const REGISTRY_LISTINGS = [
  registryKeys.modelsPartition,
  registryKeys.versionsPartition,
  registryKeys.aliasesPartition,
] as const;
