import {
  InvalidParameterError,
  InvalidStateError,
  NotImplementedError,
  ResourceDoesNotExistError,
} from '../../platform/errors.ts';
import { ConflictError, endpointNotFound } from '../errors.ts';
import { type Deployment, type Endpoint, type Follows, rolloutPolicy, type Target } from '../model.ts';
import type {
  DeployStarter,
  EndpointStore,
  EndpointTeardown,
  Page,
  RegisteredModelReader,
  RegisteredModelView,
  StatsPoint,
  StatsReader,
} from '../ports.ts';
import { type SageMakerLimits, sageMakerSettingsProblem } from '../sagemaker-limits.ts';
import { PAGE_LIMITS, policyFieldName } from './endpoints.wire.ts';

/** The message a local runtime answers a SageMaker endpoint with (it has no SageMaker to run it on). */
export const SAGEMAKER_DISABLED_MESSAGE =
  'target sagemaker needs AWS: the local runtime has no SageMaker; use target lambda locally or deploy to AWS';

/** A policy update re-reads and merges again this many times when traffic moves under it. */
const MAX_UPDATE_ATTEMPTS = 5;

export interface EndpointsServiceDeps {
  store: EndpointStore;
  models: RegisteredModelReader;
  /** Absent until the deploy state machine is part of the app: a manual deploy answers 501. */
  deployStarter?: DeployStarter | undefined;
  /** False where SageMaker cannot run (the local runtime): endpoints with target `sagemaker` are refused. */
  sagemakerEnabled: boolean;
  /** What a SageMaker endpoint may cost (instance types, count, image repositories). */
  sagemakerLimits: SageMakerLimits;
  /** Tears a deleted SageMaker endpoint's resources down (first pass; the reconciler runs the rest). */
  teardown: EndpointTeardown;
  /** The model server's statistics, for `statistics`. @default none: `statistics` answers 501 */
  stats?: StatsReader | undefined;
}

/** Statistics are kept a day (`STATS_RETENTION_MS`); a series has at most this many intervals. */
export const STATISTICS_LIMITS = {
  windowMs: 24 * 3600 * 1000,
  maxPoints: 360,
  minResolutionMs: 10_000,
} as const;

/** How many recent deployments name the versions a statistics answer covers (besides live traffic). */
const STATISTICS_DEPLOYMENTS = 20;

export interface CreateEndpointInput {
  name: string;
  modelName: string;
  follows: Follows;
  target: Target;
  rolloutPolicy?: Partial<Endpoint['rolloutPolicy']> | undefined;
  description?: string | undefined;
  sagemaker?: Endpoint['sagemaker'];
  captureSampleRate?: number | undefined;
}

export interface UpdateEndpointInput {
  follows?: Follows | undefined;
  /** Merged over the current policy: fields not given keep their values. */
  rolloutPolicy?: Partial<Endpoint['rolloutPolicy']> | undefined;
  description?: string | undefined;
  /** Only the current target is accepted: an endpoint's target never changes. */
  target?: Target | undefined;
  /** Only the current model is accepted: an endpoint serves one registered model for its life. */
  modelName?: string | undefined;
  sagemaker?: Endpoint['sagemaker'];
  captureSampleRate?: number | undefined;
}

export interface PageInput {
  maxResults?: number | undefined;
  pageToken?: string | undefined;
}

/**
 * The endpoints resource: an endpoint follows a registered model's alias or stage, serves it on a
 * target with a rollout policy, and keeps its deployment history. Configuration lives here; traffic
 * belongs to the deploy state machine, which this service only asks to start.
 */
export class EndpointsService {
  constructor(private readonly deps: EndpointsServiceDeps) {}

  async create(input: CreateEndpointInput): Promise<Endpoint> {
    this.checkTarget(input.target, input.sagemaker);
    const policy = checkPolicy({ ...rolloutPolicy.parse({}), ...input.rolloutPolicy });
    await this.model(input.modelName);
    return this.deps.store.create({
      name: input.name,
      modelName: input.modelName,
      follows: input.follows,
      target: input.target,
      rolloutPolicy: policy,
      description: input.description,
      sagemaker: input.sagemaker,
      captureSampleRate: input.captureSampleRate,
    });
  }

  async get(name: string): Promise<Endpoint> {
    const endpoint = await this.deps.store.get(name);
    if (!endpoint) throw endpointNotFound(name);
    return endpoint;
  }

