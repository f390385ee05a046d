import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../platform/aws/dynamodb.ts';
import { jitter, mapLimited } from '../../platform/concurrency.ts';
import { NameClaims } from '../../platform/dynamodb/name-claims.ts';
import {
  InvalidParameterError,
  ResourceAlreadyExistsError,
  ResourceDoesNotExistError,
  TemporarilyUnavailableError,
} from '../../platform/errors.ts';
import { nameSlot, REGISTRY_INDEXES, registryKeys } from '../keys.ts';
import type { Stage } from '../model.ts';
import {
  type Clock,
  type ModelState,
  type NewModel,
  type RegistryRepository,
  type StageEntry,
  type StoredAlias,
  type StoredModel,
  type StoredVersion,
  systemClock,
  type TransitionResult,
  type VersionDraft,
} from '../ports.ts';

/**
 * A name claim whose model is missing, or carries another name, is left over from a create or rename
 * that died between its writes. It may be taken over once it is older than any request can run (the
 * API function's timeout is 29 s), so a slow writer is never overtaken.
 */
const ORPHAN_CLAIM_AGE_MS = 5 * 60_000;
/** Compare-and-set loops give up after this many lost races (each lost race is someone else's win). */
const MAX_ATTEMPTS = 50;
/** Deletes in flight at once when a model's items are removed. */
const SWEEP_CONCURRENCY = 16;

type Item = Record<string, unknown>;

interface NameClaim {
  name: string;
  slot: string;
  modelId: string;
  claimedAt: number;
}

/**
 * Registered models in the registry table. Without transactions (DESIGN.md: the local emulator lacks
 * them) every invariant rests on single-item conditional writes, ordered so that a crash between two
 * of them leaves nothing visible half-done; `shared/registry/README.md` explains each sequence.
 */
