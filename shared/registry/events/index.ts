import * as ModelVersionAliasDeleted from './model-version-alias-deleted.ts';
import * as ModelVersionAliasSet from './model-version-alias-set.ts';
import * as ModelVersionCreated from './model-version-created.ts';
import * as ModelVersionDeleted from './model-version-deleted.ts';
import * as ModelVersionStageTransitioned from './model-version-stage-transitioned.ts';
import * as ModelVersionTagDeleted from './model-version-tag-deleted.ts';
import * as ModelVersionTagSet from './model-version-tag-set.ts';
import * as ModelVersionUpdated from './model-version-updated.ts';
import * as RegisteredModelCreated from './registered-model-created.ts';
import * as RegisteredModelDeleted from './registered-model-deleted.ts';
import * as RegisteredModelRenamed from './registered-model-renamed.ts';
import * as RegisteredModelTagDeleted from './registered-model-tag-deleted.ts';
import * as RegisteredModelTagSet from './registered-model-tag-set.ts';
import * as RegisteredModelUpdated from './registered-model-updated.ts';
import type { RegistryEventModule } from './registry-event.ts';

export { REGISTRY_EVENT_SOURCE, type RegistryEventModule } from './registry-event.ts';
export {
  ModelVersionAliasDeleted,
  ModelVersionAliasSet,
  ModelVersionCreated,
  ModelVersionDeleted,
  ModelVersionStageTransitioned,
  ModelVersionTagDeleted,
  ModelVersionTagSet,
  ModelVersionUpdated,
  RegisteredModelCreated,
  RegisteredModelDeleted,
  RegisteredModelRenamed,
  RegisteredModelTagDeleted,
  RegisteredModelTagSet,
  RegisteredModelUpdated,
};

/** Every event the registry publishes (the catalogue in `shared/registry/README.md`). */
export const REGISTRY_EVENTS = [
  RegisteredModelCreated,
  RegisteredModelRenamed,
  RegisteredModelUpdated,
  RegisteredModelDeleted,
  RegisteredModelTagSet,
  RegisteredModelTagDeleted,
  ModelVersionCreated,
  ModelVersionUpdated,
  ModelVersionDeleted,
  ModelVersionStageTransitioned,
  ModelVersionAliasSet,
  ModelVersionAliasDeleted,
  ModelVersionTagSet,
  ModelVersionTagDeleted,
] as const satisfies readonly RegistryEventModule[];

/** The name (EventBridge `detail-type`) of an event the registry publishes. */
export type RegistryEventName = (typeof REGISTRY_EVENTS)[number]['name'];

/**
 * One event ready to publish: its name and its detail. Builders type the detail with the module's
 * schema; the publisher checks it against that schema again before it leaves the process.
 */
export interface RegistryEvent {
  name: RegistryEventName;
  detail: Record<string, unknown>;
}

/** The module of an event name, or undefined for a name the registry does not publish. */
export function registryEventModule(name: string): RegistryEventModule | undefined {
  return REGISTRY_EVENTS.find((module) => module.name === name);
}
