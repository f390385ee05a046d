import * as z from 'zod';
import { envelope, REGISTRY_EVENT_SOURCE } from './registry-event.ts';

/** A registered model's description changed. */
export const name = 'registry.registered-model.updated';
export const source = REGISTRY_EVENT_SOURCE;
export const version = 1;
export const schema = z.object({
  ...envelope,
  description: z.string(),
  previousDescription: z.string(),
});
export type Detail = z.infer<typeof schema>;
