import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CfnResource,
  functionByEntry,
  roleStatements,
  synthRunway,
  templateOf,
} from '../support/synth.ts';

type Statement = {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
  Effect: string;
};
type Definition = {
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, Record<string, unknown>>;
};

let monitoring: Template;
let stateful: Template;
let definition: Definition;
let machine: CfnResource;

beforeAll(() => {
  const synth = synthRunway();
  // Throws when any cdk-nag finding of any stack is not acknowledged.
  synth.app.synth();
  monitoring = templateOf(synth.stacks.monitoring);
  stateful = templateOf(synth.stacks.stateful);
  machine = Object.values(
    monitoring.findResources('AWS::StepFunctions::StateMachine') as Record<string, CfnResource>,
  )[0] as CfnResource;
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  definition = JSON.parse(
    parts.map((part) => (typeof part === 'string' ? part : 'arn:aws:x:::resource')).join(''),
  );
});

const actions = (statement: Statement) => [statement.Action].flat();
const statementsOf = (entry: string) =>
  roleStatements(monitoring, functionByEntry(monitoring, entry)[0]) as Statement[];

/** No statement of these grants an S3 or DynamoDB action on every resource. */
function expectNoDataWildcards(statements: Statement[]) {
  for (const statement of statements) {
    const data = actions(statement).some((action) => /^(s3|dynamodb):/.test(action));
    if (data) expect(JSON.stringify(statement.Resource), JSON.stringify(statement)).not.toBe('"*"');
  }
}

