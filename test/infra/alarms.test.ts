import { App, type Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALARM_METRIC_MONTHLY_USD } from '../../infra/constructs/alarms.ts';
import { defineRunwayApp } from '../../infra/runway-app.ts';
import { type CfnResource, templateOf } from '../support/synth.ts';

/**
 * Failures reach one SNS topic: dead letters, Lambda errors and throttles (CloudWatch alarms), and
 * failed or timed-out deploy and pipeline executions (EventBridge rules on Step Functions' own
 * events). What bills while nothing happens stays under a dollar a month (docs/aws.md has the sum).
 */

/** The reconciler's monthly cost, as docs/aws.md works it out: Lambda, DynamoDB reads, logs. */
const RECONCILER_MONTHLY_USD = 0.03;
const IDLE_BUDGET_USD = 1;

let stacks: Stack[];
const resources = (type: string) =>
  stacks.flatMap((stack) =>
    Object.entries(templateOf(stack).findResources(type) as Record<string, CfnResource>).map(
      ([id, resource]) => ({
        stack: stack.stackName,
        id,
        resource,
      }),
    ),
  );

beforeAll(() => {
  const app = new App({ builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
  stacks = Object.values(
    defineRunwayApp(app, {
      env: { account: '123456789012', region: 'eu-west-1' },
      alarmEmail: 'ops@example.com',
    }),
  );
});

describe('alarms', () => {
  it('have one topic, TLS only, with the email the deployer gave subscribed', () => {
    const topics = resources('AWS::SNS::Topic');
    expect(topics.map((t) => `${t.stack}/${t.id.replace(/[0-9A-F]{8}$/, '')}`)).toEqual([
      'Runway-Stateful/AlarmsTopic',
    ]);
    expect(resources('AWS::SNS::Subscription').map((s) => s.resource.Properties)).toEqual([
      expect.objectContaining({ Protocol: 'email', Endpoint: 'ops@example.com' }),
    ]);
    const policy = JSON.stringify(resources('AWS::SNS::TopicPolicy').map((p) => p.resource.Properties));
    expect(policy).toContain('"aws:SecureTransport":"false"');
    expect(policy).toContain('cloudwatch.amazonaws.com');
    expect(policy).toContain('events.amazonaws.com');
  });

  it('watch both dead-letter queues, and Lambda errors and throttles, each to the topic', () => {
    const alarms = resources('AWS::CloudWatch::Alarm').map(({ resource }) => resource.Properties);
    const described = alarms.map((alarm) => [
      alarm.MetricName,
      JSON.stringify(alarm.Dimensions ?? []).match(/(Webhook|DeployTrigger|Retrain)DeadLetterQueue/)?.[1] ??
        '-',
    ]);
    expect(described.sort()).toEqual(
      [
        ['ApproximateNumberOfMessagesVisible', 'DeployTrigger'],
        ['ApproximateNumberOfMessagesVisible', 'Webhook'],
        ['ApproximateNumberOfMessagesVisible', 'Retrain'],
        ['Errors', '-'],
        ['Throttles', '-'],
        // Monitoring's findings, over every monitor (issue 13 asks for CloudWatch alarms on them).
        ['DriftDetected', '-'],
        ['QualityDegraded', '-'],
        ['HealthDegraded', '-'],
      ].sort(),
    );
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 0 });
      expect(JSON.stringify(alarm.AlarmActions)).toMatch(/AlarmsTopic/);
    }
  });

  it('report a deploy or training execution that fails or times out, naming it', () => {
    const rules = resources('AWS::Events::Rule').filter(({ resource }) =>
      JSON.stringify(resource.Properties.EventPattern ?? {}).includes('aws.states'),
    );
    expect(rules.map((r) => r.stack).sort()).toEqual([
      'Runway-Deployments',
      'Runway-Monitoring',
      'Runway-Pipelines',
    ]);
    for (const { resource } of rules) {
      expect(resource.Properties.EventPattern).toMatchObject({
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT'], stateMachineArn: [expect.anything()] },
      });
      const [target] = resource.Properties.Targets;
      expect(JSON.stringify(target.Arn)).toMatch(/AlarmsTopic/);
      expect(JSON.stringify(target.InputTransformer)).toContain('$.detail.executionArn');
    }
  });

  it('keep what bills while idle under a dollar a month', () => {
    // Each alarm costs $0.10 a month per metric it reads, whether it fires or not.
    const metrics = resources('AWS::CloudWatch::Alarm').reduce(
      (sum, { resource }) =>
        sum +
        (resource.Properties.Metrics?.filter((m: { MetricStat?: unknown }) => m.MetricStat).length || 1),
      0,
    );
    const idle = metrics * ALARM_METRIC_MONTHLY_USD + RECONCILER_MONTHLY_USD;
    expect(metrics).toBe(8);
    expect(idle).toBeLessThan(IDLE_BUDGET_USD);
  });
});
