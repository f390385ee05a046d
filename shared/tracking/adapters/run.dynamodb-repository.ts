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
import { experimentKeys, runKeys, searchIndexKeys, TRACKING_INDEXES, valueDigest } from '../keys.ts';
import { loggedModelKeys } from '../logged-models/keys.ts';
import type { LifecycleStage } from '../model.ts';
import type {
  EqualityProbe,
  LatestPointOutcome,
  MetricEntry,
  MetricWalk,
  RunDataChange,
  RunFields,
  RunRepository,
  RunWriteState,
  StoredValue,
} from '../ports.ts';
import {
  compareMetricPoints,
  type DatasetInput,
  type Metric,
  type ModelOutput,
  metricPointOrder,
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
/** DynamoDB's limit on an expression is 4 KB; this leaves room for multi-byte names. */
const EXPRESSION_LIMIT = 3500;
/** BatchGetItem's limit. */
const BATCH_GET_SIZE = 100;

/** The run item's info attributes: what every search needs of a run, whatever its filter. */
const INFO_ATTRIBUTES = [
  'runId',
  'entity',
  'experimentId',
  'userId',
  'status',
  'startTime',
  'endTime',
  'artifactUri',
  'lifecycleStage',
] as const;

/** What ordering and view types read of a run when no attribute is filtered or ordered on. */
const RANKING_ATTRIBUTES = ['runId', 'startTime', 'lifecycleStage'] as const;

/**
 * Param and tag values longer than this live in their own item (`runKeys.spilled`), so the run
 * item keeps room for many keys within DynamoDB's 400 KB (MLflow allows 6,000-character params and
 * 8,000-character tags, and a batch of 100 of them).
 */
const INLINE_VALUE_LIMIT = 500;

/** A map entry pointing to a spilled value: the digest in the spilled item's key. */
interface SpilledRef {
  spilled: string;
}

/**
 * Runs in the tracking table (see `shared/tracking/README.md`). A run is an item collection under
 * `RUN#<id>`: the run item (info, revision, and maps of params, tags and latest metric points), the
 * spilled long values, and its dataset inputs and model links. Every item of the collection is also
 * in GSI1 under the experiment, so search reads an experiment's runs in one Query, about one item
 * per run.
 */
export class DynamoRunRepository implements RunRepository {
  /** Runs' experiments, as this container has met them (a run never moves: entries never go stale). */
  private readonly experimentOf = new BoundedMap<string, string>(10_000);
  /** Experiments known to have search index entries for every run (see `isIndexed`). */
  private readonly indexedExperiments = new BoundedMap<string, true>(10_000);

  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async create(info: RunInfo, tags: RunTag[]): Promise<void> {
    const { map, spilled } = this.packValues(
      info.runId,
      info.experimentId,
      'TAG',
      new Map(tags.map((tag) => [tag.key, tag.value])),
    );
    // Nobody else writes a run before its create answers: its first entries need no condition.
    const entries = tags.map((tag) => this.valueEntry(info.runId, info.experimentId, 'tag', tag, 0));
    await this.batchPut([...spilled, ...entries]);
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: this.inCollection(info.runId, info.experimentId, runKeys.item(info.runId), {
          ...infoToItem(info),
          ...statusEntry(info.runId, info.experimentId, info.status),
          revision: 0,
          params: {},
          tags: map,
          metrics: {},
        }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(runId: string): Promise<Run | undefined> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': runKeys.partition(runId) },
      ConsistentRead: true,
    });
    return assemble(items)[0];
  }

  async getForWrite(runId: string): Promise<RunWriteState | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: runKeys.item(runId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const run = runFromItem(Item);
    this.experimentOf.set(runId, run.info.experimentId);
    return {
      info: run.info,
      params: storedValues(Item.params),
      tags: storedValues(Item.tags),
      metrics: new Map(run.metrics.map((metric) => [metric.key, metric])),
      revision: Number(Item.revision ?? 0),
    };
  }

  async listFields(experimentId: string, fields: RunFields): Promise<Run[] | undefined> {
    const names: Record<string, string> = { '#entity': 'entity' };
    // The fewer attributes a projection carries, the less the emulator encodes and the client decodes
    // for each of the experiment's runs (a fifth of a top 10's time over 500 runs).
    const paths = (fields.attributes ? INFO_ATTRIBUTES : RANKING_ATTRIBUTES).map((attribute, i) => {
      names[`#i${i}`] = attribute;
      return `#i${i}`;
    });
    for (const [map, keys] of [
      ['metrics', fields.metrics],
      ['params', fields.params],
      ['tags', fields.tags],
    ] as const) {
      keys.forEach((key, i) => {
        names[`#${map}`] = map;
        names[`#${map}${i}`] = key;
        paths.push(`#${map}.#${map}${i}`);
      });
    }
    const projection = paths.join(', ');
    // DynamoDB caps an expression at 4 KB: a filter naming that many keys reads whole runs instead.
    if (projection.length + JSON.stringify(names).length > 3500) return undefined;
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: TRACKING_INDEXES.gsi1,
      KeyConditionExpression: 'gsi1pk = :pk',
      FilterExpression: '#entity = :run',
      ProjectionExpression: projection,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':pk': runKeys.experimentRuns(experimentId), ':run': 'run' },
    });
    const runs: Run[] = [];
    for (const item of items) {
      // A long value is only a digest here: the caller reads whole runs instead.
      const spilled = [item.params, item.tags].some((map) =>
        Object.values((map ?? {}) as Record<string, unknown>).some((value) => typeof value !== 'string'),
      );
      if (spilled) return undefined;
      runs.push(runFromItem(item));
    }
    return runs;
  }

  async getMany(runIds: string[]): Promise<Run[]> {
    const runItems = await this.batchGet(runIds.map((runId) => runKeys.item(runId)));
    const more: Array<{ pk: string; sk: string }> = [];
    for (const item of runItems) {
      const runId = String(item.runId);
      for (const [kind, map] of [
        ['PARAM', item.params],
        ['TAG', item.tags],
      ] as const) {
        for (const [key, value] of Object.entries((map ?? {}) as Record<string, string | SpilledRef>)) {
          if (typeof value !== 'string') more.push(runKeys.spilled(runId, kind, key, value.spilled));
        }
      }
      for (const sk of (item.links as Set<string> | undefined) ?? []) {
        more.push({ pk: runKeys.partition(runId), sk });
      }
    }
    return assemble([...runItems, ...(more.length > 0 ? await this.batchGet(more) : [])]);
  }

  async listByExperiment(experimentId: string): Promise<Run[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: TRACKING_INDEXES.gsi1,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': runKeys.experimentRuns(experimentId) },
    });
    return assemble(items);
  }

  async updateInfo(
    runId: string,
    experimentId: string,
    changes: { status?: string; endTime?: number },
  ): Promise<boolean> {
    const sets: string[] = [];
    const values: Record<string, unknown> = {};
    if (changes.status !== undefined) {
      // The run item is its own status entry in the search index (GSI2 moves it with the value).
      const entry = statusEntry(runId, experimentId, changes.status);
      sets.push('#status = :status', 'gsi2pk = :statusPk', 'gsi2sk = :statusSk');
      Object.assign(values, {
        ':status': changes.status,
        ':statusPk': entry.gsi2pk,
        ':statusSk': entry.gsi2sk,
      });
    }
    if (changes.endTime !== undefined) {
      sets.push('endTime = :end');
      values[':end'] = changes.endTime;
    }
    if (sets.length === 0) return (await this.getForWrite(runId)) !== undefined;
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

  async setLifecycle(runId: string, _experimentId: string, stage: LifecycleStage): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: runKeys.item(runId),
        UpdateExpression: 'SET lifecycleStage = :stage',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':stage': stage },
      }),
    );
  }

  /**
   * Sets the changed entries in place, with conditions on exactly what the merge relied on: the run
   * is active, each new param is still absent, each point is still later than the stored one
   * (MLflow's order, through `metricPointOrder`). Writers of different keys never conflict. A batch
   * naming too many keys for DynamoDB's 4 KB expressions replaces the maps whole instead, guarded
   * by the revision it read (every data write bumps it). Long values are written first, under keys
   * carrying their digest, so a map never names a value that is not stored, and a writer that loses
   * a race leaves only an item nobody points to.
   */
  async putData(
    runId: string,
    experimentId: string,
    change: RunDataChange,
    state: RunWriteState,
  ): Promise<number | false> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':active': 'active', ':one': 1 };
    const sets: string[] = [];
    const conditions = ['lifecycleStage = :active'];
    const spilled: Item[] = [];
    let n = 0;
    for (const [kind, attribute, entries] of [
      ['PARAM', 'params', change.params],
      ['TAG', 'tags', change.tags],
    ] as const) {
      const packed = this.packValues(runId, experimentId, kind, entries);
      spilled.push(...packed.spilled);
      for (const [key, value] of Object.entries(packed.map)) {
        names[`#${attribute}`] = attribute;
        names[`#k${n}`] = key;
        values[`:v${n}`] = value;
        sets.push(`#${attribute}.#k${n} = :v${n}`);
        if (kind === 'PARAM') conditions.push(`attribute_not_exists(#params.#k${n})`);
        n++;
      }
    }
    for (const [key, metric] of change.metrics) {
      Object.assign(names, { '#metrics': 'metrics', [`#k${n}`]: key, '#r': 'r' });
      Object.assign(values, { [`:v${n}`]: latestEntry(metric), [`:r${n}`]: metricPointOrder(metric) });
      const entry = `#metrics.#k${n}`;
      sets.push(`${entry} = :v${n}`);
      conditions.push(`(attribute_not_exists(${entry}) OR ${entry}.#r < :r${n})`);
      n++;
    }
    const update = `SET ${sets.join(', ')} ADD revision :one`;
    const condition = conditions.join(' AND ');
    await this.batchPut(spilled);
    const entryByEntry = update.length <= EXPRESSION_LIMIT && condition.length <= EXPRESSION_LIMIT;
    const command = entryByEntry
      ? new UpdateCommand({
          TableName: this.tableName,
          Key: runKeys.item(runId),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        })
      : this.replaceMaps(runId, experimentId, change, state);
    try {
      const { Attributes } = await this.client.send(command);
      // Replacing the maps is conditioned on the revision read, so the new one is known.
      return entryByEntry ? Number(Attributes?.revision) : state.revision + 1;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw tooLarge(runId, error);
    }
  }

  /** The whole-maps write of a large batch: the state it read, merged, if the revision still holds. */
  private replaceMaps(
    runId: string,
    experimentId: string,
    change: RunDataChange,
    state: RunWriteState,
  ): UpdateCommand {
    const params = this.packValues(
      runId,
      experimentId,
      'PARAM',
      new Map([...state.params, ...change.params]),
    );
    const tags = this.packValues(runId, experimentId, 'TAG', new Map([...state.tags, ...change.tags]));
    const metrics: Record<string, Item> = {};
    for (const [key, metric] of new Map([...state.metrics, ...change.metrics]))
      metrics[key] = latestEntry(metric);
    return new UpdateCommand({
      TableName: this.tableName,
      Key: runKeys.item(runId),
      UpdateExpression: 'SET #params = :params, #tags = :tags, #metrics = :metrics ADD revision :one',
      ConditionExpression: 'revision = :expected AND lifecycleStage = :active',
      ExpressionAttributeNames: { '#params': 'params', '#tags': 'tags', '#metrics': 'metrics' },
      ExpressionAttributeValues: {
        ':params': params.map,
        ':tags': tags.map,
        ':metrics': metrics,
        ':expected': state.revision,
        ':active': 'active',
        ':one': 1,
      },
    });
  }

  /**
   * A request's points of each key go in one item (a chunk; see `historyChunk`), so 1,000 points of
   * 10 keys are 10 items, written in one BatchWriteItem: a tenth of the write units and of the
   * requests of an item per point. A single point keeps the item `log-metric` writes.
   */
  async appendHistory(runId: string, experimentId: string, metrics: Metric[]): Promise<void> {
    const byKey = new Map<string, Metric[]>();
    for (const metric of metrics) {
      const points = byKey.get(metric.key);
      if (points) points.push(metric);
      else byKey.set(metric.key, [metric]);
    }
    const items = new Map<string, Item>();
    const latest: Metric[] = [];
    for (const [key, points] of byKey) {
      const ordered = orderedPoints(points);
      latest.push(ordered[ordered.length - 1] as Metric);
      // BatchWriteItem refuses two writes to one key in a request: identical points are one point.
      const written =
        ordered.length === 1 ? historyItems(runId, ordered[0] as Metric) : chunkItems(runId, key, ordered);
      for (const item of written) items.set(`${item.pk}\u0000${item.sk}`, item);
    }
    this.experimentOf.set(runId, experimentId);
    await Promise.all([
      this.batchPut([...items.values()]),
      inBatches(latest, INDEX_WRITE_CONCURRENCY, (metric) =>
        this.offerLatest(runId, experimentId, metric).then(() => undefined),
      ),
    ]);
  }

  async indexValues(
    runId: string,
    experimentId: string,
    values: { params: Param[]; tags: RunTag[] },
    revision: number,
  ): Promise<void> {
    // A param never changes once stored, so its entry needs no condition; a tag's entry takes a
    // value only over one written at an earlier revision of the run (the run's own order of writes).
    const params = values.params.map((param) =>
      this.valueEntry(runId, experimentId, 'param', param, revision),
    );
    await Promise.all([
      this.batchPut(params),
      inBatches(values.tags, INDEX_WRITE_CONCURRENCY, (tag) =>
        this.conditional(
          new PutCommand({
            TableName: this.tableName,
            Item: this.valueEntry(runId, experimentId, 'tag', tag, revision),
            ConditionExpression: 'attribute_not_exists(rev) OR rev < :rev',
            ExpressionAttributeValues: { ':rev': revision },
          }),
        ).then(() => undefined),
      ),
    ]);
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    // The revision bump makes a concurrent batch that read the tag merge again without it.
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: runKeys.item(runId),
        UpdateExpression: 'REMOVE #tags.#key ADD revision :one',
        ExpressionAttributeNames: { '#tags': 'tags', '#key': key },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    // Unless a later write set the tag again.
    await this.conditional(
      new DeleteCommand({
        TableName: this.tableName,
        Key: searchIndexKeys.tagEntry(runId, key),
        ConditionExpression: 'rev < :rev',
        ExpressionAttributeValues: { ':rev': Number(Attributes?.revision) },
      }),
    );
  }

  /**
   * The history point, the run item's latest value and the index entry, in one round trip when this
   * container knows the run's experiment (runs never move; the first point of a run in a container
   * learns it from the run item's update and offers the entry after).
   */
  async logPoint(runId: string, metric: Metric): Promise<{ created: boolean; latest: LatestPointOutcome }> {
    const known = this.experimentOf.get(runId);
    const [stored, latest, offered] = await Promise.all([
      Promise.all(
        historyItems(runId, metric).map((Item) =>
          this.client.send(new PutCommand({ TableName: this.tableName, Item, ReturnValues: 'ALL_OLD' })),
        ),
      ),
      this.setLatestIfLater(runId, metric, known === undefined),
      known === undefined ? undefined : this.offerLatest(runId, known, metric),
    ]);
    if (known === undefined && latest.outcome === 'set' && latest.experimentId !== undefined) {
      this.experimentOf.set(runId, latest.experimentId);
      await this.offerLatest(runId, latest.experimentId, metric);
    }
    // A deleted run keeps the entry it had: this point is taken back out of the history too.
    if ((latest.outcome === 'inactive' || latest.outcome === 'unknown') && offered) {
      await this.restoreEntry(runId, metric, offered.previous);
    }
    return { created: stored[0]?.Attributes === undefined, latest: latest.outcome };
  }

  /**
   * Offers a point to the metric's index entry, which keeps the later point by MLflow's rule (as the
   * run item does), so writers in any order leave the entry on the run's latest value. Returns what
   * the entry held before, when it took the point.
   */
  private async offerLatest(
    runId: string,
    experimentId: string,
    metric: Metric,
  ): Promise<{ previous: Item | undefined } | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: searchIndexKeys.metricEntry(runId, metric.key),
          UpdateExpression: 'SET gsi2pk = :pk, gsi2sk = :sk, r = :r',
          ConditionExpression: 'attribute_not_exists(r) OR r < :r',
          ExpressionAttributeValues: {
            ':pk': searchIndexKeys.metric(experimentId, metric.key),
            ':sk': searchIndexKeys.metricSort(metricValueOrder(metric.value), runId),
            ':r': metricPointOrder(metric),
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return { previous: Attributes };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /** Puts an entry back as it was before `metric` was offered to it, unless a later point took it since. */
  private async restoreEntry(runId: string, metric: Metric, previous: Item | undefined): Promise<void> {
    const key = searchIndexKeys.metricEntry(runId, metric.key);
    const guard = {
      ConditionExpression: 'r = :r',
      ExpressionAttributeValues: { ':r': metricPointOrder(metric) },
    };
    await this.conditional(
      previous
        ? new PutCommand({ TableName: this.tableName, Item: previous, ...guard })
        : new DeleteCommand({ TableName: this.tableName, Key: key, ...guard }),
    );
  }

  /** A param's or tag's index entry: the run under its key and value, written at `revision`. */
  private valueEntry(
    runId: string,
    experimentId: string,
    kind: 'param' | 'tag',
    value: { key: string; value: string },
    revision: number,
  ): Item {
    return {
      ...(kind === 'param'
        ? searchIndexKeys.paramEntry(runId, value.key)
        : searchIndexKeys.tagEntry(runId, value.key)),
      gsi2pk: searchIndexKeys[kind](experimentId, value.key, value.value),
      gsi2sk: runId,
      rev: revision,
    };
  }

  async removePoint(runId: string, metric: Metric): Promise<void> {
    await Promise.all(
      historyItems(runId, metric).map((item) =>
        this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: item.pk, sk: item.sk } })),
      ),
    );
  }

  /**
   * One conditional UpdateItem of the metric's entry in the run item: only for an active run, and
   * only if the point is later by MLflow's rule (step, then timestamp, then value, compared on the
   * server through `metricPointOrder`). Concurrent writers of one key cannot lose the latest point,
   * and the revision bump makes a concurrent batch (`putData`) read again and merge again.
   */
  private async setLatestIfLater(
    runId: string,
    metric: Metric,
    askExperiment: boolean,
  ): Promise<{ outcome: LatestPointOutcome; experimentId?: string | undefined }> {
    const key = runKeys.item(runId);
    try {
      // `experimentId = experimentId` changes nothing; it only brings the run's experiment back.
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: askExperiment
            ? 'SET #metrics.#key = :point, experimentId = experimentId ADD revision :one'
            : 'SET #metrics.#key = :point ADD revision :one',
          ConditionExpression:
            'lifecycleStage = :active AND (attribute_not_exists(#metrics.#key) OR #metrics.#key.#r < :r)',
          ExpressionAttributeNames: { '#metrics': 'metrics', '#key': metric.key, '#r': 'r' },
          ExpressionAttributeValues: {
            ':point': latestEntry(metric),
            ':one': 1,
            ':active': 'active',
            ':r': metricPointOrder(metric),
          },
          ...(askExperiment ? { ReturnValues: 'UPDATED_NEW' as const } : {}),
        }),
      );
      const experimentId = Attributes?.experimentId;
      return { outcome: 'set', experimentId: typeof experimentId === 'string' ? experimentId : undefined };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw tooLarge(runId, error);
    }
    // Which part of the condition failed: rare (a point not later than the stored one, or a
    // deleted run), so one small read here beats returning the whole item on every failure.
    const current = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: key,
        ConsistentRead: true,
        ProjectionExpression: 'lifecycleStage',
      }),
    );
    const stage = current.Item?.lifecycleStage;
    if (stage === undefined) return { outcome: 'unknown' };
    return { outcome: stage === 'active' ? 'not-later' : 'inactive' };
  }

  async putInputs(runId: string, experimentId: string, inputs: DatasetInput[]): Promise<void> {
    const stored = await this.get(runId);
    const byId = new Map(
      (stored?.inputs ?? []).map((input) => [datasetId(input.dataset.name, input.dataset.digest), input]),
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
    await this.putLinked(runId, [...new Map(items.map((item) => [item.sk, item])).values()]);
  }

  async putModelLinks(
    runId: string,
    experimentId: string,
    links: { inputs: string[]; outputs: ModelOutput[] },
  ): Promise<void> {
    await this.putLinked(runId, [
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

  /**
   * A page of the history in MLflow's point order, each point once: items are read in key order,
   * which is their first point's (step, timestamp), so a point is final once an item that starts
   * later is read. A chunk's points may reach past the next items' first points (a client logging
   * steps out of order, or two writers); they wait until no later item can come before them. The
   * page token names the first item with points still to come and the last point given.
   */
  async metricHistory(
    runId: string,
    key: string,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<{ metrics: Metric[]; cursor?: string }> {
    const pk = runKeys.history(runId, key);
    const from = page.cursor ? decodeHistoryCursor(page.cursor, pk) : undefined;
    const metrics: Metric[] = [];
    let last = from?.after;
    let pending: Array<{ order: string; metric: Metric; sk: string }> = [];
    /** Gives the pending points before (step, timestamp), in order; false once the page is full. */
    const release = (before?: { step: number; timestamp: number }): boolean => {
      const ready = before
        ? pending.filter(({ metric }) => earlier(metric, before))
        : pending.splice(0, pending.length);
      if (before) pending = pending.filter(({ metric }) => !earlier(metric, before));
      ready.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
      for (let i = 0; i < ready.length; i++) {
        const point = ready[i] as (typeof ready)[number];
        if (last !== undefined && point.order <= last) continue;
        if (metrics.length === page.limit) {
          pending.push(...ready.slice(i));
          return false;
        }
        metrics.push(point.metric);
        last = point.order;
      }
      return true;
    };
    let startKey: Record<string, unknown> | undefined;
    let stoppedAt: string | undefined;
    reading: do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: from ? 'pk = :pk AND sk >= :from' : 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk, ...(from ? { ':from': from.sk } : {}) },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of result.Items ?? []) {
        const first = { step: Number(item.step), timestamp: Number(item.timestamp) };
        if (!release(first)) {
          stoppedAt = String(item.sk);
          break reading;
        }
        for (const metric of pointsOf(item)) {
          const order = metricPointOrder(metric);
          if (from === undefined || order > from.after) pending.push({ order, metric, sk: String(item.sk) });
        }
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    if (stoppedAt === undefined && release()) return { metrics };
    // Resume at the first item with a point still to give: none before it has any.
    const resume = [...pending.map((point) => point.sk), ...(stoppedAt ? [stoppedAt] : [])].sort()[0];
    return resume === undefined || last === undefined
      ? { metrics }
      : { metrics, cursor: encodeHistoryCursor({ pk, sk: resume, after: last }) };
  }

  async mendMetricEntry(runId: string, experimentId: string, metric: Metric): Promise<void> {
    await this.offerLatest(runId, experimentId, metric);
  }

  async isIndexed(experimentId: string): Promise<boolean> {
    // An experiment made with the index keeps it: once seen, never asked again in this container.
    if (this.indexedExperiments.has(experimentId)) return true;
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: experimentKeys.item(experimentId),
        ProjectionExpression: 'runsIndexed',
      }),
    );
    if (Item?.runsIndexed === true) this.indexedExperiments.set(experimentId, true);
    return Item?.runsIndexed === true;
  }

  async runIdsWhere(experimentId: string, probe: EqualityProbe, limit: number): Promise<string[]> {
    const partitions = [
      ...new Set(
        probe.kind === 'status'
          ? probe.values.map((status) => searchIndexKeys.status(experimentId, status))
          : probe.values.map((value) => searchIndexKeys[probe.kind](experimentId, probe.key, value)),
      ),
    ];
    const runIds = new Set<string>();
    for (const partition of partitions) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const result = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: TRACKING_INDEXES.gsi2,
            KeyConditionExpression: 'gsi2pk = :pk',
            ExpressionAttributeValues: { ':pk': partition },
            Limit: limit + 1 - runIds.size,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of result.Items ?? []) runIds.add(searchIndexKeys.runOf(String(item.pk)));
        startKey = result.LastEvaluatedKey;
      } while (startKey && runIds.size <= limit);
      if (runIds.size > limit) break;
    }
    return [...runIds];
  }

  async metricEntries(
    experimentId: string,
    walk: MetricWalk,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<{ entries: MetricEntry[]; cursor?: string }> {
    let { phase, startKey } = page.cursor
      ? decodeWalkCursor(page.cursor)
      : { phase: 'numbers' as WalkPhase, startKey: undefined };
    const entries: MetricEntry[] = [];
    const partition = searchIndexKeys.metric(experimentId, walk.key);
    // Entries sort by `<metricValueOrder>#<run id>`: numbers are 16 hex digits, NaN is `n`.
    const lower = walk.lower ? `${walk.lower.order}${walk.lower.inclusive ? '#' : '#~'}` : '0';
    const upper = walk.upper ? `${walk.upper.order}${walk.upper.inclusive ? '#~' : '"'}` : 'g';
    while (entries.length < page.limit) {
      if (phase === 'numbers' && lower > upper) phase = walk.nan ? 'nan' : 'done';
      if (phase === 'done') break;
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TRACKING_INDEXES.gsi2,
          KeyConditionExpression:
            phase === 'numbers'
              ? 'gsi2pk = :pk AND gsi2sk BETWEEN :lower AND :upper'
              : 'gsi2pk = :pk AND begins_with(gsi2sk, :nan)',
          ExpressionAttributeValues:
            phase === 'numbers'
              ? { ':pk': partition, ':lower': lower, ':upper': upper }
              : { ':pk': partition, ':nan': 'n#' },
          ScanIndexForward: phase === 'nan' || !walk.descending,
          Limit: page.limit - entries.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of result.Items ?? []) {
        const sort = String(item.gsi2sk);
        entries.push({
          runId: searchIndexKeys.runOf(String(item.pk)),
          order: sort.slice(0, sort.indexOf('#')),
        });
      }
      startKey = result.LastEvaluatedKey;
      if (!startKey) phase = phase === 'numbers' && walk.nan ? 'nan' : 'done';
    }
    return phase === 'done' ? { entries } : { entries, cursor: encodeWalkCursor({ phase, startKey }) };
  }

  /**
   * Writes items of the run's collection that a search reads with the run (inputs, model links),
   * after naming their sort keys in the run item's `links` set, so `getMany` can fetch them by key.
   * Naming first means a crash leaves a name without an item (a key BatchGetItem skips), never an
   * item nobody can find.
   */
  private async putLinked(runId: string, items: Item[]): Promise<void> {
    if (items.length === 0) return;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: runKeys.item(runId),
        UpdateExpression: 'ADD links :sks',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':sks': new Set(items.map((item) => String(item.sk))) },
      }),
    );
    await this.batchPut(items);
  }

  /** Packs values into a map, spilling long ones to items of their own (returned, to be written). */
  private packValues(
    runId: string,
    experimentId: string,
    kind: 'PARAM' | 'TAG',
    entries: Map<string, StoredValue>,
  ): { map: Record<string, string | SpilledRef>; spilled: Item[] } {
    const map: Record<string, string | SpilledRef> = {};
    const spilled: Item[] = [];
    for (const [key, value] of entries) {
      if (typeof value !== 'string') {
        // An unchanged long value: keep pointing to its item.
        map[key] = { spilled: value.digest };
      } else if (value.length <= INLINE_VALUE_LIMIT) {
        map[key] = value;
      } else {
        const digest = valueDigest(value);
        map[key] = { spilled: digest };
        spilled.push(
          this.inCollection(runId, experimentId, runKeys.spilled(runId, kind, key, digest), {
            entity: kind === 'PARAM' ? 'spilled-param' : 'spilled-tag',
            key,
            value,
          }),
        );
      }
    }
    return { map, spilled };
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

  /** Reads items by key, 100 a request in parallel, retrying what DynamoDB leaves unprocessed. */
  private async batchGet(keys: Array<{ pk: string; sk: string }>): Promise<Item[]> {
    const chunks: Array<Array<{ pk: string; sk: string }>> = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_SIZE) chunks.push(keys.slice(i, i + BATCH_GET_SIZE));
    const pages = await Promise.all(
      chunks.map(async (chunk) => {
        const items: Item[] = [];
        let pending: Array<Record<string, unknown>> | undefined = chunk;
        for (let attempt = 0; pending && pending.length > 0; attempt++) {
          if (attempt > 8) throw new Error('DynamoDB left reads unprocessed after retries');
          if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
          const result: BatchGetCommandOutput = await this.client.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }),
          );
          items.push(...((result.Responses?.[this.tableName] ?? []) as Item[]));
          pending = result.UnprocessedKeys?.[this.tableName]?.Keys;
        }
        return items;
      }),
    );
    return pages.flat();
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

