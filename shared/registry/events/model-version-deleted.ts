import * as z from 'zod';
import { envelope, modelVersion, REGISTRY_EVENT_SOURCE, stage } from './registry-event.ts';

/** A model version was deleted; the aliases that pointed to it were deleted with it. */
export const name = 'registry.model-version.deleted';
export const source = REGISTRY_EVENT_SOURCE;
export const version = 1;
export const schema = z.object({
  ...envelope,
  modelVersion,
  /** Its stage when it was deleted. */
  stage,
  aliases: z.array(z.string()),
});
export type Detail = z.infer<typeof schema>;
