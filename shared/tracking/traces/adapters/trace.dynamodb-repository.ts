import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../../platform/aws/dynamodb.ts';
import { queryAll } from '../../../platform/dynamodb/query-page.ts';
import { InvalidParameterError } from '../../../platform/errors.ts';
import { TRACKING_INDEXES } from '../../keys.ts';
import { assessmentFromJson, assessmentToJson } from '../assessment.model.ts';
import { traceKeys } from '../keys.ts';
import { type StoredTrace, TRACE_LIMITS, TRACE_STATES, type TraceState } from '../model.ts';
import type { TimeScan, TraceFields, TraceRepository } from '../ports.ts';

/**
 * The item of a trace. Tags and metadata are maps whose keys carry a `=` in front (`=team`): the
 * document client builds maps with plain assignment, which would swallow a key such as `__proto__`,
 * and a search projects exactly the keys its filter names (`tags.#k`). Assessments are their JSON
 * text (`assessmentToJson`), in creation order.
 */
interface TraceItem {
  pk: string;
  sk: string;
  gsi1pk: string;
  gsi1sk: string;
  entity: 'trace';
  traceId: string;
  experimentId?: string;
  clientRequestId?: string | undefined;
  requestTime: number;
  executionDuration?: number | undefined;
  state?: string;
  requestPreview?: string | undefined;
  responsePreview?: string | undefined;
  tags: Record<string, string>;
  metadata: Record<string, string>;
  assessments: string[];
  spanParts: string[];
  spanIds: string[];
  spanBytes: number;
  compactedParts: number;
  clientFinished?: boolean | undefined;
  /** Runs the trace is linked to (its `mlflow.sourceRun`, and `LinkTracesToRun`), each with a link item. */
  linkedRuns?: Set<string> | undefined;
  revision: number;
}

/** Items per BatchGetItem (DynamoDB's limit) and per BatchWriteItem. */
const BATCH_GET = 100;
const BATCH_WRITE = 25;
/** The first page of a scan: a top 10 reads a few dozen items, not a megabyte. */
const FIRST_PAGE = 32;
/** Pages stop growing here (DynamoDB's 1 MB cuts a page of whole items sooner). */
const MAX_PAGE = 8192;

/**
 * Trace infos in the tracking table, one item each (`../README.md`): a get is one GetItem, a
 * search in time order one Query per experiment and page, and every write a conditional Put on the
 * revision the writer read.
 */
