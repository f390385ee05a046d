import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../infra/local/runtime.ts';
import { DynamoRegistryRepository } from '../../shared/registry/adapters/registry.dynamodb-repository.ts';
import { RegistryService } from '../../shared/registry/registry.service.ts';
import { VariantStatsRecorder } from '../../shared/serving/variant-stats.ts';
import { LocalDeployDriver } from '../support/local-deploy.ts';

/**
 * Continuous deployment end to end on the local runtime running Runway's own app: the registry
 * announces an alias move on the bus, the promotion rule invokes the trigger, the deploy state
 * machine runs from its synthesized definition with its steps on the real functions, and the
 * endpoint's traffic moves (or does not). One endpoint, one model, its versions deployed in turn.
 */

let dataDir: string;
let runtime: LocalRuntime;
let driver: LocalDeployDriver;
const MODEL = 'churn';
const ENDPOINT = 'churn-api';

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-deploy-'));
  runtime = await LocalRuntime.start({ port: 0, dataDir, functionLogs: 'silent', log: () => undefined });
  driver = new LocalDeployDriver(runtime);
  const v1 = await driver.createVersion(MODEL, await driver.uploadModel('run1'));
  expect(v1).toBe('1');
  await driver.ok('POST', 'runway/endpoints', {
    name: ENDPOINT,
    model_name: MODEL,
    follows: { alias: 'production' },
    rollout_policy: { traffic_steps: [50, 100], bake_seconds: 0 },
  });
  // Seven functions start cold on a shared machine.
}, 240_000);

