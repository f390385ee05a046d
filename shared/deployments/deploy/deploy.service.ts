import { versionFilesLocation } from '../../registry/model-source.ts';
import type { Deployment, Endpoint, ServedVersion } from '../model.ts';
import { type SageMakerLimits, sageMakerSettingsProblem } from '../sagemaker-limits.ts';
import { type CanaryVerdict, judgeCanary } from './canary.ts';
import { desiredVersion } from './desired-version.ts';
import { DeployPreconditionError } from './errors.ts';
import type {
  CaughtError,
  DeployContext,
  DeployRequest,
  ExecutionInfo,
  ExecutionState,
  ModelCheckPayload,
  RolloutState,
  StepPayload,
} from './model.ts';
import type {
  CanaryStatsReader,
  Clock,
  DeploymentEvent,
  DeploymentEventPublisher,
  DeploymentLedger,
  ModelVerifier,
  RegistryReader,
  TaskCallbacks,
} from './ports.ts';
import type { SageMakerJanitor } from './sagemaker-janitor.ts';
import { sageMakerPlan, sageMakerResourceName } from './sagemaker-plan.ts';

export interface DeployServiceDeps {
  ledger: DeploymentLedger;
  registry: RegistryReader;
  stats: CanaryStatsReader;
  events: DeploymentEventPublisher;
  clock: Clock;
  /** Where `mlflow-artifacts:/<path>` lives: `s3://<bucket>/<keyPrefix>/<path>`. */
  artifactRoot: { bucket: string; keyPrefix: string };
  /**
   * The longest a deploy can run (the state machine's timeout): a hold on an endpoint older than
   * this belongs to an execution that ended without letting go, and the next deploy takes it over.
   */
  maxDeployMs: number;
  /** What a SageMaker endpoint may cost: Resolve refuses a deploy outside it. */
  sagemakerLimits: SageMakerLimits;
  /** Removes a SageMaker endpoint's models and configs older than the previous version's. */
  janitor: Pick<SageMakerJanitor, 'prune'>;
  /** This Runway's owner tag value for the SageMaker resources it creates (its deployments table). */
  owner: string;
  /** Resumes deploys that queued for an endpoint this deploy lets go. */
  callbacks: TaskCallbacks;
}

/** The model checks of the deploy state machine (CheckModel, SmokeTest): the only steps that load a model. */
export class ModelCheckSteps {
  constructor(private readonly verifier: ModelVerifier) {}

  run(payload: ModelCheckPayload): Promise<unknown> {
    const { deploy } = payload;
    if (payload.step === 'check-model') {
      return this.verifier.check(deploy.storageLocation, deploy.target).then(() => ({}));
    }
    // SageMaker's own container answers the health check before it takes traffic.
    if (deploy.target === 'sagemaker') return Promise.resolve({ skipped: true });
    return this.verifier.smokeTest(deploy.storageLocation).then(() => ({}));
  }
}

/**
 * The steps of the deploy state machine (`infra/constructs/deploy-state-machine.ts`), one method
 * each, called by the deploy-steps function. Every step can run twice (Step Functions retries a
 * task whose Lambda failed) and does the same thing the second time: records are created once,
 * traffic writes are conditional on the revision the step read and on this deploy holding the
 * endpoint, and events carry idempotency keys.
 */
export class DeployService {
  constructor(private readonly deps: DeployServiceDeps) {}

  /** Runs one step; the payload's `step` names it. */
  run(payload: StepPayload): Promise<unknown> {
    switch (payload.step) {
      case 'resolve':
        return this.resolve(payload.request, payload.execution);
      case 'prune':
        return this.prune(payload.deploy);
      case 'queue':
        return this.queue(payload.deploy, payload.taskToken);
      case 'shift-traffic':
        return this.shiftTraffic(payload.deploy, payload.rollout);
      case 'check-canary':
        return this.checkCanary(payload.deploy, payload.rollout);
      case 'promote':
        return this.promote(payload.deploy);
      case 'roll-back':
        return this.rollBack(payload.state.deploy, rollbackReason(payload.state));
      case 'fail':
        return this.fail(payload.state);
    }
  }

