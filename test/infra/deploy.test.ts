import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CfnResource,
  functionByEntry,
  roleStatements,
  synthRunway,
  templateOf,
} from '../support/synth.ts';

type Definition = {
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, Record<string, unknown>>;
};

let deployments: Template;
let definition: Definition;
let machine: CfnResource;

beforeAll(() => {
  const synth = synthRunway();
  // Throws when any cdk-nag finding of any stack is not acknowledged.
  synth.app.synth();
  deployments = templateOf(synth.stacks.deployments);
  machine = Object.values(
    deployments.findResources('AWS::StepFunctions::StateMachine') as Record<string, CfnResource>,
  )[0] as CfnResource;
  // The definition is a Fn::Join of literal parts and ARNs; stand-ins for the ARNs keep it JSON.
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  const text = (part: unknown) =>
    typeof part === 'string'
      ? part
      : JSON.stringify(part).includes('AWS::Partition')
        ? 'aws'
        : 'arn:aws:x:::resource';
  definition = JSON.parse(parts.map(text).join(''));
});

const tasks = () => Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');

describe('deploy state machine', () => {
  it('is JSONPath, standard, with a timeout, tracing and logs', () => {
    expect(definition).not.toHaveProperty('QueryLanguage');
    expect(machine.Properties.StateMachineType ?? 'STANDARD').toBe('STANDARD');
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(machine.Properties.LoggingConfiguration.Level).toBe('ALL');
    expect(definition.TimeoutSeconds).toBe(43_200);
  });

  it('gives every Task a Retry on transient errors and a Catch of everything', () => {
    expect(tasks().length).toBeGreaterThanOrEqual(15);
    for (const [name, state] of tasks()) {
      const retry = state.Retry as Array<{ ErrorEquals: string[] }> | undefined;
      expect(retry?.length, name).toBeGreaterThan(0);
      expect(
        retry?.flatMap((r) => r.ErrorEquals),
        name,
      ).not.toContain('States.ALL');
      const catchers = state.Catch as Array<{ ErrorEquals: string[]; Next: string }> | undefined;
      expect(
        catchers?.some((c) => c.ErrorEquals.includes('States.ALL')),
        name,
      ).toBe(true);
    }
  });

  it('routes failures before traffic moved to RecordFailure and after to RollBack', () => {
    const catchTarget = (task: string) => {
      const catchers = definition.States[task]?.Catch as Array<{ Next: string }> | undefined;
      const pass = catchers?.[0]?.Next ?? '';
      return definition.States[pass]?.Next;
    };
    for (const task of ['Resolve', 'CheckModel', 'SmokeTest', 'CreateModel', 'UpdateEndpoint']) {
      expect(catchTarget(task), task).toBe('RecordFailure');
    }
    for (const task of ['ShiftTraffic', 'CheckCanary', 'Promote', 'DescribeEndpoint']) {
      expect(catchTarget(task), task).toBe('RollBack');
    }
    // The Pass each Catch goes through names the failed step.
    expect(definition.States.CheckModelFailed).toMatchObject({
      Type: 'Pass',
      Result: 'CheckModel',
      ResultPath: '$.failedStep',
    });
    expect(definition.States.RollBack?.Next).toBe('RolledBack');
    expect(definition.States.RolledBack).toMatchObject({
      Type: 'Fail',
      Error: 'Deploy.RolledBack',
      CausePath: '$.outcome.reason',
    });
    expect(definition.States.DeployFailed).toMatchObject({ Type: 'Fail', Error: 'Deploy.Failed' });
  });

  it('bakes each traffic step for the policy seconds and waits for SageMaker in a loop', () => {
    expect(definition.States.Bake).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.deploy.policy.bakeSeconds',
    });
    expect(definition.States.WaitForSageMaker).toMatchObject({ Type: 'Wait', Next: 'DescribeEndpoint' });
    expect(definition.States['SageMakerDone?']).toMatchObject({ Default: 'PollSageMaker' });
    expect(definition.States.DescribeEndpoint?.Resource).toBe(
      'arn:aws:states:::aws-sdk:sagemaker:describeEndpoint',
    );
    expect(definition.States.UpdateEndpoint).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:sagemaker:updateEndpoint',
      Parameters: { 'DeploymentConfig.$': '$.deploy.sagemaker.deploymentConfig' },
    });
  });

  it('may invoke only the steps function, use SageMaker only on runway-* resources and pass one role', () => {
    const role = machine.Properties.RoleArn['Fn::GetAtt'][0];
    const statements = Object.values(
      deployments.findResources('AWS::IAM::Policy') as Record<string, CfnResource>,
    )
      .filter((policy) => policy.Properties.Roles.some((ref: { Ref: string }) => ref.Ref === role))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).not.toContain('*');
    const allowed = statements.filter((s) => s.Effect === 'Allow');
    expect(
      [
        ...new Set(
          allowed.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('sagemaker:')),
        ),
      ].sort(),
    ).toEqual([
      'sagemaker:AddTags',
      'sagemaker:createEndpoint',
      'sagemaker:createEndpointConfig',
      'sagemaker:createModel',
      'sagemaker:describeEndpoint',
      'sagemaker:updateEndpoint',
    ]);
    for (const statement of allowed.filter((s) =>
      [s.Action].flat().some((a: string) => a.startsWith('sagemaker:')),
    )) {
      for (const resource of [statement.Resource].flat())
        expect(JSON.stringify(resource)).toMatch(/\/runway-\*/);
    }
    const passRole = statements.find((s) => s.Action === 'iam:PassRole');
    expect(passRole.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
    });
    expect([passRole.Resource].flat()).toHaveLength(1);
    const [stepsId] = functionByEntry(deployments, 'functions/deploy-steps.ts');
    const [checksId] = functionByEntry(deployments, 'functions/deploy-model-checks.ts');
    const invoked = statements
      .filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'))
      .map((s) => JSON.stringify(s.Resource));
    expect(invoked).toHaveLength(2);
    expect(invoked.join()).toContain(stepsId);
    expect(invoked.join()).toContain(checksId);
    // Spend bounds: IAM refuses an endpoint config on another instance type, or on none.
    const denied = statements.filter((s) => s.Effect === 'Deny');
    expect(denied).toEqual([
      {
        Effect: 'Deny',
        Action: 'sagemaker:CreateEndpointConfig',
        Resource: '*',
        Condition: {
          'ForAnyValue:StringNotEquals': { 'sagemaker:InstanceTypes': ['ml.m5.large', 'ml.c5.large'] },
        },
      },
      {
        Effect: 'Deny',
        Action: 'sagemaker:CreateEndpointConfig',
        Resource: '*',
        Condition: { Null: { 'sagemaker:InstanceTypes': 'true' } },
      },
    ]);
  });

  it('runs the light steps in a small function and only the model checks in the large one', () => {
    const [, steps] = functionByEntry(deployments, 'functions/deploy-steps.ts');
    const [, checks] = functionByEntry(deployments, 'functions/deploy-model-checks.ts');
    expect(steps.Properties.MemorySize).toBe(256);
    expect(checks.Properties.MemorySize).toBe(2048);
    const invoked = (state: string) => JSON.stringify(definition.States[state]?.Resource);
    for (const state of ['CheckModel', 'SmokeTest'])
      expect(invoked(state)).toBe(JSON.stringify('arn:aws:x:::resource'));
    // The waits: as long as the holder should take (Resolve says), and as long as SageMaker should.
    // A queued deploy waits on a task token its holder's release sends, at most 5 minutes, then asks
    // again; SageMaker first as long as it should take.
    expect(definition.States.WaitForEndpoint).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { Payload: { step: 'queue', 'taskToken.$': '$$.Task.Token', 'deploy.$': '$.deploy' } },
      TimeoutSeconds: 300,
      Next: 'Resolve',
    });
    const catchers = definition.States.WaitForEndpoint?.Catch as Array<{
      ErrorEquals: string[];
      Next: string;
    }>;
    expect(catchers[0]).toMatchObject({ ErrorEquals: ['States.Timeout'], Next: 'Resolve' });
    expect(definition.States.WaitForSageMaker).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.deploy.sagemaker.expectedSeconds',
    });
    expect(definition.States.PollSageMaker).toMatchObject({
      Type: 'Wait',
      Seconds: 60,
      Next: 'DescribeEndpoint',
    });
  });
});