afterAll(async () => {
  driver?.close();
  await runtime?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** The one execution for `version` once it has ended. */
async function endedExecution(version: string) {
  return driver.waitFor(async () => {
    const [execution, more] = await driver.executions(`${ENDPOINT}-v${version}-`);
    if (more) throw new Error(`more than one execution for version ${version}`);
    return execution && execution.status !== 'RUNNING' ? execution : undefined;
  });
}

describe('continuous deployment on the local runtime', () => {
  it('deploys the version an alias is set to, through every traffic step', async () => {
    await driver.setAlias(MODEL, 'production', '1');
    const traffic = await driver.waitForPrimary(ENDPOINT, '1');
    expect(traffic).toMatchObject({
      primary: {
        version: '1',
        storage_location: expect.stringMatching(/^s3:\/\/.+\/1\/run1\/artifacts\/model$/),
      },
    });
    expect((await endedExecution('1')).status).toBe('SUCCEEDED');
    const [deployment] = await driver.deployments(ENDPOINT);
    expect(deployment).toMatchObject({
      version: '1',
      previous_version: null,
      trigger: 'event',
      status: 'Succeeded',
      reason: null,
    });
    expect(deployment.steps.map((step: { weight: number }) => step.weight)).toEqual([50, 100]);
    expect((await driver.endpoint(ENDPOINT)).status).toBe('InService');
    // The model server answers with the deployed version.
    const example = readFileSync(
      path.resolve(import.meta.dirname, '../fixtures/models/mlflow-onnx-logreg/serving_input_example.json'),
      'utf8',
    );
    const invoked = await fetch(`${runtime.url}/endpoints/${ENDPOINT}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: example,
    });
    expect(invoked.status, await invoked.clone().text()).toBe(200);
    const { predictions } = (await invoked.json()) as { predictions: { p: unknown[] } };
    expect(predictions.p).toHaveLength(JSON.parse(example).inputs.length);
  });

  it('fails a broken version before any traffic moves', async () => {
    const v2 = await driver.createVersion(MODEL, await driver.uploadModel('run2', { broken: true }));
    await driver.setAlias(MODEL, 'production', v2);
    const execution = await endedExecution(v2);
    expect(execution.status).toBe('FAILED');
    const described = await runtime.stepFunctions.describeExecution(execution.executionArn ?? '');
    expect(described.error).toBe('Deploy.Failed');
    expect(described.cause).toMatch(/^CheckModel: .*model\.onnx/);
    const endpoint = await driver.endpoint(ENDPOINT);
    expect(endpoint.traffic).toMatchObject({ primary: { version: '1' }, canary: null, canary_weight: 0 });
    expect(endpoint.status).toBe('InService');
    const [deployment] = await driver.deployments(ENDPOINT);
    expect(deployment).toMatchObject({ version: v2, status: 'Failed', reason: described.cause });
  });

  it('rolls back to the previous version when the canary breaks its error limit', async () => {
    await driver.ok('PATCH', `runway/endpoints/${ENDPOINT}`, {
      rollout_policy: { traffic_steps: [50, 100], bake_seconds: 3, min_invocations: 5, max_error_rate: 0.1 },
    });
    const v3 = await driver.createVersion(MODEL, await driver.uploadModel('run3'));
    await driver.setAlias(MODEL, 'production', v3);
    // The canary takes half the traffic; while it bakes, the model server records its failures.
    await driver.waitFor(async () =>
      (await driver.endpoint(ENDPOINT)).traffic.canary?.version === v3 ? true : undefined,
    );
    const stats = new VariantStatsRecorder({
      tableName: driver.resourceName('AWS::DynamoDB::Table', 'DeploymentsTable'),
      client: driver.dynamo,
      emf: () => undefined,
    });
    for (let i = 0; i < 8; i++) stats.record(ENDPOINT, v3, 'ok', 2);
    for (let i = 0; i < 4; i++) stats.record(ENDPOINT, v3, 'modelError', 2);
    await stats.flush();
    const execution = await endedExecution(v3);
    const described = await runtime.stepFunctions.describeExecution(execution.executionArn ?? '');
    expect(described).toMatchObject({ status: 'FAILED', error: 'Deploy.RolledBack' });
    expect(described.cause).toBe(
      'the canary at 50% failed 4 of 12 invocations (33.33%), above the limit of 10%',
    );
    expect((await driver.endpoint(ENDPOINT)).traffic).toMatchObject({
      primary: { version: '1' },
      canary: null,
      canary_weight: 0,
    });
    const [deployment] = await driver.deployments(ENDPOINT);
    expect(deployment).toMatchObject({
      version: v3,
      status: 'RolledBack',
      reason: described.cause,
      previous_version: '1',
    });
    expect(deployment.steps).toMatchObject([{ weight: 50, invocations: 12 }]);
  });

  it('starts one deploy for an event delivered three times', async () => {
    await driver.ok('PATCH', `runway/endpoints/${ENDPOINT}`, {
      rollout_policy: { bake_seconds: 0, min_invocations: 0 },
    });
    const v4 = await driver.createVersion(MODEL, await driver.uploadModel('run4'));
    await driver.setAlias(MODEL, 'production', v4);
    // The same alias-set event again, twice, as an at-least-once bus may deliver it.
    const registry = new DynamoRegistryRepository(
      driver.resourceName('AWS::DynamoDB::Table', 'RegistryTable'),
      driver.dynamo,
    );
    const state = await registry.get(MODEL);
    const alias = state?.aliases.find((candidate) => candidate.alias === 'production');
    if (!state || !alias) throw new Error('the alias is not stored');
    const entry = {
      EventBusName: driver.resourceName('AWS::Events::EventBus', 'EventBus'),
      Source: 'runway.registry',
      DetailType: 'registry.model-version.alias-set',
      Detail: JSON.stringify({
        version: 1,
        idempotencyKey: `${state.model.modelId}:alias:production:r${alias.revision}@${alias.updatedAt}:set`,
        occurredAt: new Date(alias.updatedAt).toISOString(),
        modelId: state.model.modelId,
        modelName: MODEL,
        alias: 'production',
        modelVersion: v4,
        previousVersion: '3',
      }),
    };
    expect(runtime.eventBus.putEvents([entry, entry]).FailedEntryCount).toBe(0);
    await driver.waitForPrimary(ENDPOINT, v4);
    await runtime.eventBus.idle();
    expect((await endedExecution(v4)).status).toBe('SUCCEEDED');
    expect(await driver.executions(`${ENDPOINT}-v${v4}-`)).toHaveLength(1);
  });

  it('deploys a change whose event was lost when the reconciler runs, once', async () => {
    // The registry stores the move but its event never reaches the bus (the publisher gave up).
    const registry = new RegistryService({
      repository: new DynamoRegistryRepository(
        driver.resourceName('AWS::DynamoDB::Table', 'RegistryTable'),
        driver.dynamo,
      ),
      runs: { artifactUri: async () => undefined },
      loggedModels: { get: async () => undefined, linkVersion: async () => undefined },
      events: { publish: async () => undefined },
    });
    const v5 = await driver.createVersion(MODEL, await driver.uploadModel('run5'));
    await registry.setAlias(MODEL, 'production', v5);
    await runtime.eventBus.idle();
    expect(await driver.executions(`${ENDPOINT}-v${v5}-`)).toEqual([]);
    expect((await driver.endpoint(ENDPOINT)).traffic.primary.version).toBe('4');

    const schedule = driver.resourceName('AWS::Events::Rule', 'ContinuousDeploymentReconcileSchedule');
    runtime.eventBus.fireSchedule(schedule);
    await driver.waitForPrimary(ENDPOINT, v5);
    expect((await endedExecution(v5)).status).toBe('SUCCEEDED');
    const [deployment] = await driver.deployments(ENDPOINT);
    expect(deployment).toMatchObject({
      version: v5,
      trigger: 'reconciler',
      status: 'Succeeded',
      previous_version: '4',
    });
    // In sync now: another run starts nothing.
    runtime.eventBus.fireSchedule(schedule);
    await runtime.eventBus.idle();
    expect(await driver.executions(`${ENDPOINT}-v${v5}-`)).toHaveLength(1);
  });
});
