import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../../platform/aws/dynamodb.ts';
import { InvalidParameterError } from '../../../platform/errors.ts';
import { webhookKeys } from '../keys.ts';
import { isWebhookEvent, type WebhookEventName, type WebhookStatus, webhookNotFound } from '../model.ts';
import type { DeadLetter, NewWebhook, StoredWebhook, WebhookChanges, WebhookRepository } from '../ports.ts';

/** Dead letters expire after this long (the registry table's TTL attribute `expiresAt`). */
const DEAD_LETTER_RETENTION_SECONDS = 30 * 24 * 3600;

type Item = Record<string, unknown>;

/**
 * Webhooks in the registry table, one item each in the `WEBHOOKS` partition (`keys.ts`). Every change
 * is one conditional write of one item, so there is nothing to keep consistent between items and no
 * need for the transactions the local emulator lacks. The secret is an attribute of the item like
 * any other: the table is encrypted at rest, no answer of the API carries it (`Webhook` has no
 * secret), and only the delivery function reads it.
 */
export class DynamoWebhookRepository implements WebhookRepository {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async create(webhook: NewWebhook): Promise<StoredWebhook> {
    const stored: StoredWebhook = {
      webhookId: timeOrderedId(webhook.creationTimestamp),
      name: webhook.name,
      description: webhook.description,
      url: webhook.url,
      events: webhook.events,
      status: webhook.status,
      secret: webhook.secret,
      creationTimestamp: webhook.creationTimestamp,
      lastUpdatedTimestamp: webhook.creationTimestamp,
    };
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...webhookKeys.webhook(stored.webhookId), ...toItem(stored) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return stored;
  }

  async get(webhookId: string): Promise<StoredWebhook | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: webhookKeys.webhook(webhookId),
        ConsistentRead: true,
      }),
    );
    return Item ? fromItem(Item) : undefined;
  }

  async list(
    maxResults: number,
    pageToken: string | undefined,
  ): Promise<{ webhooks: StoredWebhook[]; nextPageToken?: string }> {
    // One more than asked: a next page is announced only when there is one (no empty last page).
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        ...this.webhookQuery(),
        ScanIndexForward: false,
        Limit: maxResults + 1,
        ExclusiveStartKey: pageToken === undefined ? undefined : decodePageToken(pageToken),
      }),
    );
    const page = Items.slice(0, maxResults);
    const last = page[page.length - 1];
    return {
      webhooks: page.map(fromItem),
      ...(Items.length > maxResults && last ? { nextPageToken: encodePageToken(String(last.sk)) } : {}),
    };
  }

  async update(webhookId: string, changes: WebhookChanges, now: number): Promise<StoredWebhook> {
    const names: Record<string, string> = { '#updated': 'lastUpdatedTimestamp' };
    const values: Record<string, unknown> = { ':updated': now };
    const sets = ['#updated = :updated'];
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: webhookKeys.webhook(webhookId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw webhookNotFound(webhookId);
      throw error;
    }
  }

  async delete(webhookId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: webhookKeys.webhook(webhookId),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw webhookNotFound(webhookId);
      throw error;
    }
  }

  async listActiveSubscribers(event: WebhookEventName): Promise<StoredWebhook[]> {
    // One Query of the webhooks partition; DynamoDB keeps only the ACTIVE subscribers of the event.
    const found: StoredWebhook[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          ...this.webhookQuery(),
          FilterExpression: '#status = :active AND contains(#events, :event)',
          ExpressionAttributeNames: { '#status': 'status', '#events': 'events' },
          ExpressionAttributeValues: {
            ':pk': webhookKeys.partition,
            ':prefix': webhookKeys.webhookPrefix,
            ':active': 'ACTIVE' satisfies WebhookStatus,
            ':event': event,
          },
          ExclusiveStartKey: start,
        }),
      );
      found.push(...(page.Items ?? []).map(fromItem));
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  async recordDeadLetter(deadLetter: DeadLetter): Promise<void> {
    const failedAt = new Date(deadLetter.failedAt).toISOString();
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...webhookKeys.deadLetter(deadLetter.webhookId, deadLetter.deliveryId),
          gsi1pk: webhookKeys.deadLettersPartition,
          gsi1sk: webhookKeys.deadLettersSort(failedAt, deadLetter.deliveryId),
          ...deadLetter,
          failedAt,
          expiresAt: Math.floor(deadLetter.failedAt / 1000) + DEAD_LETTER_RETENTION_SECONDS,
        },
      }),
    );
  }

  private webhookQuery(): QueryCommandInput {
    return {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': webhookKeys.partition, ':prefix': webhookKeys.webhookPrefix },
      ConsistentRead: true,
    };
  }
}

function toItem(webhook: StoredWebhook): Item {
  return {
    webhookId: webhook.webhookId,
    name: webhook.name,
    description: webhook.description,
    url: webhook.url,
    events: webhook.events,
    status: webhook.status,
    secret: webhook.secret,
    creationTimestamp: webhook.creationTimestamp,
    lastUpdatedTimestamp: webhook.lastUpdatedTimestamp,
  };
}

function fromItem(item: Item): StoredWebhook {
  return {
    webhookId: String(item.webhookId),
    name: String(item.name),
    description: typeof item.description === 'string' ? item.description : undefined,
    url: String(item.url),
    events: (Array.isArray(item.events) ? item.events : []).filter(
      (event): event is WebhookEventName => typeof event === 'string' && isWebhookEvent(event),
    ),
    status: item.status === 'DISABLED' ? 'DISABLED' : 'ACTIVE',
    secret: typeof item.secret === 'string' ? item.secret : undefined,
    creationTimestamp: Number(item.creationTimestamp),
    lastUpdatedTimestamp: Number(item.lastUpdatedTimestamp),
  };
}

/**
 * A UUID in the RFC 9562 version 7 layout: 48 bits of milliseconds, then random bits. Sort keys of
 * such ids sort by creation time, which is the order the list answers in.
 */
function timeOrderedId(ms: number): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Page tokens name the last webhook of a page; anything else is refused before a read. */
function encodePageToken(sk: string): string {
  return Buffer.from(JSON.stringify({ sk }), 'utf8').toString('base64url');
}

function decodePageToken(token: string): Record<string, string> {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { sk?: unknown };
    if (typeof parsed.sk === 'string' && parsed.sk.startsWith(webhookKeys.webhookPrefix)) {
      return { pk: webhookKeys.partition, sk: parsed.sk };
    }
  } catch {
    // Falls through to the 400 below.
  }
  throw new InvalidParameterError(`Invalid page token: ${token.slice(0, 100)}`);
}
