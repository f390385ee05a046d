import * as z from 'zod';

/** The `source` of every registry event on the Runway bus; rules match on it. */
export const REGISTRY_EVENT_SOURCE = 'runway.registry';

/**
 * Fields every registry event's detail carries. `version` is the version of the detail's schema:
 * a change that would break a consumer gets a new event version, never an edit of an old one.
 */
export const envelope = {
  version: z.literal(1),
  /** Derived from the change (model id, what changed, the item's revision): a replay of the same change carries the same key. */
  idempotencyKey: z.string().min(1),
  /** When the change was stored (ISO 8601, UTC, milliseconds). */
  occurredAt: z.iso.datetime(),
  /** Stable for the model's life, also across renames; a new model under an old name has a new id. */
  modelId: z.string().min(1),
  modelName: z.string().min(1),
};

/** A model version number, as MLflow sends it (a string of digits). */
export const modelVersion = z.string().regex(/^\d+$/);

/** A model version stage, as MLflow names it. */
export const stage = z.enum(['None', 'Staging', 'Production', 'Archived']);

/** What an event module exports: its name (the EventBridge `detail-type`), source, version and schema. */
export interface RegistryEventModule {
  readonly name: string;
  readonly source: typeof REGISTRY_EVENT_SOURCE;
  readonly version: number;
  readonly schema: z.ZodType;
}