  async list(input: PageInput & { modelName?: string | undefined }): Promise<Page<Endpoint>> {
    const page = {
      maxResults: input.maxResults ?? PAGE_LIMITS.default,
      pageToken: input.pageToken || undefined,
    };
    return input.modelName === undefined
      ? this.deps.store.list(page)
      : this.deps.store.listByModel(input.modelName, page);
  }

  async update(name: string, input: UpdateEndpointInput): Promise<Endpoint> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(name);
      if (input.target !== undefined && input.target !== current.target) {
        throw new InvalidParameterError(
          `The target of endpoint '${name}' is ${current.target} and cannot change; ` +
            `create another endpoint with target ${input.target} and delete this one`,
        );
      }
      if (input.modelName !== undefined && input.modelName !== current.modelName) {
        throw new InvalidParameterError(
          `Endpoint '${name}' serves registered model '${current.modelName}' and cannot change to another; ` +
            'create another endpoint for it',
        );
      }
      if (input.sagemaker !== undefined) this.checkTarget(current.target, input.sagemaker);
      const policy =
        input.rolloutPolicy === undefined
          ? undefined
          : checkPolicy({ ...current.rolloutPolicy, ...input.rolloutPolicy });
      const changes = {
        follows: input.follows,
        rolloutPolicy: policy,
        description: input.description,
        sagemaker: input.sagemaker,
        captureSampleRate: input.captureSampleRate,
      };
      try {
        // A policy is merged over what was read: conditional on it, so a concurrent change is not
        // overwritten with stale fields. Losing the race means reading again and merging again.
        return await this.deps.store.updateConfig(
          name,
          changes,
          policy === undefined ? undefined : current.updatedAt,
        );
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= MAX_UPDATE_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * Deletes the endpoint; answers it as it is while its SageMaker resources are still being torn
   * down (status `Deleting`), or undefined once it is gone.
   */
  async delete(name: string): Promise<Endpoint | undefined> {
    const endpoint = await this.get(name);
    if (endpoint.target !== 'sagemaker') {
      if (!(await this.deps.store.delete(name))) throw endpointNotFound(name);
      return undefined;
    }
    const deleting = await this.deps.store.markDeleting(name);
    if (!deleting) throw endpointNotFound(name);
    if ((await this.deps.teardown.continue(deleting)) === 'deleted') return undefined;
    return this.deps.store.get(name);
  }

  async listDeployments(name: string, input: PageInput): Promise<Page<Deployment>> {
    await this.get(name);
    return this.deps.store.listDeployments(name, {
      maxResults: input.maxResults ?? PAGE_LIMITS.default,
      pageToken: input.pageToken || undefined,
    });
  }

  /**
   * The endpoint's serving statistics per version since `sinceMs` (at most a day back): the versions it
   * serves now and those of its recent deployments, each a series of intervals of `resolutionMs`
   * (default: the smallest multiple of 10 s that keeps a series at 360 intervals or fewer).
   */
  async statistics(
    name: string,
    input: { sinceMs: number; resolutionMs?: number | undefined; now: number },
  ): Promise<{
    resolutionMs: number;
    sinceMs: number;
    versions: Array<{ version: string; points: StatsPoint[] }>;
  }> {
    if (!this.deps.stats)
      throw new NotImplementedError('Serving statistics are not available in this deployment');
    const endpoint = await this.get(name);
    const sinceMs = Math.max(input.sinceMs, input.now - STATISTICS_LIMITS.windowMs);
    const step = STATISTICS_LIMITS.minResolutionMs;
    const resolutionMs =
      input.resolutionMs ??
      Math.max(step, Math.ceil((input.now - sinceMs) / STATISTICS_LIMITS.maxPoints / step) * step);
    if (resolutionMs % step !== 0) {
      throw new InvalidParameterError(`resolution_ms must be a multiple of ${step}; got ${resolutionMs}`);
    }
    const recent = await this.deps.store.listDeployments(name, { maxResults: STATISTICS_DEPLOYMENTS });
    const versions = [
      ...new Set(
        [
          endpoint.traffic.primary?.version,
          endpoint.traffic.canary?.version,
          ...recent.items.flatMap((deployment) => [deployment.version, deployment.previousVersion]),
        ].filter((version): version is string => typeof version === 'string'),
      ),
    ].sort((a, b) => Number(a) - Number(b));
    const stats = this.deps.stats;
    return {
      resolutionMs,
      sinceMs,
      versions: await Promise.all(
        versions.map(async (version) => ({
          version,
          points: await stats.series(name, version, sinceMs, resolutionMs),
        })),
      ),
    };
  }

  /**
   * Starts a deploy of `version`, or of the version the endpoint's alias or stage points to now, by
   * the deploy state machine (which moves traffic by the rollout policy and records the deployment).
   */
  async deploy(
    name: string,
    version: string | undefined,
  ): Promise<{ deploymentId: string; executionArn: string | null; version: string }> {
    const endpoint = await this.get(name);
    if (endpoint.status === 'Deleting') throw new InvalidStateError(`Endpoint '${name}' is being deleted`);
    const model = await this.model(endpoint.modelName);
    const resolved = version ?? followedVersion(endpoint, model);
    if (!model.versions.includes(resolved)) {
      throw new ResourceDoesNotExistError(
        `Model Version (name=${endpoint.modelName}, version=${resolved}) not found`,
      );
    }
    if (!this.deps.deployStarter) {
      throw new NotImplementedError(
        'Manual deploys need the deploy state machine, which this Runway does not define yet ' +
          '(shared/deployments/deploy); the endpoint was not changed',
      );
    }
    return this.deps.deployStarter.start({ endpoint, version: resolved, trigger: 'manual' });
  }

  private checkTarget(target: Target, sagemaker: Endpoint['sagemaker']): void {
    if (target === 'sagemaker' && !this.deps.sagemakerEnabled) {
      throw new InvalidParameterError(SAGEMAKER_DISABLED_MESSAGE);
    }
    const problem = sagemaker && sageMakerSettingsProblem(sagemaker, this.deps.sagemakerLimits);
    if (sagemaker && problem) {
      const [field, sentence] = problem;
      const value = {
        instance_type: sagemaker.instanceType,
        initial_instance_count: sagemaker.initialInstanceCount,
        image: sagemaker.image,
      }[field];
      throw new InvalidParameterError(
        `Invalid value ${JSON.stringify(value)} for parameter 'sagemaker.${field}' supplied: ${sentence}`,
      );
    }
    if (target === 'sagemaker' && sagemaker === undefined) {
      throw new InvalidParameterError(
        "Missing value for required parameter 'sagemaker': target sagemaker needs instance_type and initial_instance_count",
      );
    }
    if (target === 'lambda' && sagemaker !== undefined) {
      throw new InvalidParameterError(
        "Parameter 'sagemaker' applies to target sagemaker only; this endpoint's target is lambda",
      );
    }
  }

  private async model(name: string): Promise<RegisteredModelView> {
    const model = await this.deps.models.get(name);
    if (!model) throw new ResourceDoesNotExistError(`Registered Model with name=${name} not found`);
    return model;
  }
}

/** The whole policy checked against the contract, its problems named by their wire fields. */
function checkPolicy(policy: Endpoint['rolloutPolicy']): Endpoint['rolloutPolicy'] {
  const result = rolloutPolicy.safeParse(policy);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = policyFieldName(String(issue?.path[0] ?? ''));
  const value = JSON.stringify(policy[String(issue?.path[0]) as keyof typeof policy]);
  throw new InvalidParameterError(
    `Invalid value ${value} for parameter 'rollout_policy.${field}' supplied: ${issue?.message ?? 'invalid'}`,
  );
}

/** The version the endpoint's alias points to, or the newest version in its stage (as `models:/m/Production`). */
function followedVersion(endpoint: Endpoint, model: RegisteredModelView): string {
  if ('alias' in endpoint.follows) {
    const version = model.aliases[endpoint.follows.alias];
    if (version === undefined) {
      throw new InvalidStateError(
        `Registered model '${model.name}' has no alias '${endpoint.follows.alias}'; set it, or deploy a version explicitly`,
      );
    }
    return version;
  }
  const versions = model.stages[endpoint.follows.stage] ?? [];
  const newest = versions.map(Number).sort((a, b) => b - a)[0];
  if (newest === undefined) {
    throw new InvalidStateError(
      `Registered model '${model.name}' has no version in stage ${endpoint.follows.stage}; transition one, or deploy a version explicitly`,
    );
  }
  return String(newest);
}
