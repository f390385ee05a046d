import * as z from 'zod';
import { envelope, REGISTRY_EVENT_SOURCE } from './registry-event.ts';

/** A registered model was created. */
export const name = 'registry.registered-model.created';
export const source = REGISTRY_EVENT_SOURCE;
export const version = 1;
export const schema = z.object({
  ...envelope,
  description: z.string(),
  tags: z.record(z.string(), z.string()),
  creationTimestamp: z.number().int(),
});
export type Detail = z.infer<typeof schema>;
