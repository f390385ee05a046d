import { describe, expect, it } from 'vitest';
import { judgeCanary } from '../../shared/deployments/deploy/canary.ts';
import { DeployService, errorMessage } from '../../shared/deployments/deploy/deploy.service.ts';
import { desiredVersion, eventConcerns } from '../../shared/deployments/deploy/desired-version.ts';
import { deployExecutionName } from '../../shared/deployments/deploy/execution-name.ts';
import type {
  DeployContext,
  DeployRequest,
  ExecutionInfo,
  RolloutState,
} from '../../shared/deployments/deploy/model.ts';
import { Reconciler } from '../../shared/deployments/deploy/reconciler.service.ts';
import {
  sageMakerEndpointName,
  sageMakerPlan,
  sageMakerResourceName,
  sageMakerResourceOwner,
  sageMakerResourcePrefix,
  trafficRouting,
} from '../../shared/deployments/deploy/sagemaker-plan.ts';
import { DeployTrigger } from '../../shared/deployments/deploy/trigger.service.ts';
import { rolloutPolicy } from '../../shared/deployments/model.ts';
import { Logger } from '../../shared/platform/logger.ts';
import type { ModelState } from '../../shared/registry/ports.ts';
import {
  anEndpoint,
  MemoryLedger,
  modelState,
  RecordingPublisher,
  RecordingStarter,
  ScriptedStats,
  ScriptedVerifier,
} from '../support/deploy-fakes.ts';

const silent = new Logger({ level: 'error', sink: () => undefined });
const policy = (overrides: Record<string, unknown> = {}) =>
  rolloutPolicy.parse({ bakeSeconds: 0, ...overrides });

