import * as z from 'zod';
import { envelope, modelVersion, REGISTRY_EVENT_SOURCE, stage } from './registry-event.ts';

/** A model version moved to another stage; deploys that follow a stage start from this event. */
export const name = 'registry.model-version.stage-transitioned';
export const source = REGISTRY_EVENT_SOURCE;
export const version = 1;
export const schema = z.object({
  ...envelope,
  modelVersion,
  stage,
  previousStage: stage,
  archiveExistingVersions: z.boolean(),
  /** Versions moved to `Archived` by `archive_existing_versions`. */
  archivedVersions: z.array(modelVersion),
});
export type Detail = z.infer<typeof schema>;