describe('promotion rule and reconciler schedule', () => {
  it('matches alias-set and stage-transitioned registry events, to the trigger with retries and a DLQ', () => {
    const rules = Object.values(
      deployments.findResources('AWS::Events::Rule') as Record<string, CfnResource>,
    );
    const promotion = rules.find((rule) => rule.Properties.EventPattern);
    expect(promotion?.Properties.EventPattern).toEqual({
      source: ['runway.registry'],
      'detail-type': ['registry.model-version.alias-set', 'registry.model-version.stage-transitioned'],
    });
    const [triggerId] = functionByEntry(deployments, 'functions/deploy-trigger.ts');
    const target = promotion?.Properties.Targets[0];
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [triggerId, 'Arn'] });
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 8 });
    expect(target.DeadLetterConfig.Arn['Fn::GetAtt'][0]).toMatch(/DeployTriggerDeadLetterQueue/);
    const schedule = rules.find((rule) => rule.Properties.ScheduleExpression);
    expect(schedule?.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    const [reconcilerId] = functionByEntry(deployments, 'functions/deploy-reconciler.ts');
    expect(schedule?.Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [reconcilerId, 'Arn'] });
  });

  it('lets the trigger read and start executions, and the reconciler also finish deletes of endpoint items', () => {
    const writes = (entry: string) => {
      const [id] = functionByEntry(deployments, entry);
      const statements = roleStatements(deployments, id);
      expect(statements.flatMap((s) => [s.Action].flat())).toContain('states:StartExecution');
      return statements.filter((s) =>
        [s.Action].flat().some((a: string) => /Put|Update|Delete|Write/.test(a) && a.startsWith('dynamodb:')),
      );
    };
    expect(writes('functions/deploy-trigger.ts')).toEqual([]);
    expect(writes('functions/deploy-reconciler.ts')).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ENDPOINT#*'] } },
      }),
    ]);
  });
});
