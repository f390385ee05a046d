import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { deploymentKeys } from '../deployments/keys.ts';
import { dynamoDocumentClient } from '../platform/aws/dynamodb.ts';
import { logger as defaultLogger, type Logger } from '../platform/logger.ts';
import { BUCKET_COUNT, LatencyHistogram } from './latency-histogram.ts';

/**
 * Per-variant serving statistics: what the deploy state machine's canary check reads.
 *
 * Each container aggregates its invocations in memory per (endpoint, version, 10-second bucket) and
 * adds them to one stats item per bucket with an atomic `ADD` UpdateItem (so containers never
 * overwrite each other). The item holds counts and a latency histogram (`h<i>` attributes, fixed
 * log buckets: `latency-histogram.ts`) and expires a day after its bucket (`expiresAt`, the table's
 * TTL attribute). A flush runs at most once a second per container, awaited by the invocation that
 * finds it due (Lambda freezes a container between invocations, so a flush that is not awaited may
 * never run): one invocation in a second pays one UpdateItem per active variant; the others pay a
 * few map updates. Each flush also writes one CloudWatch EMF line per variant (namespace
 * `Runway/Serving`, dimensions Endpoint and Version).
 *
 * Outcomes are counted apart: `modelErrors` are failures of the model or the server (5xx, and the
 * model failing on input that passed the signature); `clientErrors` are requests the signature or
 * the format refused (4xx). The canary check rolls back on `errorRate` (model errors over
 * invocations); `clientErrorRate` is there for it to compare with the primary's, since a canary that
 * refuses what the primary accepts has changed its signature.
 */

export const STATS_BUCKET_MS = 10_000;
/** Stats items live a day past their bucket: long enough for any bake, short enough to stay small. */
export const STATS_RETENTION_MS = 24 * 3600 * 1000;
/** A container writes its aggregates at most this often. */
export const STATS_FLUSH_INTERVAL_MS = 1000;

export type Outcome = 'ok' | 'clientError' | 'modelError';

interface Aggregate {
  endpointName: string;
  version: string;
  bucketStart: number;
  invocations: number;
  clientErrors: number;
  modelErrors: number;
  latencyMsSum: number;
  histogram: LatencyHistogram;
}

export interface VariantStatsOptions {
  tableName: string;
  client?: DynamoDBDocumentClient;
  logger?: Logger;
  /** Where EMF lines go. @default stdout, where Lambda's log agent picks them up */
  emf?: (line: string) => void;
  now?: () => number;
}

/** Aggregates invocations in memory and flushes them to the deployments table (see module doc). */
export class VariantStatsRecorder {
  private pending = new Map<string, Aggregate>();
  private lastFlush: number;
  private flushing: Promise<void> | undefined;
  private readonly client: DynamoDBDocumentClient;
  private readonly logger: Logger;
  private readonly emf: (line: string) => void;
  private readonly now: () => number;

  constructor(private readonly options: VariantStatsOptions) {
    this.client = options.client ?? dynamoDocumentClient();
    this.logger = options.logger ?? defaultLogger;
    this.emf = options.emf ?? ((line) => process.stdout.write(`${line}\n`));
    this.now = options.now ?? Date.now;
    this.lastFlush = this.now();
  }

  record(endpointName: string, version: string, outcome: Outcome, latencyMs: number): void {
    const now = this.now();
    const bucketStart = now - (now % STATS_BUCKET_MS);
    const key = `${endpointName}\u0000${version}\u0000${bucketStart}`;
    let aggregate = this.pending.get(key);
    if (!aggregate) {
      aggregate = {
        endpointName,
        version,
        bucketStart,
        invocations: 0,
        clientErrors: 0,
        modelErrors: 0,
        latencyMsSum: 0,
        histogram: new LatencyHistogram(),
      };
      this.pending.set(key, aggregate);
    }
    aggregate.invocations++;
    if (outcome === 'clientError') aggregate.clientErrors++;
    else if (outcome === 'modelError') aggregate.modelErrors++;
    aggregate.latencyMsSum += latencyMs;
    aggregate.histogram.record(latencyMs);
  }

  /** True when something is pending and the last flush is at least a second old. */
  flushDue(): boolean {
    return this.pending.size > 0 && !this.flushing && this.now() - this.lastFlush >= STATS_FLUSH_INTERVAL_MS;
  }

