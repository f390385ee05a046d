import type * as z from 'zod';
import { mapLimited } from '../platform/concurrency.ts';
import { InvalidParameterError, ResourceDoesNotExistError } from '../platform/errors.ts';
import {
  type Clause,
  compileFilter,
  decodePageToken,
  paginate,
  parseOrderBy,
  parseSearchFilter,
  queryFingerprint,
  type SearchableEntity,
  sortEntities,
} from '../tracking/search/index.ts';
import {
  ModelVersionAliasDeleted,
  ModelVersionAliasSet,
  ModelVersionCreated,
  ModelVersionDeleted,
  ModelVersionStageTransitioned,
  ModelVersionTagDeleted,
  ModelVersionTagSet,
  ModelVersionUpdated,
  type REGISTRY_EVENTS,
  RegisteredModelCreated,
  RegisteredModelDeleted,
  RegisteredModelRenamed,
  RegisteredModelTagDeleted,
  RegisteredModelTagSet,
  RegisteredModelUpdated,
  type RegistryEvent,
} from './events/index.ts';
import {
  ACTIVE_STAGES,
  canonicalStage,
  LIMITS,
  latestPerStage,
  type ModelVersion,
  PROMPT_TAG,
  parseVersion,
  type RegisteredModel,
  type Stage,
  validateAlias,
  validateDescription,
  validateLength,
  validateModelName,
  validateTag,
  validateTagKey,
  validateTags,
} from './model.ts';
import { type ModelSource, parseModelSource, runArtifactLocation } from './model-source.ts';
import {
  type Clock,
  type LoggedModelRef,
  type LoggedModelSource,
  type ModelState,
  type RegistryEventPublisher,
  type RegistryRepository,
  type RunArtifactLocator,
  type StoredAlias,
  type StoredModel,
  type StoredVersion,
  systemClock,
} from './ports.ts';

export interface RegistryServiceDeps {
  repository: RegistryRepository;
  runs: RunArtifactLocator;
  /** MLflow 3's logged models, which versions are made from (`models:/<model_id>`). */
  loggedModels: LoggedModelSource;
  events: RegistryEventPublisher;
  clock?: Clock;
}

export interface SearchInput {
  filter?: string | undefined;
  maxResults?: number | undefined;
  orderBy?: string[] | undefined;
  pageToken?: string | undefined;
}

export interface CreateVersionInput {
  name: string;
  source: string;
  runId?: string | undefined;
  runLink?: string | undefined;
  description?: string | undefined;
  tags?: ReadonlyArray<{ key: string; value: string }> | undefined;
  /** MLflow 3: the logged model the version is made from (also named by a `models:/<model_id>` source). */
  modelId?: string | undefined;
}

/**
 * MLflow's model registry: registered models, their versions, stages, aliases and tags. Validation
 * and MLflow's rules live here; storage and its concurrency guarantees live behind
 * `RegistryRepository`. Every change is stored first and then announced as a domain event; a failed
 * announcement never fails the call (the publisher logs it, the reconciler repairs it).
 */
export class RegistryService {
  private readonly repository: RegistryRepository;
  private readonly runs: RunArtifactLocator;
  private readonly loggedModels: LoggedModelSource;
  private readonly events: RegistryEventPublisher;
  private readonly clock: Clock;

  constructor(deps: RegistryServiceDeps) {
    this.repository = deps.repository;
    this.runs = deps.runs;
    this.loggedModels = deps.loggedModels;
    this.events = deps.events;
    this.clock = deps.clock ?? systemClock;
  }

  // ---------------------------------------------------------------------------------------------
  // Registered models
  // ---------------------------------------------------------------------------------------------

  async createModel(input: {
    name: string;
    description?: string | undefined;
    tags?: ReadonlyArray<{ key: string; value: string }> | undefined;
  }): Promise<RegisteredModel> {
    const name = validateModelName(input.name);
    const tags = validateTags(input.tags ?? []);
    const description = validateDescription(input.description ?? '');
    const now = this.clock.now();
    const state = await this.repository.create({ name, description, tags, creationTimestamp: now });
    await this.publish(now, state.model, RegisteredModelCreated, 'created', {
      description,
      tags,
      creationTimestamp: now,
    });
    return modelView(state);
  }

