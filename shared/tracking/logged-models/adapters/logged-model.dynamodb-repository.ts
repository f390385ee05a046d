import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../../platform/aws/dynamodb.ts';
import { queryAll } from '../../../platform/dynamodb/query-page.ts';
import { InvalidParameterError } from '../../../platform/errors.ts';
import { TRACKING_INDEXES } from '../../keys.ts';
import { loggedModelKeys } from '../keys.ts';
import { type KeyValue, LOGGED_MODEL_STATUSES, type LoggedModel, type LoggedModelStatus } from '../model.ts';
import type { LoggedModelRepository } from '../ports.ts';

/**
 * Keys per UpdateItem when writing many tags or params: DynamoDB caps each expression at 4 KB, and
 * a param's condition (`(attribute_not_exists(#m.#k9) OR #m.#k9 = :v9) AND `) takes about 50 bytes.
 */
const KEYS_PER_UPDATE = 40;

interface LoggedModelItem extends LoggedModel {
  pk: string;
  sk: string;
  gsi1pk?: string;
  gsi1sk?: string;
  entity: 'logged-model';
}

/**
 * Logged models in the tracking table, one item each (attributes, tags and params), so a get is
 * one GetItem and a search one Query per experiment. See `../README.md` for the keys and why the
 * writes are safe without transactions.
 */
