import type { CanaryStats } from '../../shared/deployments/deploy/canary.ts';
import {
  ModelInvalidError,
  SmokeTestFailedError,
  TrafficConflictError,
} from '../../shared/deployments/deploy/errors.ts';
import type {
  ActiveDeployment,
  ClaimResult,
  DeploymentEvent,
  DeploymentLedger,
  EndpointDirectory,
  EndpointState,
  ExecutionStarter,
} from '../../shared/deployments/deploy/ports.ts';
import {
  type Deployment,
  type Endpoint,
  endpoint as endpointSchema,
  type Traffic,
} from '../../shared/deployments/model.ts';
import type { ModelState, StoredAlias, StoredVersion } from '../../shared/registry/ports.ts';

/**
 * In-memory fakes of the deploy ports, with the same conditional semantics as the DynamoDB adapter
 * (holds, traffic revisions, finished deployments never rewritten), for unit tests of the services.
 */
export class MemoryLedger implements DeploymentLedger, EndpointDirectory {
  readonly endpoints = new Map<string, EndpointState>();
  readonly deployments = new Map<string, Deployment>();

  add(endpoint: Endpoint): void {
    this.endpoints.set(endpoint.name, { endpoint: structuredClone(endpoint), active: undefined });
  }

  async get(name: string) {
    const state = this.endpoints.get(name);
    return state && structuredClone(state);
  }

  async claim(name: string, hold: ActiveDeployment, staleBefore: number): Promise<ClaimResult> {
    const state = this.endpoints.get(name);
    if (!state) return { claimed: false, holder: undefined, missing: true };
    if (
      state.active &&
      state.active.deploymentId !== hold.deploymentId &&
      state.active.since >= staleBefore
    ) {
      return { claimed: false, holder: { ...state.active } };
    }
    if (state.active?.deploymentId !== hold.deploymentId) state.active = { ...hold };
    return { claimed: true, state: structuredClone(state) };
  }

  async setTraffic(
    name: string,
    deploymentId: string,
    expectedRevision: number,
    traffic: Omit<Traffic, 'revision'>,
    status: Endpoint['status'],
  ) {
    const state = this.endpoints.get(name);
    if (
      !state ||
      state.endpoint.traffic.revision !== expectedRevision ||
      state.active?.deploymentId !== deploymentId
    ) {
      throw new TrafficConflictError(`conflict on ${name}`);
    }
    state.endpoint.traffic = { ...structuredClone(traffic), revision: expectedRevision + 1 };
    state.endpoint.status = status;
    return structuredClone(state.endpoint.traffic);
  }

  /** Deploys queued for a held endpoint: endpoint -> deployment id -> task token. */
  readonly queued = new Map<string, Map<string, string>>();

  async release(name: string, deploymentId: string, status: Endpoint['status']) {
    const state = this.endpoints.get(name);
    if (state?.active?.deploymentId !== deploymentId) return [];
    state.active = undefined;
    state.endpoint.status = status;
    const tokens = [...(this.queued.get(name)?.values() ?? [])];
    this.queued.delete(name);
    return tokens;
  }

  async queue(name: string, deploymentId: string, token: string) {
    const state = this.endpoints.get(name);
    if (!state?.active || state.active.deploymentId === deploymentId || state.endpoint.status === 'Deleting')
      return false;
    const queue = this.queued.get(name) ?? new Map<string, string>();
    queue.set(deploymentId, token);
    this.queued.set(name, queue);
    return true;
  }

  async createDeployment(record: Deployment) {
    const existing = this.deployments.get(record.deploymentId);
    if (existing) return structuredClone(existing);
    this.deployments.set(record.deploymentId, structuredClone(record));
    return structuredClone(record);
  }

  async getDeployment(_name: string, _startedAt: number, id: string) {
    const found = this.deployments.get(id);
    return found && structuredClone(found);
  }

  async updateDeployment(record: Deployment) {
    if (this.deployments.get(record.deploymentId)?.status !== 'InProgress') return;
    this.deployments.set(record.deploymentId, structuredClone(record));
  }

