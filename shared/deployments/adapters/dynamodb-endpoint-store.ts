import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../platform/aws/dynamodb.ts';
import { decodeKeyToken, queryPage } from '../../platform/dynamodb/query-page.ts';
import {
  InvalidStateError,
  ResourceAlreadyExistsError,
  ResourceDoesNotExistError,
} from '../../platform/errors.ts';
import {
  ConflictError,
  DeploymentFinishedError,
  endpointDeleting,
  endpointNotFound,
  StaleRevisionError,
} from '../errors.ts';
import { DEPLOYMENT_INDEXES, deploymentKeys } from '../keys.ts';
import {
  type Deployment,
  deployment as deploymentSchema,
  type Endpoint,
  endpointName,
  traffic as trafficSchema,
} from '../model.ts';
import {
  type Clock,
  type DeploymentChanges,
  type DeploymentRef,
  type EndpointChanges,
  type EndpointStatus,
  type EndpointStore,
  type NewEndpoint,
  type Page,
  type PageRequest,
  systemClock,
  type TrafficChange,
} from '../ports.ts';

type Item = Record<string, unknown>;

/**
 * The deploy context's hold on an endpoint item (`shared/deployments/deploy/`): `{deploymentId,
 * since}`, taken by a deploy before it records its deployment and only while the endpoint is not
 * `Deleting`. A delete commits only without a live hold, so a deploy and a delete exclude each other.
 */
const DEPLOY_HOLD = 'activeDeployment';
const DEFAULT_MAX_DEPLOY_MS = 12 * 3600_000;

/** Deletes in flight at once when an endpoint's partition is swept. */
const SWEEP_CONCURRENCY = 16;

/**
 * Endpoints and their deployments in the deployments table (`keys.ts`). Each change is one
 * conditional write of one item (the local emulator has no transactions, and none is needed):
 * - the endpoint item holds configuration and live traffic; `trafficRevision` is the compare-and-set
 *   counter of traffic moves, `updatedAt` the one of configuration changes;
 * - a delete first marks the endpoint `Deleting` and takes it out of both listings (the commit point:
 *   no traffic move or configuration change passes after it), then removes the partition's other
 *   items, then the endpoint item; a retried delete resumes where one died;
 * - deployments are items of the endpoint's partition, newest first by their sort key.
 */