export class DynamoTraceRepository implements TraceRepository {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async get(traceId: string): Promise<StoredTrace | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: traceKeys.item(traceId), ConsistentRead: true }),
    );
    return Item ? fromItem(Item as TraceItem) : undefined;
  }

  async getMany(traceIds: readonly string[], fields?: TraceFields): Promise<StoredTrace[]> {
    const unique = [...new Set(traceIds)];
    const projected = fields === undefined ? undefined : projection(fields);
    const traces: StoredTrace[] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET) {
      let keys: Array<Record<string, unknown>> = unique
        .slice(i, i + BATCH_GET)
        .map((id) => traceKeys.item(id));
      // Unprocessed keys (throttling) are asked for again until none are left.
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        const output = await this.client.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: keys,
                ConsistentRead: true,
                ...(projected
                  ? { ProjectionExpression: projected.expression, ExpressionAttributeNames: projected.names }
                  : {}),
              },
            },
          }),
        );
        for (const item of output.Responses?.[this.tableName] ?? []) traces.push(fromItem(item as TraceItem));
        keys = (output.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Array<Record<string, unknown>>;
      }
    }
    return traces;
  }

  async put(trace: StoredTrace, previous: StoredTrace | undefined): Promise<boolean> {
    const expectedRevision = previous?.revision;
    const item = toItem({ ...trace, revision: (expectedRevision ?? 0) + 1 });
    checkSize(item);
    // Links first: a reader meets a link only with its trace's item naming it, or ignores it.
    const moved = previous !== undefined && previous.requestTime !== trace.requestTime;
    const links = trace.linkedRuns.filter((runId) => moved || !previous?.linkedRuns.includes(runId));
    await this.writeAll(links.map((runId) => ({ PutRequest: { Item: linkItem(trace, runId) } })));
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(expectedRevision === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#revision = :revision',
                ExpressionAttributeNames: { '#revision': 'revision' },
                ExpressionAttributeValues: { ':revision': expectedRevision },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      if (isItemTooLarge(error)) throw tooLarge(trace.traceId);
      throw error;
    }
  }

  async markCompacted(traceId: string, parts: number, revision: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: traceKeys.item(traceId),
          // Not a revision bump: the trace's info did not change, only how its spans are stored.
          UpdateExpression: 'SET #compacted = :parts',
          ConditionExpression: '#revision = :revision',
          ExpressionAttributeNames: { '#compacted': 'compactedParts', '#revision': 'revision' },
          ExpressionAttributeValues: { ':parts': parts, ':revision': revision },
        }),
      );
    } catch (error) {
      // Spans arrived meanwhile: the next reader writes traces.json again.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async deleteMany(traces: ReadonlyArray<Pick<StoredTrace, 'traceId' | 'linkedRuns'>>): Promise<void> {
    await this.writeAll(
      traces.flatMap((trace) => [
        { DeleteRequest: { Key: traceKeys.item(trace.traceId) } },
        ...trace.linkedRuns.map((runId) => ({
          DeleteRequest: { Key: traceKeys.runLink(trace.traceId, runId) },
        })),
      ]),
    );
  }

  async tracesOfRun(runId: string): Promise<Array<{ traceId: string; experimentId: string }>> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: TRACKING_INDEXES.gsi1,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': traceKeys.runPartition(runId) },
      ProjectionExpression: 'traceId, experimentId',
    });
    return items.map((item) => ({ traceId: String(item.traceId), experimentId: String(item.experimentId) }));
  }

  /** BatchWriteItem in chunks of 25, unprocessed requests sent again until none are left. */
  private async writeAll(requests: Array<Record<string, unknown>>): Promise<void> {
    for (let i = 0; i < requests.length; i += BATCH_WRITE) {
      let chunk = requests.slice(i, i + BATCH_WRITE);
      for (let attempt = 0; chunk.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        const output = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: chunk as never } }),
        );
        chunk = (output.UnprocessedItems?.[this.tableName] ?? []) as Array<Record<string, unknown>>;
      }
    }
  }

  async *scanByTime(experimentId: string, scan: TimeScan, fields?: TraceFields): AsyncIterable<StoredTrace> {
    // Bounds on the sort key: [from, to] and, when resuming, the millisecond the last page ended in.
    let lower = scan.from === undefined ? undefined : traceKeys.timeStart(scan.from);
    let upper = scan.to === undefined ? undefined : traceKeys.timeEnd(scan.to);
    if (scan.resumeAt !== undefined) {
      if (scan.ascending) lower = maxKey(lower, traceKeys.timeStart(scan.resumeAt));
      else upper = minKey(upper, traceKeys.timeEnd(scan.resumeAt));
    }
    if (lower !== undefined && upper !== undefined && lower > upper) return;
    const values: Record<string, unknown> = { ':pk': traceKeys.experimentPartition(experimentId) };
    let condition = 'gsi1pk = :pk';
    if (lower !== undefined && upper !== undefined) {
      condition += ' AND gsi1sk BETWEEN :lower AND :upper';
      Object.assign(values, { ':lower': lower, ':upper': upper });
    } else if (lower !== undefined) {
      condition += ' AND gsi1sk >= :lower';
      values[':lower'] = lower;
    } else if (upper !== undefined) {
      condition += ' AND gsi1sk <= :upper';
      values[':upper'] = upper;
    }
    const projected = fields === undefined ? undefined : projection(fields);
    let startKey: Record<string, unknown> | undefined;
    let limit = FIRST_PAGE;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TRACKING_INDEXES.gsi1,
          KeyConditionExpression: condition,
          ExpressionAttributeValues: values,
          ScanIndexForward: scan.ascending,
          ExclusiveStartKey: startKey,
          // Grow the pages while the caller keeps reading: a top 10 costs one small Query, a
          // selective filter soon reads DynamoDB's full 1 MB pages.
          Limit: limit,
          ...(projected
            ? { ProjectionExpression: projected.expression, ExpressionAttributeNames: projected.names }
            : {}),
        }),
      );
      for (const item of page.Items ?? []) yield fromItem(item as TraceItem);
      startKey = page.LastEvaluatedKey;
      limit = Math.min(limit * 4, MAX_PAGE);
    } while (startKey);
  }
}

/**
 * The items of a trace as this repository writes them, its run links and itself (exported for
 * benchmarks that seed many traces).
 */
export function traceItems(trace: StoredTrace): Array<Record<string, unknown>> {
  return [
    ...trace.linkedRuns.map((runId) => linkItem(trace, runId)),
    toItem(trace) as unknown as Record<string, unknown>,
  ];
}

/** A trace's link to a run, sorted in the run's partition by the trace's start time. */
function linkItem(trace: StoredTrace, runId: string): Record<string, unknown> {
  return {
    ...traceKeys.runLink(trace.traceId, runId),
    gsi1pk: traceKeys.runPartition(runId),
    gsi1sk: traceKeys.experimentSort(trace.requestTime, trace.traceId),
    entity: 'trace-run-link',
    traceId: trace.traceId,
    experimentId: trace.experimentId,
  };
}

