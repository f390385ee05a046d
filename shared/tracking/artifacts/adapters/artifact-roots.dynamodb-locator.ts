import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../../platform/aws/dynamodb.ts';
import { runKeys } from '../../keys.ts';
import { loggedModelKeys } from '../../logged-models/keys.ts';
import type { LoggedModelArtifactLocator, RunArtifactLocator } from '../ports.ts';

/**
 * Reads artifact roots from the tracking table: a run's `artifactUri` (`RUN#<id>`, `RUN`) or a logged
 * model's `artifactLocation` (`LM#<id>`, `LM`), one GetItem of the attributes needed. Strongly
 * consistent, so what was created a moment ago (the usual case: create, upload, list) is found.
 * The artifacts function may read only these two kinds of item (`infra/stacks/api.stack.ts`).
 */
export class DynamoArtifactRootLocator implements RunArtifactLocator, LoggedModelArtifactLocator {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async artifactUri(runId: string): Promise<string | undefined> {
    const item = await this.read(runKeys.item(runId), 'artifactUri');
    return nonEmpty(item?.artifactUri);
  }

  async artifactLocation(modelId: string): Promise<string | undefined> {
    const item = await this.read(loggedModelKeys.item(modelId), 'artifactLocation, lifecycleStage');
    return item?.lifecycleStage === 'active' ? nonEmpty(item.artifactLocation) : undefined;
  }

  private async read(key: { pk: string; sk: string }, projection: string) {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: key,
        ProjectionExpression: projection,
        ConsistentRead: true,
      }),
    );
    return Item;
  }
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
