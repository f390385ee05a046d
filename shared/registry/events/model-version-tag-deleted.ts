import * as z from 'zod';
import { envelope, modelVersion, REGISTRY_EVENT_SOURCE } from './registry-event.ts';

/** A tag of a model version was deleted. */
export const name = 'registry.model-version.tag-deleted';
export const source = REGISTRY_EVENT_SOURCE;
export const version = 1;
export const schema = z.object({
  ...envelope,
  modelVersion,
  key: z.string().min(1),
  previousValue: z.string(),
});
export type Detail = z.infer<typeof schema>;
