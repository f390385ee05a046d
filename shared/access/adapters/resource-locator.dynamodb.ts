import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../platform/aws/dynamodb.ts';
import { runKeys } from '../../tracking/keys.ts';
import { loggedModelKeys } from '../../tracking/logged-models/keys.ts';
import type { ResourceLocator } from '../ports.ts';

/**
 * Finds the experiment of a run or a logged model: one strongly consistent GetItem of one attribute
 * in the tracking table (a run created a moment ago is found).
 */
export class DynamoResourceLocator implements ResourceLocator {
  constructor(
    private readonly trackingTableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  experimentOfRun(runId: string): Promise<string | undefined> {
    return this.experimentOf(runKeys.item(runId));
  }

  experimentOfLoggedModel(modelId: string): Promise<string | undefined> {
    return this.experimentOf(loggedModelKeys.item(modelId));
  }

  private async experimentOf(key: { pk: string; sk: string }): Promise<string | undefined> {
    // DynamoDB rejects keys over 2 KB; such an id names nothing.
    if (Buffer.byteLength(key.pk, 'utf8') > 2048) return undefined;
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.trackingTableName,
        Key: key,
        ProjectionExpression: 'experimentId',
        ConsistentRead: true,
      }),
    );
    const id = Item?.experimentId;
    return id === undefined ? undefined : String(id);
  }
}
