import * as z from 'zod';
import { envelope, modelVersion, REGISTRY_EVENT_SOURCE } from './registry-event.ts';

/** An alias was deleted, by a call or because the version it pointed to was deleted. */
export const name = 'registry.model-version.alias-deleted';
export const source = REGISTRY_EVENT_SOURCE;
export const version = 1;
export const schema = z.object({
  ...envelope,
  alias: z.string().min(1),
  /** The version it pointed to. */
  previousVersion: modelVersion,
  reason: z.enum(['alias-deleted', 'version-deleted']),
});
export type Detail = z.infer<typeof schema>;