  async listByModel(modelName: string) {
    return [...this.endpoints.values()]
      .filter((s) => s.endpoint.modelName === modelName)
      .map((s) => structuredClone(s.endpoint));
  }

  async listDeleting() {
    const deleting = [...this.endpoints.values()].filter((s) => s.endpoint.status === 'Deleting');
    return { endpoints: deleting.map((s) => structuredClone(s.endpoint)) };
  }

  async list(pageToken?: string) {
    // Pages of one, to exercise paging.
    const all = [...this.endpoints.values()].map((s) => structuredClone(s.endpoint));
    const index = pageToken ? Number(pageToken) : 0;
    const next = index + 1 < all.length ? String(index + 1) : undefined;
    return { endpoints: all.slice(index, index + 1), nextPageToken: next };
  }
}

/** A registry with one model, built by hand. */
export function modelState(
  name: string,
  versions: number[],
  aliases: Record<string, { version: number; updatedAt: number }> = {},
  stages: Record<string, { stage: 'Staging' | 'Production' | 'Archived'; at: number }> = {},
): ModelState {
  const modelId = `id-${name}`;
  return {
    model: {
      slot: name,
      modelId,
      name,
      description: '',
      creationTimestamp: 1,
      lastUpdatedTimestamp: 1,
      tags: {},
      latestVersion: Math.max(0, ...versions),
      revision: 1,
      stageRevision: 1,
      stages: Object.fromEntries(Object.entries(stages)),
    },
    versions: versions.map(
      (version): StoredVersion => ({
        modelId,
        version,
        creationTimestamp: 1,
        lastUpdatedTimestamp: 1,
        description: undefined,
        source: `mlflow-artifacts:/1/run${version}/artifacts/model`,
        storageLocation: `mlflow-artifacts:/1/run${version}/artifacts/model`,
        runId: `run${version}`,
        runLink: '',
        tags: {},
        revision: 1,
      }),
    ),
    deletedVersions: [],
    aliases: Object.entries(aliases).map(
      ([alias, { version, updatedAt }]): StoredAlias => ({ modelId, alias, version, revision: 1, updatedAt }),
    ),
  };
}

export function anEndpoint(overrides: Partial<Endpoint> & { name: string }): Endpoint {
  return endpointSchema.parse({
    modelName: 'churn',
    follows: { alias: 'production' },
    target: 'lambda',
    rolloutPolicy: { trafficSteps: [10, 50, 100], bakeSeconds: 0 },
    traffic: { primary: null, canary: null, canaryWeight: 0, revision: 0 },
    status: 'Creating',
    createdAt: 1,
    updatedAt: 1,
    ...overrides,
  });
}

/** Starts nothing; remembers names, answers `duplicate` for a name seen before (as Step Functions does). */
export class RecordingStarter implements ExecutionStarter {
  readonly started: Array<{ name: string; input: unknown }> = [];
  async start(name: string, input: unknown) {
    const executionArn = `arn:aws:states:us-east-1:000000000000:execution:deploy:${name}`;
    if (this.started.some((execution) => execution.name === name))
      return { outcome: 'duplicate' as const, executionArn };
    this.started.push({ name, input });
    return { outcome: 'started' as const, executionArn };
  }
}

export class RecordingPublisher {
  readonly events: DeploymentEvent[] = [];
  async publish(event: DeploymentEvent) {
    this.events.push(structuredClone(event));
  }
}

/** A model verifier whose verdicts the test sets per location. */
export class ScriptedVerifier {
  readonly invalid = new Map<string, string>();
  readonly smokeFails = new Map<string, string>();
  async check(location: string) {
    const problem = this.invalid.get(location);
    if (problem) throw new ModelInvalidError(problem);
  }
  async smokeTest(location: string) {
    const problem = this.smokeFails.get(location);
    if (problem) throw new SmokeTestFailedError(problem);
  }
}

export class ScriptedStats {
  stats: CanaryStats = { invocations: 0, errors: 0, p99LatencyMs: null };
  readonly reads: Array<{ endpointName: string; version: string; sinceMs: number }> = [];
  async read(endpointName: string, version: string, sinceMs: number) {
    this.reads.push({ endpointName, version, sinceMs });
    return this.stats;
  }
}
