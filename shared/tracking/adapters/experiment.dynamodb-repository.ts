import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../platform/aws/dynamodb.ts';
import { NameClaims } from '../../platform/dynamodb/name-claims.ts';
import { InvalidParameterError, ResourceAlreadyExistsError } from '../../platform/errors.ts';
import { experimentKeys, TRACKING_INDEXES } from '../keys.ts';
import type { Experiment, LifecycleStage } from '../model.ts';
import type { Clock, ExperimentRepository } from '../ports.ts';
import { systemClock } from '../ports.ts';

/**
 * A name claim whose experiment is missing or carries another name is left over from a create or
 * rename that died between its two writes. It may be taken over once it is older than any request
 * can run (the API function's timeout is far below this), so a slow writer is never overtaken.
 */
const ORPHAN_CLAIM_AGE_MS = 5 * 60_000;

interface ExperimentItem extends Experiment {
  pk: string;
  sk: string;
  gsi1pk: string;
  gsi1sk: string;
  entity: 'experiment';
  /**
   * Every run of an experiment created with this attribute has search index entries (GSI2), so its
   * searches may read the index; an experiment made before the index is searched by reading its runs.
   */
  runsIndexed: true;
}

/**
 * Experiments in the tracking table. Without transactions (DESIGN.md: the local emulator lacks them),
 * uniqueness rests on a conditional put of a name-claim item made before the experiment item; see
 * `shared/tracking/README.md` for why a crash between the two writes loses nothing.
 */
export class DynamoExperimentRepository implements ExperimentRepository {
  private readonly claims: NameClaims;

  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
    private readonly clock: Clock = systemClock,
  ) {
    this.claims = new NameClaims({
      client,
      tableName,
      key: experimentKeys.nameClaim,
      ownerAttribute: 'experimentId',
      entity: 'experiment-name',
      now: () => this.clock.now(),
      // A claim only counts while the experiment it names carries the name.
      isOrphaned: async (claim, name) =>
        (await this.get(claim.ownerId))?.name !== name &&
        this.clock.now() - claim.claimedAt > ORPHAN_CLAIM_AGE_MS,
    });
  }

  async allocateId(): Promise<string> {
    const result = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: experimentKeys.counter,
        UpdateExpression: 'ADD #value :one',
        ExpressionAttributeNames: { '#value': 'value' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return String(result.Attributes?.value);
  }

  async create(experiment: Experiment): Promise<void> {
    await this.claimName(experiment.name, experiment.experimentId);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(experiment),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      // Give the name back so a retry can succeed at once; if this also fails, the claim is an
      // orphan that a later create takes over.
      await this.claims.release(experiment.name, experiment.experimentId).catch(() => undefined);
      throw error;
    }
  }

  async get(experimentId: string): Promise<Experiment | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: experimentKeys.item(experimentId),
        ConsistentRead: true,
      }),
    );
    return result.Item ? fromItem(result.Item) : undefined;
  }

  async getByName(name: string): Promise<Experiment | undefined> {
    const claim = await this.claims.read(name);
    if (!claim) return undefined;
    const experiment = await this.get(claim.ownerId);
    // A claim only counts when the experiment it names still carries the name.
    return experiment?.name === name ? experiment : undefined;
  }

  async list(): Promise<Experiment[]> {
    const experiments: Experiment[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TRACKING_INDEXES.gsi1,
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': experimentKeys.listPartition },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) experiments.push(fromItem(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return experiments;
  }

  async rename(experiment: Experiment, newName: string, now: number): Promise<void> {
    await this.claimName(newName, experiment.experimentId);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: experimentKeys.item(experiment.experimentId),
          UpdateExpression: 'SET #name = :new, lastUpdateTime = :now',
          ConditionExpression: '#name = :old AND lifecycleStage = :active',
          ExpressionAttributeNames: { '#name': 'name' },
          ExpressionAttributeValues: {
            ':new': newName,
            ':old': experiment.name,
            ':now': now,
            ':active': 'active',
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Another rename or a delete won the race: give the new name back and report the conflict.
      await this.claims.release(newName, experiment.experimentId);
      throw new ResourceAlreadyExistsError(
        `Experiment '${experiment.name}' was changed concurrently; rename not applied`,
      );
    }
    await this.claims.release(experiment.name, experiment.experimentId);
  }

  async transition(
    experimentId: string,
    from: LifecycleStage,
    to: LifecycleStage,
    now: number,
  ): Promise<boolean> {
    return this.conditionalUpdate(experimentId, 'SET lifecycleStage = :to, lastUpdateTime = :now', {
      ':to': to,
      ':now': now,
      ':stage': from,
    });
  }

  async setTag(experimentId: string, key: string, value: string): Promise<boolean> {
    try {
      return await this.conditionalUpdate(
        experimentId,
        'SET tags.#key = :value',
        { ':value': value, ':stage': 'active' },
        { '#key': key },
      );
    } catch (error) {
      if (error instanceof Error && /item size/i.test(error.message)) {
        throw new InvalidParameterError(
          `Experiment ${experimentId} cannot hold more tags: its tags are limited to about 350 KB in all`,
        );
      }
      throw error;
    }
  }

  async deleteTag(experimentId: string, key: string): Promise<boolean> {
    return this.conditionalUpdate(
      experimentId,
      'REMOVE tags.#key',
      { ':stage': 'active' },
      { '#key': key },
      'attribute_exists(tags.#key)',
    );
  }

  /**
   * Runs an update that requires the experiment to exist in stage `:stage` (and `extraCondition`);
   * false if it did not.
   */
  private async conditionalUpdate(
    experimentId: string,
    updateExpression: string,
    values: Record<string, unknown>,
    names: Record<string, string> = {},
    extraCondition?: string,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: experimentKeys.item(experimentId),
          UpdateExpression: updateExpression,
          ConditionExpression: `attribute_exists(pk) AND lifecycleStage = :stage${extraCondition ? ` AND ${extraCondition}` : ''}`,
          ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Claims a name or reports the conflict as MLflow does. */
  private async claimName(name: string, experimentId: string): Promise<void> {
    if (!(await this.claims.claim(name, experimentId))) {
      throw new ResourceAlreadyExistsError(`Experiment '${name}' already exists.`);
    }
  }
}

function toItem(experiment: Experiment): ExperimentItem {
  return {
    ...experimentKeys.item(experiment.experimentId),
    gsi1pk: experimentKeys.listPartition,
    gsi1sk: experimentKeys.listSort(experiment.experimentId),
    entity: 'experiment',
    ...experiment,
    runsIndexed: true,
  };
}

function fromItem(item: Record<string, unknown>): Experiment {
  return {
    experimentId: String(item.experimentId),
    name: String(item.name),
    artifactLocation: String(item.artifactLocation),
    lifecycleStage: item.lifecycleStage === 'deleted' ? 'deleted' : 'active',
    creationTime: Number(item.creationTime),
    lastUpdateTime: Number(item.lastUpdateTime),
    tags: { ...((item.tags as Record<string, string> | undefined) ?? {}) },
  };
}
