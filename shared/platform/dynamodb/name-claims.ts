import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

/** A claim on a unique name: which owner holds it, and since when. */
export interface NameClaim {
  ownerId: string;
  claimedAt: number;
  /** Every attribute of the claim item, for owners that keep more on it (e.g. a registry slot). */
  item: Record<string, unknown>;
}

export interface NameClaimsOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** The claim item's key for a name (hash long names: partition keys hold 2 KB). */
  key: (name: string) => { pk: string; sk: string };
  /** The attribute naming the owner, e.g. `experimentId`. */
  ownerAttribute: string;
  /** The claim item's `entity` attribute. */
  entity: string;
  now: () => number;
  /**
   * Whether an existing claim is left over from a create or rename that died between its writes
   * (its owner is missing, carries another name, or is being deleted) and old enough that no request
   * still running can own it. Only then may a new owner take it over.
   */
  isOrphaned: (claim: NameClaim, name: string) => Promise<boolean>;
}

/**
 * Unique names without transactions (the local emulator has none): a conditional put of one claim
 * item per name, made before the entity's own item. A claim whose owner never appeared is taken over
 * by a write conditioned on the old claim, so two takers cannot both win. Used by experiments and
 * registered models.
 */
export class NameClaims {
  constructor(private readonly options: NameClaimsOptions) {}

  /** Claims `name` for `ownerId`; returns false when another live owner holds it. */
  async claim(name: string, ownerId: string, attributes: Record<string, unknown> = {}): Promise<boolean> {
    const { tableName, ownerAttribute } = this.options;
    const item = {
      ...this.options.key(name),
      entity: this.options.entity,
      name,
      ...attributes,
      [ownerAttribute]: ownerId,
      claimedAt: this.options.now(),
    };
    if (
      await this.conditionalPut({
        TableName: tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk)',
      })
    ) {
      return true;
    }
    const existing = await this.read(name);
    if (!existing || !(await this.options.isOrphaned(existing, name))) return false;
    return this.conditionalPut({
      TableName: tableName,
      Item: item,
      ConditionExpression: '#owner = :old AND claimedAt = :at',
      ExpressionAttributeNames: { '#owner': ownerAttribute },
      ExpressionAttributeValues: { ':old': existing.ownerId, ':at': existing.claimedAt },
    });
  }

  async read(name: string): Promise<NameClaim | undefined> {
    const result = await this.options.client.send(
      new GetCommand({
        TableName: this.options.tableName,
        Key: this.options.key(name),
        ConsistentRead: true,
      }),
    );
    const item = result.Item;
    if (!item) return undefined;
    return { ownerId: String(item[this.options.ownerAttribute]), claimedAt: Number(item.claimedAt), item };
  }

  /** Gives the name back, unless another owner holds it now (it was orphaned and taken over). */
  async release(name: string, ownerId: string): Promise<void> {
    try {
      await this.options.client.send(
        new DeleteCommand({
          TableName: this.options.tableName,
          Key: this.options.key(name),
          ConditionExpression: '#owner = :id',
          ExpressionAttributeNames: { '#owner': this.options.ownerAttribute },
          ExpressionAttributeValues: { ':id': ownerId },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private async conditionalPut(input: ConstructorParameters<typeof PutCommand>[0]): Promise<boolean> {
    try {
      await this.options.client.send(new PutCommand(input));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