export class DynamoEndpointStore implements EndpointStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = dynamoDocumentClient(),
    private readonly clock: Clock = systemClock,
    /**
     * How long a deploy may run (the deploy state machine's timeout): a deploy hold or an
     * `InProgress` deployment older than this belongs to an execution that has ended, and no longer
     * blocks a delete. @default 12 hours
     */
    private readonly maxDeployMs: number = DEFAULT_MAX_DEPLOY_MS,
  ) {}

  async create(input: NewEndpoint): Promise<Endpoint> {
    const now = this.clock.now();
    const endpoint: Endpoint = {
      name: input.name,
      modelName: input.modelName,
      follows: input.follows,
      target: input.target,
      rolloutPolicy: input.rolloutPolicy,
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.sagemaker !== undefined ? { sagemaker: input.sagemaker } : {}),
      ...(input.captureSampleRate !== undefined ? { captureSampleRate: input.captureSampleRate } : {}),
      traffic: { primary: null, canary: null, canaryWeight: 0, revision: 0 },
      status: input.status ?? 'Creating',
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toEndpointItem(endpoint),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(input.name);
      throw new ResourceAlreadyExistsError(
        existing?.status === 'Deleting'
          ? `Endpoint '${input.name}' is still being deleted; create it again once the delete finished`
          : `Endpoint '${input.name}' already exists`,
      );
    }
    return endpoint;
  }

  async get(name: string): Promise<Endpoint | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: deploymentKeys.endpoint(name), ConsistentRead: true }),
    );
    return Item ? fromEndpointItem(Item) : undefined;
  }

  list(page: PageRequest): Promise<Page<Endpoint>> {
    return this.listIndex('all', DEPLOYMENT_INDEXES.gsi1, 'gsi1pk', deploymentKeys.endpointsPartition, page);
  }

  listByModel(modelName: string, page: PageRequest): Promise<Page<Endpoint>> {
    return this.listIndex(
      'model',
      DEPLOYMENT_INDEXES.gsi2,
      'gsi2pk',
      deploymentKeys.modelPartition(modelName),
      page,
    );
  }

  async updateConfig(name: string, changes: EndpointChanges, expectedUpdatedAt?: number): Promise<Endpoint> {
    const names: Record<string, string> = { '#status': 'status', '#updatedAt': 'updatedAt' };
    const values: Record<string, unknown> = { ':deleting': 'Deleting', ':now': this.clock.now() };
    const sets = ['#updatedAt = :now'];
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    let condition = 'attribute_exists(pk) AND #status <> :deleting';
    if (expectedUpdatedAt !== undefined) {
      condition += ' AND #updatedAt = :expected';
      values[':expected'] = expectedUpdatedAt;
    }
    return this.updateEndpoint(name, `SET ${sets.join(', ')}`, condition, names, values, (current) => {
      throw new ConflictError(
        `Endpoint '${name}' changed at ${current.updatedAt}, after the ${expectedUpdatedAt} this update expected; read it again`,
      );
    });
  }

  async updateTraffic(
    name: string,
    expectedRevision: number,
    next: TrafficChange,
    status?: EndpointStatus,
  ): Promise<Endpoint> {
    if (status === 'Deleting') throw new Error('Deleting is set by delete() only');
    const traffic = trafficSchema.parse({ ...next, revision: expectedRevision + 1 });
    if (traffic.canary === null && traffic.canaryWeight !== 0) {
      throw new Error(`A canary weight of ${traffic.canaryWeight} without a canary`);
    }
    const names: Record<string, string> = {
      '#status': 'status',
      '#traffic': 'traffic',
      '#revision': 'trafficRevision',
      '#updatedAt': 'updatedAt',
    };
    const values: Record<string, unknown> = {
      ':deleting': 'Deleting',
      ':traffic': { primary: traffic.primary, canary: traffic.canary, canaryWeight: traffic.canaryWeight },
      ':expected': expectedRevision,
      ':next': traffic.revision,
      ':now': this.clock.now(),
    };
    let update = 'SET #traffic = :traffic, #revision = :next, #updatedAt = :now';
    if (status !== undefined) {
      update += ', #status = :status';
      values[':status'] = status;
    }
    return this.updateEndpoint(
      name,
      update,
      'attribute_exists(pk) AND #status <> :deleting AND #revision = :expected',
      names,
      values,
      (current) => {
        throw new StaleRevisionError(name, expectedRevision, current.traffic.revision);
      },
    );
  }

  async updateStatus(
    name: string,
    status: Exclude<EndpointStatus, 'Deleting'>,
    from?: readonly EndpointStatus[],
  ): Promise<Endpoint> {
    if ((status as EndpointStatus) === 'Deleting') throw new Error('Deleting is set by delete() only');
    const values: Record<string, unknown> = {
      ':deleting': 'Deleting',
      ':status': status,
      ':now': this.clock.now(),
    };
    let condition = 'attribute_exists(pk) AND #status <> :deleting';
    if (from !== undefined) {
      const placeholders = from.map((state, i) => {
        values[`:from${i}`] = state;
        return `:from${i}`;
      });
      condition +=
        placeholders.length > 0 ? ` AND #status IN (${placeholders.join(', ')})` : ' AND #status = :none';
      if (placeholders.length === 0) values[':none'] = '';
    }
    return this.updateEndpoint(
      name,
      'SET #status = :status, #updatedAt = :now',
      condition,
      { '#status': 'status', '#updatedAt': 'updatedAt' },
      values,
      (current) => {
        throw new ConflictError(
          `Endpoint '${name}' is ${current.status}, not ${from?.join(' or ')}: its status was not changed`,
        );
      },
    );
  }

  async delete(name: string): Promise<Endpoint | undefined> {
    const endpoint = await this.markDeleting(name);
    if (!endpoint) return undefined;
    await this.sweep(name);
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: deploymentKeys.endpoint(name) }),
    );
    // Writes that passed just before the commit point (a statistics bucket) may land after the sweep.
    await this.sweep(name);
    return endpoint;
  }

  async markDeleting(name: string): Promise<Endpoint | undefined> {
    const { Item: item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: deploymentKeys.endpoint(name), ConsistentRead: true }),
    );
    if (!item) return undefined;
    const endpoint = fromEndpointItem(item);
    if (endpoint.status === 'Deleting') return endpoint;
    const staleBefore = this.clock.now() - this.maxDeployMs;
    const hold = item[DEPLOY_HOLD] as { deploymentId?: unknown; since?: unknown } | undefined;
    const held = hold && Number(hold.since) >= staleBefore ? String(hold.deploymentId) : undefined;
    const running = held ?? (await this.runningDeployment(name, staleBefore))?.deploymentId;
    if (running) {
      throw new InvalidStateError(
        `Endpoint '${name}' has deployment '${running}' in progress; delete it once the deployment finished`,
      );
    }
    try {
      // The commit point: from here on no traffic move, configuration change or deploy hold passes,
      // and the endpoint leaves both listings for the one of deleting endpoints (where the reconciler
      // finds those whose SageMaker resources are still being torn down). What follows is cleaning
      // up, which a retried delete resumes. A deploy that took its hold since the read makes this
      // fail: decide again.
      const now = this.clock.now();
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: deploymentKeys.endpoint(name),
          UpdateExpression:
            'SET #status = :deleting, #updatedAt = :now, gsi1pk = :listing, gsi1sk = :name REMOVE gsi2pk, gsi2sk',
          ConditionExpression:
            'attribute_exists(pk) AND #updatedAt = :seen AND (attribute_not_exists(#hold) OR #hold.#since < :stale)',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#updatedAt': 'updatedAt',
            '#hold': DEPLOY_HOLD,
            '#since': 'since',
          },
          ExpressionAttributeValues: {
            ':deleting': 'Deleting',
            ':now': now,
            ':seen': endpoint.updatedAt,
            ':stale': staleBefore,
            ':listing': deploymentKeys.deletingPartition,
            ':name': deploymentKeys.endpointsSort(name),
          },
        }),
      );
      return { ...endpoint, status: 'Deleting', updatedAt: now };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.markDeleting(name);
    }
  }

  listDeleting(page: PageRequest): Promise<Page<Endpoint>> {
    return this.listIndex(
      'deleting',
      DEPLOYMENT_INDEXES.gsi1,
      'gsi1pk',
      deploymentKeys.deletingPartition,
      page,
    );
  }

  async setStatusMessage(name: string, message: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: deploymentKeys.endpoint(name),
          UpdateExpression: 'SET #message = :message',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#message': 'statusMessage' },
          ExpressionAttributeValues: { ':message': message.slice(0, 1000) },
        }),
      );
    } catch (error) {
      // Deleted meanwhile: there is no one left to tell.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async putDeployment(deployment: Deployment): Promise<Deployment> {
    const parsed = deploymentSchema.parse(deployment);
    const key = deploymentKeys.deployment(parsed.endpointName, parsed.startedAt, parsed.deploymentId);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, entity: 'deployment', ...parsed },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return parsed;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      if (!Item) throw error;
      return fromDeploymentItem(Item);
    }
  }

  async updateDeployment(ref: DeploymentRef, changes: DeploymentChanges): Promise<Deployment> {
    const key = deploymentKeys.deployment(ref.endpointName, ref.startedAt, ref.deploymentId);
    const names: Record<string, string> = { '#status': 'status', '#id': 'deploymentId' };
    const values: Record<string, unknown> = { ':inProgress': 'InProgress', ':id': ref.deploymentId };
    const sets: string[] = [];
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    if (sets.length === 0) {
      const current = await this.getDeploymentAt(key);
      if (!current) throw deploymentNotFound(ref);
      return current;
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk) AND #id = :id AND #status = :inProgress',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromDeploymentItem(Attributes ?? {});
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.getDeploymentAt(key);
      if (!current) throw deploymentNotFound(ref);
      throw new DeploymentFinishedError(ref.deploymentId, current.status);
    }
  }

  /** An `InProgress` deployment young enough that its execution may still run. */
  private async runningDeployment(name: string, staleBefore: number): Promise<Deployment | undefined> {
    const running = await this.findDeployment(name, 'status', 'InProgress');
    return running && running.startedAt >= staleBefore ? running : undefined;
  }

  getDeployment(endpointName: string, deploymentId: string): Promise<Deployment | undefined> {
    return this.findDeployment(endpointName, 'deploymentId', deploymentId);
  }

  async listDeployments(endpointName: string, page: PageRequest): Promise<Page<Deployment>> {
    const pk = deploymentKeys.partition(endpointName);
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': deploymentKeys.deploymentPrefix },
        // The sort key holds the reversed start time: ascending order is newest first.
        ScanIndexForward: true,
        ConsistentRead: true,
      },
      {
        maxResults: page.maxResults,
        start:
          page.pageToken === undefined ? undefined : { pk, sk: decodeToken(page.pageToken, 'deployments') },
        kind: 'deployments',
        map: fromDeploymentItem,
        tokenOf: (item) => String(item.sk),
      },
    );
  }

  private async listIndex(
    kind: 'all' | 'model' | 'deleting',
    indexName: string,
    partitionAttribute: 'gsi1pk' | 'gsi2pk',
    partition: string,
    page: PageRequest,
  ): Promise<Page<Endpoint>> {
    const sortAttribute = partitionAttribute === 'gsi1pk' ? 'gsi1sk' : 'gsi2sk';
    let start: Record<string, unknown> | undefined;
    if (page.pageToken !== undefined) {
      const name = decodeToken(page.pageToken, kind);
      start = { ...deploymentKeys.endpoint(name), [partitionAttribute]: partition, [sortAttribute]: name };
    }
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': partitionAttribute },
        ExpressionAttributeValues: { ':pk': partition },
      },
      {
        maxResults: page.maxResults,
        start,
        kind,
        map: fromEndpointItem,
        tokenOf: (item) => String(item.name),
      },
    );
  }

  /**
   * One conditional update of the endpoint item. When its condition fails, the current item tells
   * why: gone (404), deleting (400 INVALID_STATE), or the caller's own expectation (`onConflict`).
   */
  private async updateEndpoint(
    name: string,
    update: string,
    condition: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
    onConflict: (current: Endpoint) => never,
  ): Promise<Endpoint> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: deploymentKeys.endpoint(name),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromEndpointItem(Attributes ?? {});
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.get(name);
      if (!current) throw endpointNotFound(name);
      if (current.status === 'Deleting') throw endpointDeleting(name);
      return onConflict(current);
    }
  }

  /** The newest deployment of the endpoint whose `attribute` has `value`: one Query of its partition. */
  private async findDeployment(
    name: string,
    attribute: 'status' | 'deploymentId',
    value: string,
  ): Promise<Deployment | undefined> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          FilterExpression: '#attribute = :value',
          ExpressionAttributeNames: { '#attribute': attribute },
          ExpressionAttributeValues: {
            ':pk': deploymentKeys.partition(name),
            ':prefix': deploymentKeys.deploymentPrefix,
            ':value': value,
          },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      const found = page.Items?.[0];
      if (found) return fromDeploymentItem(found);
      start = page.LastEvaluatedKey;
    } while (start);
    return undefined;
  }

  private async getDeploymentAt(key: { pk: string; sk: string }): Promise<Deployment | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return Item ? fromDeploymentItem(Item) : undefined;
  }

  /** Removes every item of the endpoint's partition but the endpoint item (deployments, statistics). */
  private async sweep(name: string): Promise<void> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': deploymentKeys.partition(name) },
          ProjectionExpression: 'pk, sk',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      const keys = (page.Items ?? []).filter((item) => item.sk !== deploymentKeys.endpoint(name).sk);
      for (let i = 0; i < keys.length; i += SWEEP_CONCURRENCY) {
        await Promise.all(
          keys
            .slice(i, i + SWEEP_CONCURRENCY)
            .map((item) =>
              this.client.send(
                new DeleteCommand({ TableName: this.tableName, Key: { pk: item.pk, sk: item.sk } }),
              ),
            ),
        );
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
}

