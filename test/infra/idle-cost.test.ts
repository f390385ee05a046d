import { App, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { CfnNatGateway } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import { CfnEndpoint } from 'aws-cdk-lib/aws-sagemaker';
import { describe, expect, it } from 'vitest';
import {
  acknowledgeIdleCost,
  idleCharges,
  type SynthesizedStack,
  unexplainedIdleCharges,
} from '../../infra/cost/idle-resources.ts';
import { defineRunwayApp } from '../../infra/runway-app.ts';

const synthesized = (app: App): SynthesizedStack[] =>
  app.synth().stacks.map((stack) => ({ stackName: stack.stackName, template: stack.template }));

describe('what bills while nobody uses Runway', () => {
  it('has no resource that bills by the hour or the month without a written reason', () => {
    const app = new App({
      builtinCloudFormationValidation: false,
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    defineRunwayApp(app, {
      env: { account: '123456789012', region: 'eu-west-1' },
      alarmEmail: 'ops@example.com',
    });
    const stacks = synthesized(app);
    expect(unexplainedIdleCharges(stacks)).toEqual([]);
    // Its idle charges are its alarms, which stay under a dollar a month.
    const charges = idleCharges(stacks);
    expect(charges.length).toBeGreaterThan(0);
    expect(charges.every((charge) => charge.type === 'AWS::CloudWatch::Alarm')).toBe(true);
    expect(charges.reduce((sum, charge) => sum + (charge.monthly ?? 0), 0)).toBeLessThan(1);
  });

  it('names a NAT gateway, a provisioned table, a customer managed key and an endpoint that have no reason', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Costly');
    new CfnNatGateway(stack, 'Nat', { subnetId: 'subnet-1' });
    new Table(stack, 'Provisioned', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billingMode: BillingMode.PROVISIONED,
    });
    new Table(stack, 'OnDemand', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
    });
    new Key(stack, 'Key');
    new CfnEndpoint(stack, 'Endpoint', { endpointConfigName: 'config' });
    const found = unexplainedIdleCharges(synthesized(app)).map((charge) => charge.type);
    expect(found.sort()).toEqual(
      ['AWS::DynamoDB::Table', 'AWS::EC2::NatGateway', 'AWS::KMS::Key', 'AWS::SageMaker::Endpoint'].sort(),
    );
  });

  it('accepts such a resource once its reason is written where it is defined', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Explained');
    const nat = new CfnNatGateway(stack, 'Nat', { subnetId: 'subnet-1' });
    acknowledgeIdleCost(
      nat,
      'Private subnets reach the internet through it; the functions need no other way out',
    );
    const charges = idleCharges(synthesized(app));
    expect(charges).toEqual([
      expect.objectContaining({
        type: 'AWS::EC2::NatGateway',
        monthly: expect.closeTo(32.85, 2),
        reason: expect.stringContaining('Private subnets'),
      }),
    ]);
    expect(unexplainedIdleCharges(synthesized(app))).toEqual([]);
    expect(() => acknowledgeIdleCost(nat, '  ')).toThrow(/needs a reason/);
  });
});
