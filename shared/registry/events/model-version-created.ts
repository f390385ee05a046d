import * as z from 'zod';
import { envelope, modelVersion, REGISTRY_EVENT_SOURCE } from './registry-event.ts';

/** A model version was created (always in stage `None`). */
export const name = 'registry.model-version.created';
export const source = REGISTRY_EVENT_SOURCE;
export const version = 1;
export const schema = z.object({
  ...envelope,
  modelVersion,
  source: z.string().min(1),
  /** Where the files are, when `source` could be resolved (`runs:/` to the run's artifact URI). */
  storageLocation: z.string().nullable(),
  runId: z.string(),
  creationTimestamp: z.number().int(),
});
export type Detail = z.infer<typeof schema>;
