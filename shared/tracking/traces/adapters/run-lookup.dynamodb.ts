import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../../platform/aws/dynamodb.ts';
import { runKeys } from '../../keys.ts';
import type { RunLookup } from '../ports.ts';

/**
 * A run's experiment and stage, from its item in the tracking table: one consistent GetItem of two
 * attributes (the traces function may read run items, nothing else of runs).
 */
export class DynamoRunLookup implements RunLookup {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async find(runId: string): Promise<{ experimentId: string; lifecycleStage: string } | undefined> {
    // DynamoDB refuses keys over 2 KB; such an id names no run.
    if (runId === '' || Buffer.byteLength(runId, 'utf8') > 1024) return undefined;
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: runKeys.item(runId),
        ProjectionExpression: 'experimentId, lifecycleStage',
        ConsistentRead: true,
      }),
    );
    return Item
      ? { experimentId: String(Item.experimentId), lifecycleStage: String(Item.lifecycleStage) }
      : undefined;
  }
}