  /**
   * Reads the endpoint and the registry, decides whether there is anything to deploy, takes the
   * endpoint and records the deployment. The registry is read again here (events are hints): a
   * deploy whose version the registry no longer names ends at once, the newer change's deploy will
   * do the work.
   */
  async resolve(request: DeployRequest, execution: ExecutionInfo): Promise<DeployContext> {
    const { ledger, clock } = this.deps;
    const state = await ledger.get(request.endpointName);
    if (!state) throw new DeployPreconditionError(`The endpoint '${request.endpointName}' does not exist`);
    const { endpoint } = state;
    const now = clock.now();
    const base = {
      deploymentId: execution.name,
      startedAt: startedAtOf(execution),
      endpointName: endpoint.name,
      modelName: endpoint.modelName,
      version: request.version,
      trigger: request.trigger,
      executionArn: execution.arn,
      storageLocation: '',
      previous: endpoint.traffic.primary,
      target: endpoint.target,
      policy: endpoint.rolloutPolicy,
      sagemaker: null,
    } satisfies Omit<DeployContext, 'outcome' | 'reason'>;
    const skip = (reason: string): DeployContext => ({ ...base, outcome: 'skip', reason });

    if (endpoint.modelName !== request.modelName) {
      return skip(`the endpoint follows the model '${endpoint.modelName}' now, not '${request.modelName}'`);
    }
    const model = await this.deps.registry.get(endpoint.modelName);
    const version = model?.versions.find((candidate) => String(candidate.version) === request.version);
    if (!model || !version) {
      return skip(`version ${request.version} of the model '${request.modelName}' no longer exists`);
    }
    if (request.trigger !== 'manual') {
      const desired = desiredVersion(model, endpoint.follows);
      if (desired?.version !== request.version) {
        return skip(
          desired
            ? `superseded: the registry names version ${desired.version} now`
            : `the registry no longer names a version for ${followsText(endpoint)}`,
        );
      }
    }
    const holds = state.active?.deploymentId === execution.name;
    if (!holds && endpoint.traffic.primary?.version === request.version && endpoint.traffic.canary === null) {
      return skip(`the endpoint serves version ${request.version} already`);
    }
    const storageLocation = this.modelLocation(versionFilesLocation(version));
    let sagemaker: DeployContext['sagemaker'] = null;
    if (endpoint.target === 'sagemaker') {
      // The limits may have narrowed since the endpoint was created: they hold at every deploy.
      const problem =
        endpoint.sagemaker && sageMakerSettingsProblem(endpoint.sagemaker, this.deps.sagemakerLimits);
      if (problem) throw new DeployPreconditionError(`Cannot deploy: sagemaker.${problem[0]}: ${problem[1]}`);
      const plan = sageMakerPlan({
        endpoint,
        version: request.version,
        deploymentId: execution.name,
        modelLocation: storageLocation,
        exists: endpoint.traffic.primary !== null,
        artifactBucket: this.deps.artifactRoot.bucket,
        owner: this.deps.owner,
      });
      if (typeof plan === 'string') throw new DeployPreconditionError(`Cannot deploy: ${plan}`);
      sagemaker = plan;
    }

    const claim = await ledger.claim(
      endpoint.name,
      { deploymentId: execution.name, since: now },
      now - this.deps.maxDeployMs,
    );
    if (!claim.claimed) {
      if (!claim.holder) throw new DeployPreconditionError(`The endpoint '${endpoint.name}' was deleted`);
      return {
        ...base,
        outcome: 'wait',
        reason: `the deploy ${claim.holder.deploymentId} holds the endpoint`,
      };
    }
    // What served when the endpoint was taken; a retried Resolve reads the same (nothing moved yet).
    const previous = claim.state.endpoint.traffic.primary;
    const context: DeployContext = {
      ...base,
      outcome: 'deploy',
      reason: null,
      storageLocation,
      previous,
      sagemaker,
    };
    await ledger.createDeployment(
      newDeployment(context, previous, { status: 'InProgress', reason: null, finishedAt: null }),
    );
    await this.publish('deployment.started', context, {});
    return context;
  }

  /**
   * After SageMaker runs the new version (and before the endpoint is let go, so no later deploy's
   * resources are in play): deletes the endpoint's models and configs but the new version's and the
   * previous one's, which a rollback returns to.
   */
  async prune(deploy: DeployContext): Promise<{ deleted: string[] }> {
    if (!deploy.sagemaker) return { deleted: [] };
    const keep = [deploy.sagemaker.modelName];
    if (deploy.previous) {
      keep.push(
        sageMakerResourceName(deploy.endpointName, deploy.previous.version, deploy.previous.deploymentId),
      );
    }
    return { deleted: await this.deps.janitor.prune(deploy.endpointName, keep) };
  }

