import {
  ModelVersionAliasDeleted,
  ModelVersionAliasSet,
  ModelVersionCreated,
  ModelVersionTagDeleted,
  ModelVersionTagSet,
  RegisteredModelCreated,
} from '../events/index.ts';
import { PROMPT_TAG } from '../model.ts';
import type { ModelState } from '../ports.ts';
import type { WebhookEventName } from './model.ts';
import type { PythonJsonValue } from './python-json.ts';

/**
 * How Runway's registry events (`shared/registry/events`) become MLflow webhook deliveries, with the
 * payloads MLflow's handlers send (mlflow/server/handlers.py, mlflow/webhooks/types.py, MLflow 3.3).
 *
 * | registry event (detail-type)              | MLflow event                | data                                        |
 * |-------------------------------------------|-----------------------------|---------------------------------------------|
 * | registry.registered-model.created         | registered_model.created    | name, tags, description                     |
 * | registry.model-version.created            | model_version.created       | name, version, source, run_id, tags, description |
 * | registry.model-version.tag-set            | model_version_tag.set       | name, version, key, value                   |
 * | registry.model-version.tag-deleted        | model_version_tag.deleted   | name, version, key                          |
 * | registry.model-version.alias-set          | model_version_alias.created | name, alias, version                        |
 * | registry.model-version.alias-deleted      | model_version_alias.deleted | name, alias (only when the alias itself was deleted) |
 *
 * Every other registry event has no MLflow webhook. MLflow sends nothing for prompts (models and
 * versions tagged `mlflow.prompt.is_prompt`) except on `registered_model.created`, and nothing for
 * the aliases a version delete removes; neither does Runway.
 */

/** The registry events that can become a delivery: the EventBridge rule matches exactly these. */
export const DELIVERABLE_REGISTRY_EVENTS = {
  [RegisteredModelCreated.name]: 'registered_model.created',
  [ModelVersionCreated.name]: 'model_version.created',
  [ModelVersionTagSet.name]: 'model_version_tag.set',
  [ModelVersionTagDeleted.name]: 'model_version_tag.deleted',
  [ModelVersionAliasSet.name]: 'model_version_alias.created',
  [ModelVersionAliasDeleted.name]: 'model_version_alias.deleted',
} as const satisfies Record<string, WebhookEventName>;

/** A registry event checked against its module's schema. */
export type DeliverableRegistryEvent =
  | { name: typeof RegisteredModelCreated.name; detail: RegisteredModelCreated.Detail }
  | { name: typeof ModelVersionCreated.name; detail: ModelVersionCreated.Detail }
  | { name: typeof ModelVersionTagSet.name; detail: ModelVersionTagSet.Detail }
  | { name: typeof ModelVersionTagDeleted.name; detail: ModelVersionTagDeleted.Detail }
  | { name: typeof ModelVersionAliasSet.name; detail: ModelVersionAliasSet.Detail }
  | { name: typeof ModelVersionAliasDeleted.name; detail: ModelVersionAliasDeleted.Detail };

const MODULES = [
  RegisteredModelCreated,
  ModelVersionCreated,
  ModelVersionTagSet,
  ModelVersionTagDeleted,
  ModelVersionAliasSet,
  ModelVersionAliasDeleted,
] as const;

/**
 * Reads an EventBridge event: its detail-type, and its detail checked against that event's schema
 * (validation at the edge). `undefined` for events that never become deliveries; a detail that does
 * not match its schema throws, since it is a bug upstream that retrying will not fix.
 */
export function parseDeliverableEvent(
  detailType: string,
  detail: unknown,
): DeliverableRegistryEvent | undefined {
  const module = MODULES.find((candidate) => candidate.name === detailType);
  if (!module) return undefined;
  return { name: module.name, detail: module.schema.parse(detail) } as DeliverableRegistryEvent;
}

/** The MLflow event a registry event is delivered as, or `undefined` when MLflow has none for it. */
export function webhookEventOf(event: DeliverableRegistryEvent): WebhookEventName | undefined {
  if (event.name === ModelVersionAliasDeleted.name && event.detail.reason !== 'alias-deleted')
    return undefined;
  return DELIVERABLE_REGISTRY_EVENTS[event.name];
}

/** Whether the payload needs the model as it is now (tags, description, prompt-ness): one Query. */
export function needsModel(event: DeliverableRegistryEvent): boolean {
  return event.name !== RegisteredModelCreated.name;
}

/**
 * MLflow's `data` for the event, given the model as it is now (`undefined` when it is gone, or is
 * another model under the same name since). `undefined` when MLflow would send nothing (prompts).
 */
export function webhookPayloadOf(
  event: DeliverableRegistryEvent,
  current: ModelState | undefined,
): Record<string, PythonJsonValue> | undefined {
  const model = current && current.model.modelId === event.detail.modelId ? current : undefined;
  const name = event.detail.modelName;
  switch (event.name) {
    case RegisteredModelCreated.name:
      // MLflow sends the request's fields; an absent description is protobuf's "".
      return { name, tags: event.detail.tags, description: event.detail.description };
    case ModelVersionCreated.name: {
      // The event carries neither tags nor description: they are read from the version as stored.
      const stored = model?.versions.find((version) => String(version.version) === event.detail.modelVersion);
      const tags = stored?.tags ?? {};
      // MLflow's `_is_prompt_request`: the version was created with the prompt tag.
      if (PROMPT_TAG in tags) return undefined;
      return {
        name,
        version: event.detail.modelVersion,
        source: event.detail.source,
        run_id: event.detail.runId || null,
        tags,
        description: stored?.description || null,
      };
    }
    case ModelVersionTagSet.name:
      if (isPrompt(model)) return undefined;
      return { name, version: event.detail.modelVersion, key: event.detail.key, value: event.detail.value };
    case ModelVersionTagDeleted.name:
      if (isPrompt(model)) return undefined;
      return { name, version: event.detail.modelVersion, key: event.detail.key };
    case ModelVersionAliasSet.name:
      if (isPrompt(model)) return undefined;
      return { name, alias: event.detail.alias, version: event.detail.modelVersion };
    case ModelVersionAliasDeleted.name:
      if (isPrompt(model)) return undefined;
      return { name, alias: event.detail.alias };
  }
}

/** MLflow's `RegisteredModel._is_prompt()`; a model that is gone counts as a model. */
function isPrompt(model: ModelState | undefined): boolean {
  return (model?.model.tags[PROMPT_TAG] ?? 'false').toLowerCase() === 'true';
}

/**
 * MLflow's `get_example_payload_for_event`: what `webhooks/{id}/test` sends (the values MLflow's
 * own end-to-end tests expect).
 */
export function examplePayloadOf(event: WebhookEventName): Record<string, PythonJsonValue> {
  const tags = { example_key: 'example_value' };
  switch (event) {
    case 'registered_model.created':
      return { name: 'example_model', tags, description: 'An example registered model' };
    case 'model_version.created':
      return {
        name: 'example_model',
        version: '1',
        source: 'models:/123',
        run_id: 'abcd1234abcd5678',
        tags,
        description: 'An example model version',
      };
    case 'model_version_tag.set':
      return { name: 'example_model', version: '1', key: 'example_key', value: 'example_value' };
    case 'model_version_tag.deleted':
      return { name: 'example_model', version: '1', key: 'example_key' };
    case 'model_version_alias.created':
      return { name: 'example_model', alias: 'example_alias', version: '1' };
    case 'model_version_alias.deleted':
      return { name: 'example_model', alias: 'example_alias' };
  }
}
