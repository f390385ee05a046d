import { App, Stack, Validations } from 'aws-cdk-lib';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { defineRunwayApp } from '../../infra/runway-app.ts';
import {
  auditIam,
  deletersWithoutTheirCall,
  describeViolations,
  type Violation,
} from '../support/iam-audit.ts';
import { WILDCARDS } from './least-privilege.rules.ts';

/**
 * Every role of every synthesized template, checked against `least-privilege.rules.ts` (see there
 * for the rules and how to extend them). The second half breaks each rule on purpose in a copy of
 * the app and expects the walk to name the role, the statement and the rule: a rule that cannot fail
 * proves nothing.
 */

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** The app and every stack in it: those `defineRunwayApp` returns and the us-east-1 edge stack it makes. */
function runway() {
  const app = new App({ builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = defineRunwayApp(app, { env: ENV });
  return { app, stacks, all: app.node.children.filter((child): child is Stack => Stack.isStack(child)) };
}

let violations: Violation[];

beforeAll(() => {
  const { app, all } = runway();
  violations = auditIam(all, app);
});

describe('least privilege, read from the synthesized policies', () => {
  it('holds for every role of every stack', () => {
    expect(describeViolations(violations)).toEqual([]);
  });

  it('walks the roles it should: functions, state machines and SageMaker roles of every stack', () => {
    const { app, all } = runway();
    // The edge function's stack (us-east-1) is made by the distribution, not returned by the app.
    expect(all.map((stack) => stack.stackName)).toContain('Runway-Edge');
    // A bad statement in each stack is found, so no stack escapes the walk.
    for (const stack of all) {
      new Role(stack, 'ProbeRole', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') }).addToPolicy(
        new PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }),
      );
    }
    const found = auditIam(all, app).filter(
      (v) => v.role.endsWith('/ProbeRole') && v.rule === 'no-data-action-on-star',
    );
    expect(found.map((v) => v.role.split('/')[0]).sort()).toEqual(all.map((stack) => stack.stackName).sort());
  });

  it('names a reason for every wildcard it allows, and a real call for every role that deletes objects', () => {
    for (const entry of WILDCARDS) expect(entry.reason.length, String(entry.resource)).toBeGreaterThan(20);
    expect(deletersWithoutTheirCall()).toEqual([]);
  });
});

