import { InvalidParameterError, ResourceDoesNotExistError } from '../../platform/errors.ts';

/**
 * MLflow's webhooks (mlflow/protos/webhooks.proto, mlflow/entities/webhook.py, MLflow 3.3): a webhook
 * subscribes a URL to model registry events, named `<entity>.<action>` (`model_version.created`).
 * On the wire an event is `{"entity": "MODEL_VERSION", "action": "CREATED"}` (proto enum names).
 */

/** The proto's `WebhookEntity` values, by name. */
export const WEBHOOK_ENTITIES = {
  ENTITY_UNSPECIFIED: 0,
  REGISTERED_MODEL: 1,
  MODEL_VERSION: 2,
  MODEL_VERSION_TAG: 3,
  MODEL_VERSION_ALIAS: 4,
  PROMPT: 5,
  PROMPT_VERSION: 6,
  PROMPT_TAG: 7,
  PROMPT_VERSION_TAG: 8,
  PROMPT_ALIAS: 9,
} as const;
export type WebhookEntityName = keyof typeof WEBHOOK_ENTITIES;

/** The proto's `WebhookAction` values, by name. */
export const WEBHOOK_ACTIONS = { ACTION_UNSPECIFIED: 0, CREATED: 1, UPDATED: 2, DELETED: 3, SET: 4 } as const;
export type WebhookActionName = keyof typeof WEBHOOK_ACTIONS;

/** The proto's `WebhookStatus`. */
export const WEBHOOK_STATUSES = { ACTIVE: 1, DISABLED: 2 } as const;
export type WebhookStatus = keyof typeof WEBHOOK_STATUSES;

/**
 * MLflow's `VALID_ENTITY_ACTIONS`: the actions each entity has. The prompt entities are valid in
 * MLflow's proto but Runway delivers model registry events only, so they are refused by name
 * (`validateEvent`) rather than silently never delivered.
 */
const VALID_ACTIONS: Record<string, readonly string[]> = {
  registered_model: ['created'],
  model_version: ['created'],
  model_version_tag: ['set', 'deleted'],
  model_version_alias: ['created', 'deleted'],
  prompt: ['created'],
  prompt_version: ['created'],
  prompt_tag: ['set', 'deleted'],
  prompt_version_tag: ['set', 'deleted'],
  prompt_alias: ['created', 'deleted'],
};

/** MLflow's message (`Webhook with ID <id> not found`), as a 404. */
export function webhookNotFound(webhookId: string): ResourceDoesNotExistError {
  return new ResourceDoesNotExistError(`Webhook with ID ${webhookId} not found`);
}

/** The events Runway delivers: MLflow 3.3's model registry events. */
export const WEBHOOK_EVENTS = [
  'registered_model.created',
  'model_version.created',
  'model_version_tag.set',
  'model_version_tag.deleted',
  'model_version_alias.created',
  'model_version_alias.deleted',
] as const;
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];

/** A webhook as the API shows it. It has no secret: the secret never leaves storage through the API. */
export interface Webhook {
  webhookId: string;
  name: string;
  description: string | undefined;
  url: string;
  /** In the order given at create or update, without duplicates. */
  events: WebhookEventName[];
  status: WebhookStatus;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
}

/** MLflow's `WebhookTestResult`. */
export interface WebhookTestResult {
  success: boolean;
  responseStatus?: number | undefined;
  responseBody?: string | undefined;
  errorMessage?: string | undefined;
}

/**
 * MLflow's limits: the name rule of `_validate_webhook_name`, and the columns of its `webhooks`
 * table (`url` 500, `description` 1000, `secret` 1000 characters of Fernet ciphertext, which holds
 * about 680 characters of secret). SQLite takes longer values; other databases answer 500. Runway
 * refuses them with 400 instead.
 */
export const WEBHOOK_LIMITS = {
  name: 63,
  url: 500,
  description: 1000,
  secret: 512,
  listDefault: 100,
  listMax: 1000,
} as const;

/** `_WEBHOOK_NAME_REGEX`: starts and ends with a letter or digit; letters, digits, `.`, `_`, `-`. */
const NAME = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/i;

export function validateWebhookName(name: string): string {
  if (name.length > WEBHOOK_LIMITS.name || !NAME.test(name)) {
    throw new InvalidParameterError(
      `Webhook name ${pyRepr(name)} is invalid. It must start and end with a letter or digit, be less than 63 characters long, and contain only letters, digits, dots (.), underscores (_), and hyphens (-).`,
    );
  }
  return name;
}

export function validateWebhookDescription(description: string): string {
  validateWebhookLength('description', description, WEBHOOK_LIMITS.description);
  return description;
}

export function validateWebhookSecret(secret: string): string {
  validateWebhookLength('secret', secret, WEBHOOK_LIMITS.secret);
  return secret;
}

/** The registry's wording for a value over its limit (it never quotes the value: it may be a secret). */
export function validateWebhookLength(what: string, value: string, limit: number): void {
  if (value.length > limit) {
    throw new InvalidParameterError(`'${what}' exceeds the maximum length of ${limit} characters`);
  }
}

/**
 * An event as the proto names it, turned into its dotted name after MLflow's checks: the
 * entity/action combination must be valid (`WebhookEvent.__init__`'s message), and it must be an
 * event Runway delivers.
 */
export function validateEvent(entity: WebhookEntityName, action: WebhookActionName): WebhookEventName {
  const entityName = entity.toLowerCase();
  const actionName = action.toLowerCase();
  const valid = VALID_ACTIONS[entityName];
  if (!valid) {
    throw new InvalidParameterError(`Invalid entity or action in event: entity '${entityName}' is unknown.`);
  }
  if (!valid.includes(actionName)) {
    const list = [...valid]
      .sort()
      .map((name) => `'${name}'`)
      .join(', ');
    throw new InvalidParameterError(
      `Invalid action '${actionName}' for entity '${entityName}'. Valid actions are: [${list}]`,
    );
  }
  const event = `${entityName}.${actionName}`;
  if (!isWebhookEvent(event)) {
    throw new InvalidParameterError(
      `Webhook event '${event}' is not supported: Runway delivers model registry events only (${WEBHOOK_EVENTS.join(', ')}).`,
    );
  }
  return event;
}

/** MLflow's `_validate_webhook_events` (non-empty); a repeated event counts once. */
export function validateEvents(events: readonly WebhookEventName[]): WebhookEventName[] {
  if (events.length === 0) {
    throw new InvalidParameterError('Webhook events must be a non-empty list of WebhookEvent objects: [].');
  }
  return [...new Set(events)];
}

export function isWebhookEvent(name: string): name is WebhookEventName {
  return (WEBHOOK_EVENTS as readonly string[]).includes(name);
}

/** The proto names of a dotted event: `model_version_tag.set` -> `MODEL_VERSION_TAG`, `SET`. */
export function eventParts(event: WebhookEventName): {
  entity: WebhookEntityName;
  action: WebhookActionName;
} {
  const [entity = '', action = ''] = event.split('.');
  return {
    entity: entity.toUpperCase() as WebhookEntityName,
    action: action.toUpperCase() as WebhookActionName,
  };
}

/** Python's `repr()` of a string, as MLflow's messages quote values (`{name!r}`). */
export function pyRepr(value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of value) {
    if (char === '\\') out += '\\\\';
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char === quote) out += `\\${char}`;
    else out += char;
  }
  return out + quote;
}
