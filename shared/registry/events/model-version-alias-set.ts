import * as z from 'zod';
import { envelope, modelVersion, REGISTRY_EVENT_SOURCE } from './registry-event.ts';

/** An alias was set on a model version, or moved to it from another; deploys that follow an alias start from this event. */
export const name = 'registry.model-version.alias-set';
export const source = REGISTRY_EVENT_SOURCE;
export const version = 1;
export const schema = z.object({
  ...envelope,
  alias: z.string().min(1),
  modelVersion,
  /** The version the alias pointed to before, or null when it is new. */
  previousVersion: modelVersion.nullable(),
});
export type Detail = z.infer<typeof schema>;
