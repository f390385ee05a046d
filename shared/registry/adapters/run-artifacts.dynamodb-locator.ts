import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../platform/aws/dynamodb.ts';
import { runKeys } from '../../tracking/keys.ts';
import type { RunArtifactLocator } from '../ports.ts';

/**
 * Reads a run's artifact URI from the tracking table (read-only; the tracking context owns the run
 * item and its key, `runKeys.item`). One GetItem of one attribute.
 */
export class DynamoRunArtifactLocator implements RunArtifactLocator {
  constructor(
    private readonly trackingTableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async artifactUri(runId: string): Promise<string | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.trackingTableName,
        Key: runKeys.item(runId),
        ProjectionExpression: 'artifactUri',
      }),
    );
    const uri = result.Item?.artifactUri;
    return typeof uri === 'string' && uri !== '' ? uri : undefined;
  }
}