  /**
   * Waits for the deploy that holds the endpoint (`WaitForEndpoint`, a callback task): its release
   * resumes this execution with `taskToken`. A hold let go meanwhile resumes it at once; the task's
   * timeout (5 minutes) resumes it anyway, should the holder end without letting go (stopped).
   */
  async queue(deploy: DeployContext, taskToken: string): Promise<{ queued: boolean }> {
    const queued = await this.deps.ledger.queue(deploy.endpointName, deploy.deploymentId, taskToken);
    if (!queued) await this.deps.callbacks.resume(taskToken);
    return { queued };
  }

  /** Lets go of the endpoint and resumes the deploys that queued for it (each asks again in Resolve). */
  private async release(
    endpointName: string,
    deploymentId: string,
    status: Endpoint['status'],
  ): Promise<void> {
    const tokens = await this.deps.ledger.release(endpointName, deploymentId, status);
    await Promise.all(tokens.map((token) => this.deps.callbacks.resume(token)));
  }

  /** Puts the next traffic step live: the new version as the canary with the step's weight. */
  async shiftTraffic(deploy: DeployContext, rollout: RolloutState): Promise<RolloutState> {
    const weight = deploy.policy.trafficSteps[rollout.stepIndex];
    if (weight === undefined) throw new DeployPreconditionError(`No traffic step ${rollout.stepIndex}`);
    const state = await this.held(deploy);
    const { traffic } = state.endpoint;
    const now = this.deps.clock.now();
    // A retried step finds its own write: the canary already at this weight.
    if (traffic.canary?.deploymentId !== deploy.deploymentId || traffic.canaryWeight !== weight) {
      await this.deps.ledger.setTraffic(
        deploy.endpointName,
        deploy.deploymentId,
        traffic.revision,
        { primary: traffic.primary, canary: this.served(deploy), canaryWeight: weight },
        traffic.primary ? 'Updating' : 'Creating',
      );
    }
    return { stepIndex: rollout.stepIndex, weight, since: now, healthy: true, reason: null, done: false };
  }

  /** Judges the step that just baked and records what the canary measured. */
  async checkCanary(deploy: DeployContext, rollout: RolloutState): Promise<RolloutState> {
    const stats = await this.deps.stats.read(deploy.endpointName, deploy.version, rollout.since);
    const verdict: CanaryVerdict = judgeCanary(stats, deploy.policy, rollout.weight);
    const deployment = await this.deployment(deploy);
    const now = this.deps.clock.now();
    // A retried check replaces its own entry rather than adding a second one.
    const steps = deployment.steps.filter((step) => step.weight !== rollout.weight);
    steps.push({
      weight: rollout.weight,
      at: now,
      invocations: stats.invocations,
      errorRate: verdict.errorRate,
      p99LatencyMs: stats.p99LatencyMs,
    });
    await this.deps.ledger.updateDeployment({ ...deployment, steps });
    if (!verdict.healthy) return { ...rollout, healthy: false, reason: verdict.reason };
    const next = rollout.stepIndex + 1;
    const done = next >= deploy.policy.trafficSteps.length;
    return { ...rollout, stepIndex: done ? rollout.stepIndex : next, healthy: true, reason: null, done };
  }

  /** All traffic to the new version: it becomes the primary, the deploy succeeded. */
  async promote(deploy: DeployContext): Promise<{ version: string }> {
    const state = await this.deps.ledger.get(deploy.endpointName);
    const traffic = state?.endpoint.traffic;
    const promoted = traffic?.primary?.deploymentId === deploy.deploymentId && traffic.canary === null;
    if (!promoted) {
      const held = await this.held(deploy);
      await this.deps.ledger.setTraffic(
        deploy.endpointName,
        deploy.deploymentId,
        held.endpoint.traffic.revision,
        { primary: this.served(deploy), canary: null, canaryWeight: 0 },
        'InService',
      );
    }
    const deployment = await this.deployment(deploy);
    if (deployment.status === 'InProgress') {
      await this.finish(deployment, 'Succeeded', null);
    }
    await this.release(deploy.endpointName, deploy.deploymentId, 'InService');
    await this.publish('deployment.succeeded', deploy, {
      steps: deployment.steps.map(({ weight, invocations, errorRate }) => ({
        weight,
        invocations,
        errorRate,
      })),
    });
    return { version: deploy.version };
  }

