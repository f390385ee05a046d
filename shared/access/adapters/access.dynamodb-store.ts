import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../platform/aws/dynamodb.ts';
import { queryAll } from '../../platform/dynamodb/query-page.ts';
import { ACCESS_INDEXES, grantKeys, tokenKeys } from '../keys.ts';
import {
  type Grant,
  type ResourceKind,
  type TokenInfo,
  type TokenRecord,
  tokenRecordSchema,
} from '../model.ts';
import { type Permission, permissionSchema } from '../permissions.ts';
import type { GrantStore, TokenStore } from '../ports.ts';

/** Tokens in the access table: one item per token, keyed by its public id. */
export class DynamoTokenStore implements TokenStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async put(record: TokenRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...tokenKeys.item(record.tokenId),
          gsi1pk: tokenKeys.listPartition,
          gsi1sk: tokenKeys.listSort(record.createdAt, record.tokenId),
          ...record,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(tokenId: string): Promise<TokenRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: tokenKeys.item(tokenId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const parsed = tokenRecordSchema.safeParse(Item);
    return parsed.success ? parsed.data : undefined;
  }

  async list(user?: string): Promise<TokenInfo[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: ACCESS_INDEXES.gsi1,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': tokenKeys.listPartition },
    });
    return items.flatMap((item) => {
      const parsed = tokenRecordSchema.safeParse(item);
      if (!parsed.success || (user !== undefined && parsed.data.user !== user)) return [];
      const { secretHash: _hidden, ...info } = parsed.data;
      return [info];
    });
  }

  async revoke(tokenId: string, at: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tokenKeys.item(tokenId),
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

/** Grants in the access table: one item per (resource, user), listed per user on GSI1. */
export class DynamoGrantStore implements GrantStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async get(kind: ResourceKind, resource: string, user: string): Promise<Permission | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: grantKeys.item(kind, resource, user) }),
    );
    const parsed = permissionSchema.safeParse(Item?.permission);
    return parsed.success ? parsed.data : undefined;
  }

  create(grant: Grant): Promise<boolean> {
    return this.write(grant, 'attribute_not_exists(pk)');
  }

  update(grant: Grant): Promise<boolean> {
    return this.write(grant, 'attribute_exists(pk)');
  }

  async put(grant: Grant): Promise<void> {
    await this.write(grant);
  }

  async delete(kind: ResourceKind, resource: string, user: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: grantKeys.item(kind, resource, user),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async listForResource(kind: ResourceKind, resource: string): Promise<Grant[]> {
    const { pk } = grantKeys.item(kind, resource, '');
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :grant)',
      ExpressionAttributeValues: { ':pk': pk, ':grant': 'GRANT#' },
      ConsistentRead: true,
    });
    return items.flatMap((item) => {
      const permission = permissionSchema.safeParse(item.permission);
      return permission.success && typeof item.user === 'string'
        ? [{ kind, resource, user: item.user, permission: permission.data }]
        : [];
    });
  }

  async listForUser(kind: ResourceKind, user: string): Promise<Map<string, Permission>> {
    const prefix = grantKeys.userSort(kind, '');
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: ACCESS_INDEXES.gsi1,
      KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :prefix)',
      ExpressionAttributeValues: { ':pk': grantKeys.userPartition(user), ':prefix': prefix },
    });
    const grants = new Map<string, Permission>();
    for (const item of items) {
      const permission = permissionSchema.safeParse(item.permission);
      if (permission.success && typeof item.resource === 'string') grants.set(item.resource, permission.data);
    }
    return grants;
  }

  private async write(grant: Grant, condition?: string): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...grantKeys.item(grant.kind, grant.resource, grant.user),
            gsi1pk: grantKeys.userPartition(grant.user),
            gsi1sk: grantKeys.userSort(grant.kind, grant.resource),
            ...grant,
          },
          ...(condition ? { ConditionExpression: condition } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
