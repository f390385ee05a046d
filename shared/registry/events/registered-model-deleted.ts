import * as z from 'zod';
import { envelope, modelVersion, REGISTRY_EVENT_SOURCE } from './registry-event.ts';

/** A registered model was deleted with all its versions and aliases. */
export const name = 'registry.registered-model.deleted';
export const source = REGISTRY_EVENT_SOURCE;
export const version = 1;
export const schema = z.object({
  ...envelope,
  /** The versions it held when it was deleted. */
  modelVersions: z.array(modelVersion),
});
export type Detail = z.infer<typeof schema>;
