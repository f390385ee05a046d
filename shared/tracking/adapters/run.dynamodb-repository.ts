import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../platform/aws/dynamodb.ts';
import { InvalidParameterError } from '../../platform/errors.ts';
import { LATEST_SHARDS, latestShardOf, runKeys, TRACKING_INDEXES } from '../keys.ts';
import { loggedModelKeys } from '../logged-models/keys.ts';
import type { LifecycleStage } from '../model.ts';
import type { LatestPointOutcome, LatestShard, RunRepository, RunWriteState, StoredRun } from '../ports.ts';
import {
  type DatasetInput,
  type Metric,
  type ModelOutput,
  metricValueOrder,
  type Param,
  type Run,
  type RunInfo,
  type RunStatus,
  type RunTag,
} from '../run.model.ts';

type Item = Record<string, unknown>;

/** BatchWriteItem's limit. */
const BATCH_SIZE = 25;

/**
 * Runs in the tracking table (see `shared/tracking/README.md`). A run is an item collection under
 * `RUN#<id>`: its info, one item per param and tag, a few latest-metric shards and its dataset inputs.
 * Every item of the collection is also in GSI1 under the experiment, so search needs no fan-out.
 */
export class DynamoRunRepository implements RunRepository {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async create(info: RunInfo, tags: RunTag[]): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: this.inCollection(info.runId, info.experimentId, runKeys.item(info.runId), infoToItem(info)),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    await this.batchPut(tags.map((tag) => this.tagItem(info.runId, info.experimentId, tag)));
  }

  async get(runId: string): Promise<StoredRun | undefined> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': runKeys.partition(runId) },
      ConsistentRead: true,
    });
    return assemble(items)[0];
  }

  async getForWrite(
    runId: string,
    paramKeys: string[],
    shards: number[],
  ): Promise<RunWriteState | undefined> {
    const keys = [
      runKeys.item(runId),
      ...paramKeys.map((key) => runKeys.param(runId, key)),
      ...shards.map((shard) => runKeys.latest(runId, shard)),
    ];
    const items: Item[] = [];
    // BatchGetItem takes 100 keys a request; a batch names at most 100 params and 4 shards.
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 8) throw new Error('DynamoDB left reads unprocessed after retries');
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
        const result: BatchGetCommandOutput = await this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
          }),
        );
        items.push(...((result.Responses?.[this.tableName] ?? []) as Item[]));
        pending = result.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    const stored = assemble(items)[0];
    if (!stored) return undefined;
    return {
      info: stored.run.info,
      params: new Map(stored.run.params.map((param) => [param.key, param.value])),
      shards: stored.shards.filter((shard) => shards.includes(shard.shard)),
    };
  }

  async listByExperiment(experimentId: string): Promise<Run[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: TRACKING_INDEXES.gsi1,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': runKeys.experimentRuns(experimentId) },
    });
    return assemble(items).map((stored) => stored.run);
  }

  async updateInfo(runId: string, changes: { status?: string; endTime?: number }): Promise<boolean> {
    const sets: string[] = [];
    const values: Record<string, unknown> = {};
    if (changes.status !== undefined) {
      sets.push('#status = :status');
      values[':status'] = changes.status;
    }
    if (changes.endTime !== undefined) {
      sets.push('endTime = :end');
      values[':end'] = changes.endTime;
    }
    if (sets.length === 0) return (await this.get(runId)) !== undefined;
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: runKeys.item(runId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: changes.status !== undefined ? { '#status': 'status' } : undefined,
        ExpressionAttributeValues: values,
      }),
    );
  }

  /**
   * The run item is the truth; each latest-metrics shard keeps a copy of the stage so `logPoint`
   * can refuse a deleted run in its one conditional write. The order makes a crash in between
   * harmless: a delete marks the shards first and a restore marks them last, so a shard never says
   * "active" for a deleted run (a shard saying "deleted" for an active run only sends `logPoint` to
   * the full write path, whose shard write repairs the copy). Missing shards are created with the
   * stage, so a batch creating one concurrently fails its `attribute_not_exists` write and re-reads.
   */
  async setLifecycle(runId: string, _experimentId: string, stage: LifecycleStage): Promise<boolean> {
    const markRun = () =>
      this.conditional(
        new UpdateCommand({
          TableName: this.tableName,
          Key: runKeys.item(runId),
          UpdateExpression: 'SET lifecycleStage = :stage',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':stage': stage },
        }),
      );
    const markShards = () =>
      Promise.all(
        Array.from({ length: LATEST_SHARDS }, (_, shard) =>
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: runKeys.latest(runId, shard),
              // Bumping the revision makes a batch that read the shard before this change retry.
              UpdateExpression:
                'SET lifecycleStage = :stage, #entity = :entity, #runId = :runId, #shard = :shard, #metrics = if_not_exists(#metrics, :empty) ADD revision :one',
              ExpressionAttributeNames: {
                '#entity': 'entity',
                '#runId': 'runId',
                '#shard': 'shard',
                '#metrics': 'metrics',
              },
              ExpressionAttributeValues: {
                ':stage': stage,
                ':entity': 'latest-metrics',
                ':runId': runId,
                ':shard': shard,
                ':empty': {},
                ':one': 1,
              },
            }),
          ),
        ),
      );
    if (stage === 'deleted') {
      await markShards();
      return markRun();
    }
    if (!(await markRun())) return false;
    await markShards();
    return true;
  }

  async putParams(runId: string, experimentId: string, params: Param[]): Promise<string[]> {
    const results = await Promise.all(
      params.map(async (param) => {
        const written = await this.conditional(
          new PutCommand({
            TableName: this.tableName,
            Item: this.inCollection(runId, experimentId, runKeys.param(runId, param.key), {
              entity: 'param',
              key: param.key,
              value: param.value,
            }),
            // Write-once: a param may be logged again only with the value it has.
            ConditionExpression: 'attribute_not_exists(pk) OR #value = :value',
            ExpressionAttributeNames: { '#value': 'value' },
            ExpressionAttributeValues: { ':value': param.value },
          }),
        );
        return written ? undefined : param.key;
      }),
    );
    return results.filter((key): key is string => key !== undefined);
  }

  async removeParams(runId: string, params: Param[]): Promise<void> {
    await Promise.all(
      params.map((param) =>
        this.conditional(
          new DeleteCommand({
            TableName: this.tableName,
            Key: runKeys.param(runId, param.key),
            ConditionExpression: '#value = :value',
            ExpressionAttributeNames: { '#value': 'value' },
            ExpressionAttributeValues: { ':value': param.value },
          }),
        ),
      ),
    );
  }

  async appendMetricsAndTags(
    runId: string,
    experimentId: string,
    metrics: Metric[],
    tags: RunTag[],
  ): Promise<void> {
    const history = new Map<string, Item>();
    for (const metric of metrics) {
      // BatchWriteItem refuses two writes to one key in a request: identical points are one point.
      for (const item of historyItems(runId, metric)) history.set(`${item.pk}\u0000${item.sk}`, item);
    }
    await this.batchPut([...history.values(), ...tags.map((tag) => this.tagItem(runId, experimentId, tag))]);
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: runKeys.tag(runId, key) }));
  }

  async putLatestShard(
    runId: string,
    experimentId: string,
    shard: LatestShard,
    expected: number,
  ): Promise<boolean> {
    const metrics: Record<string, Item> = {};
    for (const [key, metric] of shard.metrics) metrics[key] = latestEntry(metric);
    return this.conditional(
      new PutCommand({
        TableName: this.tableName,
        Item: this.inCollection(runId, experimentId, runKeys.latest(runId, shard.shard), {
          entity: 'latest-metrics',
          shard: shard.shard,
          revision: expected + 1,
          // Only an active run's shard is written whole (the service checked the run, and a
          // concurrent delete bumps the revision, failing this write).
          lifecycleStage: 'active',
          metrics,
        }),
        // Optimistic concurrency: only the writer that read revision `expected` may replace it.
        ConditionExpression: expected === 0 ? 'attribute_not_exists(pk)' : 'revision = :expected',
        ExpressionAttributeValues: expected === 0 ? undefined : { ':expected': expected },
      }),
    ).catch((error: unknown) => {
      throw tooManyKeys(runId, error);
    });
  }

  async logPoint(runId: string, metric: Metric): Promise<{ created: boolean; latest: LatestPointOutcome }> {
    const [stored, latest] = await Promise.all([
      Promise.all(
        historyItems(runId, metric).map((Item) =>
          this.client.send(new PutCommand({ TableName: this.tableName, Item, ReturnValues: 'ALL_OLD' })),
        ),
      ),
      this.setLatestIfLater(runId, metric),
    ]);
    return { created: stored[0]?.Attributes === undefined, latest };
  }

  async removePoint(runId: string, metric: Metric): Promise<void> {
    await Promise.all(
      historyItems(runId, metric).map((item) =>
        this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: item.pk, sk: item.sk } })),
      ),
    );
  }

  /**
   * One conditional UpdateItem of the metric's entry in its shard: only for an active run, and only
   * if the point is later by MLflow's rule (step, then timestamp, then value, compared on the
   * server through `metricValueOrder`). Concurrent writers of one key cannot lose the latest point,
   * and the revision bump makes a concurrent whole-shard write (log-batch) re-read and merge.
   */
  private async setLatestIfLater(runId: string, metric: Metric): Promise<LatestPointOutcome> {
    const key = runKeys.latest(runId, latestShardOf(metric.key));
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #metrics.#key = :point ADD revision :one',
          ConditionExpression:
            'lifecycleStage = :active AND (attribute_not_exists(#metrics.#key) OR #metrics.#key.#s < :s OR ' +
            '(#metrics.#key.#s = :s AND (#metrics.#key.#t < :t OR (#metrics.#key.#t = :t AND #metrics.#key.#o < :o))))',
          ExpressionAttributeNames: {
            '#metrics': 'metrics',
            '#key': metric.key,
            '#s': 's',
            '#t': 't',
            '#o': 'o',
          },
          ExpressionAttributeValues: {
            ':point': latestEntry(metric),
            ':one': 1,
            ':active': 'active',
            ':s': metric.step,
            ':t': metric.timestamp,
            ':o': metricValueOrder(metric.value),
          },
        }),
      );
      return 'set';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw tooManyKeys(runId, error);
    }
    // Which part of the condition failed: rare (a point not later than the stored one, or a
    // deleted run), so one small read here beats returning the whole shard on every failure.
    const current = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: key,
        ConsistentRead: true,
        ProjectionExpression: 'lifecycleStage',
      }),
    );
    const stage = current.Item?.lifecycleStage;
    if (stage === 'active') return 'not-later';
    return stage === 'deleted' ? 'inactive' : 'unknown';
  }

  async readLatestShard(runId: string, shard: number): Promise<LatestShard> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: runKeys.latest(runId, shard), ConsistentRead: true }),
    );
    return result.Item ? shardFromItem(result.Item) : { shard, revision: 0, metrics: new Map() };
  }

  async putInputs(runId: string, experimentId: string, inputs: DatasetInput[]): Promise<void> {
    const stored = await this.get(runId);
    const byId = new Map(
      (stored?.run.inputs ?? []).map((input) => [datasetId(input.dataset.name, input.dataset.digest), input]),
    );
    const items: Item[] = [];
    for (const input of inputs) {
      const id = datasetId(input.dataset.name, input.dataset.digest);
      const tags = new Map((byId.get(id)?.tags ?? []).map((tag) => [tag.key, tag.value]));
      for (const tag of input.tags) tags.set(tag.key, tag.value);
      const merged = { dataset: input.dataset, tags: [...tags].map(([key, value]) => ({ key, value })) };
      byId.set(id, merged);
      items.push(
        this.inCollection(runId, experimentId, runKeys.input(runId, id), { entity: 'input', ...merged }),
      );
    }
    await this.batchPut([...new Map(items.map((item) => [item.sk, item])).values()]);
  }

  async putModelLinks(
    runId: string,
    experimentId: string,
    links: { inputs: string[]; outputs: ModelOutput[] },
  ): Promise<void> {
    await this.batchPut([
      ...links.inputs.map((modelId) =>
        this.inCollection(runId, experimentId, runKeys.modelInput(runId, modelId), {
          entity: 'model-input',
          modelId,
        }),
      ),
      ...links.outputs.map((output) =>
        this.inCollection(runId, experimentId, runKeys.output(runId, output.modelId), {
          entity: 'model-output',
          modelId: output.modelId,
          step: output.step,
        }),
      ),
    ]);
  }

  async metricHistory(
    runId: string,
    key: string,
    page: { limit: number; cursor?: string; fromStep?: number; toStep?: number },
  ): Promise<{ metrics: Metric[]; cursor?: string }> {
    const metrics: Metric[] = [];
    const pk = runKeys.history(runId, key);
    let startKey = page.cursor ? decodeCursor(page.cursor) : undefined;
    // A token names a position in this metric's history only: never a key elsewhere in the table.
    if (startKey && startKey.pk !== pk) throw new InvalidParameterError('Invalid page token');
    const range =
      page.fromStep !== undefined && page.toStep !== undefined
        ? {
            condition: 'pk = :pk AND sk BETWEEN :from AND :to',
            values: {
              ':from': runKeys.historyStepStart(page.fromStep),
              ':to': `${runKeys.historyStepStart(page.toStep)}~`,
            },
          }
        : { condition: 'pk = :pk', values: {} };
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: range.condition,
          ExpressionAttributeValues: { ':pk': pk, ...range.values },
          ExclusiveStartKey: startKey,
          Limit: page.limit - metrics.length,
        }),
      );
      for (const item of result.Items ?? []) metrics.push(pointFromItem(item));
      startKey = result.LastEvaluatedKey;
    } while (startKey && metrics.length < page.limit);
    return { metrics, ...(startKey ? { cursor: encodeCursor(startKey) } : {}) };
  }

  private tagItem(runId: string, experimentId: string, tag: RunTag): Item {
    return this.inCollection(runId, experimentId, runKeys.tag(runId, tag.key), {
      entity: 'tag',
      key: tag.key,
      value: tag.value,
    });
  }

  /** Adds the GSI1 keys that put an item of the run's collection under its experiment. */
  private inCollection(
    runId: string,
    experimentId: string,
    key: { pk: string; sk: string },
    attributes: Item,
  ): Item {
    return {
      ...key,
      gsi1pk: runKeys.experimentRuns(experimentId),
      gsi1sk: runKeys.searchSort(runId, key.sk),
      runId,
      ...attributes,
    };
  }

  private async queryAll(input: QueryCommandInput): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      items.push(...((page.Items ?? []) as Item[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** Writes items 25 at a time, in parallel, retrying what DynamoDB leaves unprocessed. */
  private async batchPut(items: Item[]): Promise<void> {
    const chunks: Item[][] = [];
    for (let i = 0; i < items.length; i += BATCH_SIZE) chunks.push(items.slice(i, i + BATCH_SIZE));
    await Promise.all(chunks.map((chunk) => this.writeChunk(chunk)));
  }

  private async writeChunk(chunk: Item[]): Promise<void> {
    let requests: NonNullable<BatchWriteCommandInput['RequestItems']>[string] = chunk.map((Item) => ({
      PutRequest: { Item },
    }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
      if (attempt > 8) throw new Error(`DynamoDB left ${requests.length} writes unprocessed after retries`);
      const result = await this.client.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
      );
      requests = result.UnprocessedItems?.[this.tableName] ?? [];
    }
  }

  private async conditional(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.client.send(command as PutCommand);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

/**
 * A point's history item, and its copy under the logged model it names (MLflow 3: the model's
 * `data.metrics`). The sort key includes the value, so a retried point lands on the same key.
 */
function historyItems(runId: string, metric: Metric): Item[] {
  const value = encodeValue(metric.value);
  const item: Item = {
    pk: runKeys.history(runId, metric.key),
    sk: runKeys.historySort(metric.step, metric.timestamp, value),
    entity: 'metric-point',
    key: metric.key,
    value,
    timestamp: metric.timestamp,
    step: metric.step,
    ...(metric.modelId ? { modelId: metric.modelId } : {}),
    ...(metric.datasetName ? { datasetName: metric.datasetName, datasetDigest: metric.datasetDigest } : {}),
  };
  if (!metric.modelId) return [item];
  const linked = {
    ...item,
    ...loggedModelKeys.metric(metric.modelId, metric.key, runId, String(item.sk)),
    runId,
    entity: 'logged-model-metric',
  };
  return [item, linked];
}

/** A metric's entry in a latest-metrics shard; `o` orders values for conditional writes. */
function latestEntry(metric: Metric): Item {
  return {
    v: encodeValue(metric.value),
    t: metric.timestamp,
    s: metric.step,
    o: metricValueOrder(metric.value),
  };
}

/** A shard over DynamoDB's 400 KB item limit: the run has more metric keys than four items hold. */
function tooManyKeys(runId: string, error: unknown): unknown {
  if (error instanceof Error && /item size/i.test(error.message)) {
    return new InvalidParameterError(
      `Run ${runId} has too many distinct metric keys to store their latest values`,
    );
  }
  return error;
}

/** Metric values are stored as text: DynamoDB numbers hold neither NaN nor magnitudes above 1e125. */
function encodeValue(value: number): string {
  return Number.isNaN(value) ? 'NaN' : String(value);
}

function decodeValue(value: unknown): number {
  return value === 'NaN' ? Number.NaN : Number(value);
}

function infoToItem(info: RunInfo): Item {
  return {
    entity: 'run',
    experimentId: info.experimentId,
    userId: info.userId,
    status: info.status,
    startTime: info.startTime,
    ...(info.endTime !== undefined ? { endTime: info.endTime } : {}),
    artifactUri: info.artifactUri,
    lifecycleStage: info.lifecycleStage,
  };
}

/** Groups the items of one or many run collections into runs. */
function assemble(items: Item[]): StoredRun[] {
  const byRun = new Map<
    string,
    {
      info?: RunInfo;
      params: Param[];
      tags: RunTag[];
      shards: LatestShard[];
      inputs: DatasetInput[];
      modelInputs: string[];
      outputs: ModelOutput[];
    }
  >();
  for (const item of items) {
    const runId = String(item.runId);
    let entry = byRun.get(runId);
    if (!entry) {
      entry = { params: [], tags: [], shards: [], inputs: [], modelInputs: [], outputs: [] };
      byRun.set(runId, entry);
    }
    switch (item.entity) {
      case 'run':
        entry.info = {
          runId,
          experimentId: String(item.experimentId),
          userId: String(item.userId ?? ''),
          status: String(item.status) as RunStatus,
          startTime: Number(item.startTime ?? 0),
          ...(item.endTime !== undefined ? { endTime: Number(item.endTime) } : {}),
          artifactUri: String(item.artifactUri),
          lifecycleStage: item.lifecycleStage === 'deleted' ? 'deleted' : 'active',
        };
        break;
      case 'param':
        entry.params.push({ key: String(item.key), value: String(item.value) });
        break;
      case 'tag':
        entry.tags.push({ key: String(item.key), value: String(item.value) });
        break;
      case 'latest-metrics':
        entry.shards.push(shardFromItem(item));
        break;
      case 'input':
        entry.inputs.push({
          dataset: item.dataset as DatasetInput['dataset'],
          tags: (item.tags as RunTag[]) ?? [],
        });
        break;
      case 'model-input':
        entry.modelInputs.push(String(item.modelId));
        break;
      case 'model-output':
        entry.outputs.push({ modelId: String(item.modelId), step: Number(item.step ?? 0) });
        break;
    }
  }
  const runs: StoredRun[] = [];
  for (const entry of byRun.values()) {
    // Items of a run whose info item is missing belong to a create that never finished: not a run.
    if (!entry.info) continue;
    const shards = Array.from(
      { length: LATEST_SHARDS },
      (_, shard) =>
        entry.shards.find((candidate) => candidate.shard === shard) ?? {
          shard,
          revision: 0,
          metrics: new Map(),
        },
    );
    runs.push({
      run: {
        info: entry.info,
        metrics: shards.flatMap((shard) => [...shard.metrics.values()]),
        params: entry.params,
        tags: entry.tags,
        inputs: entry.inputs,
        modelInputs: entry.modelInputs,
        outputs: entry.outputs,
      },
      shards,
    });
  }
  return runs;
}

function shardFromItem(item: Item): LatestShard {
  const metrics = new Map<string, Metric>();
  for (const [key, point] of Object.entries(
    (item.metrics as Record<string, { v: string; t: number; s: number }>) ?? {},
  )) {
    metrics.set(key, { key, value: decodeValue(point.v), timestamp: Number(point.t), step: Number(point.s) });
  }
  return {
    shard: Number(item.shard),
    revision: Number(item.revision ?? 0),
    metrics,
    lifecycleStage:
      item.lifecycleStage === 'active' || item.lifecycleStage === 'deleted' ? item.lifecycleStage : undefined,
  };
}

function pointFromItem(item: Item): Metric {
  return {
    key: String(item.key),
    value: decodeValue(item.value),
    timestamp: Number(item.timestamp),
    step: Number(item.step),
    ...(item.modelId ? { modelId: String(item.modelId) } : {}),
    ...(item.datasetName
      ? { datasetName: String(item.datasetName), datasetDigest: String(item.datasetDigest) }
      : {}),
  };
}

function datasetId(name: string, digest: string): string {
  return createHash('sha256').update(`${name}\u0000${digest}`).digest('base64url').slice(0, 22);
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (key && typeof key === 'object' && 'pk' in key && 'sk' in key) return key as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new InvalidParameterError('Invalid page token');
}