describe('each rule fails when it is broken', () => {
  /** The walk over the Runway app with `add` applied to one of its stacks; only the new findings. */
  function broken(add: (stacks: ReturnType<typeof defineRunwayApp>) => void): Violation[] {
    const { app, stacks, all } = runway();
    add(stacks);
    const before = new Set(describeViolations(violations));
    return auditIam(all, app).filter((v) => !before.has(describeViolations([v])[0] ?? ''));
  }

  it('no-data-action-on-star: an S3 action on *, as the training role once had', () => {
    const found = broken(({ pipelines }) => {
      const role = pipelines.node.findAll().find((c) => c.node.id === 'TrainingJobRole') as Role;
      role.addToPolicy(new PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: ['*'] }));
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        rule: 'no-data-action-on-star',
        role: 'Runway-Pipelines/TrainingTrainingJobRole',
        action: 's3:GetObject',
        resource: '*',
      }),
    );
  });

  it('table-grant-needs-leading-keys: a pipeline step on the whole tracking table, and a pattern of no partition', () => {
    const found = broken(({ pipelines, stateful }) => {
      const fn = pipelines.training.functions.Finish;
      fn?.bindTable(stateful.trackingTable, { accessMode: 'readWrite', envName: 'X' });
      fn?.bindTable(stateful.registryTable, { accessMode: 'read', envName: 'Y', leadingKeys: ['MODLE#*'] });
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        rule: 'table-grant-needs-leading-keys',
        role: 'Runway-Pipelines/TrainingFinishFunctionRole',
        resource: '<TrackingTable.Arn>',
      }),
    );
    expect(found.some((v) => v.message.includes("'MODLE#*' is not a partition of RegistryTable"))).toBe(true);
  });

  it("the edge role (us-east-1) is judged by the policy it attaches by name from the home region's stateful stack", () => {
    const found = broken(({ stateful }) => {
      stateful.artifactEdgePolicy.addStatements(
        new PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [stateful.trackingTable.tableArn] }),
      );
    });
    expect(found).toEqual([
      expect.objectContaining({
        rule: 'table-grant-needs-leading-keys',
        role: 'Runway-Edge/ArtifactEdgeRole',
        resource: '<TrackingTable.Arn>',
      }),
    ]);
  });

  it('table-grant-needs-leading-keys: an action without keys (Scan) under a LeadingKeys condition', () => {
    const found = broken(({ deployments, stateful }) => {
      deployments.deploymentsFunction.allow(
        new PolicyStatement({
          actions: ['dynamodb:Scan'],
          resources: [stateful.deploymentsTable.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ENDPOINT#*'] } },
        }),
      );
    });
    expect(found).toEqual([
      expect.objectContaining({ rule: 'table-grant-needs-leading-keys', action: 'dynamodb:Scan' }),
    ]);
  });

  it('delete-object-unused: a pipeline step given the artifact policy that deletes', () => {
    const found = broken(({ pipelines, stateful }) => {
      pipelines.training.functions.Train?.bindPolicy(stateful.artifactAccessPolicy);
    });
    expect(found).toContainEqual(
      expect.objectContaining({
        rule: 'delete-object-unused',
        role: 'Runway-Pipelines/TrainingTrainFunctionRole',
        statement: 'ArtifactAccessPolicy#0',
        action: 's3:DeleteObject',
        resource: '<ArtifactBucket.Arn>/*',
      }),
    );
  });

  it('unlisted-wildcard: ECR pulls from every repository, as the SageMaker role once had', () => {
    const found = broken(({ deployments }) => {
      const role = deployments.node.findAll().find((c) => c.node.id === 'SageMakerExecutionRole') as Role;
      role.addToPolicy(
        new PolicyStatement({
          actions: ['ecr:BatchGetImage'],
          resources: [`arn:aws:ecr:${ENV.region}:${ENV.account}:repository/*`],
        }),
      );
    });
    expect(found).toEqual([
      expect.objectContaining({
        rule: 'unlisted-wildcard',
        role: 'Runway-Deployments/ContinuousDeploymentSageMakerExecutionRole',
        action: 'ecr:BatchGetImage',
      }),
    ]);
  });

  it('aws-managed-policy and trust-without-source: a SageMaker role as CDK makes one by default', () => {
    const found = broken(({ deployments }) => {
      new Role(deployments, 'NaiveRole', {
        assumedBy: new ServicePrincipal('sagemaker.amazonaws.com'),
        managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('AmazonSageMakerFullAccess')],
      });
    });
    expect(found.map((v) => [v.rule, v.role])).toEqual(
      expect.arrayContaining([
        ['aws-managed-policy', 'Runway-Deployments/NaiveRole'],
        ['trust-without-source', 'Runway-Deployments/NaiveRole'],
      ]),
    );
  });

  it('coarse-acknowledgement: a bare AwsSolutions-IAM5 hides every wildcard finding of its scope', () => {
    const found = broken(({ pipelines }) => {
      Validations.of(pipelines.training).acknowledge({ id: 'AwsSolutions-IAM5', reason: 'ECR' });
    });
    expect(found).toEqual([
      expect.objectContaining({ rule: 'coarse-acknowledgement', role: 'Runway-Pipelines/Training' }),
    ]);
  });

  it('judges stacks it was not written for (a new table is named in TABLES, or its grants fail)', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Runway-Monitoring', { env: ENV });
    const table = new Table(stack, 'TrackingTable', { partitionKey: { name: 'pk', type: 'S' as never } });
    const role = new Role(stack, 'MonitorRole', { assumedBy: new ServicePrincipal('states.amazonaws.com') });
    table.grantReadWriteData(role);
    const found = auditIam([stack], app);
    expect(found.map((v) => v.rule)).toEqual(
      expect.arrayContaining(['table-grant-needs-leading-keys', 'trust-without-source']),
    );
  });
});
