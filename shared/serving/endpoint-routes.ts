import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { deploymentKeys } from '../deployments/keys.ts';
import { target, traffic } from '../deployments/model.ts';

/**
 * How the model server learns where an endpoint's traffic goes: one GetItem of the endpoint item
 * (projected on `traffic`, `status`, `target` and `modelName`, whose grants token callers need), cached per container for `ttlMs` (1 s by
 * default), so a traffic shift the deploy state machine writes is followed within a second while a
 * busy endpoint costs one read per second per container. Absent endpoints are cached the same way,
 * so a flood of requests to a wrong name does not become a flood of reads.
 */

const route = z.object({
  traffic,
  status: z.string(),
  target,
  modelName: z.string().min(1),
  captureSampleRate: z.number().min(0).max(1).optional(),
});
export type EndpointRoute = z.infer<typeof route>;

export const ENDPOINT_CACHE_TTL_MS = 1000;
/** Distinct endpoints a container remembers; the oldest entry goes first beyond it. */
const MAX_CACHED_ENDPOINTS = 1000;

export class EndpointRoutes {
  private readonly cache = new Map<string, { at: number; value: Promise<EndpointRoute | undefined> }>();

  constructor(
    private readonly options: {
      client: DynamoDBDocumentClient;
      tableName: string;
      ttlMs?: number;
      now?: () => number;
    },
  ) {}

  /** The endpoint's route, or undefined when no endpoint has this name. */
  get(name: string): Promise<EndpointRoute | undefined> {
    const now = (this.options.now ?? Date.now)();
    const cached = this.cache.get(name);
    if (cached && now - cached.at < (this.options.ttlMs ?? ENDPOINT_CACHE_TTL_MS)) return cached.value;
    const value = this.read(name);
    this.cache.delete(name);
    this.cache.set(name, { at: now, value });
    if (this.cache.size > MAX_CACHED_ENDPOINTS) this.cache.delete(this.cache.keys().next().value as string);
    // A failed read is not remembered: the next request asks again.
    value.catch(() => {
      if (this.cache.get(name)?.value === value) this.cache.delete(name);
    });
    return value;
  }

  private async read(name: string): Promise<EndpointRoute | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({
        TableName: this.options.tableName,
        Key: deploymentKeys.endpoint(name),
        ProjectionExpression: '#traffic, #revision, #status, #target, #modelName, #capture',
        ExpressionAttributeNames: {
          '#traffic': 'traffic',
          '#revision': 'trafficRevision',
          '#status': 'status',
          '#target': 'target',
          '#modelName': 'modelName',
          '#capture': 'captureSampleRate',
        },
      }),
    );
    if (!Item) return undefined;
    // The endpoint store keeps the traffic's compare-and-set counter beside it (`trafficRevision`).
    const { trafficRevision, ...rest } = Item;
    const traffic = Item.traffic as Record<string, unknown> | undefined;
    const parsed = route.safeParse({
      ...rest,
      traffic: traffic && { ...traffic, revision: trafficRevision ?? 0 },
    });
    if (!parsed.success) {
      throw new Error(
        `The endpoint item of '${name}' does not match the deployments contract: ${parsed.error.message}`,
      );
    }
    return parsed.data;
  }
}
