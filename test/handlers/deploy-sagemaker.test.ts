import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStepFunctions } from '../../infra/local/stepfunctions/local-step-functions.ts';
import { DynamoEndpointStore } from '../../shared/deployments/adapters/dynamodb-endpoint-store.ts';
import { DynamoDeploymentLedger } from '../../shared/deployments/deploy/adapters/deployment-ledger.dynamodb.ts';
import { DeployService } from '../../shared/deployments/deploy/deploy.service.ts';
import { deployExecutionName } from '../../shared/deployments/deploy/execution-name.ts';
import { type DeployRequest, stepPayload } from '../../shared/deployments/deploy/model.ts';
import { rolloutPolicy } from '../../shared/deployments/model.ts';
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
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/runway-sagemaker`;
const MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:deploy`;
const IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/mlflow-pyfunc:2.22.4`;

const uid = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const MODEL = `sm-model-${uid}`;
const ENDPOINT = `sm-${uid}`;

let sfn: LocalStepFunctions;
const sagemaker = new FakeSageMaker();
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
    throw new Error(`unexpected reference ${json}`);
  });
  return JSON.parse(text.join(''));
}

beforeAll(async () => {
  const service = new DeployService({
    ledger: new DynamoDeploymentLedger(tableName('DeploymentsTable'), client),
    registry: new DynamoRegistryRepository(tableName('RegistryTable'), client),
    verifier: new ScriptedVerifier(),
    stats: new ScriptedStats(),
    events,
    clock: { now: () => Date.now() },
    artifactRoot: { bucket: 'artifacts', keyPrefix: '' },
    maxDeployMs: 3_600_000,
  });
  sfn = new LocalStepFunctions({
    region: REGION,
    accountId: ACCOUNT,
    waitTimeScale: 0,
    env: {
      invokeLambda: async (arn, payload) => {
        if (arn !== STEPS_ARN)
          throw Object.assign(new Error(`no function ${arn}`), { name: 'Lambda.ResourceNotFoundException' });
        return service.run(stepPayload.parse(payload));
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

afterAll(async () => {
  await sfn?.close();
  client.destroy();
});

/** Registers a version, points the alias at it and runs the deploy the trigger would start. */
async function deploy(outcome: FakeSageMaker['outcome']) {
  sagemaker.outcome = outcome;
  const created = await registry.createVersion({ name: MODEL, source: `s3://models/${MODEL}/${Date.now()}` });
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
    ]);
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
