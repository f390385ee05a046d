import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../../platform/aws/dynamodb.ts';
import { runKeys } from '../../keys.ts';
import type { RunArtifactLocator } from '../ports.ts';

/**
 * Reads a run's artifact URI from its item in the tracking table: one GetItem of one attribute.
 * Strongly consistent, so a run created a moment ago (the usual case: create, log, list) is found.
 */
export class DynamoRunArtifactLocator implements RunArtifactLocator {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async artifactUri(runId: string): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: runKeys.item(runId),
        ProjectionExpression: 'artifactUri',
        ConsistentRead: true,
      }),
    );
    const uri = Item?.artifactUri;
    return typeof uri === 'string' && uri !== '' ? uri : undefined;
  }
}
