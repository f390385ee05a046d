import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../deployments/errors.ts';
import { dynamoDocumentClient } from '../../platform/aws/dynamodb.ts';
import { decodeKeyToken, queryPage } from '../../platform/dynamodb/query-page.ts';
import { ResourceAlreadyExistsError } from '../../platform/errors.ts';
import { monitorNotFound } from '../errors.ts';
import { MONITORING_INDEXES, monitoringKeys } from '../keys.ts';
import { type Monitor, type MonitorRun, monitorName } from '../model.ts';
import type { MonitorStore, Page, PageRequest } from '../ports.ts';

type Item = Record<string, unknown>;

/** Settings a monitor may lack; an update that leaves them out removes them. */
const OPTIONAL_SETTINGS = ['description', 'features', 'quality'] as const;

/** The monitoring table: monitors and their runs (`keys.ts`). */
export class DynamoMonitorStore implements MonitorStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async create(monitor: Monitor): Promise<Monitor> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(monitor),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ResourceAlreadyExistsError(`Monitor '${monitor.name}' already exists`);
      }
      throw error;
    }
    return monitor;
  }

  async get(name: string): Promise<Monitor | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: monitoringKeys.monitor(name), ConsistentRead: true }),
    );
    return Item ? fromItem(Item) : undefined;
  }

  async list(page: PageRequest, endpointName?: string): Promise<Page<Monitor>> {
    const byEndpoint = endpointName !== undefined;
    const [index, pkName, skName, partition] = byEndpoint
      ? [MONITORING_INDEXES.gsi2, 'gsi2pk', 'gsi2sk', monitoringKeys.endpointPartition(endpointName)]
      : [MONITORING_INDEXES.gsi1, 'gsi1pk', 'gsi1sk', monitoringKeys.monitorsPartition];
    const kind: TokenKind = byEndpoint ? 'endpoint' : 'all';
    let start: Item | undefined;
    if (page.pageToken !== undefined) {
      const last = decodeToken(page.pageToken, kind);
      start = { ...monitoringKeys.monitor(last), [pkName]: partition, [skName]: last };
    }
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': pkName },
        ExpressionAttributeValues: { ':pk': partition },
      },
      { maxResults: page.maxResults, start, kind, map: fromItem, tokenOf: (item) => String(item.name) },
    );
  }

  async update(monitor: Monitor, expectedUpdatedAt: number): Promise<Monitor> {
    // Every setting is written; the retrain action's cooldown state (`lastRetrain`) is left as it is,
    // since the retrain function may have taken it since the caller read the monitor.
    const { pk: _pk, sk: _sk, lastRetrain: _retrain, ...fields } = toItem(monitor);
    const names: Record<string, string> = { '#updatedAt': 'updatedAt' };
    const values: Record<string, unknown> = { ':expected': expectedUpdatedAt };
    const sets: string[] = [];
    for (const [field, value] of Object.entries(fields)) {
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    const removed = OPTIONAL_SETTINGS.filter((field) => !(field in fields));
    for (const field of removed) names[`#${field}`] = field;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: monitoringKeys.monitor(monitor.name),
          UpdateExpression: `SET ${sets.join(', ')}${removed.length > 0 ? ` REMOVE ${removed.map((f) => `#${f}`).join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(pk) AND #updatedAt = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (!(await this.get(monitor.name))) throw monitorNotFound(monitor.name);
      throw new ConflictError(`Monitor '${monitor.name}' changed since it was read; read it again`);
    }
    return monitor;
  }

  async delete(name: string): Promise<boolean> {
    let existed = false;
    let startKey: Item | undefined;
    // The monitor item and its runs: one partition, deleted 25 at a time.
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': monitoringKeys.partition(name) },
          ProjectionExpression: 'pk, sk',
          ExclusiveStartKey: startKey,
        }),
      );
      const keys = (page.Items ?? []).map((item) => ({ pk: item.pk, sk: item.sk }));
      if (keys.some((key) => key.sk === 'MONITOR')) existed = true;
      for (let i = 0; i < keys.length; i += 25) {
        let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
          const result = await this.client.send(
            new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
          );
          requests = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
          if (attempt > 8) throw new Error(`Could not delete the runs of monitor ${name}: throttled`);
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return existed;
  }

  async createRun(run: MonitorRun): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...monitoringKeys.run(run.monitorName, run.runId), ...run },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async updateRun(monitorName: string, runId: string, changes: Partial<MonitorRun>): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    if (sets.length === 0) return;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: monitoringKeys.run(monitorName, runId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async getRun(monitorName: string, runId: string): Promise<MonitorRun | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: monitoringKeys.run(monitorName, runId),
        ConsistentRead: true,
      }),
    );
    return Item ? runOf(Item) : undefined;
  }

  async listRuns(monitorName: string, page: PageRequest): Promise<Page<MonitorRun>> {
    const pk = monitoringKeys.partition(monitorName);
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': monitoringKeys.runPrefix },
      },
      {
        maxResults: page.maxResults,
        start: page.pageToken === undefined ? undefined : { pk, sk: decodeToken(page.pageToken, 'runs') },
        kind: 'runs',
        map: runOf,
        tokenOf: (item) => String(item.sk),
      },
    );
  }

  async claimRetrain(
    name: string,
    runId: string,
    now: number,
    cooldownMs: number,
  ): Promise<'claimed' | 'cooldown'> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: monitoringKeys.monitor(name),
          UpdateExpression: 'SET lastRetrain = :claim',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(lastRetrain) OR lastRetrain.#at <= :cutoff OR lastRetrain.runId = :run)',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: {
            ':claim': { at: now, runId, executionArn: '' },
            ':cutoff': now - cooldownMs,
            ':run': runId,
          },
        }),
      );
      return 'claimed';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'cooldown';
      throw error;
    }
  }

  async recordRetrain(name: string, runId: string, executionArn: string): Promise<void> {
    await this.client
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: monitoringKeys.monitor(name),
          UpdateExpression: 'SET lastRetrain.executionArn = :arn',
          ConditionExpression: 'attribute_exists(pk) AND lastRetrain.runId = :run',
          ExpressionAttributeValues: { ':arn': executionArn, ':run': runId },
        }),
      )
      .catch((error: unknown) => {
        // A later run took the cooldown meanwhile: its record stands.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }
}

function toItem(monitor: Monitor): Item {
  return {
    ...monitoringKeys.monitor(monitor.name),
    ...monitor,
    gsi1pk: monitoringKeys.monitorsPartition,
    gsi1sk: monitor.name,
    gsi2pk: monitoringKeys.endpointPartition(monitor.endpointName),
    gsi2sk: monitor.name,
  };
}

function fromItem(item: Item): Monitor {
  const { pk: _pk, sk: _sk, gsi1pk: _1, gsi1sk: _2, gsi2pk: _3, gsi2sk: _4, lastRetrain, ...rest } = item;
  const retrain = lastRetrain as Monitor['lastRetrain'] | undefined;
  return { ...(rest as unknown as Monitor), ...(retrain?.executionArn ? { lastRetrain: retrain } : {}) };
}

function runOf(item: Item): MonitorRun {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as MonitorRun;
}

type TokenKind = 'all' | 'endpoint' | 'runs';

/** A page token of one of the monitoring listings; a token of another listing is 400. */
function decodeToken(token: string, kind: TokenKind): string {
  return decodeKeyToken(token, kind, (last) =>
    kind === 'runs'
      ? last.startsWith(monitoringKeys.runPrefix) && last.length < 100
      : monitorName.safeParse(last).success,
  );
}