/** A metric's entry in the run item's `metrics` map; `r` orders points for conditional writes. */
function latestEntry(metric: Metric): Item {
  return { v: encodeValue(metric.value), t: metric.timestamp, s: metric.step, r: metricPointOrder(metric) };
}

/** A run item over DynamoDB's 400 KB limit: too many metric keys (long values spill, see `putData`). */
function tooLarge(runId: string, error: unknown): unknown {
  if (error instanceof Error && /item size/i.test(error.message)) {
    return new InvalidParameterError(
      `Run ${runId} has too many distinct metric, param and tag keys to store in one run item`,
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

function storedValues(map: unknown): Map<string, StoredValue> {
  const entries = new Map<string, StoredValue>();
  for (const [key, value] of Object.entries((map ?? {}) as Record<string, string | SpilledRef>)) {
    entries.set(key, typeof value === 'string' ? value : { digest: value.spilled });
  }
  return entries;
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

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The run item alone: spilled values come back as empty strings (see `assemble`). */
function runFromItem(item: Item, spilled?: Map<string, string>): Run {
  const runId = String(item.runId);
  const values = (kind: 'PARAM' | 'TAG', map: unknown) =>
    Object.entries((map ?? {}) as Record<string, string | SpilledRef>)
      .map(([key, value]) => ({
        key,
        value: typeof value === 'string' ? value : (spilled?.get(`${kind}#${value.spilled}#${key}`) ?? ''),
      }))
      .sort(byKey);
  const metrics = Object.entries((item.metrics ?? {}) as Record<string, { v: string; t: number; s: number }>)
    .map(([key, point]) => ({
      key,
      value: decodeValue(point.v),
      timestamp: Number(point.t),
      step: Number(point.s),
    }))
    .sort(byKey);
  return {
    info: {
      runId,
      experimentId: String(item.experimentId),
      userId: String(item.userId ?? ''),
      status: String(item.status) as RunStatus,
      startTime: Number(item.startTime ?? 0),
      ...(item.endTime !== undefined ? { endTime: Number(item.endTime) } : {}),
      artifactUri: String(item.artifactUri),
      lifecycleStage: item.lifecycleStage === 'deleted' ? 'deleted' : 'active',
    },
    metrics,
    params: values('PARAM', item.params),
    tags: values('TAG', item.tags),
    inputs: [],
    modelInputs: [],
    outputs: [],
  };
}

/** Groups the items of one or many run collections into runs. */
function assemble(items: Item[]): Run[] {
  const byRun = new Map<
    string,
    {
      item?: Item;
      spilled: Map<string, string>;
      inputs: DatasetInput[];
      modelInputs: string[];
      outputs: ModelOutput[];
    }
  >();
  for (const item of items) {
    const runId = String(item.runId);
    let entry = byRun.get(runId);
    if (!entry) {
      entry = { spilled: new Map(), inputs: [], modelInputs: [], outputs: [] };
      byRun.set(runId, entry);
    }
    switch (item.entity) {
      case 'run':
        entry.item = item;
        break;
      case 'spilled-param':
      case 'spilled-tag':
        // Keyed as the map names it: `<kind>#<digest>#<key>` (the sort key).
        entry.spilled.set(String(item.sk), String(item.value));
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
  const runs: Run[] = [];
  for (const entry of byRun.values()) {
    // Items of a run whose run item is missing belong to a create that never finished: not a run.
    if (!entry.item) continue;
    runs.push({
      ...runFromItem(entry.item, entry.spilled),
      inputs: entry.inputs,
      modelInputs: entry.modelInputs,
      outputs: entry.outputs,
    });
  }
  return runs;
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

/**
 * Points of one metric in MLflow's order (step, timestamp, value), each once (the first given of
 * equal points). Compared as numbers: the order texts of `metricPointOrder` cost a third of a
 * 1,000-point batch's handler time, and name the same order.
 */
function orderedPoints(points: Metric[]): Metric[] {
  const sorted = [...points].sort(compareMetricPoints); // stable: equal points keep their order
  return sorted.filter((point, i) => i === 0 || compareMetricPoints(sorted[i - 1] as Metric, point) !== 0);
}

/**
 * A request's points of one key as one history item (their order and step and time as offsets from
 * the first point, each value as text), plus the per-point copies kept under a logged model for the
 * points that name one (its `data.metrics` reads those). The key carries the first point and a
 * digest of all of them, so a retried request writes the same item again.
 */
function chunkItems(runId: string, key: string, ordered: Metric[]): Item[] {
  const first = ordered[0] as Metric;
  const points = ordered.map((metric) => {
    const point: unknown[] = [
      metric.step - first.step,
      metric.timestamp - first.timestamp,
      encodeValue(metric.value),
    ];
    const extra = {
      ...(metric.modelId ? { m: metric.modelId } : {}),
      ...(metric.datasetName ? { dn: metric.datasetName, dd: metric.datasetDigest } : {}),
    };
    if (Object.keys(extra).length > 0) point.push(extra);
    return point;
  });
  const text = JSON.stringify(points);
  const chunk: Item = {
    pk: runKeys.history(runId, key),
    sk: runKeys.historyChunk(first.step, first.timestamp, valueDigest(text)),
    entity: 'metric-points',
    key,
    step: first.step,
    timestamp: first.timestamp,
    points: text,
  };
  return [
    chunk,
    ...ordered.filter((metric) => metric.modelId).flatMap((metric) => historyItems(runId, metric).slice(1)),
  ];
}

/** The points a history item holds: a chunk's, or the one point of a `log-metric` item. */
function pointsOf(item: Item): Metric[] {
  if (typeof item.points !== 'string') return [pointFromItem(item)];
  const step = Number(item.step);
  const timestamp = Number(item.timestamp);
  const key = String(item.key);
  return (
    JSON.parse(item.points) as Array<[number, number, string, { m?: string; dn?: string; dd?: string }?]>
  ).map(([stepOffset, timeOffset, value, extra]) => ({
    key,
    value: decodeValue(value),
    timestamp: timestamp + timeOffset,
    step: step + stepOffset,
    ...(extra?.m ? { modelId: extra.m } : {}),
    ...(extra?.dn ? { datasetName: extra.dn, datasetDigest: String(extra.dd ?? '') } : {}),
  }));
}

/** Whether a point's (step, timestamp) comes before `bound`'s. */
function earlier(point: Metric, bound: { step: number; timestamp: number }): boolean {
  return point.step < bound.step || (point.step === bound.step && point.timestamp < bound.timestamp);
}

interface HistoryCursor {
  pk: string;
  /** The first history item that still holds points to give. */
  sk: string;
  /** The `metricPointOrder` of the last point given. */
  after: string;
}

function encodeHistoryCursor(cursor: HistoryCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** A token names a position in this metric's history only: never a key elsewhere in the table. */
function decodeHistoryCursor(cursor: string, pk: string): HistoryCursor {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<HistoryCursor>;
    if (parsed.pk === pk && typeof parsed.sk === 'string' && typeof parsed.after === 'string') {
      return { pk, sk: parsed.sk, after: parsed.after };
    }
  } catch {
    // fall through
  }
  throw new InvalidParameterError('Invalid page token');
}

type WalkPhase = 'numbers' | 'nan' | 'done';

function encodeWalkCursor(cursor: {
  phase: WalkPhase;
  startKey: Record<string, unknown> | undefined;
}): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeWalkCursor(cursor: string): {
  phase: WalkPhase;
  startKey: Record<string, unknown> | undefined;
} {
  return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
    phase: WalkPhase;
    startKey: Record<string, unknown> | undefined;
  };
}

/** The run item's own entry in the search index: its status, under its experiment. */
function statusEntry(
  runId: string,
  experimentId: string,
  status: string,
): { gsi2pk: string; gsi2sk: string } {
  return { gsi2pk: searchIndexKeys.status(experimentId, status), gsi2sk: runId };
}

/** Index entries are written one request each (they are conditional); this many at once. */
const INDEX_WRITE_CONCURRENCY = 32;

/** Runs `task` over `items`, at most `concurrency` at a time. */
async function inBatches<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

/** A map that forgets its oldest entries past a size. */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }
  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.limit) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}
