import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../../platform/aws/dynamodb.ts';
import { DynamoEndpointStore, fromEndpointItem } from '../../adapters/dynamodb-endpoint-store.ts';
import { DeploymentFinishedError, StaleRevisionError } from '../../errors.ts';
import { deploymentKeys } from '../../keys.ts';
import type { Deployment, Endpoint, Traffic } from '../../model.ts';
import type { EndpointStore } from '../../ports.ts';
import { TrafficConflictError } from '../errors.ts';
import type { ActiveDeployment, ClaimResult, DeploymentLedger, EndpointState } from '../ports.ts';

type Item = Record<string, unknown>;

const HOLD_NAMES = { '#active': 'activeDeployment', '#id': 'deploymentId' };
/** The deploys queued for the hold: deployment id -> task token (a map on the endpoint item). */
const WAITERS = 'queuedDeploys';

/**
 * Deploy state in the deployments table, over the endpoints' own store (`DynamoEndpointStore`):
 * traffic moves are its compare-and-set on the traffic revision, deployments its records. What
 * deploys add is the hold (`activeDeployment` on the endpoint item): one deploy at a time per
 * endpoint, taken and released with conditional writes, taken over only when older than the state
 * machine's timeout (its execution has ended then, so two deploys never write in turn).
 */
export class DynamoDeploymentLedger implements DeploymentLedger {
  private readonly store: EndpointStore;

  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
    store?: EndpointStore,
  ) {
    this.store = store ?? new DynamoEndpointStore(tableName, client);
  }

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
            'attribute_exists(pk) AND #status <> :deleting AND (attribute_not_exists(#active) OR #active.#id = :id OR #active.#since < :stale)',
          ExpressionAttributeNames: { ...HOLD_NAMES, '#since': 'since', '#status': 'status' },
          ExpressionAttributeValues: {
            ':hold': hold,
            ':id': hold.deploymentId,
            ':stale': staleBefore,
            ':deleting': 'Deleting',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      let state = toState(item ?? {});
      if (state.active?.deploymentId !== hold.deploymentId) {
        // A stale hold was there and `if_not_exists` kept it: replace it, conditioned on it.
        state = await this.takeOver(endpointName, hold, state.active?.deploymentId ?? '');
      }
      return { claimed: true, state };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.get(endpointName);
      if (!current || current.endpoint.status === 'Deleting') {
        return { claimed: false, holder: undefined, missing: true };
      }
      // Released between the write and the read, or taken over by another: ask again.
      if (!current.active) return this.claim(endpointName, hold, staleBefore);
      return { claimed: false, holder: current.active };
    }
  }

  private async takeOver(
    endpointName: string,
    hold: ActiveDeployment,
    stale: string,
  ): Promise<EndpointState> {
    const { Attributes: item } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: deploymentKeys.endpoint(endpointName),
        UpdateExpression: 'SET #active = :hold',
        ConditionExpression: '#active.#id = :stale',
        ExpressionAttributeNames: HOLD_NAMES,
        ExpressionAttributeValues: { ':hold': hold, ':stale': stale },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toState(item ?? {});
  }

  async setTraffic(
    endpointName: string,
    _deploymentId: string,
    expectedRevision: number,
    traffic: Omit<Traffic, 'revision'>,
    status: Endpoint['status'],
  ): Promise<Traffic> {
    try {
      return (await this.store.updateTraffic(endpointName, expectedRevision, traffic, status)).traffic;
    } catch (error) {
      if (!(error instanceof StaleRevisionError)) throw error;
      throw new TrafficConflictError(error.message);
    }
  }

  async release(endpointName: string, deploymentId: string, status: Endpoint['status']): Promise<string[]> {
    try {
      // The queue goes with the hold, in the same write: a deploy that queues after it finds no hold.
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: deploymentKeys.endpoint(endpointName),
          UpdateExpression: 'REMOVE #active, #waiters SET #status = :status, #updatedAt = :now',
          ConditionExpression: '#active.#id = :id AND #status <> :deleting',
          ExpressionAttributeNames: {
            ...HOLD_NAMES,
            '#status': 'status',
            '#updatedAt': 'updatedAt',
            '#waiters': WAITERS,
          },
          ExpressionAttributeValues: {
            ':id': deploymentId,
            ':status': status,
            ':now': Date.now(),
            ':deleting': 'Deleting',
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Object.values((Attributes?.[WAITERS] ?? {}) as Record<string, string>);
    } catch (error) {
      // Not held by this deploy (released already by a retried step, or taken over): nothing to do.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return [];
    }
  }

  async queue(endpointName: string, deploymentId: string, taskToken: string): Promise<boolean> {
    const held = 'attribute_exists(#active) AND #active.#id <> :me AND #status <> :deleting';
    const update = (expression: string, values: Record<string, unknown>) =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: deploymentKeys.endpoint(endpointName),
          UpdateExpression: expression,
          ConditionExpression: held,
          ExpressionAttributeNames: {
            ...HOLD_NAMES,
            '#waiters': WAITERS,
            '#status': 'status',
            ...(expression.includes('#me') ? { '#me': deploymentId } : {}),
          },
          ExpressionAttributeValues: { ':me': deploymentId, ':deleting': 'Deleting', ...values },
        }),
      );
    try {
      // Two writes: DynamoDB refuses to create a map and set one of its keys in one expression.
      await update('SET #waiters = if_not_exists(#waiters, :empty)', { ':empty': {} });
      // One entry per deploy: a deploy that queues again (its wait timed out) replaces its token.
      await update('SET #waiters.#me = :token', { ':token': taskToken });
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return false;
    }
  }

  createDeployment(record: Deployment): Promise<Deployment> {
    return this.store.putDeployment(record);
  }

  getDeployment(
    endpointName: string,
    _startedAt: number,
    deploymentId: string,
  ): Promise<Deployment | undefined> {
    return this.store.getDeployment(endpointName, deploymentId);
  }

  async updateDeployment(record: Deployment): Promise<void> {
    const { status, reason, steps, finishedAt } = record;
    try {
      await this.store.updateDeployment(record, { status, reason, steps, finishedAt });
    } catch (error) {
      // Finished already (a retried step wrote its outcome): a finished deployment stays as it is.
      if (!(error instanceof DeploymentFinishedError)) throw error;
    }
  }
}

function toState(item: Item): EndpointState {
  const active = item.activeDeployment as ActiveDeployment | undefined;
  return {
    endpoint: fromEndpointItem(item),
    active: active && { deploymentId: active.deploymentId, since: Number(active.since) },
  };
}