  /** Traffic back to what served before; the deploy is recorded as rolled back with its reason. */
  async rollBack(deploy: DeployContext, reason: string): Promise<{ reason: string }> {
    const state = await this.deps.ledger.get(deploy.endpointName);
    const traffic = state?.endpoint.traffic;
    const ours = (served: ServedVersion | null | undefined) => served?.deploymentId === deploy.deploymentId;
    const status = deploy.previous ? 'InService' : 'Failed';
    if (
      state &&
      traffic &&
      (ours(traffic.canary) || ours(traffic.primary)) &&
      state.active?.deploymentId === deploy.deploymentId
    ) {
      await this.deps.ledger.setTraffic(
        deploy.endpointName,
        deploy.deploymentId,
        traffic.revision,
        { primary: deploy.previous, canary: null, canaryWeight: 0 },
        status,
      );
    }
    const deployment = await this.deployment(deploy);
    if (deployment.status === 'InProgress') await this.finish(deployment, 'RolledBack', reason);
    await this.release(deploy.endpointName, deploy.deploymentId, status);
    await this.publish('deployment.rolled-back', deploy, { reason });
    return { reason };
  }

  /** A deploy that stopped before traffic moved: recorded as failed, the endpoint let go unchanged. */
  async fail(state: ExecutionState): Promise<{ reason: string; failedStep: string }> {
    const { request, execution, deploy } = state;
    const failedStep = state.failedStep ?? (state.endpointStatus ? 'SageMaker' : 'Deploy');
    const reason = `${failedStep}: ${failureText(state)}`;
    const current = await this.deps.ledger.get(request.endpointName);
    const previous = current?.endpoint.traffic.primary ?? null;
    const context: EventSubject & { startedAt: number } = deploy ?? {
      deploymentId: execution.name,
      startedAt: startedAtOf(execution),
      endpointName: request.endpointName,
      modelName: request.modelName,
      version: request.version,
      trigger: request.trigger,
      executionArn: execution.arn,
      previous,
    };
    if (current) {
      // The deployment exists when Resolve got that far; otherwise this creates it, already failed.
      const deployment = await this.deps.ledger.createDeployment(
        newDeployment(context, previous, { status: 'Failed', reason, finishedAt: this.deps.clock.now() }),
      );
      if (deployment.status === 'InProgress') await this.finish(deployment, 'Failed', reason);
      await this.release(request.endpointName, context.deploymentId, previous ? 'InService' : 'Failed');
    }
    await this.publish('deployment.failed', context, { reason, failedStep });
    return { reason, failedStep };
  }

  // -----------------------------------------------------------------------------------------------

  /** `s3://` for the model server and SageMaker, from what the registry stores. */
  modelLocation(storageLocation: string): string {
    if (storageLocation.startsWith('s3://')) return storageLocation.replace(/\/+$/, '');
    const proxied = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/i.exec(storageLocation);
    if (!proxied?.[1]) {
      const unresolved = /^(runs|models):/i.test(storageLocation)
        ? ' (its source was not resolved to files when the version was created: create the version again once its run or logged model exists)'
        : '';
      throw new DeployPreconditionError(
        `Cannot deploy a model stored at '${storageLocation.slice(0, 200)}': Runway deploys models from its artifact store (mlflow-artifacts:/) or S3${unresolved}`,
      );
    }
    const { bucket, keyPrefix } = this.deps.artifactRoot;
    const path = proxied[1].replace(/\/+$/, '');
    return `s3://${bucket}/${keyPrefix ? `${keyPrefix}/` : ''}${path}`;
  }

  private served(deploy: DeployContext): ServedVersion {
    return {
      version: deploy.version,
      storageLocation: deploy.storageLocation,
      deploymentId: deploy.deploymentId,
    };
  }

  /** The endpoint, which this deploy must still hold (a stale hold taken over means stop). */
  private async held(deploy: DeployContext) {
    const state = await this.deps.ledger.get(deploy.endpointName);
    if (!state) throw new DeployPreconditionError(`The endpoint '${deploy.endpointName}' was deleted`);
    if (state.active?.deploymentId !== deploy.deploymentId) {
      throw new DeployPreconditionError(
        `The deploy no longer holds the endpoint '${deploy.endpointName}' (${state.active ? `the deploy ${state.active.deploymentId} does` : 'nobody does'})`,
      );
    }
    return state;
  }