describe('monitoring stack', () => {
  it('routes /runway/monitors (both prefixes) and POST /endpoints/{name}/feedback to the function, on both APIs', () => {
    const routes = Object.values(
      monitoring.findResources('AWS::ApiGatewayV2::Route') as Record<string, CfnResource>,
    );
    const keys = routes.map((route) => route.Properties.RouteKey).sort();
    expect(keys).toEqual(
      [
        'ANY /ajax-api/2.0/runway/monitors',
        'ANY /ajax-api/2.0/runway/monitors/{proxy+}',
        'ANY /api/2.0/runway/monitors',
        'ANY /api/2.0/runway/monitors/{proxy+}',
        'POST /endpoints/{name}/feedback',
      ].flatMap((key) => [key, key]),
    );
    expect(routes.filter((route) => route.Properties.AuthorizationType === 'AWS_IAM')).toHaveLength(5);
    expect(routes.filter((route) => route.Properties.AuthorizationType === 'CUSTOM')).toHaveLength(5);
  });

  it('keeps monitors in a table of their own in the stateful stack, with two listing indexes', () => {
    const tables = Object.entries(
      stateful.findResources('AWS::DynamoDB::Table') as Record<string, CfnResource>,
    );
    const [, table] = tables.find(([id]) => id.startsWith('MonitoringTable')) ?? [];
    expect(
      table?.Properties.GlobalSecondaryIndexes.map((index: { IndexName: string }) => index.IndexName),
    ).toEqual(['gsi1', 'gsi2']);
    expect(table?.Properties.DeletionProtectionEnabled).toBe(true);
    expect(table?.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('runs each monitor as a JSONPath state machine whose every task retries transient errors and catches the rest', () => {
    expect(definition).not.toHaveProperty('QueryLanguage');
    expect(machine.Properties.LoggingConfiguration.Level).toBe('ALL');
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
    const tasks = Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');
    expect(tasks.map(([name]) => name).sort()).toEqual([
      'Analyze',
      'Prepare',
      'Publish',
      'RecordEarlyFailure',
      'RecordFailure',
    ]);
    for (const [name, state] of tasks) {
      const retry = state.Retry as Array<{ ErrorEquals: string[] }>;
      expect(
        retry.flatMap((r) => r.ErrorEquals),
        name,
      ).toContain('MonitorTransientError');
      expect(
        retry.flatMap((r) => r.ErrorEquals),
        name,
      ).not.toContain('States.ALL');
      const catchers = state.Catch as Array<{ ErrorEquals: string[] }>;
      expect(
        catchers.flatMap((c) => c.ErrorEquals),
        name,
      ).toEqual(['States.ALL']);
    }
    expect(definition.States.RunFailed).toMatchObject({
      Type: 'Fail',
      ErrorPath: '$.outcome.error',
      CausePath: '$.outcome.cause',
    });
  });

  it('gives the steps function only what a run needs', () => {
    const statements = statementsOf('functions/monitor-steps.ts');
    expectNoDataWildcards(statements);
    const deployments = statements.find((s) => JSON.stringify(s.Resource).includes('DeploymentsTable'));
    expect(actions(deployments as Statement).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    expect(deployments?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ENDPOINT#*'] },
    });
    const registry = statements.find((s) => JSON.stringify(s.Resource).includes('RegistryTable'));
    expect(actions(registry as Statement).some((a) => /Put|Update|Delete/.test(a))).toBe(false);
    expect(statements.some((s) => actions(s).some((a) => a.startsWith('s3:')))).toBe(false);
    expect(statements.find((s) => actions(s).includes('events:PutEvents'))?.Resource).toMatchObject({
      'Fn::ImportValue': expect.stringContaining('EventBus'),
    });
    // Object access is the stateful stack's reviewed policy: read anywhere, write reports and state only.
    const policies = Object.values(
      stateful.findResources('AWS::IAM::ManagedPolicy') as Record<string, CfnResource>,
    );
    const run = policies.find((p) => String(p.Properties.Description).startsWith('Read capture'));
    const puts = run?.Properties.PolicyDocument.Statement.find((s: Statement) =>
      actions(s).includes('s3:PutObject'),
    );
    expect(JSON.stringify(puts.Resource)).toMatch(/\/\*\/artifacts\/monitoring\/\*.*\/monitoring\/\*/);
  });

  it('lets the API write its monitors, read endpoints, manage its own schedules and pass only the scheduler role', () => {
    const statements = statementsOf('functions/monitoring-api.ts');
    expectNoDataWildcards(statements);
    const schedules = statements.find((s) => actions(s).includes('scheduler:CreateSchedule'));
    expect(actions(schedules as Statement).sort()).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:UpdateSchedule',
    ]);
    expect(JSON.stringify(schedules?.Resource)).toContain(':schedule/Runway-Monitoring/*');
    const pass = statements.find((s) => actions(s).includes('iam:PassRole'));
    expect(pass?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    expect(JSON.stringify(pass?.Resource)).toContain('SchedulerRole');
    const start = statements.find((s) => actions(s).includes('states:StartExecution'));
    expect(JSON.stringify(start?.Resource)).toContain('MonitorRunStateMachine');
    const endpoints = statements.find((s) => JSON.stringify(s.Resource).includes('DeploymentsTable'));
    expect(actions(endpoints as Statement)).toEqual(['dynamodb:GetItem']);
  });

  it('lets EventBridge Scheduler start monitor runs and nothing else, for this account only', () => {
    const roles = Object.entries(monitoring.findResources('AWS::IAM::Role') as Record<string, CfnResource>);
    const [roleId, role] = roles.find(([id]) => id.startsWith('SchedulerRole')) ?? [];
    expect(role?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
      },
    ]);
    const policies = Object.values(
      monitoring.findResources('AWS::IAM::Policy') as Record<string, CfnResource>,
    ).filter((policy) => policy.Properties.Roles.some((ref: { Ref: string }) => ref.Ref === roleId));
    const granted = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
    expect(granted.flatMap(actions)).toEqual(['states:StartExecution']);
    monitoring.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'Runway-Monitoring' });
  });

  it('retrains through a rule on the bus that matches only monitors that retrain, starting only the training pipeline', () => {
    monitoring.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['runway.monitoring'],
        'detail-type': ['monitoring.drift-detected', 'monitoring.quality-degraded'],
        detail: { actions: ['retrain'] },
      },
    });
    const statements = statementsOf('functions/monitor-retrain.ts');
    expectNoDataWildcards(statements);
    const start = statements.find((s) => actions(s).includes('states:StartExecution'));
    expect(JSON.stringify(start?.Resource)).toMatch(/runway-training|Training/);
  });

  it('alarms on drift, quality and health of every monitor, and reports failed runs and dead letters, to the one topic', () => {
    const alarms = Object.values(
      monitoring.findResources('AWS::CloudWatch::Alarm') as Record<string, CfnResource>,
    );
    const metrics = alarms
      .map((alarm) => `${alarm.Properties.Namespace}/${alarm.Properties.MetricName}`)
      .sort();
    expect(metrics).toEqual([
      'AWS/SQS/ApproximateNumberOfMessagesVisible',
      'Runway/Monitoring/DriftDetected',
      'Runway/Monitoring/HealthDegraded',
      'Runway/Monitoring/QualityDegraded',
    ]);
    for (const alarm of alarms) {
      expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
      expect(alarm.Properties.Dimensions ?? []).toEqual(
        alarm.Properties.Namespace === 'AWS/SQS' ? expect.any(Array) : [],
      );
      expect(JSON.stringify(alarm.Properties.AlarmActions)).toMatch(/AlarmsTopic/);
    }
    monitoring.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.states'], detail: { status: ['FAILED', 'TIMED_OUT'] } },
    });
  });
});
