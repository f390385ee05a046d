import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../../platform/aws/dynamodb.ts';
import { deploymentKeys } from '../../keys.ts';
import { type Deployment, deployment, type Endpoint, endpoint, type Traffic } from '../../model.ts';
import { TrafficConflictError } from '../errors.ts';
import type { ActiveDeployment, ClaimResult, DeploymentLedger, EndpointState } from '../ports.ts';

type Item = Record<string, unknown>;

/**
 * Deploy state in the deployments table. The hold (`activeDeployment`) and the live `traffic` live on
 * the endpoint item, so the model server reads traffic in the one GetItem it already makes, and every
 * traffic write is one conditional UpdateItem: on the revision the deploy read and on the deploy
 * still holding the endpoint. Deployments are items of the endpoint's partition, newest first.
 */
export class DynamoDeploymentLedger implements DeploymentLedger {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
  ) {}

  async get(endpointName: string): Promise<EndpointState | undefined> {
    const { Item: item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: deploymentKeys.endpoint(endpointName),
        ConsistentRead: true,
      }),
    );
    return item ? toState(item) : undefined;
  }

  async claim(endpointName: string, hold: ActiveDeployment, staleBefore: number): Promise<ClaimResult> {
    try {
      const { Attributes: item } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: deploymentKeys.endpoint(endpointName),
          // A retried claim keeps its first `since`.
          UpdateExpression: 'SET #active = if_not_exists(#active, :hold)',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(#active) OR #active.#id = :id OR #active.#since < :stale)',
          ExpressionAttributeNames: {
            '#active': 'activeDeployment',
            '#id': 'deploymentId',
            '#since': 'since',
          },
          ExpressionAttributeValues: { ':hold': hold, ':id': hold.deploymentId, ':stale': staleBefore },
          ReturnValues: 'ALL_NEW',
        }),
      );
      let state = toState(item ?? {});
      if (state.active?.deploymentId !== hold.deploymentId) {
        // A stale hold was there: `if_not_exists` kept it. Replace it, conditioned on it.
        state = await this.takeOver(endpointName, hold, state.active);
      }
      return { claimed: true, state };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.get(endpointName);
      if (!current) return { claimed: false, holder: undefined, missing: true };
      if (!current.active) return this.claim(endpointName, hold, staleBefore);
      return { claimed: false, holder: current.active };
    }
  }

  private async takeOver(
    endpointName: string,
    hold: ActiveDeployment,
    stale: ActiveDeployment | undefined,
  ): Promise<EndpointState> {
    const { Attributes: item } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: deploymentKeys.endpoint(endpointName),
        UpdateExpression: 'SET #active = :hold',
        ConditionExpression: '#active.#id = :stale',
        ExpressionAttributeNames: { '#active': 'activeDeployment', '#id': 'deploymentId' },
        ExpressionAttributeValues: { ':hold': hold, ':stale': stale?.deploymentId ?? '' },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toState(item ?? {});
  }

  async setTraffic(
    endpointName: string,
    deploymentId: string,
    expectedRevision: number,
    traffic: Omit<Traffic, 'revision'>,
    status: Endpoint['status'],
  ): Promise<Traffic> {
    const next: Traffic = { ...traffic, revision: expectedRevision + 1 };
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: deploymentKeys.endpoint(endpointName),
          UpdateExpression: 'SET #traffic = :traffic, #status = :status, #updatedAt = :now',
          ConditionExpression: '#traffic.#revision = :expected AND #active.#id = :id',
          ExpressionAttributeNames: {
            '#traffic': 'traffic',
            '#revision': 'revision',
            '#status': 'status',
            '#updatedAt': 'updatedAt',
            '#active': 'activeDeployment',
            '#id': 'deploymentId',
          },
          ExpressionAttributeValues: {
            ':traffic': next,
            ':status': status,
            ':now': Date.now(),
            ':expected': expectedRevision,
            ':id': deploymentId,
          },
        }),
      );
      return next;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      throw new TrafficConflictError(
        `The traffic of the endpoint '${endpointName}' changed under the deploy (expected revision ${expectedRevision}), or the deploy no longer holds it`,
      );
    }
  }

  async release(endpointName: string, deploymentId: string, status: Endpoint['status']): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: deploymentKeys.endpoint(endpointName),
          UpdateExpression: 'REMOVE #active SET #status = :status, #updatedAt = :now',
          ConditionExpression: '#active.#id = :id',
          ExpressionAttributeNames: {
            '#active': 'activeDeployment',
            '#id': 'deploymentId',
            '#status': 'status',
            '#updatedAt': 'updatedAt',
          },
          ExpressionAttributeValues: { ':id': deploymentId, ':status': status, ':now': Date.now() },
        }),
      );
    } catch (error) {
      // Not held by this deploy (released already by a retried step, or taken over): nothing to do.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async createDeployment(record: Deployment): Promise<Deployment> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: deploymentItem(record),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return record;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.getDeployment(record.endpointName, record.startedAt, record.deploymentId);
      if (!existing) throw error;
      return existing;
    }
  }

  async getDeployment(
    endpointName: string,
    startedAt: number,
    deploymentId: string,
  ): Promise<Deployment | undefined> {
    const { Item: item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: deploymentKeys.deployment(endpointName, startedAt, deploymentId),
        ConsistentRead: true,
      }),
    );
    return item ? deployment.parse(item) : undefined;
  }

  async updateDeployment(record: Deployment): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: deploymentItem(record),
          ConditionExpression: '#status = :inProgress',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':inProgress': 'InProgress' },
        }),
      );
    } catch (error) {
      // Finished already (a retried step wrote the same outcome): a finished deployment stays as it is.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

function deploymentItem(record: Deployment): Item {
  return {
    ...deploymentKeys.deployment(record.endpointName, record.startedAt, record.deploymentId),
    ...record,
  };
}

function toState(item: Item): EndpointState {
  const active = item.activeDeployment as ActiveDeployment | undefined;
  return {
    endpoint: endpoint.parse(item),
    active: active && { deploymentId: active.deploymentId, since: Number(active.since) },
  };
}
