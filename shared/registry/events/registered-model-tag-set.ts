import * as z from 'zod';
import { envelope, REGISTRY_EVENT_SOURCE } from './registry-event.ts';

/** A tag of a registered model was set. */
export const name = 'registry.registered-model.tag-set';
export const source = REGISTRY_EVENT_SOURCE;
export const version = 1;
export const schema = z.object({
  ...envelope,
  key: z.string().min(1),
  value: z.string(),
  previousValue: z.string().nullable(),
});
export type Detail = z.infer<typeof schema>;