describe('deploy execution names', () => {
  it('are the same for the same change and differ for any other', () => {
    const name = deployExecutionName('churn-api', '3', 'm1:alias:production:v3@100');
    expect(deployExecutionName('churn-api', '3', 'm1:alias:production:v3@100')).toBe(name);
    expect(deployExecutionName('churn-api', '3', 'm1:alias:production:v3@101')).not.toBe(name);
    expect(deployExecutionName('churn-api2', '3', 'm1:alias:production:v3@100')).not.toBe(name);
    expect(name).toMatch(/^churn-api-v3-[0-9a-f]{24}$/);
  });

  it('fit Step Functions limits for the longest endpoint names and versions', () => {
    const name = deployExecutionName('a'.repeat(63), '9999999999', 'k'.repeat(5000));
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

describe('desiredVersion', () => {
  it('follows an alias, ignoring an alias left on a deleted version', () => {
    const state = modelState('churn', [1, 2], {
      production: { version: 2, updatedAt: 50 },
      old: { version: 7, updatedAt: 1 },
    });
    expect(desiredVersion(state, { alias: 'production' })).toEqual({
      version: '2',
      storageLocation: 'mlflow-artifacts:/1/run2/artifacts/model',
      changeKey: 'id-churn:alias:production:v2@50',
    });
    expect(desiredVersion(state, { alias: 'old' })).toBeUndefined();
    expect(desiredVersion(state, { alias: 'missing' })).toBeUndefined();
  });

  it('follows the highest live version in a stage', () => {
    const state = modelState(
      'churn',
      [1, 2, 3],
      {},
      {
        '1': { stage: 'Production', at: 10 },
        '2': { stage: 'Production', at: 5 },
        '3': { stage: 'Staging', at: 20 },
        '9': { stage: 'Production', at: 30 },
      },
    );
    expect(desiredVersion(state, { stage: 'Production' })?.version).toBe('2');
    expect(desiredVersion(state, { stage: 'Production' })?.changeKey).toBe('id-churn:stage:Production:v2@5');
    expect(desiredVersion(state, { stage: 'Staging' })?.version).toBe('3');
  });

  it('says which events concern a follower', () => {
    expect(eventConcerns({ alias: 'production' }, { alias: 'production' })).toBe(true);
    expect(eventConcerns({ alias: 'production' }, { alias: 'staging' })).toBe(false);
    expect(eventConcerns({ stage: 'Production' }, { stage: 'Production', previousStage: 'None' })).toBe(true);
    expect(eventConcerns({ stage: 'Production' }, { stage: 'Archived', previousStage: 'Production' })).toBe(
      true,
    );
    expect(eventConcerns({ stage: 'Production' }, { stage: 'Staging', previousStage: 'None' })).toBe(false);
    expect(eventConcerns({ alias: 'production' }, { stage: 'Production', previousStage: 'None' })).toBe(
      false,
    );
  });
});

describe('judgeCanary', () => {
  it('passes a step without invocations, or with fewer than the policy needs', () => {
    expect(judgeCanary({ invocations: 0, errors: 0, p99LatencyMs: null }, policy(), 10).healthy).toBe(true);
    const verdict = judgeCanary(
      { invocations: 5, errors: 5, p99LatencyMs: 10 },
      policy({ minInvocations: 10 }),
      10,
    );
    expect(verdict.healthy).toBe(true);
  });

  it('fails an error rate above the limit and says by how much', () => {
    const verdict = judgeCanary(
      { invocations: 40, errors: 5, p99LatencyMs: 10 },
      policy({ maxErrorRate: 0.01 }),
      10,
    );
    expect(verdict).toMatchObject({ healthy: false, errorRate: 0.125 });
    expect(verdict.healthy === false && verdict.reason).toBe(
      'the canary at 10% failed 5 of 40 invocations (12.5%), above the limit of 1%',
    );
  });

  it('passes an error rate at the limit, fails a p99 latency above it', () => {
    expect(
      judgeCanary({ invocations: 100, errors: 1, p99LatencyMs: 10 }, policy({ maxErrorRate: 0.01 }), 50)
        .healthy,
    ).toBe(true);
    const slow = judgeCanary(
      { invocations: 100, errors: 0, p99LatencyMs: 1500 },
      policy({ maxLatencyMs: 1000 }),
      50,
    );
    expect(slow.healthy === false && slow.reason).toBe(
      'the canary at 50% answered in 1500 ms at p99, above the limit of 1000 ms',
    );
  });
});

describe('SageMaker plan', () => {
  it('maps traffic steps to SageMaker routing', () => {
    expect(
      trafficRouting(policy({ trafficSteps: [100], bakeSeconds: 0 })).TrafficRoutingConfiguration,
    ).toEqual({
      Type: 'ALL_AT_ONCE',
      WaitIntervalInSeconds: 0,
    });
    expect(
      trafficRouting(policy({ trafficSteps: [10, 100], bakeSeconds: 300 })).TrafficRoutingConfiguration,
    ).toEqual({
      Type: 'CANARY',
      WaitIntervalInSeconds: 300,
      CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 },
    });
    const linear = trafficRouting(policy({ trafficSteps: [25, 50, 75, 100], bakeSeconds: 3600 }));
    expect(linear.TrafficRoutingConfiguration.LinearStepSize).toEqual({
      Type: 'CAPACITY_PERCENT',
      Value: 25,
    });
    expect(linear.MaximumExecutionTimeoutInSeconds).toBe(16_200);
    expect(
      trafficRouting(policy({ trafficSteps: [100], bakeSeconds: 0 })).MaximumExecutionTimeoutInSeconds,
    ).toBe(1800);
  });

  it('names SageMaker resources within 63 characters, under runway-', () => {
    expect(sageMakerEndpointName('churn')).toBe('runway-churn');
    const long = sageMakerEndpointName(`${'a'.repeat(62)}b`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^runway-a+-[0-9a-f]{8}$/);
    expect(sageMakerEndpointName(`${'a'.repeat(62)}c`)).not.toBe(long);
  });

  it('needs instance settings and an image', () => {
    const endpoint = anEndpoint({ name: 'sm', target: 'sagemaker' });
    const input = {
      endpoint,
      version: '1',
      deploymentId: 'd',
      modelLocation: 's3://b/1/run/artifacts/m',
      exists: false,
      artifactBucket: 'b',
      owner: 'deployments-table',
    };
    expect(sageMakerPlan(input)).toMatch(/no instance settings/);
    const withSettings = { ...endpoint, sagemaker: { instanceType: 'ml.m5.large', initialInstanceCount: 1 } };
    expect(sageMakerPlan({ ...input, endpoint: withSettings })).toMatch(/names no serving image/);
    const plan = sageMakerPlan({
      ...input,
      endpoint: { ...withSettings, sagemaker: { ...withSettings.sagemaker, image: 'img' } },
    });
    expect(plan).toMatchObject({
      endpointName: 'runway-sm',
      create: true,
      modelDataUrl: 's3://b/1/run/artifacts/m/',
      tags: [
        { Key: 'runway:owner', Value: 'deployments-table' },
        { Key: 'runway:endpoint', Value: 'sm' },
      ],
    });
    // SageMaker's role reads run and logged-model artifacts of the artifact bucket, nothing else.
    const ready = { ...withSettings, sagemaker: { ...withSettings.sagemaker, image: 'img' } };
    expect(
      sageMakerPlan({ ...input, endpoint: ready, modelLocation: 's3://other/1/run/artifacts/m' }),
    ).toMatch(/from run or logged-model artifacts in the artifact bucket/);
    expect(sageMakerPlan({ ...input, endpoint: ready, modelLocation: 's3://b/datasets/m' })).toMatch(
      /not s3:\/\/b\/datasets\/m/,
    );
  });

  it('gives each endpoint a prefix of its own for its models and configs, even past 40 characters', () => {
    const a = `${'x'.repeat(40)}-a`;
    const b = `${'x'.repeat(40)}-b`;
    expect(sageMakerResourcePrefix('churn')).toBe('runway-churn');
    expect(sageMakerResourcePrefix(a)).not.toBe(sageMakerResourcePrefix(b));
    expect(sageMakerResourcePrefix(a).length).toBeLessThanOrEqual(40);
    const name = sageMakerResourceName(a, '12', 'deploy-1');
    expect(name.length).toBeLessThanOrEqual(63);
    expect(sageMakerResourceOwner(name)).toBe(sageMakerResourcePrefix(a));
    // Another endpoint whose name extends this one's is not its owner.
    expect(sageMakerResourceOwner(sageMakerResourceName('churn-v3', '1', 'd'))).toBe('runway-churn-v3');
  });
});

// -------------------------------------------------------------------------------------------------

function world(state: ModelState) {
  const ledger = new MemoryLedger();
  const models = new Map([[state.model.name, state]]);
  const registry = { get: async (name: string) => models.get(name) };
  const events = new RecordingPublisher();
  const verifier = new ScriptedVerifier();
  const stats = new ScriptedStats();
  const resumed: string[] = [];
  const callbacks = { resume: async (token: string) => void resumed.push(token) };
  let now = 1_000_000;
  const service = new DeployService({
    ledger,
    registry,
    stats,
    events,
    clock: { now: () => now++ },
    artifactRoot: { bucket: 'artifacts', keyPrefix: '' },
    maxDeployMs: 3_600_000,
    sagemakerLimits: { instanceTypes: ['ml.m5.large'], maxInstances: 2, imageRepositories: [] },
    janitor: { prune: async () => [] },
    owner: 'deployments-table',
    callbacks,
  });
  return {
    ledger,
    models,
    registry,
    events,
    verifier,
    stats,
    service,
    resumed,
    advance: (ms: number) => (now += ms),
  };
}

const execution = (name: string): ExecutionInfo => ({
  name,
  arn: `arn:aws:states:us-east-1:000000000000:execution:deploy:${name}`,
  startTime: '2026-11-28T08:00:00.000Z',
});
const request = (version: string, trigger: DeployRequest['trigger'] = 'event'): DeployRequest => ({
  endpointName: 'churn-api',
  modelName: 'churn',
  version,
  changeKey: `k${version}`,
  trigger,
});

/** Runs the lambda path as the state machine does: shift, (bake), check, until done or unhealthy. */
async function rollOut(service: DeployService, deploy: DeployContext): Promise<RolloutState> {
  let rollout: RolloutState = { stepIndex: 0, weight: 0, since: 0, healthy: true, reason: null, done: false };
  for (;;) {
    rollout = await service.shiftTraffic(deploy, rollout);
    rollout = await service.checkCanary(deploy, rollout);
    if (!rollout.healthy || rollout.done) return rollout;
  }
}

describe('DeployService', () => {
  const served = (version: string) => ({
    version,
    storageLocation: `s3://artifacts/1/run${version}/artifacts/model`,
    deploymentId: `d${version}`,
  });

  it('refuses to deploy a SageMaker endpoint whose settings the spend bounds no longer allow, before taking it', async () => {
    const w = world(modelState('churn', [1, 2], { production: { version: 2, updatedAt: 5 } }));
    w.ledger.add(
      anEndpoint({
        name: 'churn-api',
        target: 'sagemaker',
        sagemaker: { instanceType: 'ml.p4d.24xlarge', initialInstanceCount: 1, image: 'img' },
      }),
    );
    await expect(w.service.resolve(request('2'), execution('big'))).rejects.toThrow(
      'Cannot deploy: sagemaker.instance_type: this Runway allows ml.m5.large',
    );
    expect((await w.ledger.get('churn-api'))?.active).toBeUndefined();
  });

  it("queues a deploy for the endpoint it waits for, and the holder's release resumes it", async () => {
    const w = world(modelState('churn', [1, 2], { production: { version: 2, updatedAt: 5 } }));
    w.ledger.add(anEndpoint({ name: 'churn-api' }));
    const holder = await w.service.resolve(request('2'), execution('holder'));
    const waiter = await w.service.resolve(request('2', 'manual'), execution('waiter'));
    expect(waiter.outcome).toBe('wait');
    expect(await w.service.queue(waiter, 'token-of-waiter')).toEqual({ queued: true });
    expect(w.resumed).toEqual([]);
    await w.service.rollBack(holder, 'test');
    expect(w.resumed).toEqual(['token-of-waiter']);
    // A hold let go before the deploy queued: it is resumed at once, never left waiting.
    expect(await w.service.queue(waiter, 'late-token')).toEqual({ queued: false });
    expect(w.resumed).toEqual(['token-of-waiter', 'late-token']);
  });

  it('tells a deploy that finds the endpoint held to wait, naming the holder', async () => {
    const w = world(modelState('churn', [1, 2], { production: { version: 2, updatedAt: 5 } }));
    w.ledger.add(anEndpoint({ name: 'churn-api' }));
    await w.ledger.claim('churn-api', { deploymentId: 'holder', since: 1_000_000 }, 0);
    const waiting = await w.service.resolve(request('2'), execution('waiter'));
    expect(waiting).toMatchObject({
      outcome: 'wait',
      reason: 'the deploy holder holds the endpoint',
    });
  });

  it('deploys through every traffic step and promotes, recording and announcing it', async () => {
    const w = world(modelState('churn', [1, 2], { production: { version: 2, updatedAt: 5 } }));
    w.ledger.add(
      anEndpoint({
        name: 'churn-api',
        traffic: { primary: served('1'), canary: null, canaryWeight: 0, revision: 3 },
        status: 'InService',
      }),
    );
    const deploy = await w.service.resolve(request('2'), execution('x2'));
    expect(deploy).toMatchObject({
      outcome: 'deploy',
      storageLocation: 's3://artifacts/1/run2/artifacts/model',
      previous: served('1'),
    });
    const weights: number[] = [];
    const shift = w.service.shiftTraffic.bind(w.service);
    w.service.shiftTraffic = async (d, r) => {
      const next = await shift(d, r);
      weights.push((await w.ledger.get('churn-api'))?.endpoint.traffic.canaryWeight ?? -1);
      return next;
    };
    const rollout = await rollOut(w.service, deploy);
    expect(rollout).toMatchObject({ healthy: true, done: true, weight: 100 });
    expect(weights).toEqual([10, 50, 100]);
    await w.service.promote(deploy);
    const after = await w.ledger.get('churn-api');
    expect(after?.endpoint.traffic).toMatchObject({
      primary: { version: '2', deploymentId: 'x2' },
      canary: null,
      canaryWeight: 0,
      revision: 7,
    });
    expect(after?.endpoint.status).toBe('InService');
    expect(after?.active).toBeUndefined();
    expect(w.ledger.deployments.get('x2')).toMatchObject({
      status: 'Succeeded',
      previousVersion: '1',
      steps: [{ weight: 10 }, { weight: 50 }, { weight: 100 }],
    });
    expect(w.events.events.map((event) => event.name)).toEqual([
      'deployment.started',
      'deployment.succeeded',
    ]);
    expect(w.events.events[1]?.detail).toMatchObject({
      idempotencyKey: 'x2:succeeded',
      modelVersion: '2',
      previousVersion: '1',
    });
  });

  it('rolls back to the previous version when the canary breaks the error limit', async () => {
    const w = world(modelState('churn', [1, 2], { production: { version: 2, updatedAt: 5 } }));
    w.ledger.add(
      anEndpoint({
        name: 'churn-api',
        traffic: { primary: served('1'), canary: null, canaryWeight: 0, revision: 3 },
        status: 'InService',
      }),
    );
    const deploy = await w.service.resolve(request('2'), execution('x2'));
    w.stats.stats = { invocations: 50, errors: 10, p99LatencyMs: 3 };
    const rollout = await rollOut(w.service, deploy);
    expect(rollout).toMatchObject({ healthy: false, weight: 10 });
    await w.service.rollBack(deploy, rollout.reason ?? '');
    const after = await w.ledger.get('churn-api');
    expect(after?.endpoint.traffic).toMatchObject({ primary: served('1'), canary: null, canaryWeight: 0 });
    expect(after?.active).toBeUndefined();
    expect(w.ledger.deployments.get('x2')).toMatchObject({
      status: 'RolledBack',
      reason: expect.stringContaining('failed 10 of 50'),
    });
    expect(w.events.events.at(-1)).toMatchObject({ name: 'deployment.rolled-back' });
  });

  it('skips a version the registry no longer names, and one the endpoint serves already', async () => {
    const w = world(modelState('churn', [1, 2, 3], { production: { version: 3, updatedAt: 5 } }));
    w.ledger.add(
      anEndpoint({
        name: 'churn-api',
        traffic: { primary: served('3'), canary: null, canaryWeight: 0, revision: 1 },
      }),
    );
    expect(await w.service.resolve(request('2'), execution('a'))).toMatchObject({
      outcome: 'skip',
      reason: 'superseded: the registry names version 3 now',
    });
    expect(await w.service.resolve(request('3'), execution('b'))).toMatchObject({
      outcome: 'skip',
      reason: 'the endpoint serves version 3 already',
    });
    expect(w.events.events).toEqual([]);
    expect(w.ledger.deployments.size).toBe(0);
  });

  it('waits while another deploy holds the endpoint, and takes over a stale hold', async () => {
    const w = world(modelState('churn', [1, 2], { production: { version: 2, updatedAt: 5 } }));
    w.ledger.add(anEndpoint({ name: 'churn-api' }));
    const first = await w.service.resolve(request('2'), execution('first'));
    expect(first.outcome).toBe('deploy');
    expect(await w.service.resolve(request('2'), execution('second'))).toMatchObject({
      outcome: 'wait',
      reason: 'the deploy first holds the endpoint',
    });
    // A retried Resolve of the holder is idempotent.
    expect((await w.service.resolve(request('2'), execution('first'))).outcome).toBe('deploy');
    w.advance(3_600_001);
    expect((await w.service.resolve(request('2'), execution('second'))).outcome).toBe('deploy');
    // The first deploy lost its hold: its next traffic write fails instead of interleaving.
    await expect(
      w.service.shiftTraffic(first, {
        stepIndex: 0,
        weight: 0,
        since: 0,
        healthy: true,
        reason: null,
        done: false,
      }),
    ).rejects.toThrow(/no longer holds/);
  });

  it('records a failure before traffic moved and lets the endpoint go unchanged', async () => {
    const w = world(modelState('churn', [1, 2], { production: { version: 2, updatedAt: 5 } }));
    w.ledger.add(
      anEndpoint({
        name: 'churn-api',
        traffic: { primary: served('1'), canary: null, canaryWeight: 0, revision: 3 },
        status: 'InService',
      }),
    );
    const deploy = await w.service.resolve(request('2'), execution('x2'));
    const cause = JSON.stringify({
      errorType: 'ModelInvalidError',
      errorMessage: 'MLmodel has no onnx flavor',
      trace: [],
    });
    const outcome = await w.service.fail({
      request: request('2'),
      execution: execution('x2'),
      deploy,
      failedStep: 'CheckModel',
      error: { Error: 'ModelInvalidError', Cause: cause },
    });
    expect(outcome.reason).toBe('CheckModel: MLmodel has no onnx flavor (ModelInvalidError)');
    const after = await w.ledger.get('churn-api');
    expect(after).toMatchObject({
      active: undefined,
      endpoint: { status: 'InService', traffic: { primary: served('1'), revision: 3 } },
    });
    expect(w.ledger.deployments.get('x2')).toMatchObject({ status: 'Failed', reason: outcome.reason });
    expect(w.events.events.at(-1)).toMatchObject({
      name: 'deployment.failed',
      detail: { failedStep: 'CheckModel' },
    });
  });

  it('records a failure of Resolve itself, with no context yet', async () => {
    const w = world(modelState('churn', [1]));
    w.ledger.add(anEndpoint({ name: 'churn-api' }));
    await w.service.fail({
      request: request('1'),
      execution: execution('r1'),
      failedStep: 'Resolve',
      error: { Error: 'DeployPreconditionError', Cause: JSON.stringify({ errorMessage: 'no such thing' }) },
    });
    expect(w.ledger.deployments.get('r1')).toMatchObject({
      status: 'Failed',
      version: '1',
      trigger: 'event',
    });
    expect((await w.ledger.get('churn-api'))?.endpoint.status).toBe('Creating');
  });

  it('deploys a version made from an MLflow 3 logged model from the logged model’s files', async () => {
    const state = modelState('churn', [1, 2], { production: { version: 2, updatedAt: 5 } });
    const modelId = 'm-0e1284e7189041b69d4a0ce5ef21b7fb';
    const [, two] = state.versions;
    Object.assign(two as object, {
      source: `models:/${modelId}`,
      storageLocation: `mlflow-artifacts:/1/models/${modelId}/artifacts`,
    });
    const w = world(state);
    w.ledger.add(anEndpoint({ name: 'churn-api' }));
    const deploy = await w.service.resolve(request('2'), execution('lm2'));
    expect(deploy).toMatchObject({
      outcome: 'deploy',
      storageLocation: `s3://artifacts/1/models/${modelId}/artifacts`,
    });
    // A source never resolved to files (a version made before its run or model existed) says so.
    Object.assign(two as object, { storageLocation: undefined });
    await expect(w.service.resolve(request('2'), execution('lm2b'))).rejects.toThrow(
      /models:\/m-0e12.*source was not resolved to files when the version was created/,
    );
  });

  it('refuses model locations outside the artifact store and S3', () => {
    const w = world(modelState('churn', [1]));
    expect(w.service.modelLocation('mlflow-artifacts:/1/r/artifacts/model/')).toBe(
      's3://artifacts/1/r/artifacts/model',
    );
    expect(w.service.modelLocation('s3://other/m/')).toBe('s3://other/m');
    expect(() => w.service.modelLocation('runs:/abc/model')).toThrow(/artifact store/);
  });

  it('reads an error cause from a Lambda payload or an AWS message', () => {
    expect(errorMessage({ Error: 'X', Cause: '{"errorType":"X","errorMessage":"boom"}' })).toBe('boom (X)');
    expect(errorMessage({ Error: 'SageMaker.ValidationException', Cause: 'bad name' })).toBe(
      'bad name (SageMaker.ValidationException)',
    );
    expect(errorMessage({ Error: 'States.Timeout' })).toBe('States.Timeout');
  });
});

describe('DeployTrigger and Reconciler', () => {
  function setup() {
    const state = modelState('churn', [1, 2], {
      production: { version: 2, updatedAt: 5 },
      staging: { version: 1, updatedAt: 4 },
    });
    const ledger = new MemoryLedger();
    ledger.add(anEndpoint({ name: 'prod-api' }));
    ledger.add(anEndpoint({ name: 'staging-api', follows: { alias: 'staging' } }));
    ledger.add(anEndpoint({ name: 'other', modelName: 'fraud' }));
    const executions = new RecordingStarter();
    const registry = { get: async (name: string) => (name === 'churn' ? state : undefined) };
    const deps = {
      endpoints: ledger,
      ledger,
      registry,
      executions,
      logger: silent,
      teardown: { continue: async () => 'deleted' as const },
      janitor: { sweepOrphans: async () => [] },
    };
    return { state, ledger, executions, trigger: new DeployTrigger(deps), reconciler: new Reconciler(deps) };
  }
  const aliasSet = (alias: string, version: string) => ({
    version: 1,
    idempotencyKey: `id-churn:alias:${alias}:r1@5:set`,
    occurredAt: '2026-11-28T08:00:00.005Z',
    modelId: 'id-churn',
    modelName: 'churn',
    alias,
    modelVersion: version,
    previousVersion: null,
  });

  it('starts one deploy per following endpoint, once however often the event comes', async () => {
    const { trigger, executions } = setup();
    const first = await trigger.handle('registry.model-version.alias-set', aliasSet('production', '2'));
    expect(first).toMatchObject([{ endpointName: 'prod-api', outcome: 'started', version: '2' }]);
    const again = await trigger.handle('registry.model-version.alias-set', aliasSet('production', '2'));
    expect(again).toMatchObject([{ outcome: 'duplicate' }]);
    expect(executions.started).toHaveLength(1);
    expect(executions.started[0]?.input).toEqual({
      endpointName: 'prod-api',
      modelName: 'churn',
      version: '2',
      changeKey: 'id-churn:alias:production:v2@5',
      trigger: 'event',
    });
  });

  it('ignores events no endpoint follows and events that do not parse', async () => {
    const { trigger, executions } = setup();
    expect(await trigger.handle('registry.model-version.alias-set', aliasSet('canary', '2'))).toEqual([]);
    expect(await trigger.handle('registry.model-version.alias-set', { nonsense: true })).toEqual([]);
    expect(executions.started).toEqual([]);
  });

  it('reconciles every endpoint (paged) with the same execution names the events use', async () => {
    const { trigger, reconciler, executions, ledger } = setup();
    await trigger.handle('registry.model-version.alias-set', aliasSet('production', '2'));
    const report = await reconciler.reconcile();
    expect(report.endpoints).toBe(3);
    // prod-api: the event's deploy already started (same name); staging-api: the event was lost.
    expect(report.decisions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ endpointName: 'prod-api', outcome: 'duplicate' }),
        expect.objectContaining({ endpointName: 'staging-api', outcome: 'started', version: '1' }),
        expect.objectContaining({ endpointName: 'other', outcome: 'nothing-desired' }),
      ]),
    );
    expect(executions.started.map((execution) => execution.name)).toHaveLength(2);
    // A held endpoint is left to its deploy.
    await ledger.claim('staging-api', { deploymentId: 'busy', since: Date.now() }, 0);
    expect((await reconciler.reconcile()).decisions).toEqual(
      expect.arrayContaining([expect.objectContaining({ endpointName: 'staging-api', outcome: 'busy' })]),
    );
  });
});
