import type { ResourceKind } from './model.ts';

/**
 * Key builders for the access table (single-table design). Tokens are keyed by their public id
 * (the secret part is never a key); grants by resource, with GSI1 listing one user's grants so that
 * a search can be filtered with one Query.
 */
export const tokenKeys = {
  item: (tokenId: string) => ({ pk: `TOKEN#${tokenId}`, sk: 'TOKEN' }),
  /** GSI1 partition listing every token, newest last. */
  listPartition: 'TOKENS',
  listSort: (createdAt: number, tokenId: string) => `${String(createdAt).padStart(15, '0')}#${tokenId}`,
} as const;

const RESOURCE_PREFIX: Record<ResourceKind, string> = { experiment: 'EXP', registered_model: 'MODEL' };

export const grantKeys = {
  item: (kind: ResourceKind, resource: string, user: string) => ({
    pk: `${RESOURCE_PREFIX[kind]}#${resource}`,
    sk: `GRANT#${user}`,
  }),
  /** GSI1: one user's grants, by kind then resource. */
  userPartition: (user: string) => `GRANTS#${user}`,
  userSort: (kind: ResourceKind, resource: string) => `${RESOURCE_PREFIX[kind]}#${resource}`,
  /** Key prefixes the tracking and registry functions may write (their creators' MANAGE grants). */
  leadingKeyPatterns: { experiment: 'EXP#*', registered_model: 'MODEL#*' },
} as const;

export const ACCESS_INDEXES = { gsi1: 'gsi1' } as const;
