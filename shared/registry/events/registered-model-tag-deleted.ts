import * as z from 'zod';
import { envelope, REGISTRY_EVENT_SOURCE } from './registry-event.ts';

/** A tag of a registered model was deleted. */
export const name = 'registry.registered-model.tag-deleted';
export const source = REGISTRY_EVENT_SOURCE;
export const version = 1;
export const schema = z.object({
  ...envelope,
  key: z.string().min(1),
  previousValue: z.string(),
});
export type Detail = z.infer<typeof schema>;