  /**
   * Writes every pending aggregate (one UpdateItem each, in parallel) and its EMF line. A failed
   * write is logged and its aggregate kept for the next flush: statistics are best effort, never a
   * reason to fail an invocation.
   */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.lastFlush = this.now();
    if (batch.length === 0) return Promise.resolve();
    this.flushing = Promise.all(batch.map((aggregate) => this.write(aggregate))).then(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async write(aggregate: Aggregate): Promise<void> {
    const names: Record<string, string> = {
      '#inv': 'invocations',
      '#ce': 'clientErrors',
      '#me': 'modelErrors',
      '#sum': 'latencyMsSum',
    };
    const values: Record<string, unknown> = {
      ':inv': aggregate.invocations,
      ':ce': aggregate.clientErrors,
      ':me': aggregate.modelErrors,
      ':sum': aggregate.latencyMsSum,
      ':exp': Math.floor((aggregate.bucketStart + STATS_RETENTION_MS) / 1000),
      ':name': aggregate.endpointName,
      ':version': aggregate.version,
      ':start': aggregate.bucketStart,
    };
    const adds = ['#inv :inv', '#ce :ce', '#me :me', '#sum :sum'];
    for (const [index, count] of aggregate.histogram.counts) {
      names[`#h${index}`] = `h${index}`;
      values[`:h${index}`] = count;
      adds.push(`#h${index} :h${index}`);
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: deploymentKeys.stats(aggregate.endpointName, aggregate.version, aggregate.bucketStart),
          UpdateExpression: `SET expiresAt = :exp, endpointName = :name, version = :version, bucketStart = :start ADD ${adds.join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      this.logger.warn('serving stats flush failed; kept for the next flush', { error });
      this.merge(aggregate);
    }
    this.emf(emfLine(aggregate));
  }

  private merge(aggregate: Aggregate): void {
    const key = `${aggregate.endpointName}\u0000${aggregate.version}\u0000${aggregate.bucketStart}`;
    const existing = this.pending.get(key);
    if (!existing) {
      this.pending.set(key, aggregate);
      return;
    }
    existing.invocations += aggregate.invocations;
    existing.clientErrors += aggregate.clientErrors;
    existing.modelErrors += aggregate.modelErrors;
    existing.latencyMsSum += aggregate.latencyMsSum;
    for (const [index, count] of aggregate.histogram.counts) existing.histogram.addBucket(index, count);
  }
}

/** A CloudWatch embedded-metric-format line for one variant's aggregate. */
function emfLine(aggregate: Aggregate): string {
  return JSON.stringify({
    _aws: {
      Timestamp: aggregate.bucketStart,
      CloudWatchMetrics: [
        {
          Namespace: 'Runway/Serving',
          Dimensions: [['Endpoint', 'Version']],
          Metrics: [
            { Name: 'Invocations', Unit: 'Count' },
            { Name: 'ModelErrors', Unit: 'Count' },
            { Name: 'ClientErrors', Unit: 'Count' },
            { Name: 'Latency', Unit: 'Milliseconds' },
          ],
        },
      ],
    },
    Endpoint: aggregate.endpointName,
    Version: aggregate.version,
    Invocations: aggregate.invocations,
    ModelErrors: aggregate.modelErrors,
    ClientErrors: aggregate.clientErrors,
    Latency: aggregate.histogram.sample(100),
  });
}

/** What a variant served since a time: the canary check's input. */
export interface VariantStats {
  invocations: number;
  /** Model and server errors (5xx, and model failures on valid input): what the canary check limits. */
  errors: number;
  /** Requests refused for their format or signature (4xx). */
  clientErrors: number;
  /** `errors / invocations`; 0 without invocations. */
  errorRate: number;
  clientErrorRate: number;
  /** The 99th percentile latency in ms (the upper bound of its histogram bucket); null without invocations. */
  p99LatencyMs: number | null;
  p50LatencyMs: number | null;
  /** Stats buckets read (10 s each). */
  buckets: number;
}

/** One stats item as the model server writes it (see `VariantStatsRecorder.write`). */
interface StatsItem {
  bucketStart?: number;
  invocations?: number;
  clientErrors?: number;
  modelErrors?: number;
  [histogramBucket: `h${number}`]: number | undefined;
}

/**
 * Reads a variant's stats items from the 10-second bucket holding `sinceMs` on, oldest first: one
 * Query on the endpoint's `STATS#<version>#` range (paged; an hour is 360 small items).
 */
async function forEachStatsItem(
  endpointName: string,
  version: string,
  sinceMs: number,
  options: {
    tableName?: string;
    client?: DynamoDBDocumentClient;
    /** The end of the period (exclusive, to the bucket): monitors read a window. @default now and on */
    untilMs?: number;
  },
  onItem: (item: StatsItem) => void,
): Promise<void> {
  const tableName = options.tableName ?? process.env.DEPLOYMENTS_TABLE_NAME;
  if (!tableName) throw new Error('reading serving statistics needs a table name (DEPLOYMENTS_TABLE_NAME)');
  const client = options.client ?? dynamoDocumentClient();
  const from = deploymentKeys.stats(
    endpointName,
    version,
    Math.max(0, sinceMs - (sinceMs % STATS_BUCKET_MS)),
  );
  const to =
    options.untilMs === undefined
      ? `${deploymentKeys.statsPrefix(version)}9999999999999`
      : // The last bucket that starts before the end.
        deploymentKeys.stats(
          endpointName,
          version,
          Math.max(0, options.untilMs - 1 - ((options.untilMs - 1) % STATS_BUCKET_MS)),
        ).sk;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': from.pk, ':from': from.sk, ':to': to },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) onItem(item as StatsItem);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** Counts and a latency histogram summed over stats items. */
class StatsSum {
  invocations = 0;
  clientErrors = 0;
  modelErrors = 0;
  buckets = 0;
  readonly histogram = new LatencyHistogram();

  add(item: StatsItem): void {
    this.buckets++;
    this.invocations += Number(item.invocations ?? 0);
    this.clientErrors += Number(item.clientErrors ?? 0);
    this.modelErrors += Number(item.modelErrors ?? 0);
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const count = item[`h${i}`];
      if (count !== undefined) this.histogram.addBucket(i, Number(count));
    }
  }

  toStats(): VariantStats {
    const { invocations, clientErrors, modelErrors } = this;
    return {
      invocations,
      errors: modelErrors,
      clientErrors,
      errorRate: invocations === 0 ? 0 : modelErrors / invocations,
      clientErrorRate: invocations === 0 ? 0 : clientErrors / invocations,
      p99LatencyMs: this.histogram.quantile(0.99),
      p50LatencyMs: this.histogram.quantile(0.5),
      buckets: this.buckets,
    };
  }
}

/** Sums a variant's stats buckets from the 10-second bucket holding `sinceMs` on (up to `untilMs`). */
export async function readVariantStats(
  endpointName: string,
  version: string,
  sinceMs: number,
  options: { tableName?: string; client?: DynamoDBDocumentClient; untilMs?: number } = {},
): Promise<VariantStats> {
  const sum = new StatsSum();
  await forEachStatsItem(endpointName, version, sinceMs, options, (item) => sum.add(item));
  return sum.toStats();
}

/** A variant's statistics over one interval of a series. */
export interface VariantStatsPoint extends VariantStats {
  /** The interval's start (epoch ms, a multiple of the resolution). */
  start: number;
}

/**
 * A variant's statistics over time, from `sinceMs` on, in intervals of `resolutionMs` (a multiple of
 * the 10-second bucket): the same items and sums as {@link readVariantStats}, grouped by interval.
 * Intervals without invocations are left out.
 */
export async function readVariantStatsSeries(
  endpointName: string,
  version: string,
  sinceMs: number,
  resolutionMs: number,
  options: { tableName?: string; client?: DynamoDBDocumentClient } = {},
): Promise<VariantStatsPoint[]> {
  const sums = new Map<number, StatsSum>();
  await forEachStatsItem(endpointName, version, sinceMs, options, (item) => {
    const bucket = Number(item.bucketStart ?? 0);
    const start = bucket - (bucket % resolutionMs);
    let sum = sums.get(start);
    if (!sum) {
      sum = new StatsSum();
      sums.set(start, sum);
    }
    sum.add(item);
  });
  return [...sums]
    .sort(([a], [b]) => a - b)
    .map(([start, sum]) => ({ start, ...sum.toStats() }))
    .filter((point) => point.invocations > 0);
}
