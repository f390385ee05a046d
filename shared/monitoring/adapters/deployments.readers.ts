import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoEndpointStore } from '../../deployments/adapters/dynamodb-endpoint-store.ts';
import { dynamoDocumentClient } from '../../platform/aws/dynamodb.ts';
import { readVariantStats } from '../../serving/variant-stats.ts';
import type { EndpointReader, EndpointView, ServingStats } from '../ports.ts';

/** Endpoints, read from the deployments table through the deployments context's own store. */
export class DeploymentsEndpointReader implements EndpointReader {
  private readonly store: DynamoEndpointStore;

  constructor(tableName: string, client: DynamoDBDocumentClient = dynamoDocumentClient()) {
    this.store = new DynamoEndpointStore(tableName, client);
  }

  async get(name: string): Promise<EndpointView | undefined> {
    const endpoint = await this.store.get(name);
    if (!endpoint || endpoint.status === 'Deleting') return undefined;
    return {
      name: endpoint.name,
      modelName: endpoint.modelName,
      target: endpoint.target,
      traffic: { primary: endpoint.traffic.primary, canary: endpoint.traffic.canary },
    };
  }
}

/** The model server's per-version statistics (what the canary check reads), over a window. */
export class VariantServingStats implements ServingStats {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async read(endpointName: string, version: string, sinceMs: number, untilMs: number) {
    const stats = await readVariantStats(endpointName, version, sinceMs, {
      tableName: this.tableName,
      client: this.client,
      untilMs,
    });
    return {
      invocations: stats.invocations,
      errors: stats.errors,
      errorRate: stats.errorRate,
      p99LatencyMs: stats.p99LatencyMs,
    };
  }
}