  async getModel(name: string): Promise<RegisteredModel> {
    return modelView(await this.require(name));
  }

  async renameModel(name: string, newName: string): Promise<RegisteredModel> {
    validateModelName(name);
    validateModelName(newName, 'new_name');
    const state = await this.require(name);
    if (newName === name) return modelView(state);
    const now = this.clock.now();
    const model = await this.repository.rename(state, newName, now);
    await this.publish(now, model, RegisteredModelRenamed, `renamed:r${model.revision}`, {
      previousName: name,
    });
    return modelView({ ...state, model });
  }

  async updateModel(name: string, description: string | undefined): Promise<RegisteredModel> {
    // MLflow reads a missing description as "" and stores it: an update without one clears it.
    const next = validateDescription(description ?? '');
    const state = await this.require(name);
    const now = this.clock.now();
    const model = await this.repository.updateDescription(state, next, now);
    await this.publish(now, model, RegisteredModelUpdated, `updated:r${model.revision}`, {
      description: next,
      previousDescription: state.model.description,
    });
    return modelView({ ...state, model });
  }

  async deleteModel(name: string): Promise<void> {
    validateModelName(name);
    const deleted = await this.repository.delete(name);
    if (!deleted) throw modelNotFound(name);
    await this.publish(this.clock.now(), deleted.model, RegisteredModelDeleted, 'deleted', {
      modelVersions: deleted.versions.map((version) => String(version.version)).sort(byNumber),
    });
  }

  async setModelTag(name: string, key: string, value: string): Promise<void> {
    validateModelName(name);
    validateTag(key, value);
    const state = await this.require(name);
    const { previous, revision } = await this.repository.setModelTag(state, key, value);
    await this.publish(this.clock.now(), state.model, RegisteredModelTagSet, `tag-set:${key}:r${revision}`, {
      key,
      value,
      previousValue: previous ?? null,
    });
  }

  async deleteModelTag(name: string, key: string): Promise<void> {
    validateModelName(name);
    validateTagKey(key);
    const state = await this.require(name);
    const deleted = await this.repository.deleteModelTag(state, key);
    if (!deleted) return;
    await this.publish(
      this.clock.now(),
      state.model,
      RegisteredModelTagDeleted,
      `tag-deleted:${key}:r${deleted.revision}`,
      { key, previousValue: deleted.previous },
    );
  }