function toItem(trace: StoredTrace): TraceItem {
  return {
    ...traceKeys.item(trace.traceId),
    gsi1pk: traceKeys.experimentPartition(trace.experimentId),
    gsi1sk: traceKeys.experimentSort(trace.requestTime, trace.traceId),
    entity: 'trace',
    traceId: trace.traceId,
    experimentId: trace.experimentId,
    clientRequestId: trace.clientRequestId,
    requestTime: trace.requestTime,
    executionDuration: trace.executionDuration,
    state: trace.state,
    requestPreview: trace.requestPreview,
    responsePreview: trace.responsePreview,
    tags: encodeMap(trace.tags),
    metadata: encodeMap(trace.metadata),
    assessments: trace.assessments.map((assessment) => JSON.stringify(assessmentToJson(assessment))),
    spanParts: trace.spanParts,
    spanIds: trace.spanIds,
    spanBytes: trace.spanBytes,
    compactedParts: trace.compactedParts,
    clientFinished: trace.clientFinished,
    // DynamoDB has no empty sets.
    linkedRuns: trace.linkedRuns.length > 0 ? new Set(trace.linkedRuns) : undefined,
    revision: trace.revision,
  };
}

function fromItem(item: TraceItem): StoredTrace {
  return {
    traceId: item.traceId,
    experimentId: item.experimentId ?? '',
    clientRequestId: item.clientRequestId,
    requestTime: Number(item.requestTime),
    executionDuration: item.executionDuration === undefined ? undefined : Number(item.executionDuration),
    state: (TRACE_STATES as readonly string[]).includes(item.state ?? '')
      ? (item.state as TraceState)
      : 'STATE_UNSPECIFIED',
    requestPreview: item.requestPreview,
    responsePreview: item.responsePreview,
    tags: decodeMap(item.tags),
    metadata: decodeMap(item.metadata),
    assessments: (item.assessments ?? []).map((json) => assessmentFromJson(JSON.parse(json))),
    spanParts: item.spanParts ?? [],
    spanIds: item.spanIds ?? [],
    spanBytes: Number(item.spanBytes ?? 0),
    compactedParts: Number(item.compactedParts ?? 0),
    clientFinished: item.clientFinished === true,
    linkedRuns: [...(item.linkedRuns ?? [])].sort(),
    revision: Number(item.revision ?? 0),
  };
}

const KEY_MARK = '=';

function encodeMap(map: Map<string, string>): Record<string, string> {
  return Object.fromEntries([...map].map(([key, value]) => [`${KEY_MARK}${key}`, value]));
}

function decodeMap(stored: Record<string, string> | undefined): Map<string, string> {
  return new Map(Object.entries(stored ?? {}).map(([key, value]) => [key.slice(KEY_MARK.length), value]));
}

/** The projection of a scan: id, start time and experiment, and what `fields` names. */
function projection(fields: TraceFields): { expression: string; names: Record<string, string> } {
  const names: Record<string, string> = { '#id': 'traceId', '#time': 'requestTime', '#exp': 'experimentId' };
  const parts = ['#id', '#time', '#exp'];
  const top = (flag: boolean | undefined, attribute: string) => {
    if (!flag) return;
    names[`#${attribute}`] = attribute;
    parts.push(`#${attribute}`);
  };
  top(fields.state, 'state');
  top(fields.executionDuration, 'executionDuration');
  top(fields.clientRequestId, 'clientRequestId');
  top(fields.linkedRuns, 'linkedRuns');
  top(fields.assessments, 'assessments');
  for (const map of ['tags', 'metadata'] as const) {
    const keys = fields[map];
    if (keys === undefined) continue;
    names[`#${map}`] = map;
    if (keys === 'all') parts.push(`#${map}`);
    else {
      keys.forEach((key, i) => {
        names[`#${map}${i}`] = `${KEY_MARK}${key}`;
        parts.push(`#${map}.#${map}${i}`);
      });
    }
  }
  return { expression: parts.join(', '), names };
}

/** Refuses, before DynamoDB does, a trace whose info would not fit its item. */
function checkSize(item: TraceItem): void {
  const size = Buffer.byteLength(
    JSON.stringify({ ...item, linkedRuns: item.linkedRuns ? [...item.linkedRuns] : undefined }),
    'utf8',
  );
  if (size > TRACE_LIMITS.itemBytes) throw tooLarge(item.traceId, size);
}

function tooLarge(traceId: string, size?: number): InvalidParameterError {
  return new InvalidParameterError(
    `Trace '${traceId}' would take ${size === undefined ? 'more than' : `${size} bytes, more than`} the ${TRACE_LIMITS.itemBytes} bytes a trace's info (tags, metadata, previews, assessments) may take`,
  );
}

function isItemTooLarge(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationException' && /size/i.test(error.message);
}

function maxKey(a: string | undefined, b: string): string {
  return a === undefined || b > a ? b : a;
}

function minKey(a: string | undefined, b: string): string {
  return a === undefined || b < a ? b : a;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
