import * as z from 'zod';
import { envelope, REGISTRY_EVENT_SOURCE } from './registry-event.ts';

/** A registered model was renamed; `modelName` is the new name. */
export const name = 'registry.registered-model.renamed';
export const source = REGISTRY_EVENT_SOURCE;
export const version = 1;
export const schema = z.object({
  ...envelope,
  previousName: z.string().min(1),
});
export type Detail = z.infer<typeof schema>;
