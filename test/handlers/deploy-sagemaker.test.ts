import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStepFunctions } from '../../infra/local/stepfunctions/local-step-functions.ts';
import { DynamoEndpointStore } from '../../shared/deployments/adapters/dynamodb-endpoint-store.ts';
import { DynamoDeploymentLedger } from '../../shared/deployments/deploy/adapters/deployment-ledger.dynamodb.ts';
import { createEndpointDirectory } from '../../shared/deployments/deploy/adapters/endpoint-directory.ts';
import { DeployService, ModelCheckSteps } from '../../shared/deployments/deploy/deploy.service.ts';
import { EndpointDeletion } from '../../shared/deployments/deploy/endpoint-deletion.ts';
import { deployExecutionName } from '../../shared/deployments/deploy/execution-name.ts';
import { type DeployRequest, modelCheckPayload, stepPayload } from '../../shared/deployments/deploy/model.ts';
import { Reconciler } from '../../shared/deployments/deploy/reconciler.service.ts';
import { SageMakerJanitor } from '../../shared/deployments/deploy/sagemaker-janitor.ts';
import { sageMakerResourceName } from '../../shared/deployments/deploy/sagemaker-plan.ts';
import { EndpointsService } from '../../shared/deployments/endpoints/endpoints.service.ts';
import { rolloutPolicy } from '../../shared/deployments/model.ts';
import { Logger } from '../../shared/platform/logger.ts';
import { DynamoRegistryRepository } from '../../shared/registry/adapters/registry.dynamodb-repository.ts';
import { RegistryService } from '../../shared/registry/registry.service.ts';
import { RecordingPublisher, ScriptedStats, ScriptedVerifier } from '../support/deploy-fakes.ts';
import { FakeSageMaker } from '../support/fake-sagemaker.ts';
import { emulatorDocumentClient, tableName, useEmulators } from '../support/handler-env.ts';
import { type CfnResource, synthRunway, templateOf } from '../support/synth.ts';

/**
 * The deploy state machine's SageMaker path, from its synthesized definition, on the local Step
 * Functions runtime. There is no SageMaker emulator: the `aws-sdk:sagemaker:*` and
 * `aws-sdk:cloudwatch:*` task states are bound to `FakeSageMaker`, which checks every request against
 * the API's shapes and answers as SageMaker does. The Lambda steps run the real deploy service on the
 * DynamoDB emulator (registry, endpoints, deployments); the model check is scripted.
 */

