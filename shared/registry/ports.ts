import type { RegistryEvent } from './events/index.ts';
import type { Stage } from './model.ts';

/** A stage a version was moved to, and when (the version's `last_updated_timestamp` follows it). */
export interface StageEntry {
  stage: Stage;
  at: number;
}

/** A registered model as stored: the model item. */
export interface StoredModel {
  /** The partition the model lives in for its whole life (see `keys.ts`). */
  slot: string;
  /** Unique per creation: a model deleted and created again under its name gets a new id. */
  modelId: string;
  name: string;
  description: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  tags: Record<string, string>;
  /** The last version number handed out; versions are numbered 1..latestVersion without gaps. */
  latestVersion: number;
  /** Counts every change of the model item; events derive idempotency keys from it. */
  revision: number;
  /** Counts stage changes; a transition is a compare-and-set on it. */
  stageRevision: number;
  /** Stages other than `None`, by version number. */
  stages: Record<string, StageEntry>;
}

/** A model version as stored: the version item. */
export interface StoredVersion {
  modelId: string;
  version: number;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  description: string | undefined;
  source: string;
  storageLocation: string | undefined;
  runId: string;
  runLink: string;
  tags: Record<string, string>;
  revision: number;
}

/** An alias as stored: the alias item. */
export interface StoredAlias {
  modelId: string;
  alias: string;
  version: number;
  /** Counts moves of this alias: a move is a compare-and-set on it. */
  revision: number;
  updatedAt: number;
}

/**
 * Everything of one model, read in one Query of its partition: the model item, its live versions,
 * the numbers of its deleted versions (never reused, as in MLflow) and its aliases.
 */
export interface ModelState {
  model: StoredModel;
  versions: StoredVersion[];
  deletedVersions: number[];
  aliases: StoredAlias[];
}

/** What a new version is made of; the repository gives it its number. */
export interface VersionDraft {
  creationTimestamp: number;
  description: string;
  source: string;
  storageLocation: string | undefined;
  runId: string;
  runLink: string;
  tags: Record<string, string>;
}

export interface NewModel {
  name: string;
  description: string;
  tags: Record<string, string>;
  creationTimestamp: number;
}

/** The outcome of a stage transition. */
export interface TransitionResult {
  previousStage: Stage;
  /** Versions moved to `Archived` by `archive_existing_versions`. */
  archived: number[];
  /** The model item's revision after the change. */
  revision: number;
  state: ModelState;
}

/**
 * Storage for registered models, versions and aliases. Implementations keep names unique, number
 * versions without gaps or duplicates, and apply alias moves and stage transitions as
 * compare-and-set, so concurrent callers never lose an update. Methods taking a `ModelState` act on
 * the model it was read from and fail with `ResourceDoesNotExistError` if that model is gone.
 */
export interface RegistryRepository {
  /** The model with everything it holds; `undefined` if no live model has the name. */
  get(name: string): Promise<ModelState | undefined>;
  /** Throws `ResourceAlreadyExistsError` when the name is taken. */
  create(model: NewModel): Promise<ModelState>;
  /** Throws `ResourceAlreadyExistsError` when the new name is taken. */
  rename(state: ModelState, newName: string, now: number): Promise<StoredModel>;
  updateDescription(state: ModelState, description: string, now: number): Promise<StoredModel>;
  /**
   * Deletes the model and everything it holds, and returns what it held; resumes a delete that died
   * half-way. `undefined` when no model has the name.
   */
  delete(name: string): Promise<ModelState | undefined>;
  /** Returns the previous value, if any, and the model's revision after the change. */
  setModelTag(
    state: ModelState,
    key: string,
    value: string,
  ): Promise<{ previous: string | undefined; revision: number }>;
  /** Returns undefined when the tag did not exist (nothing changed). */
  deleteModelTag(state: ModelState, key: string): Promise<{ previous: string; revision: number } | undefined>;

  /** Gives the draft the next free number and stores it. */
  createVersion(state: ModelState, draft: VersionDraft): Promise<StoredVersion>;
  /** `description` undefined clears it (MLflow's update without a description). */
  updateVersion(
    state: ModelState,
    version: number,
    description: string | undefined,
    now: number,
  ): Promise<StoredVersion>;
  /** Deletes a version (its number stays used) and the aliases pointing to it; returns those aliases. */
  deleteVersion(state: ModelState, version: number, now: number): Promise<StoredAlias[]>;
  setVersionTag(
    state: ModelState,
    version: number,
    key: string,
    value: string,
  ): Promise<{ previous: string | undefined; revision: number }>;
  deleteVersionTag(
    state: ModelState,
    version: number,
    key: string,
  ): Promise<{ previous: string; revision: number } | undefined>;
  transitionStage(
    state: ModelState,
    version: number,
    stage: Stage,
    archiveExisting: boolean,
    now: number,
  ): Promise<TransitionResult>;

  /** Points the alias at the version; returns the alias before and after the move. */
  setAlias(
    state: ModelState,
    alias: string,
    version: number,
    now: number,
  ): Promise<{ previous: StoredAlias | undefined; current: StoredAlias }>;
  /** Returns the deleted alias, or undefined when there was none. */
  deleteAlias(state: ModelState, alias: string): Promise<StoredAlias | undefined>;

  /** A model a search found, with everything it holds (one Query); undefined if it is gone since. */
  load(model: StoredModel): Promise<ModelState | undefined>;
  /** Every live model item, for searches (one index partition, paged). */
  listModels(): Promise<StoredModel[]>;
  /** Every live version item and every alias item, for version searches across models. */
  listVersionsAndAliases(): Promise<{ versions: StoredVersion[]; aliases: StoredAlias[] }>;
}

/** Reads a run's artifact URI from the tracking context, so `runs:/` sources can be resolved. */
export interface RunArtifactLocator {
  /** The run's artifact URI, or undefined when the run is unknown. */
  artifactUri(runId: string): Promise<string | undefined>;
}

/** What the registry reads of an MLflow 3 logged model (the tracking context owns it). */
export interface LoggedModelRef {
  modelId: string;
  experimentId: string;
  /** `<experiment artifact location>/models/<model_id>/artifacts`: where its files are. */
  artifactLocation: string;
  /** The run that logged it; `''` when none. */
  sourceRunId: string;
}

/**
 * MLflow 3's logged models as the registry uses them: a version made from one (`models:/<model_id>`,
 * or the `model_id` parameter) takes its files' location and its run from it, and the model records
 * the versions made from it in its `mlflow.modelVersions` tag.
 */
export interface LoggedModelSource {
  /** The live logged model; `undefined` when it is missing or deleted (MLflow's `get_logged_model`). */
  get(modelId: string): Promise<LoggedModelRef | undefined>;
  /**
   * Adds `{"name": name, "version": version}` to the model's `mlflow.modelVersions` tag, as MLflow's
   * server does after creating the version (`set_model_versions_tags`); a no-op for a deleted model.
   */
  linkVersion(modelId: string, name: string, version: number): Promise<void>;
}

/**
 * Publishes registry domain events. Publishing happens after the change is stored and never throws:
 * a failure is logged, and the deploy side's reconciler repairs what an event failed to trigger.
 */
export interface RegistryEventPublisher {
  publish(events: readonly RegistryEvent[]): Promise<void>;
}

/** Time, injected so tests control it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
