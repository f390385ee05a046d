import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { deploymentKeys } from '../../deployments/keys.ts';
import { monitoringKeys } from '../../monitoring/keys.ts';
import { dynamoDocumentClient } from '../../platform/aws/dynamodb.ts';
import { runKeys } from '../../tracking/keys.ts';
import { loggedModelKeys } from '../../tracking/logged-models/keys.ts';
import type { ResourceLocator } from '../ports.ts';

/**
 * Finds the experiment of a run or a logged model in the tracking table, and the registered model of
 * an endpoint in the deployments table: one strongly consistent GetItem of one attribute (a run
 * created a moment ago is found). A function configured without a table never routes a request that
 * needs it; asked anyway, the lookup fails (a 500, never a pass).
 */
export class DynamoResourceLocator implements ResourceLocator {
  constructor(
    private readonly tables: {
      tracking?: string | undefined;
      deployments?: string | undefined;
      monitoring?: string | undefined;
    },
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  experimentOfRun(runId: string): Promise<string | undefined> {
    return this.attributeOf('tracking', runKeys.item(runId), 'experimentId');
  }

  experimentOfLoggedModel(modelId: string): Promise<string | undefined> {
    return this.attributeOf('tracking', loggedModelKeys.item(modelId), 'experimentId');
  }

  modelOfEndpoint(name: string): Promise<string | undefined> {
    return this.attributeOf('deployments', deploymentKeys.endpoint(name), 'modelName');
  }

  modelOfMonitor(name: string): Promise<string | undefined> {
    return this.attributeOf('monitoring', monitoringKeys.monitor(name), 'modelName');
  }

  private async attributeOf(
    table: 'tracking' | 'deployments' | 'monitoring',
    key: { pk: string; sk: string },
    attribute: string,
  ): Promise<string | undefined> {
    const tableName = this.tables[table];
    if (!tableName) throw new Error(`${table.toUpperCase()}_TABLE_NAME is not set`);
    // DynamoDB rejects keys over 2 KB; such an id names nothing.
    if (Buffer.byteLength(key.pk, 'utf8') > 2048) return undefined;
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: tableName,
        Key: key,
        ProjectionExpression: '#attribute',
        ExpressionAttributeNames: { '#attribute': attribute },
        ConsistentRead: true,
      }),
    );
    const value = Item?.[attribute];
    return value === undefined ? undefined : String(value);
  }
}