/** The endpoint item: the endpoint's fields, its traffic revision apart, and both listing keys. */
function toEndpointItem(endpoint: Endpoint): Item {
  const { traffic, ...rest } = endpoint;
  return {
    ...deploymentKeys.endpoint(endpoint.name),
    entity: 'endpoint',
    ...rest,
    traffic: { primary: traffic.primary, canary: traffic.canary, canaryWeight: traffic.canaryWeight },
    trafficRevision: traffic.revision,
    gsi1pk: deploymentKeys.endpointsPartition,
    gsi1sk: deploymentKeys.endpointsSort(endpoint.name),
    gsi2pk: deploymentKeys.modelPartition(endpoint.modelName),
    gsi2sk: deploymentKeys.modelSort(endpoint.name),
  };
}

/** Reads an endpoint item back into the contract's shape (storage-only attributes dropped). */
export function fromEndpointItem(item: Item): Endpoint {
  const traffic = (item.traffic ?? {}) as Record<string, unknown>;
  return {
    name: String(item.name),
    modelName: String(item.modelName),
    follows: item.follows as Endpoint['follows'],
    target: item.target as Endpoint['target'],
    rolloutPolicy: item.rolloutPolicy as Endpoint['rolloutPolicy'],
    ...(typeof item.description === 'string' ? { description: item.description } : {}),
    ...(item.sagemaker !== undefined ? { sagemaker: item.sagemaker as Endpoint['sagemaker'] } : {}),
    ...(typeof item.captureSampleRate === 'number' ? { captureSampleRate: item.captureSampleRate } : {}),
    traffic: {
      primary: (traffic.primary ?? null) as Endpoint['traffic']['primary'],
      canary: (traffic.canary ?? null) as Endpoint['traffic']['canary'],
      canaryWeight: Number(traffic.canaryWeight ?? 0),
      revision: Number(item.trafficRevision ?? 0),
    },
    status: item.status as Endpoint['status'],
    ...(typeof item.statusMessage === 'string' ? { statusMessage: item.statusMessage } : {}),
    createdAt: Number(item.createdAt),
    updatedAt: Number(item.updatedAt),
  };
}