useEmulators({});
const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const STEPS_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:deploy-steps`;
const CHECKS_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:deploy-model-checks`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/runway-sagemaker`;
const MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:deploy`;
const IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/mlflow-pyfunc:2.22.4`;
const LIMITS = {
  instanceTypes: ['ml.m5.large', 'ml.c5.large'],
  maxInstances: 2,
  imageRepositories: [`${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/mlflow-pyfunc`],
};

const uid = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const MODEL = `sm-model-${uid}`;
const ENDPOINT = `sm-${uid}`;

let sfn: LocalStepFunctions;
const sagemaker = new FakeSageMaker();
const OWNER = tableName('DeploymentsTable');
const janitor = new SageMakerJanitor({
  resources: sagemaker.resources(),
  clock: { now: () => Date.now() },
  logger: new Logger({ sink: () => undefined }),
  owner: OWNER,
});
sagemaker.polls = 2;
const events = new RecordingPublisher();
const client = emulatorDocumentClient();
const store = new DynamoEndpointStore(tableName('DeploymentsTable'), client);
const registry = new RegistryService({
  repository: new DynamoRegistryRepository(tableName('RegistryTable'), client),
  runs: { artifactUri: async () => undefined },
  loggedModels: { get: async () => undefined, linkVersion: async () => undefined },
  events: { publish: async () => undefined },
});

/** The deploy state machine of Runway's app, its ARNs replaced by this test's. */
function deployDefinition(): unknown {
  const template = templateOf(synthRunway({ nag: false }).stacks.deployments);
  const machine = Object.values(
    template.findResources('AWS::StepFunctions::StateMachine') as Record<string, CfnResource>,
  )[0];
  const parts = machine?.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  const text = parts.map((part) => {
    if (typeof part === 'string') return part;
    const json = JSON.stringify(part);
    if (json.includes('AWS::Partition')) return 'aws';
    if (json.includes('SageMakerExecutionRole')) return ROLE_ARN;
    if (json.includes('DeployStepsFunction')) return STEPS_ARN;
    if (json.includes('DeployModelChecksFunction')) return CHECKS_ARN;
    throw new Error(`unexpected reference ${json}`);
  });
  return JSON.parse(text.join(''));
}

beforeAll(async () => {
  const service = new DeployService({
    ledger: new DynamoDeploymentLedger(tableName('DeploymentsTable'), client),
    registry: new DynamoRegistryRepository(tableName('RegistryTable'), client),
    stats: new ScriptedStats(),
    events,
    clock: { now: () => Date.now() },
    artifactRoot: { bucket: 'artifacts', keyPrefix: '' },
    maxDeployMs: 3_600_000,
    sagemakerLimits: LIMITS,
    janitor,
    owner: OWNER,
    callbacks: { resume: (token) => sfn.sendTaskSuccess(token, '{}').then(() => undefined) },
  });
  const checks = new ModelCheckSteps(new ScriptedVerifier());
  sfn = new LocalStepFunctions({
    region: REGION,
    accountId: ACCOUNT,
    waitTimeScale: 0,
    env: {
      invokeLambda: async (arn, payload) => {
        if (arn === STEPS_ARN) return service.run(stepPayload.parse(payload));
        if (arn === CHECKS_ARN) return checks.run(modelCheckPayload.parse(payload));
        throw Object.assign(new Error(`no function ${arn}`), { name: 'Lambda.ResourceNotFoundException' });
      },
      callAws: sagemaker.call,
    },
  });
  sfn.register({ arn: MACHINE_ARN, name: 'deploy', definition: deployDefinition() });
  await registry.createModel({ name: MODEL });
  await store.create({
    name: ENDPOINT,
    modelName: MODEL,
    follows: { alias: 'production' },
    target: 'sagemaker',
    rolloutPolicy: rolloutPolicy.parse({ trafficSteps: [10, 100], bakeSeconds: 300, maxLatencyMs: 250 }),
    sagemaker: { instanceType: 'ml.m5.large', initialInstanceCount: 2, image: IMAGE },
  });
});

const quiet = new Logger({ sink: () => undefined });

/** The reconciler over the emulator's tables, this test's fake SageMaker and no deploys to start. */
function reconcilerOver(teardown: EndpointDeletion) {
  return new Reconciler({
    endpoints: createEndpointDirectory(tableName('DeploymentsTable'), store),
    ledger: new DynamoDeploymentLedger(tableName('DeploymentsTable'), client),
    registry: new DynamoRegistryRepository(tableName('RegistryTable'), client),
    executions: { start: async (name: string) => ({ outcome: 'duplicate' as const, executionArn: name }) },
    teardown,
    janitor,
    logger: quiet,
  });
}

afterAll(async () => {
  await sfn?.close();
  client.destroy();
});

/** Registers a version, points the alias at it and runs the deploy the trigger would start. */
async function deploy(outcome: FakeSageMaker['outcome']) {
  sagemaker.outcome = outcome;
  const created = await registry.createVersion({
    name: MODEL,
    source: `s3://artifacts/1/run${Date.now()}/artifacts/model`,
  });
  const version = String(created.version);
  await registry.setAlias(MODEL, 'production', version);
  const request: DeployRequest = {
    endpointName: ENDPOINT,
    modelName: MODEL,
    version,
    changeKey: `test:${version}`,
    trigger: 'event',
  };
  const { executionArn } = await sfn.startExecution({
    stateMachineArn: MACHINE_ARN,
    name: deployExecutionName(ENDPOINT, version, request.changeKey),
    input: JSON.stringify(request),
  });
  const ended = await sfn.waitForExecution(executionArn, 30_000);
  return { version, ended, endpoint: await store.get(ENDPOINT) };
}

const actions = () => sagemaker.calls.map((call) => call.action);