  private async deployment(deploy: DeployContext): Promise<Deployment> {
    const found = await this.deps.ledger.getDeployment(
      deploy.endpointName,
      deploy.startedAt,
      deploy.deploymentId,
    );
    if (!found) throw new DeployPreconditionError(`The deployment ${deploy.deploymentId} has no record`);
    return found;
  }

  private finish(deployment: Deployment, status: Deployment['status'], reason: string | null) {
    return this.deps.ledger.updateDeployment({
      ...deployment,
      status,
      reason,
      finishedAt: this.deps.clock.now(),
    });
  }

  private publish(
    name: DeploymentEvent['name'],
    deploy: EventSubject,
    own: Record<string, unknown>,
  ): Promise<void> {
    const outcome = name.slice('deployment.'.length);
    return this.deps.events.publish({
      name,
      detail: {
        version: 1,
        idempotencyKey: `${deploy.deploymentId}:${outcome}`,
        occurredAt: new Date(this.deps.clock.now()).toISOString(),
        deploymentId: deploy.deploymentId,
        endpointName: deploy.endpointName,
        modelName: deploy.modelName,
        modelVersion: deploy.version,
        previousVersion: deploy.previous?.version ?? null,
        trigger: deploy.trigger,
        executionArn: deploy.executionArn,
        ...own,
      },
    });
  }
}

/** What a deployments event says about its deploy. */
type EventSubject = Pick<
  DeployContext,
  'deploymentId' | 'endpointName' | 'modelName' | 'version' | 'previous' | 'trigger' | 'executionArn'
>;

/** A deployment record of `subject`, which replaces `previous`. */
function newDeployment(
  subject: EventSubject & { startedAt: number },
  previous: ServedVersion | null,
  outcome: Pick<Deployment, 'status' | 'reason' | 'finishedAt'>,
): Deployment {
  return {
    deploymentId: subject.deploymentId,
    endpointName: subject.endpointName,
    modelName: subject.modelName,
    version: subject.version,
    previousVersion: previous?.version ?? null,
    trigger: subject.trigger,
    executionArn: subject.executionArn,
    steps: [],
    startedAt: subject.startedAt,
    ...outcome,
  };
}

function startedAtOf(execution: ExecutionInfo): number {
  const at = Date.parse(execution.startTime);
  if (Number.isNaN(at))
    throw new DeployPreconditionError(`Bad execution start time '${execution.startTime}'`);
  return at;
}

function followsText(endpoint: Endpoint): string {
  return 'alias' in endpoint.follows
    ? `the alias '${endpoint.follows.alias}'`
    : `the stage ${endpoint.follows.stage}`;
}

/**
 * The sentence a caught error stands for. Step Functions hands a Lambda error's cause over as the
 * Lambda error payload (`{"errorType","errorMessage",...}`) and an AWS API error's as its message.
 */
export function errorMessage(error: CaughtError): string {
  const cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return `${parsed.errorMessage} (${error.Error})`;
  } catch {
    // Not JSON: an AWS API error's message, or the runtime's own.
  }
  return cause ? `${cause.slice(0, 1000)} (${error.Error})` : error.Error;
}

/** Why a deploy failed: the caught error, or SageMaker's account of a failed endpoint. */
function failureText(state: ExecutionState): string {
  if (state.error) return errorMessage(state.error);
  const sageMaker = state.endpointStatus;
  if (sageMaker)
    return `the SageMaker endpoint is ${sageMaker.EndpointStatus}: ${sageMaker.FailureReason ?? 'no reason given'}`;
  return 'unknown failure';
}

function rollbackReason(state: ExecutionState): string {
  if (state.rollout && !state.rollout.healthy && state.rollout.reason) return state.rollout.reason;
  if (state.error)
    return `${state.failedStep ?? 'a step'} failed after traffic moved: ${errorMessage(state.error)}`;
  const sageMaker = state.endpointStatus;
  if (sageMaker?.EndpointStatus === 'InService') {
    return `SageMaker rolled the endpoint back: ${sageMaker.FailureReason ?? 'an alarm fired'}`;
  }
  if (sageMaker)
    return `the SageMaker endpoint is ${sageMaker.EndpointStatus}: ${sageMaker.FailureReason ?? 'no reason given'}`;
  return 'rolled back';
}
