import * as z from 'zod';
import { envelope, modelVersion, REGISTRY_EVENT_SOURCE } from './registry-event.ts';

/** A model version's description changed. */
export const name = 'registry.model-version.updated';
export const source = REGISTRY_EVENT_SOURCE;
export const version = 1;
export const schema = z.object({
  ...envelope,
  modelVersion,
  description: z.string().nullable(),
  previousDescription: z.string().nullable(),
});
export type Detail = z.infer<typeof schema>;
