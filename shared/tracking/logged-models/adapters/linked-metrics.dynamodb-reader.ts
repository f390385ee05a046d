import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../../platform/aws/dynamodb.ts';
import { loggedModelKeys } from '../keys.ts';
import type { LinkedMetric, LoggedModel } from '../model.ts';
import type { LinkedMetricsReader } from '../ports.ts';

/** How many models' metrics are read at once (a search page asks for many). */
const PARALLEL_READS = 16;

/**
 * The metric points runs logged with a `model_id`, read from the model's partition (written by the
 * runs repository beside the run's own history): one Query per model, at most a page of models.
 */
export class DynamoLinkedMetricsReader implements LinkedMetricsReader {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async metricsOf(
    models: ReadonlyArray<Pick<LoggedModel, 'modelId' | 'experimentId'>>,
  ): Promise<ReadonlyMap<string, readonly LinkedMetric[]>> {
    const out = new Map<string, LinkedMetric[]>();
    for (let i = 0; i < models.length; i += PARALLEL_READS) {
      const slice = models.slice(i, i + PARALLEL_READS);
      const results = await Promise.all(slice.map((model) => this.read(model.modelId)));
      for (const [j, model] of slice.entries()) out.set(model.modelId, results[j] ?? []);
    }
    return out;
  }

  private async read(modelId: string): Promise<LinkedMetric[]> {
    const metrics: LinkedMetric[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': loggedModelKeys.item(modelId).pk,
            ':prefix': loggedModelKeys.metricPrefix,
          },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        metrics.push({
          key: String(item.key),
          value: item.value === 'NaN' ? Number.NaN : Number(item.value),
          timestamp: Number(item.timestamp),
          step: Number(item.step),
          runId: String(item.runId),
          modelId,
          ...(item.datasetName
            ? { datasetName: String(item.datasetName), datasetDigest: String(item.datasetDigest) }
            : {}),
        });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return metrics;
  }
}