function fromDeploymentItem(item: Item): Deployment {
  return {
    deploymentId: String(item.deploymentId),
    endpointName: String(item.endpointName),
    modelName: String(item.modelName),
    version: String(item.version),
    previousVersion: typeof item.previousVersion === 'string' ? item.previousVersion : null,
    trigger: item.trigger as Deployment['trigger'],
    executionArn: typeof item.executionArn === 'string' ? item.executionArn : null,
    status: item.status as Deployment['status'],
    reason: typeof item.reason === 'string' ? item.reason : null,
    steps: (Array.isArray(item.steps) ? item.steps : []) as Deployment['steps'],
    startedAt: Number(item.startedAt),
    finishedAt: typeof item.finishedAt === 'number' ? item.finishedAt : null,
  };
}

const deploymentNotFound = (ref: DeploymentRef) =>
  new ResourceDoesNotExistError(
    `Deployment '${ref.deploymentId}' of endpoint '${ref.endpointName}' does not exist`,
  );

/**
 * Page tokens name the listing they belong to and the last item of their page; a token of another
 * listing, or anything else, is refused before a read.
 */
/** A page token of one of the endpoint listings; a token of another listing is 400. */
function decodeToken(token: string, kind: 'all' | 'model' | 'deleting' | 'deployments'): string {
  return decodeKeyToken(token, kind, (last) =>
    kind === 'deployments'
      ? last.startsWith(deploymentKeys.deploymentPrefix)
      : endpointName.safeParse(last).success,
  );
}