describe('the SageMaker path of the deploy state machine (against a checked fake)', () => {
  it('creates model, endpoint config and endpoint, waits for InService, then records the traffic', async () => {
    const { version, ended, endpoint } = await deploy('succeed');
    expect(ended.status, ended.cause).toBe('SUCCEEDED');
    expect(actions()).toEqual([
      'putMetricAlarm',
      'putMetricAlarm',
      'createModel',
      'createEndpointConfig',
      'createEndpoint',
      'describeEndpoint',
      'describeEndpoint',
      // Pruning: nothing older than this first version to remove.
      'describeEndpoint',
      'listEndpointConfigs',
      'listModels',
    ]);
    // Every resource says whose it is: the reconciler removes orphans of this Runway only.
    expect(sagemaker.models.get(sagemaker.inventory().models[0] ?? '')?.tags).toEqual({
      'runway:owner': OWNER,
      'runway:endpoint': ENDPOINT,
    });
    expect(sagemaker.endpoints.get(`runway-${ENDPOINT}`)?.tags['runway:owner']).toBe(OWNER);
    const create = sagemaker.calls.find((call) => call.action === 'createModel')?.params;
    expect(create).toMatchObject({
      ExecutionRoleArn: ROLE_ARN,
      PrimaryContainer: {
        Image: IMAGE,
        ModelDataSource: {
          S3DataSource: {
            S3DataType: 'S3Prefix',
            CompressionType: 'None',
            S3Uri: expect.stringMatching(/\/$/),
          },
        },
      },
    });
    expect(sagemaker.calls.find((call) => call.action === 'createEndpointConfig')?.params).toMatchObject({
      ProductionVariants: [
        { VariantName: 'AllTraffic', InstanceType: 'ml.m5.large', InitialInstanceCount: 2 },
      ],
    });
    expect(sagemaker.endpoints.get(`runway-${ENDPOINT}`)?.status).toBe('InService');
    expect(endpoint).toMatchObject({ status: 'InService', traffic: { primary: { version }, canary: null } });
    expect(events.events.map((event) => event.name)).toEqual(['deployment.started', 'deployment.succeeded']);
  });

  it('updates by blue/green canary with auto-rollback on the alarms it created', async () => {
    sagemaker.calls.length = 0;
    const { version, ended, endpoint } = await deploy('succeed');
    expect(ended.status, ended.cause).toBe('SUCCEEDED');
    expect(actions()).toContain('updateEndpoint');
    expect(actions()).not.toContain('createEndpoint');
    const update = sagemaker.calls.find((call) => call.action === 'updateEndpoint')?.params;
    expect(update).toEqual({
      EndpointName: `runway-${ENDPOINT}`,
      EndpointConfigName: expect.stringMatching(new RegExp(`^runway-${ENDPOINT}-v${version}-[0-9a-f]{8}$`)),
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: {
            Type: 'CANARY',
            WaitIntervalInSeconds: 300,
            CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 },
          },
          TerminationWaitInSeconds: 0,
          MaximumExecutionTimeoutInSeconds: 2400,
        },
        AutoRollbackConfiguration: {
          Alarms: [
            { AlarmName: `runway-${ENDPOINT}-canary-errors` },
            { AlarmName: `runway-${ENDPOINT}-canary-latency` },
          ],
        },
      },
    });
    expect(sagemaker.alarms.get(`runway-${ENDPOINT}-canary-latency`)).toMatchObject({
      Threshold: 250_000,
      ExtendedStatistic: 'p99',
      Dimensions: [
        { Name: 'EndpointName', Value: `runway-${ENDPOINT}` },
        { Name: 'VariantName', Value: 'AllTraffic' },
      ],
    });
    expect(endpoint?.traffic.primary?.version).toBe(version);
  });

  it('records a rollback when an alarm makes SageMaker roll the update back', async () => {
    const before = (await store.get(ENDPOINT))?.traffic.primary?.version;
    const { version, ended, endpoint } = await deploy('alarm');
    expect(ended).toMatchObject({ status: 'FAILED', error: 'Deploy.RolledBack' });
    expect(ended.cause).toMatch(
      /^SageMaker rolled the endpoint back: Auto rollback triggered: alarm runway-.*-canary-errors/,
    );
    expect(endpoint).toMatchObject({
      status: 'InService',
      traffic: { primary: { version: before }, canary: null },
    });
    const deployment = await store.getDeployment(
      ENDPOINT,
      deployExecutionName(ENDPOINT, version, `test:${version}`),
    );
    expect(deployment).toMatchObject({ status: 'RolledBack', previousVersion: before, reason: ended.cause });
    expect(events.events.at(-1)?.name).toBe('deployment.rolled-back');
  });

  it('fails a first deploy whose endpoint SageMaker could not create, naming the reason', async () => {
    const name = `sm2-${uid}`;
    await store.create({
      name,
      modelName: MODEL,
      follows: { alias: 'production' },
      target: 'sagemaker',
      rolloutPolicy: rolloutPolicy.parse({ trafficSteps: [100], bakeSeconds: 0 }),
      sagemaker: { instanceType: 'ml.m5.large', initialInstanceCount: 1, image: IMAGE },
    });
    sagemaker.outcome = 'fail';
    const state = await registry.getVersionByAlias(MODEL, 'production');
    const request: DeployRequest = {
      endpointName: name,
      modelName: MODEL,
      version: String(state.version),
      changeKey: 'first',
      trigger: 'reconciler',
    };
    const { executionArn } = await sfn.startExecution({
      stateMachineArn: MACHINE_ARN,
      name: `first-${uid}`,
      input: JSON.stringify(request),
    });
    const ended = await sfn.waitForExecution(executionArn, 30_000);
    expect(ended, ended.cause).toMatchObject({ status: 'FAILED', error: 'Deploy.Failed' });
    expect(ended.cause).toBe(
      'SageMaker: the SageMaker endpoint is Failed: The primary container for production variant AllTraffic did not pass the ping health check.',
    );
    expect(await store.get(name)).toMatchObject({ status: 'Failed', traffic: { primary: null } });
  });

  it('removes, after a successful deploy, the models and configs older than the previous version', async () => {
    sagemaker.outcome = 'succeed';
    const before = (await store.get(ENDPOINT))?.traffic.primary;
    expect(
      sagemaker.inventory().models.filter((name) => name.startsWith(`runway-${ENDPOINT}-`)),
    ).toHaveLength(3);
    const { version, ended } = await deploy('succeed');
    expect(ended.status, ended.cause).toBe('SUCCEEDED');
    const current = sageMakerResourceName(
      ENDPOINT,
      version,
      deployExecutionName(ENDPOINT, version, `test:${version}`),
    );
    const previous = sageMakerResourceName(ENDPOINT, before?.version ?? '', before?.deploymentId ?? '');
    // The first version's and the rolled-back one's are gone; the new one and the one a rollback needs stay.
    const own = (names: string[]) => names.filter((name) => name.startsWith(`runway-${ENDPOINT}-`));
    expect(own(sagemaker.inventory().models)).toEqual([current, previous].sort());
    expect(own(sagemaker.inventory().configs)).toEqual([current, previous].sort());
    expect(sagemaker.endpoints.get(`runway-${ENDPOINT}`)?.config).toBe(current);
  });

  it('tears a deleted SageMaker endpoint down: endpoint, configs, models and alarms, then the item', async () => {
    const deletion = new EndpointDeletion({ store, janitor, logger: quiet });
    const api = new EndpointsService({
      store,
      models: { get: async () => ({ name: MODEL, versions: [], aliases: {}, stages: {} }) },
      sagemakerEnabled: true,
      sagemakerLimits: LIMITS,
      teardown: deletion,
    });
    const deleting = await api.delete(ENDPOINT);
    // The DELETE itself deletes the alarms, the configs and the models and asks SageMaker to delete
    // the endpoint, which takes a while: the endpoint says so meanwhile.
    expect(deleting).toMatchObject({
      status: 'Deleting',
      statusMessage: `Tearing down: the SageMaker endpoint runway-${ENDPOINT} is being deleted`,
    });
    expect(sagemaker.calls.filter((call) => call.action === 'deleteEndpoint')).toHaveLength(1);
    const own = (names: string[]) => names.filter((name) => name.startsWith(`runway-${ENDPOINT}`));
    expect(own(sagemaker.inventory().models)).toEqual([]);
    expect(own(sagemaker.inventory().configs)).toEqual([]);
    expect(own(sagemaker.inventory().alarms)).toEqual([]);
    // A second DELETE while it goes on changes nothing and deletes nothing twice (idempotent).
    expect((await api.delete(ENDPOINT))?.status).toBe('Deleting');
    expect(sagemaker.calls.filter((call) => call.action === 'deleteEndpoint')).toHaveLength(1);
    // The reconciler's next passes finish it once SageMaker has deleted the endpoint.
    const reconciler = reconcilerOver(deletion);
    let report = await reconciler.reconcile();
    for (let pass = 0; pass < 5 && !report.deleted.includes(ENDPOINT); pass++)
      report = await reconciler.reconcile();
    expect(report.deleted).toContain(ENDPOINT);
    expect(own(sagemaker.inventory().endpoints)).toEqual([]);
    expect(await store.get(ENDPOINT)).toBeUndefined();
    expect(await store.listDeployments(ENDPOINT, { maxResults: 10 })).toEqual({ items: [] });
  });

  it('makes the reconciler remove orphans: old runway-* resources of this Runway that no endpoint owns', async () => {
    const hourAgo = () => Date.now() - 2 * 3_600_000;
    const make = async (name: string, owner: string, now: () => number) => {
      sagemaker.now = now;
      const Tags = [{ Key: 'runway:owner', Value: owner }];
      await sagemaker.call('sagemaker', 'createModel', {
        ModelName: `${name}-v1-0123abcd`,
        ExecutionRoleArn: ROLE_ARN,
        PrimaryContainer: { Image: IMAGE },
        Tags,
      });
      await sagemaker.call('sagemaker', 'createEndpointConfig', {
        EndpointConfigName: `${name}-v1-0123abcd`,
        ProductionVariants: [
          {
            VariantName: 'AllTraffic',
            ModelName: `${name}-v1-0123abcd`,
            InstanceType: 'ml.m5.large',
            InitialInstanceCount: 1,
          },
        ],
        Tags,
      });
      await sagemaker.call('sagemaker', 'createEndpoint', {
        EndpointName: name,
        EndpointConfigName: `${name}-v1-0123abcd`,
        Tags,
      });
      sagemaker.now = () => Date.now();
    };
    await make(`runway-orphan-${uid}`, OWNER, hourAgo);
    await make(`runway-theirs-${uid}`, 'another-runway', hourAgo);
    await make(`runway-young-${uid}`, OWNER, () => Date.now());
    const report = await reconcilerOver(new EndpointDeletion({ store, janitor, logger: quiet })).reconcile();
    expect(report.orphans.sort()).toEqual(
      [
        `endpoint-config/runway-orphan-${uid}-v1-0123abcd`,
        `endpoint/runway-orphan-${uid}`,
        `model/runway-orphan-${uid}-v1-0123abcd`,
      ].sort(),
    );
    const left = sagemaker.inventory();
    expect(left.models).toContain(`runway-theirs-${uid}-v1-0123abcd`);
    expect(left.models).toContain(`runway-young-${uid}-v1-0123abcd`);
    expect(left.models).not.toContain(`runway-orphan-${uid}-v1-0123abcd`);
    // The orphan endpoint is deleting (SageMaker takes a while); the endpoint of the first test is not touched.
    expect(sagemaker.endpoints.get(`runway-orphan-${uid}`)?.status).toBe('Deleting');
    expect(sagemaker.endpoints.get(`runway-sm2-${uid}`)?.status).not.toBe('Deleting');
  });

  it('refuses requests that do not have the SageMaker API shape', async () => {
    await expect(
      sagemaker.call('sagemaker', 'createEndpoint', { EndpointName: 'bad_name', EndpointConfigName: 'c' }),
    ).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(
      sagemaker.call('sagemaker', 'updateEndpoint', {
        EndpointName: 'e',
        EndpointConfigName: 'c',
        DeploymentConfig: {
          BlueGreenUpdatePolicy: {
            TrafficRoutingConfiguration: { Type: 'CANARY', WaitIntervalInSeconds: 0 },
          },
        },
      }),
    ).rejects.toThrow(/CANARY needs CanarySize/);
    await expect(
      sagemaker.call('sagemaker', 'createModel', {
        ModelName: 'm',
        ExecutionRoleArn: ROLE_ARN,
        PrimaryContainer: { Image: 'i', Extra: 1 },
      }),
    ).rejects.toThrow(/Unrecognized key/);
  });
});