  /**
   * MLflow's search: `name`/`tags.x` filters, `name`, `timestamp`, `last_updated_timestamp` and
   * `creation_timestamp` ordering, offset page tokens. Prompts (models tagged
   * `mlflow.prompt.is_prompt = 'true'`) are left out unless the filter asks for them, as MLflow does.
   */
  async searchModels(input: SearchInput): Promise<{ models: RegisteredModel[]; nextPageToken?: string }> {
    const maxResults = checkMaxResults(
      input.maxResults ?? LIMITS.searchModelsDefault,
      LIMITS.searchModelsMax,
    );
    const { clauses, promptsOnly } = promptAware(parseSearchFilter(input.filter, 'registered_models'));
    const order = parseOrderBy(input.orderBy, 'registered_models');
    const fingerprint = queryFingerprint([input.filter ?? '', input.orderBy ?? [], 'registered_models']);
    // Decode before reading the table, so a bad token costs no read.
    decodePageToken(input.pageToken, fingerprint);
    const matches = compileFilter(clauses);
    const candidates = (await this.repository.listModels()).filter(
      (model) => isPrompt(model.tags) === promptsOnly && matches(searchableModel(model)),
    );
    const sorted = sortEntities(candidates, searchableModel, order, 'registered_models');
    const page = paginate(sorted, input.pageToken, maxResults, fingerprint);
    // The page's models with their versions and aliases: one Query each, a few at a time.
    const states = await mapLimited(page.items, 16, (model) => this.repository.load(model));
    const models = states.filter((state): state is ModelState => state !== undefined).map(modelView);
    return { models, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }

  async getLatestVersions(name: string, stages: readonly string[] | undefined): Promise<ModelVersion[]> {
    validateModelName(name);
    const wanted = new Set<Stage>((stages ?? []).map(canonicalStage));
    const state = await this.require(name);
    return latestPerStage(versionViews(state)).filter(
      (version) => wanted.size === 0 || wanted.has(version.currentStage),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Model versions
  // ---------------------------------------------------------------------------------------------

  /**
   * Creates a version as MLflow 3.11's server does. A version made from a logged model (a
   * `models:/<model_id>` source, or `model_id` with any source) requires that model to exist and be
   * live; its files are the logged model's artifact location, its run (unless given) the model's
   * source run, and once created the version is listed in the model's `mlflow.modelVersions` tag.
   * MLflow answers 500 for a `models:/` source it cannot resolve; that is the client's mistake: 400.
   */
  async createVersion(input: CreateVersionInput): Promise<ModelVersion> {
    const name = validateModelName(input.name);
    const tags = validateTags(input.tags ?? []);
    const description = validateDescription(input.description ?? '');
    validateLength('run_id', input.runId ?? '', LIMITS.runId);
    validateLength('model_id', input.modelId ?? '', LIMITS.runId);
    if (input.source === '')
      throw new InvalidParameterError("Missing value for required parameter 'source'.");
    const source = parseModelSource(input.source);
    const state = await this.require(name);
    // The logged model the source names, and the one `model_id` names (MLflow's client sends both).
    const fromSource =
      source.kind === 'logged-model' ? await this.requireLoggedModel(source, input.source) : undefined;
    let loggedModel = fromSource;
    if (input.modelId && input.modelId !== fromSource?.modelId) {
      loggedModel = await this.loggedModels.get(input.modelId);
      if (!loggedModel) throw loggedModelNotFound(input.modelId);
    }
    const now = this.clock.now();
    const stored = await this.repository.createVersion(state, {
      creationTimestamp: now,
      description,
      source: input.source,
      storageLocation: fromSource ? fromSource.artifactLocation : await this.storageLocationOf(source),
      runId: input.runId || fromSource?.sourceRunId || loggedModel?.sourceRunId || '',
      runLink: input.runLink ?? '',
      tags,
    });
    if (loggedModel)
      await this.loggedModels.linkVersion(loggedModel.modelId, state.model.name, stored.version);
    await this.publish(now, state.model, ModelVersionCreated, `v${stored.version}:created`, {
      modelVersion: String(stored.version),
      source: stored.source,
      storageLocation: stored.storageLocation ?? null,
      runId: stored.runId,
      creationTimestamp: now,
    });
    return versionView({ ...state, versions: [...state.versions, stored] }, stored);
  }

  async getVersion(name: string, version: string): Promise<ModelVersion> {
    const { state, stored } = await this.requireVersion(name, version);
    return versionView(state, stored);
  }

  async updateVersion(name: string, version: string, description: string | undefined): Promise<ModelVersion> {
    if (description !== undefined) validateDescription(description);
    const { state, stored } = await this.requireVersion(name, version);
    const now = this.clock.now();
    const updated = await this.repository.updateVersion(state, stored.version, description, now);
    await this.publish(
      now,
      state.model,
      ModelVersionUpdated,
      `v${updated.version}:updated:r${updated.revision}`,
      {
        modelVersion: String(updated.version),
        description: description ?? null,
        previousDescription: stored.description ?? null,
      },
    );
    return versionView(state, updated);
  }

  async deleteVersion(name: string, version: string): Promise<void> {
    const { state, stored } = await this.requireVersion(name, version);
    const now = this.clock.now();
    const removedAliases = await this.repository.deleteVersion(state, stored.version, now);
    const events: RegistryEvent[] = [
      this.event(now, state.model, ModelVersionDeleted, `v${stored.version}:deleted`, {
        modelVersion: String(stored.version),
        stage: stageOf(state, stored.version),
        aliases: removedAliases.map((alias) => alias.alias).sort(),
      }),
      ...removedAliases.map((alias) =>
        this.event(now, state.model, ModelVersionAliasDeleted, aliasKey(alias, 'deleted'), {
          alias: alias.alias,
          previousVersion: String(alias.version),
          reason: 'version-deleted' as const,
        }),
      ),
    ];
    await this.events.publish(events);
  }

  async transitionStage(
    name: string,
    version: string,
    stageName: string,
    archiveExisting: boolean,
  ): Promise<ModelVersion> {
    const stage = canonicalStage(stageName);
    if (archiveExisting && !ACTIVE_STAGES.includes(stage)) {
      // MLflow answers 500 here; it is the client's mistake, so a 400.
      throw new InvalidParameterError(
        `Model version transition cannot archive existing model versions because '${stageName}' is not an Active stage. Valid stages are ${ACTIVE_STAGES.join(', ')}`,
      );
    }
    const { state, stored } = await this.requireVersion(name, version);
    const now = this.clock.now();
    const result = await this.repository.transitionStage(state, stored.version, stage, archiveExisting, now);
    await this.publish(
      now,
      state.model,
      ModelVersionStageTransitioned,
      `v${stored.version}:stage:r${result.revision}`,
      {
        modelVersion: String(stored.version),
        stage,
        previousStage: result.previousStage,
        archiveExistingVersions: archiveExisting,
        archivedVersions: result.archived.map(String),
      },
    );
    return versionView(result.state, stored);
  }

  async searchVersions(input: SearchInput): Promise<{ versions: ModelVersion[]; nextPageToken?: string }> {
    const maxResults = checkMaxResults(
      input.maxResults ?? LIMITS.searchVersionsDefault,
      LIMITS.searchVersionsMax,
    );
    const { clauses, promptsOnly } = promptAware(parseSearchFilter(input.filter, 'model_versions'));
    const order = parseOrderBy(input.orderBy, 'model_versions');
    const fingerprint = queryFingerprint([input.filter ?? '', input.orderBy ?? [], 'model_versions']);
    decodePageToken(input.pageToken, fingerprint);
    const matches = compileFilter(clauses);
    const candidates = (await this.versionsToSearch(clauses)).filter(
      (state) => modelIsPrompt(state) === promptsOnly,
    );
    const views = candidates.flatMap(versionViews).filter((version) => matches(searchableVersion(version)));
    const sorted = sortEntities(views, searchableVersion, order, 'model_versions');
    const page = paginate(sorted, input.pageToken, maxResults, fingerprint);
    return { versions: page.items, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }

  /**
   * Where the version's files are: resolved when it was created (MLflow's `storage_location`), else
   * resolved now (a run this server learnt of since), else the source itself.
   */
  async getDownloadUri(name: string, version: string): Promise<string> {
    const { stored } = await this.requireVersion(name, version);
    return this.filesOf(stored);
  }

  async setVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    validateModelName(name);
    const number = parseVersion(version);
    validateTag(key, value);
    const state = await this.require(name);
    const { previous, revision } = await this.repository.setVersionTag(state, number, key, value);
    await this.publish(
      this.clock.now(),
      state.model,
      ModelVersionTagSet,
      `v${number}:tag-set:${key}:r${revision}`,
      {
        modelVersion: String(number),
        key,
        value,
        previousValue: previous ?? null,
      },
    );
  }

  async deleteVersionTag(name: string, version: string, key: string): Promise<void> {
    validateModelName(name);
    const number = parseVersion(version);
    validateTagKey(key);
    const state = await this.require(name);
    const deleted = await this.repository.deleteVersionTag(state, number, key);
    if (!deleted) return;
    await this.publish(
      this.clock.now(),
      state.model,
      ModelVersionTagDeleted,
      `v${number}:tag-deleted:${key}:r${deleted.revision}`,
      { modelVersion: String(number), key, previousValue: deleted.previous },
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Aliases
  // ---------------------------------------------------------------------------------------------

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    validateModelName(name);
    validateAlias(alias);
    const { state, stored } = await this.requireVersion(name, version);
    const now = this.clock.now();
    const { previous, current } = await this.repository.setAlias(state, alias, stored.version, now);
    if (previous?.revision === current.revision) return;
    await this.publish(now, state.model, ModelVersionAliasSet, aliasKey(current, 'set'), {
      alias,
      modelVersion: String(current.version),
      previousVersion: previous ? String(previous.version) : null,
    });
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    validateModelName(name);
    validateAlias(alias);
    const state = await this.require(name);
    const deleted = await this.repository.deleteAlias(state, alias);
    if (!deleted) return;
    await this.publish(
      this.clock.now(),
      state.model,
      ModelVersionAliasDeleted,
      aliasKey(deleted, 'deleted'),
      {
        alias,
        previousVersion: String(deleted.version),
        reason: 'alias-deleted',
      },
    );
  }

  /** An unknown alias (or model) is 400 INVALID_PARAMETER_VALUE, as MLflow answers. */
  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    validateModelName(name);
    validateAlias(alias);
    const state = await this.repository.get(name);
    const target = state && liveAliases(state).find((candidate) => candidate.alias === alias);
    const stored = target && state?.versions.find((version) => version.version === target.version);
    if (!state || !stored) throw new InvalidParameterError(`Registered model alias ${alias} not found.`);
    return versionView(state, stored);
  }

  // ---------------------------------------------------------------------------------------------

  private async require(name: string): Promise<ModelState> {
    validateModelName(name);
    const state = await this.repository.get(name);
    if (!state) throw modelNotFound(name);
    return state;
  }

  private async requireVersion(
    name: string,
    version: string,
  ): Promise<{ state: ModelState; stored: StoredVersion }> {
    validateModelName(name);
    const number = parseVersion(version);
    const state = await this.repository.get(name);
    const stored = state?.versions.find((candidate) => candidate.version === number);
    if (!state || !stored) {
      throw new ResourceDoesNotExistError(`Model Version (name=${name}, version=${number}) not found`);
    }
    return { state, stored };
  }

  /**
   * The versions a search has to look at: one model's partition when the filter names the model
   * (`name = '...'`, what the MLflow client sends), else every version from the index.
   */
  private async versionsToSearch(clauses: readonly Clause[]): Promise<ModelState[]> {
    const named = clauses.find(
      (clause) => clause.kind === 'attribute' && clause.key === 'name' && clause.comparator === '=',
    );
    if (named && typeof named.value === 'string') {
      const state = await this.repository.get(named.value);
      return state ? [state] : [];
    }
    const [models, { versions, aliases }] = await Promise.all([
      this.repository.listModels(),
      this.repository.listVersionsAndAliases(),
    ]);
    const states = new Map<string, ModelState>(
      models.map((model) => [model.modelId, { model, versions: [], deletedVersions: [], aliases: [] }]),
    );
    // Versions and aliases of models that are gone (or being deleted) have no model: left out.
    for (const version of versions) states.get(version.modelId)?.versions.push(version);
    for (const alias of aliases) states.get(alias.modelId)?.aliases.push(alias);
    return [...states.values()];
  }

  /** Where a stored version's files are (see `getDownloadUri`). */
  private async filesOf(stored: StoredVersion): Promise<string> {
    if (stored.storageLocation) return stored.storageLocation;
    const source = parseModelSource(stored.source);
    return (await this.storageLocationOf(source).catch(() => undefined)) ?? stored.source;
  }

  /** The live logged model a `models:/<model_id>` source names, or 400 as for any unresolvable models:/ source. */
  private async requireLoggedModel(
    source: Extract<ModelSource, { kind: 'logged-model' }>,
    uri: string,
  ): Promise<LoggedModelRef> {
    const model = await this.loggedModels.get(source.modelId);
    if (!model) {
      throw new InvalidParameterError(
        `Unable to fetch model from model URI source artifact location '${uri}': ${loggedModelNotFound(source.modelId).message}`,
      );
    }
    return model;
  }

  /** Resolves a source to where its files are, as MLflow's server does when a version is created. */
  private async storageLocationOf(source: ModelSource): Promise<string | undefined> {
    switch (source.kind) {
      case 'runs': {
        // A version may name a run this server does not know (MLflow allows it); its source then
        // stays unresolved until the run exists.
        const artifactUri = await this.runs.artifactUri(source.runId);
        return artifactUri === undefined ? undefined : runArtifactLocation(artifactUri, source.artifactPath);
      }
      case 'models': {
        const state = await this.repository.get(source.name);
        const number =
          source.version !== undefined
            ? Number(source.version)
            : state && liveAliases(state).find((alias) => alias.alias === source.alias)?.version;
        const stored = state?.versions.find((version) => version.version === number);
        if (!stored) {
          throw new InvalidParameterError(
            `Unable to fetch model from model URI source artifact location 'models:/${source.name}${source.alias ? `@${source.alias}` : `/${source.version}`}': no such model version`,
          );
        }
        return this.filesOf(stored);
      }
      case 'logged-model':
        return (await this.loggedModels.get(source.modelId))?.artifactLocation;
      case 'other':
        return undefined;
    }
  }

  private event<M extends EventModule>(
    now: number,
    model: StoredModel,
    module: M,
    change: string,
    detail: DetailOf<M>,
  ): RegistryEvent {
    return {
      name: module.name,
      detail: {
        version: 1,
        idempotencyKey: `${model.modelId}:${change}`,
        occurredAt: new Date(now).toISOString(),
        modelId: model.modelId,
        modelName: model.name,
        ...detail,
      },
    };
  }

  private async publish<M extends EventModule>(
    now: number,
    model: StoredModel,
    module: M,
    change: string,
    detail: DetailOf<M>,
  ): Promise<void> {
    await this.events.publish([this.event(now, model, module, change, detail)]);
  }
}

type EventModule = (typeof REGISTRY_EVENTS)[number];
/** An event's own fields: everything but the envelope, which `event()` fills in. */
type DetailOf<M extends EventModule> = Omit<
  z.input<M['schema']>,
  'version' | 'idempotencyKey' | 'occurredAt' | 'modelId' | 'modelName'
>;

// -----------------------------------------------------------------------------------------------
// Views: what a model and its versions look like through the API
// -----------------------------------------------------------------------------------------------

/** Aliases whose version exists (an alias left behind by a crash or a race points nowhere: ignored). */
function liveAliases(state: ModelState): StoredAlias[] {
  const live = new Set(state.versions.map((version) => version.version));
  return state.aliases
    .filter((alias) => live.has(alias.version))
    .sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0));
}

function stageOf(state: ModelState, version: number): Stage {
  return state.model.stages[String(version)]?.stage ?? 'None';
}

function versionView(state: ModelState, stored: StoredVersion): ModelVersion {
  const entry = state.model.stages[String(stored.version)];
  return {
    name: state.model.name,
    version: stored.version,
    creationTimestamp: stored.creationTimestamp,
    lastUpdatedTimestamp: Math.max(stored.lastUpdatedTimestamp, entry?.at ?? 0),
    description: stored.description,
    currentStage: entry?.stage ?? 'None',
    source: stored.source,
    storageLocation: stored.storageLocation,
    runId: stored.runId,
    runLink: stored.runLink,
    status: 'READY',
    tags: stored.tags,
    aliases: liveAliases(state)
      .filter((alias) => alias.version === stored.version)
      .map((alias) => alias.alias),
  };
}

function versionViews(state: ModelState): ModelVersion[] {
  return state.versions.map((stored) => versionView(state, stored));
}

function modelView(state: ModelState): RegisteredModel {
  const { model } = state;
  return {
    modelId: model.modelId,
    name: model.name,
    creationTimestamp: model.creationTimestamp,
    lastUpdatedTimestamp: model.lastUpdatedTimestamp,
    description: model.description,
    tags: model.tags,
    aliases: Object.fromEntries(liveAliases(state).map((alias) => [alias.alias, alias.version])),
    latestVersions: latestPerStage(versionViews(state)),
  };
}

// -----------------------------------------------------------------------------------------------
// Search helpers
// -----------------------------------------------------------------------------------------------

function searchableModel(model: StoredModel): SearchableEntity {
  return {
    attribute: (key) => {
      switch (key) {
        case 'name':
          return model.name;
        case 'creation_timestamp':
          return model.creationTimestamp;
        case 'last_updated_timestamp':
          return model.lastUpdatedTimestamp;
        default:
          return undefined;
      }
    },
    tag: (key) => model.tags[key],
  };
}

function searchableVersion(version: ModelVersion): SearchableEntity {
  return {
    attribute: (key) => {
      switch (key) {
        case 'name':
          return version.name;
        case 'version_number':
          return version.version;
        case 'run_id':
          return version.runId;
        case 'source_path':
          return version.source;
        case 'creation_timestamp':
          return version.creationTimestamp;
        case 'last_updated_timestamp':
          return version.lastUpdatedTimestamp;
        default:
          return undefined;
      }
    },
    tag: (key) => version.tags[key],
  };
}

function isPrompt(tags: Record<string, string>): boolean {
  return tags[PROMPT_TAG]?.toLowerCase() === 'true';
}

/** MLflow marks a prompt's versions, not only the prompt itself; any marked version makes a prompt. */
function modelIsPrompt(state: ModelState): boolean {
  return isPrompt(state.model.tags) || state.versions.some((version) => isPrompt(version.tags));
}

/**
 * MLflow's searches leave prompts out unless the filter asks for them with
 * `tags.mlflow.prompt.is_prompt = 'true'` (or `!= 'false'`); any other condition on that tag is
 * dropped, so "not a prompt" also matches models that lack the tag.
 */
function promptAware(clauses: Clause[]): { clauses: Clause[]; promptsOnly: boolean } {
  const promptClause = clauses.find((clause) => clause.kind === 'tag' && clause.key === PROMPT_TAG);
  const value = typeof promptClause?.value === 'string' ? promptClause.value.toLowerCase() : undefined;
  const promptsOnly =
    (promptClause?.comparator === '=' && value === 'true') ||
    (promptClause?.comparator === '!=' && value === 'false');
  if (promptsOnly) return { clauses, promptsOnly };
  return {
    clauses: clauses.filter((clause) => !(clause.kind === 'tag' && clause.key === PROMPT_TAG)),
    promptsOnly,
  };
}

function checkMaxResults(maxResults: number, limit: number): number {
  if (maxResults < 1 || maxResults > limit) {
    throw new InvalidParameterError(
      `Invalid value ${maxResults} for parameter 'max_results' supplied: it must be between 1 and ${limit}`,
    );
  }
  return maxResults;
}

function aliasKey(alias: StoredAlias, what: 'set' | 'deleted'): string {
  // The timestamp tells apart two lives of one alias (deleted, then set again from revision 1).
  return `alias:${alias.alias}:r${alias.revision}@${alias.updatedAt}:${what}`;
}

function byNumber(a: string, b: string): number {
  return Number(a) - Number(b);
}

function loggedModelNotFound(modelId: string): ResourceDoesNotExistError {
  return new ResourceDoesNotExistError(`Logged model with ID '${modelId.slice(0, 250)}' not found.`);
}

function modelNotFound(name: string): ResourceDoesNotExistError {
  return new ResourceDoesNotExistError(`Registered Model with name=${name} not found`);
}