export class DynamoRegistryRepository implements RegistryRepository {
  private readonly claims: NameClaims;

  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
    private readonly clock: Clock = systemClock,
  ) {
    this.claims = new NameClaims({
      client,
      tableName,
      key: registryKeys.nameClaim,
      ownerAttribute: 'modelId',
      entity: 'registered-model-name',
      now: () => this.clock.now(),
      isOrphaned: (claim, name) => this.isOrphanedClaim(toClaim(claim.item), name),
    });
  }

  async get(name: string): Promise<ModelState | undefined> {
    const found = await this.resolve(name);
    if (!found || found.state.model.name !== name || found.deleting) return undefined;
    return found.state;
  }

  async create(input: NewModel): Promise<ModelState> {
    const modelId = randomUUID();
    const preferred = nameSlot(input.name);
    await this.claimName(input.name, preferred, modelId);
    try {
      let slot = preferred;
      if (!(await this.putModel(slot, modelId, input))) {
        // The name's own slot still holds a model created under this name: renamed since (it lives
        // there for its whole life) or not yet fully deleted. Take a fresh slot for this one.
        slot = randomUUID();
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: registryKeys.nameClaim(input.name),
            UpdateExpression: 'SET slot = :slot',
            ConditionExpression: 'modelId = :id',
            ExpressionAttributeValues: { ':slot': slot, ':id': modelId },
          }),
        );
        if (!(await this.putModel(slot, modelId, input))) throw new Error(`Fresh slot ${slot} is in use`);
      }
      return { model: newModel(slot, modelId, input), versions: [], deletedVersions: [], aliases: [] };
    } catch (error) {
      // Give the name back so a retry can succeed at once; if this fails too, the claim is an orphan
      // that a later create takes over.
      await this.releaseClaim(input.name, modelId).catch(() => undefined);
      throw error;
    }
  }

  async rename(state: ModelState, newName: string, now: number): Promise<StoredModel> {
    const { model } = state;
    await this.claimName(newName, model.slot, model.modelId);
    let updated: StoredModel;
    try {
      updated = await this.updateModel(state, {
        set: { '#name': ':new', lastUpdatedTimestamp: ':now' },
        values: { ':new': newName, ':now': now, ':old': model.name },
        condition: '#name = :old',
        names: { '#name': 'name' },
      });
    } catch (error) {
      // A delete or another rename won the race: give the new name back.
      await this.releaseClaim(newName, model.modelId);
      throw error;
    }
    await this.releaseClaim(model.name, model.modelId);
    return updated;
  }

  async updateDescription(state: ModelState, description: string, now: number): Promise<StoredModel> {
    return this.updateModel(state, {
      set: { description: ':description', lastUpdatedTimestamp: ':now' },
      values: { ':description': description, ':now': now },
    });
  }

  async delete(name: string): Promise<ModelState | undefined> {
    const found = await this.resolve(name);
    if (!found || found.state.model.name !== name) return undefined;
    const { model } = found.state;
    if (!found.deleting) {
      try {
        // The commit point: from here on the model is gone for every reader (and out of the search
        // index); the rest is cleaning up, which a retried delete resumes.
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: registryKeys.model(model.slot),
            UpdateExpression: 'SET deleting = :now REMOVE gsi1pk, gsi1sk',
            ConditionExpression: 'modelId = :id AND #name = :name AND attribute_not_exists(deleting)',
            ExpressionAttributeNames: { '#name': 'name' },
            ExpressionAttributeValues: { ':now': this.clock.now(), ':id': model.modelId, ':name': name },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // A concurrent rename or delete got there first: answer from what is true now.
        return this.delete(name);
      }
    }
    await this.sweep(model.slot, model.modelId);
    await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: registryKeys.model(model.slot),
        ConditionExpression: 'attribute_not_exists(pk) OR modelId = :id',
        ExpressionAttributeValues: { ':id': model.modelId },
      }),
    );
    // Writes that passed their checks just before the delete may land after the first sweep.
    await this.sweep(model.slot, model.modelId);
    await this.releaseClaim(name, model.modelId);
    return found.state;
  }

  async setModelTag(
    state: ModelState,
    key: string,
    value: string,
  ): Promise<{ previous: string | undefined; revision: number }> {
    const old = await this.withItemSizeCheck(`Registered model '${state.model.name}'`, () =>
      this.updateModelOld(state, 'SET tags.#key = :value', { ':value': value }, { '#key': key }),
    );
    return { previous: tagOf(old, key), revision: Number(old.revision) + 1 };
  }

  async deleteModelTag(
    state: ModelState,
    key: string,
  ): Promise<{ previous: string; revision: number } | undefined> {
    try {
      const old = await this.updateModelOld(
        state,
        'REMOVE tags.#key',
        {},
        { '#key': key },
        'attribute_exists(tags.#key)',
      );
      return { previous: tagOf(old, key) ?? '', revision: Number(old.revision) + 1 };
    } catch (error) {
      if (!(error instanceof ResourceDoesNotExistError)) throw error;
      // Either the tag or the model is missing; only the second is an error.
      await this.requireLiveModel(state);
      return undefined;
    }
  }

  async createVersion(state: ModelState, draft: VersionDraft): Promise<StoredVersion> {
    let current = state;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const version = await this.allocateVersion(current, draft.creationTimestamp);
      const stored: StoredVersion = {
        modelId: current.model.modelId,
        version,
        creationTimestamp: draft.creationTimestamp,
        lastUpdatedTimestamp: draft.creationTimestamp,
        description: draft.description,
        source: draft.source,
        storageLocation: draft.storageLocation,
        runId: draft.runId,
        runLink: draft.runLink,
        tags: draft.tags,
        revision: 1,
      };
      try {
        await this.withItemSizeCheck(`Model version ${version} of '${current.model.name}'`, () =>
          this.client.send(
            new PutCommand({
              TableName: this.tableName,
              Item: versionItem(current.model.slot, stored),
              // An item of an earlier model in this slot (see `delete`) may be overwritten.
              ConditionExpression: 'attribute_not_exists(pk) OR modelId <> :id',
              ExpressionAttributeValues: { ':id': stored.modelId },
            }),
          ),
        );
        return stored;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      // Another request took this number (it filled a gap we saw, or we filled one it left open):
      // read again and take the next free one.
      current = await this.reread(current);
      await jitter(attempt);
    }
    throw new TemporarilyUnavailableError(
      `Too many concurrent versions of model '${state.model.name}'; retry the request`,
    );
  }

  async updateVersion(
    state: ModelState,
    version: number,
    description: string | undefined,
    now: number,
  ): Promise<StoredVersion> {
    const old = await this.updateVersionItem(state, version, {
      expression:
        description === undefined
          ? 'SET lastUpdatedTimestamp = :now, revision = revision + :one REMOVE description'
          : 'SET description = :description, lastUpdatedTimestamp = :now, revision = revision + :one',
      values: { ':now': now, ...(description === undefined ? {} : { ':description': description }) },
    });
    return {
      ...fromVersionItem(old),
      description,
      lastUpdatedTimestamp: now,
      revision: Number(old.revision) + 1,
    };
  }

  async deleteVersion(state: ModelState, version: number, now: number): Promise<StoredAlias[]> {
    const { model } = state;
    try {
      // A tombstone keeps the number used (MLflow never reuses a deleted version's number) and
      // drops everything else, as MLflow redacts a deleted version.
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...registryKeys.version(model.slot, version),
            entity: 'model-version',
            modelId: model.modelId,
            version,
            deleted: true,
            deletedAt: now,
          },
          ConditionExpression: 'modelId = :id AND attribute_not_exists(deleted)',
          ExpressionAttributeValues: { ':id': model.modelId },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw versionNotFound(model.name, version);
      throw error;
    }
    // Readers ignore stage entries and aliases of versions that do not exist, so a crash from here
    // on leaves nothing visible; these writes only tidy up.
    await this.updateModel(state, {
      set: { lastUpdatedTimestamp: ':now' },
      add: ['stageRevision'],
      remove: ['stages.#version'],
      values: { ':now': now },
      names: { '#version': String(version) },
    }).catch((error: unknown) => {
      if (!(error instanceof ResourceDoesNotExistError)) throw error;
    });
    const removed: StoredAlias[] = [];
    for (const alias of state.aliases.filter((candidate) => candidate.version === version)) {
      try {
        await this.client.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: registryKeys.alias(model.slot, alias.alias),
            ConditionExpression: 'modelId = :id AND #version = :version',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':id': model.modelId, ':version': version },
          }),
        );
        removed.push(alias);
      } catch (error) {
        // Moved to another version meanwhile: not ours to delete.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return removed;
  }

  async setVersionTag(
    state: ModelState,
    version: number,
    key: string,
    value: string,
  ): Promise<{ previous: string | undefined; revision: number }> {
    const old = await this.withItemSizeCheck(`Model version ${version} of '${state.model.name}'`, () =>
      this.updateVersionItem(state, version, {
        expression: 'SET tags.#key = :value, revision = revision + :one',
        values: { ':value': value },
        names: { '#key': key },
      }),
    );
    return { previous: tagOf(old, key), revision: Number(old.revision) + 1 };
  }

  async deleteVersionTag(
    state: ModelState,
    version: number,
    key: string,
  ): Promise<{ previous: string; revision: number } | undefined> {
    const { model } = state;
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: registryKeys.version(model.slot, version),
          UpdateExpression: 'REMOVE tags.#key SET revision = revision + :one',
          ConditionExpression:
            'modelId = :id AND attribute_not_exists(deleted) AND attribute_exists(tags.#key)',
          ExpressionAttributeNames: { '#key': key },
          ExpressionAttributeValues: { ':id': model.modelId, ':one': 1 },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const old = result.Attributes ?? {};
      return { previous: tagOf(old, key) ?? '', revision: Number(old.revision) + 1 };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const fresh = await this.reread(state);
      if (!fresh.versions.some((candidate) => candidate.version === version)) {
        throw versionNotFound(model.name, version);
      }
      return undefined;
    }
  }

  async transitionStage(
    state: ModelState,
    version: number,
    stage: Stage,
    archiveExisting: boolean,
    now: number,
  ): Promise<TransitionResult> {
    let current = state;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const { model } = current;
      if (!current.versions.some((candidate) => candidate.version === version)) {
        throw versionNotFound(model.name, version);
      }
      const previousStage = stageOf(model.stages, version);
      const archived = archiveExisting
        ? current.versions
            .map((candidate) => candidate.version)
            .filter((other) => other !== version && stageOf(model.stages, other) === stage)
        : [];
      const set: Record<string, string> = { lastUpdatedTimestamp: ':now', 'stages.#v0': ':target' };
      const names: Record<string, string> = { '#v0': String(version) };
      const values: Record<string, unknown> = {
        ':now': now,
        ':target': { stage, at: now } satisfies StageEntry,
        ':seen': model.stageRevision,
      };
      archived.forEach((other, index) => {
        set[`stages.#a${index}`] = ':archived';
        names[`#a${index}`] = String(other);
      });
      if (archived.length > 0) values[':archived'] = { stage: 'Archived', at: now } satisfies StageEntry;
      try {
        // One conditional write on the model item moves the version and archives the others, so
        // concurrent transitions apply one after another: at most one version stays in a stage
        // that was entered with archive_existing_versions.
        const updated = await this.updateModel(current, {
          set,
          add: ['stageRevision'],
          values,
          names,
          condition: 'stageRevision = :seen',
        });
        return {
          previousStage,
          archived,
          revision: updated.revision,
          state: { ...current, model: updated },
        };
      } catch (error) {
        if (!(error instanceof ResourceDoesNotExistError)) throw error;
      }
      current = await this.reread(current);
      await jitter(attempt);
    }
    throw new TemporarilyUnavailableError(
      `Too many concurrent stage transitions on model '${state.model.name}'; retry the request`,
    );
  }

  async setAlias(
    state: ModelState,
    alias: string,
    version: number,
    now: number,
  ): Promise<{ previous: StoredAlias | undefined; current: StoredAlias }> {
    const { model } = state;
    let previous = state.aliases.find((candidate) => candidate.alias === alias);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (previous?.version === version) return { previous, current: previous };
      const current: StoredAlias = {
        modelId: model.modelId,
        alias,
        version,
        revision: (previous?.revision ?? 0) + 1,
        updatedAt: now,
      };
      try {
        // Compare-and-set on the alias item's revision: of two concurrent moves one wins, the other
        // reads the winner's result and moves from there, so each move knows its true predecessor.
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: aliasItem(model.slot, current),
            ConditionExpression: previous
              ? 'modelId = :id AND revision = :revision'
              : 'attribute_not_exists(pk) OR modelId <> :id',
            ExpressionAttributeValues: previous
              ? { ':id': model.modelId, ':revision': previous.revision }
              : { ':id': model.modelId },
          }),
        );
        return { previous, current };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      previous = await this.readAlias(model.slot, model.modelId, alias);
      await jitter(attempt);
    }
    throw new TemporarilyUnavailableError(`Too many concurrent moves of alias '${alias}'; retry the request`);
  }

  async deleteAlias(state: ModelState, alias: string): Promise<StoredAlias | undefined> {
    const { model } = state;
    try {
      const result = await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: registryKeys.alias(model.slot, alias),
          ConditionExpression: 'attribute_not_exists(pk) OR modelId = :id',
          ExpressionAttributeValues: { ':id': model.modelId },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return result.Attributes ? fromAliasItem(result.Attributes) : undefined;
    } catch (error) {
      // Left over from an earlier model in this slot: not this model's alias.
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async load(model: StoredModel): Promise<ModelState | undefined> {
    const assembled = assemble(await this.queryPartition(registryKeys.partition(model.slot)), model.modelId);
    return assembled && !assembled.deleting ? assembled.state : undefined;
  }

  async listModels(): Promise<StoredModel[]> {
    const items = await this.queryIndex(registryKeys.modelsPartition);
    return items.filter((item) => item.deleting === undefined).map(fromModelItem);
  }

  async listVersionsAndAliases(): Promise<{ versions: StoredVersion[]; aliases: StoredAlias[] }> {
    const [versions, aliases] = await Promise.all([
      this.queryIndex(registryKeys.versionsPartition),
      this.queryIndex(registryKeys.aliasesPartition),
    ]);
    return {
      versions: versions.filter((item) => item.deleted === undefined).map(fromVersionItem),
      aliases: aliases.map(fromAliasItem),
    };
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Finds the model a name is claimed by. One Query when the model lives in its name's slot (every
   * model that was never renamed), two otherwise. `deleting` models are returned so that a delete
   * can resume; everything else treats them as gone.
   */
  private async resolve(
    name: string,
  ): Promise<{ claim: NameClaim; state: ModelState; deleting: boolean } | undefined> {
    const claimKey = registryKeys.nameClaim(name);
    const items = await this.queryPartition(claimKey.pk);
    const claimItem = items.find((item) => item.sk === claimKey.sk);
    if (!claimItem || claimItem.name !== name) return undefined;
    const claim = toClaim(claimItem);
    const slotItems =
      registryKeys.partition(claim.slot) === claimKey.pk
        ? items
        : await this.queryPartition(registryKeys.partition(claim.slot));
    const assembled = assemble(slotItems, claim.modelId);
    if (!assembled) return undefined;
    return { claim, state: assembled.state, deleting: assembled.deleting };
  }

  /** The model's partition read again, for a retry after a lost race. */
  private async reread(state: ModelState): Promise<ModelState> {
    const items = await this.queryPartition(registryKeys.partition(state.model.slot));
    const assembled = assemble(items, state.model.modelId);
    if (!assembled || assembled.deleting) throw modelNotFound(state.model.name);
    return assembled.state;
  }

  private async requireLiveModel(state: ModelState): Promise<void> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: registryKeys.model(state.model.slot),
        ConsistentRead: true,
      }),
    );
    const item = result.Item;
    if (!item || item.modelId !== state.model.modelId || item.deleting !== undefined) {
      throw modelNotFound(state.model.name);
    }
  }

  /**
   * The number for a new version: the lowest number that was handed out but never written (its
   * writer died between the counter and the version write, or is still writing and will move on if
   * this request wins the number), else the next one from the model's counter. So numbers have no
   * gaps even across crashes, and the conditional put of the version decides who owns a number.
   */
  private async allocateVersion(state: ModelState, now: number): Promise<number> {
    const used = new Set([...state.versions.map((version) => version.version), ...state.deletedVersions]);
    let hole: number | undefined;
    for (let candidate = 1; candidate <= state.model.latestVersion; candidate++) {
      if (!used.has(candidate)) {
        hole = candidate;
        break;
      }
    }
    // Both branches also check that the model is live and touch its last_updated_timestamp, as
    // MLflow does on every new version.
    if (hole !== undefined) {
      await this.updateModel(state, { set: { lastUpdatedTimestamp: ':now' }, values: { ':now': now } });
      return hole;
    }
    const updated = await this.updateModel(state, {
      set: { lastUpdatedTimestamp: ':now' },
      add: ['latestVersion'],
      values: { ':now': now },
    });
    return updated.latestVersion;
  }

  /**
   * A conditional UpdateItem on the live model item; `set` maps paths to value placeholders, `add`
   * lists counters to increment. Every change bumps the model's revision. Throws
   * `ResourceDoesNotExistError` when the model is gone or the extra condition fails.
   */
  private async updateModel(
    state: ModelState,
    change: {
      set?: Record<string, string>;
      add?: string[];
      remove?: string[];
      values: Record<string, unknown>;
      names?: Record<string, string>;
      condition?: string;
    },
  ): Promise<StoredModel> {
    const sets = [
      ...Object.entries(change.set ?? {}).map(([path, value]) => `${path} = ${value}`),
      ...['revision', ...(change.add ?? [])].map((counter) => `${counter} = ${counter} + :one`),
    ];
    const expression = `SET ${sets.join(', ')}${change.remove?.length ? ` REMOVE ${change.remove.join(', ')}` : ''}`;
    const input: UpdateCommandInput = {
      TableName: this.tableName,
      Key: registryKeys.model(state.model.slot),
      UpdateExpression: expression,
      ConditionExpression: `modelId = :id AND attribute_not_exists(deleting)${change.condition ? ` AND ${change.condition}` : ''}`,
      ExpressionAttributeValues: { ...change.values, ':id': state.model.modelId, ':one': 1 },
      ...(change.names && Object.keys(change.names).length > 0
        ? { ExpressionAttributeNames: change.names }
        : {}),
      ReturnValues: 'ALL_NEW',
    };
    try {
      const result = await this.client.send(new UpdateCommand(input));
      return fromModelItem(result.Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw modelNotFound(state.model.name);
      throw error;
    }
  }

  /** Like `updateModel` for tag changes, returning the item as it was before. */
  private async updateModelOld(
    state: ModelState,
    expression: string,
    values: Record<string, unknown>,
    names: Record<string, string>,
    condition?: string,
  ): Promise<Item> {
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: registryKeys.model(state.model.slot),
          UpdateExpression: `${expression} ${expression.startsWith('SET') ? ',' : 'SET'} revision = revision + :one`,
          ConditionExpression: `modelId = :id AND attribute_not_exists(deleting)${condition ? ` AND ${condition}` : ''}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ':id': state.model.modelId, ':one': 1 },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return result.Attributes ?? {};
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw modelNotFound(state.model.name);
      throw error;
    }
  }

  /** A conditional UpdateItem on a live version item; returns the item as it was before. */
  private async updateVersionItem(
    state: ModelState,
    version: number,
    change: { expression: string; values: Record<string, unknown>; names?: Record<string, string> },
  ): Promise<Item> {
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: registryKeys.version(state.model.slot, version),
          UpdateExpression: change.expression,
          ConditionExpression: 'modelId = :id AND attribute_not_exists(deleted)',
          ...(change.names ? { ExpressionAttributeNames: change.names } : {}),
          ExpressionAttributeValues: { ...change.values, ':id': state.model.modelId, ':one': 1 },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return result.Attributes ?? {};
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw versionNotFound(state.model.name, version);
      throw error;
    }
  }

  /** Stores a new model item; false when the slot already holds a model. */
  private async putModel(slot: string, modelId: string, input: NewModel): Promise<boolean> {
    try {
      await this.withItemSizeCheck(`Registered model '${input.name}'`, () =>
        this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: modelItem(newModel(slot, modelId, input)),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Claims a name for a model (see `NameClaims`): a claim whose model is missing, carries another
   * name, or is being deleted may be taken over once it is older than any request can run
   * (ORPHAN_CLAIM_AGE_MS); a model being deleted gives its name up at once.
   */
  private async claimName(name: string, slot: string, modelId: string): Promise<void> {
    if (!(await this.claims.claim(name, modelId, { slot }))) {
      throw new ResourceAlreadyExistsError(`Registered Model (name=${name}) already exists.`);
    }
  }

  private async isOrphanedClaim(claim: NameClaim, name: string): Promise<boolean> {
    const owner = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: registryKeys.model(claim.slot),
        ConsistentRead: true,
      }),
    );
    const ownerItem = owner.Item?.modelId === claim.modelId ? owner.Item : undefined;
    return (
      ownerItem?.deleting !== undefined ||
      (ownerItem?.name !== name && this.clock.now() - claim.claimedAt > ORPHAN_CLAIM_AGE_MS)
    );
  }

  private releaseClaim(name: string, modelId: string): Promise<void> {
    return this.claims.release(name, modelId);
  }

  private async readAlias(slot: string, modelId: string, alias: string): Promise<StoredAlias | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: registryKeys.alias(slot, alias),
        ConsistentRead: true,
      }),
    );
    return result.Item && result.Item.modelId === modelId ? fromAliasItem(result.Item) : undefined;
  }

  /**
   * Deletes the deleted model's version, tombstone and alias items. While its model item still holds
   * the slot no other model can be there, so items left by earlier models go too. Once the model item
   * is gone a new model may take the slot (a create under the same name, see `claimName`), so the
   * late sweep deletes only this model's items, each conditioned on the model id it was read with:
   * an item the new model has overwritten since is not ours to delete.
   */
  private async sweep(slot: string, deletedModelId: string): Promise<void> {
    const items = await this.queryPartition(registryKeys.partition(slot));
    const holdsSlot = items.some((item) => item.sk === 'MODEL' && item.modelId === deletedModelId);
    const doomed = items.filter(
      (item) => item.sk !== 'NAME' && item.sk !== 'MODEL' && (holdsSlot || item.modelId === deletedModelId),
    );
    await mapLimited(doomed, SWEEP_CONCURRENCY, async (item) => {
      try {
        await this.client.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: { pk: item.pk, sk: item.sk },
            ConditionExpression: 'modelId = :seen',
            ExpressionAttributeValues: { ':seen': item.modelId },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    });
  }

  private async queryPartition(pk: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  private async queryIndex(partition: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: REGISTRY_INDEXES.gsi1,
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': partition },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  private async withItemSizeCheck<T>(what: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof Error && /item size/i.test(error.message)) {
        throw new InvalidParameterError(
          `${what} cannot hold more tags: its tags are limited to about 350 KB in all`,
        );
      }
      throw error;
    }
  }
}

// -----------------------------------------------------------------------------------------------
// Items
// -----------------------------------------------------------------------------------------------

function newModel(slot: string, modelId: string, input: NewModel): StoredModel {
  return {
    slot,
    modelId,
    name: input.name,
    description: input.description,
    creationTimestamp: input.creationTimestamp,
    lastUpdatedTimestamp: input.creationTimestamp,
    tags: input.tags,
    latestVersion: 0,
    revision: 1,
    stageRevision: 0,
    stages: {},
  };
}

function modelItem(model: StoredModel): Item {
  return {
    ...registryKeys.model(model.slot),
    gsi1pk: registryKeys.modelsPartition,
    gsi1sk: registryKeys.modelsSort(model.modelId),
    entity: 'registered-model',
    ...model,
  };
}

function fromModelItem(item: Item): StoredModel {
  return {
    slot: String(item.slot),
    modelId: String(item.modelId),
    name: String(item.name),
    description: typeof item.description === 'string' ? item.description : '',
    creationTimestamp: Number(item.creationTimestamp),
    lastUpdatedTimestamp: Number(item.lastUpdatedTimestamp),
    tags: { ...((item.tags as Record<string, string> | undefined) ?? {}) },
    latestVersion: Number(item.latestVersion ?? 0),
    revision: Number(item.revision ?? 0),
    stageRevision: Number(item.stageRevision ?? 0),
    stages: { ...((item.stages as Record<string, StageEntry> | undefined) ?? {}) },
  };
}

function versionItem(slot: string, version: StoredVersion): Item {
  return {
    ...registryKeys.version(slot, version.version),
    gsi1pk: registryKeys.versionsPartition,
    gsi1sk: registryKeys.versionsSort(version.modelId, version.version),
    entity: 'model-version',
    ...version,
  };
}

function fromVersionItem(item: Item): StoredVersion {
  return {
    modelId: String(item.modelId),
    version: Number(item.version),
    creationTimestamp: Number(item.creationTimestamp),
    lastUpdatedTimestamp: Number(item.lastUpdatedTimestamp),
    description: typeof item.description === 'string' ? item.description : undefined,
    source: String(item.source ?? ''),
    storageLocation: typeof item.storageLocation === 'string' ? item.storageLocation : undefined,
    runId: String(item.runId ?? ''),
    runLink: String(item.runLink ?? ''),
    tags: { ...((item.tags as Record<string, string> | undefined) ?? {}) },
    revision: Number(item.revision ?? 0),
  };
}

function aliasItem(slot: string, alias: StoredAlias): Item {
  return {
    ...registryKeys.alias(slot, alias.alias),
    gsi1pk: registryKeys.aliasesPartition,
    gsi1sk: registryKeys.aliasesSort(alias.modelId, alias.alias),
    entity: 'model-alias',
    ...alias,
  };
}

function fromAliasItem(item: Item): StoredAlias {
  return {
    modelId: String(item.modelId),
    alias: String(item.alias),
    version: Number(item.version),
    revision: Number(item.revision ?? 0),
    updatedAt: Number(item.updatedAt ?? 0),
  };
}

function toClaim(item: Item): NameClaim {
  return {
    name: String(item.name),
    slot: String(item.slot),
    modelId: String(item.modelId),
    claimedAt: Number(item.claimedAt),
  };
}

/**
 * A model's state from its partition's items. Items of an earlier model in the same slot (left by a
 * write that raced that model's delete) carry another model id and are ignored.
 */
function assemble(
  items: readonly Item[],
  modelId: string,
): { state: ModelState; deleting: boolean } | undefined {
  const modelRaw = items.find((item) => item.sk === 'MODEL' && item.modelId === modelId);
  if (!modelRaw) return undefined;
  const versions: StoredVersion[] = [];
  const deletedVersions: number[] = [];
  const aliases: StoredAlias[] = [];
  for (const item of items) {
    if (item.modelId !== modelId) continue;
    const sk = String(item.sk);
    if (sk.startsWith(registryKeys.versionPrefix)) {
      if (item.deleted === true) deletedVersions.push(registryKeys.versionOf(sk));
      else versions.push(fromVersionItem(item));
    } else if (sk.startsWith(registryKeys.aliasPrefix)) {
      aliases.push(fromAliasItem(item));
    }
  }
  return {
    state: { model: fromModelItem(modelRaw), versions, deletedVersions, aliases },
    deleting: modelRaw.deleting !== undefined,
  };
}

function stageOf(stages: Record<string, StageEntry>, version: number): Stage {
  return stages[String(version)]?.stage ?? 'None';
}

function tagOf(item: Item, key: string): string | undefined {
  const tags = item.tags as Record<string, string> | undefined;
  return tags && Object.hasOwn(tags, key) ? tags[key] : undefined;
}

function modelNotFound(name: string): ResourceDoesNotExistError {
  return new ResourceDoesNotExistError(`Registered Model with name=${name} not found`);
}

function versionNotFound(name: string, version: number): ResourceDoesNotExistError {
  return new ResourceDoesNotExistError(`Model Version (name=${name}, version=${version}) not found`);
}
