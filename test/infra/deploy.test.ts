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
    expect(actions.filter((a: string) => a.startsWith('sagemaker:')).sort()).toEqual([
      'sagemaker:AddTags',
      'sagemaker:createEndpoint',
      'sagemaker:createEndpointConfig',
      'sagemaker:createModel',
      'sagemaker:describeEndpoint',
      'sagemaker:updateEndpoint',
    ]);
    for (const statement of statements.filter((s) =>
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
    const invoke = statements.find((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(JSON.stringify(invoke.Resource)).toContain(stepsId);
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

  it('lets the trigger and the reconciler read and start executions, nothing more', () => {
    for (const entry of ['functions/deploy-trigger.ts', 'functions/deploy-reconciler.ts']) {
      const [id] = functionByEntry(deployments, entry);
      const actions = roleStatements(deployments, id).flatMap((s) => [s.Action].flat());
      expect(
        actions.filter((a: string) => /Put|Update|Delete|Write/.test(a) && a.startsWith('dynamodb:')),
      ).toEqual([]);
      expect(actions).toContain('states:StartExecution');
    }
  });
});