export class DynamoLoggedModelRepository implements LoggedModelRepository {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async create(model: LoggedModel): Promise<void> {
    await this.sized(model.modelId, () =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(model),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async get(modelId: string): Promise<LoggedModel | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: loggedModelKeys.item(modelId), ConsistentRead: true }),
    );
    return result.Item ? fromItem(result.Item) : undefined;
  }

  async listActive(experimentId: string): Promise<LoggedModel[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: TRACKING_INDEXES.gsi1,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': loggedModelKeys.experimentPartition(experimentId) },
    });
    // The index is eventually consistent: a model deleted a moment ago may still be listed.
    return items.map(fromItem).filter((model) => model.lifecycleStage === 'active');
  }

  async setTags(modelId: string, tags: Record<string, string>): Promise<boolean> {
    for (const chunk of chunks(Object.entries(tags), KEYS_PER_UPDATE)) {
      const names: Record<string, string> = { '#tags': 'tags', '#stage': 'lifecycleStage' };
      const values: Record<string, unknown> = { ':active': 'active' };
      const sets = chunk.map(([key, value], i) => {
        names[`#k${i}`] = key;
        values[`:v${i}`] = value;
        return `#tags.#k${i} = :v${i}`;
      });
      const applied = await this.conditional(modelId, {
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk) AND #stage = :active',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
      if (!applied) return false;
    }
    return true;
  }

  async replaceTag(
    modelId: string,
    key: string,
    expected: string | undefined,
    value: string,
  ): Promise<'replaced' | 'changed' | 'no-model'> {
    const replaced = await this.conditional(modelId, {
      UpdateExpression: 'SET #tags.#key = :value',
      ConditionExpression: `attribute_exists(pk) AND #stage = :active AND ${
        expected === undefined ? 'attribute_not_exists(#tags.#key)' : '#tags.#key = :expected'
      }`,
      ExpressionAttributeNames: { '#tags': 'tags', '#key': key, '#stage': 'lifecycleStage' },
      ExpressionAttributeValues: {
        ':value': value,
        ':active': 'active',
        ...(expected === undefined ? {} : { ':expected': expected }),
      },
    });
    if (replaced) return 'replaced';
    const model = await this.get(modelId);
    return model?.lifecycleStage === 'active' ? 'changed' : 'no-model';
  }

  async deleteTag(modelId: string, key: string): Promise<'deleted' | 'no-model' | 'no-tag'> {
    const deleted = await this.conditional(modelId, {
      UpdateExpression: 'REMOVE #tags.#key',
      ConditionExpression: 'attribute_exists(pk) AND #stage = :active AND attribute_exists(#tags.#key)',
      ExpressionAttributeNames: { '#tags': 'tags', '#key': key, '#stage': 'lifecycleStage' },
      ExpressionAttributeValues: { ':active': 'active' },
    });
    if (deleted) return 'deleted';
    const model = await this.get(modelId);
    return model?.lifecycleStage === 'active' ? 'no-tag' : 'no-model';
  }

  async addParams(modelId: string, params: readonly KeyValue[]): Promise<'added' | 'no-model' | 'conflict'> {
    for (const chunk of chunks(params, KEYS_PER_UPDATE)) {
      const names: Record<string, string> = { '#params': 'params', '#stage': 'lifecycleStage' };
      const values: Record<string, unknown> = { ':active': 'active' };
      const sets: string[] = [];
      const unchanged: string[] = [];
      chunk.forEach(({ key, value }, i) => {
        names[`#k${i}`] = key;
        values[`:v${i}`] = value;
        sets.push(`#params.#k${i} = :v${i}`);
        // Write-once: a key may only be written when absent or already holding this value.
        unchanged.push(`(attribute_not_exists(#params.#k${i}) OR #params.#k${i} = :v${i})`);
      });
      const applied = await this.conditional(modelId, {
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: ['attribute_exists(pk) AND #stage = :active', ...unchanged].join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
      if (!applied) {
        const model = await this.get(modelId);
        return model?.lifecycleStage === 'active' ? 'conflict' : 'no-model';
      }
    }
    return 'added';
  }

  async finalize(modelId: string, status: LoggedModelStatus, now: number): Promise<LoggedModel | undefined> {
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: loggedModelKeys.item(modelId),
          UpdateExpression: 'SET #status = :status, lastUpdatedTimestamp = :now',
          ConditionExpression: 'attribute_exists(pk) AND #stage = :active',
          ExpressionAttributeNames: { '#status': 'status', '#stage': 'lifecycleStage' },
          ExpressionAttributeValues: { ':status': status, ':now': now, ':active': 'active' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? fromItem(result.Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async markDeleted(modelId: string, now: number): Promise<boolean> {
    // Removing the GSI1 keys takes the model out of its experiment's listing: searches never read
    // deleted models, and `get` still finds it by key for `allow_deleted=true`.
    return this.conditional(modelId, {
      UpdateExpression: 'SET #stage = :deleted, lastUpdatedTimestamp = :now REMOVE gsi1pk, gsi1sk',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#stage': 'lifecycleStage' },
      ExpressionAttributeValues: { ':deleted': 'deleted', ':now': now },
    });
  }

  /** Runs an UpdateItem on the model; false when its condition failed. */
  private async conditional(
    modelId: string,
    update: Pick<
      ConstructorParameters<typeof UpdateCommand>[0],
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<boolean> {
    try {
      await this.sized(modelId, () =>
        this.client.send(
          new UpdateCommand({ TableName: this.tableName, Key: loggedModelKeys.item(modelId), ...update }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Turns DynamoDB's item-size refusal into the client's 400 instead of a 500. */
  private async sized<T>(modelId: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (
        error instanceof Error &&
        error.name === 'ValidationException' &&
        /item size/i.test(error.message)
      ) {
        throw new InvalidParameterError(
          `Logged model ${modelId} cannot hold more tags and params: together they are limited to about 350 KB`,
        );
      }
      throw error;
    }
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function toItem(model: LoggedModel): LoggedModelItem {
  return {
    ...loggedModelKeys.item(model.modelId),
    gsi1pk: loggedModelKeys.experimentPartition(model.experimentId),
    gsi1sk: loggedModelKeys.experimentSort(model.modelId),
    entity: 'logged-model',
    ...model,
  };
}

function fromItem(item: Record<string, unknown>): LoggedModel {
  const status =
    LOGGED_MODEL_STATUSES.find((candidate) => candidate === item.status) ?? 'LOGGED_MODEL_PENDING';
  return {
    modelId: String(item.modelId),
    experimentId: String(item.experimentId),
    name: String(item.name),
    artifactLocation: String(item.artifactLocation),
    creationTimestamp: Number(item.creationTimestamp),
    lastUpdatedTimestamp: Number(item.lastUpdatedTimestamp),
    status,
    modelType: typeof item.modelType === 'string' ? item.modelType : '',
    sourceRunId: typeof item.sourceRunId === 'string' ? item.sourceRunId : '',
    lifecycleStage: item.lifecycleStage === 'deleted' ? 'deleted' : 'active',
    tags: { ...((item.tags as Record<string, string> | undefined) ?? {}) },
    params: { ...((item.params as Record<string, string> | undefined) ?? {}) },
  };
}
