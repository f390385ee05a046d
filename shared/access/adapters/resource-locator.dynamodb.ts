import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { deploymentKeys } from '../../deployments/keys.ts';
import { monitoringKeys } from '../../monitoring/keys.ts';
import { dynamoDocumentClient } from '../../platform/aws/dynamodb.ts';
import { runKeys } from '../../tracking/keys.ts';
import { loggedModelKeys } from '../../tracking/logged-models/keys.ts';
import { traceKeys } from '../../tracking/traces/keys.ts';
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

  experimentOfTrace(traceId: string): Promise<string | undefined> {
    return this.attributeOf('tracking', traceKeys.item(traceId), 'experimentId');
  }

  async experimentsOfTraces(traceIds: readonly string[]): Promise<Map<string, string>> {
    const tableName = this.tables.tracking;
    if (!tableName) throw new Error('TRACKING_TABLE_NAME is not set');
    const found = new Map<string, string>();
    const ids = [...new Set(traceIds)].filter((id) => Buffer.byteLength(id, 'utf8') <= 1024);
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Array<Record<string, unknown>> = ids.slice(i, i + 100).map((id) => traceKeys.item(id));
      while (keys.length > 0) {
        const output = await this.client.send(
          new BatchGetCommand({
            RequestItems: {
              [tableName]: {
                Keys: keys,
                ProjectionExpression: 'traceId, experimentId',
                ConsistentRead: true,
              },
            },
          }),
        );
        for (const item of output.Responses?.[tableName] ?? [])
          found.set(String(item.traceId), String(item.experimentId));
        keys = (output.UnprocessedKeys?.[tableName]?.Keys ?? []) as Array<Record<string, unknown>>;
      }
    }
    return found;
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
