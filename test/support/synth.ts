import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { defineRunwayApp } from '../../infra/runway-app.ts';

/**
 * Synthesizes Runway's app as `cdk synth` does, with cdk-nag's AwsSolutions checks, but without
 * bundling and CloudFormation's built-in validation (seconds faster; cdk-nag still runs).
 */
export function synthRunway(options: { nag?: boolean } = {}) {
  const app = new App({ builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = defineRunwayApp(app, { env: { account: '123456789012', region: 'eu-west-1' } });
  if (options.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stacks };
}

export const templateOf = Template.fromStack;

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation resources are untyped JSON.
export type CfnResource = { Type: string; Properties: any; Metadata?: Record<string, unknown> };

/** The logical id and resource of the function whose source is `entry` (`runway:entry` metadata). */
export function functionByEntry(template: Template, entry: string): [string, CfnResource] {
  const found = Object.entries(
    template.findResources('AWS::Lambda::Function') as Record<string, CfnResource>,
  ).find(([, resource]) => resource.Metadata?.['runway:entry'] === entry);
  if (!found) throw new Error(`no function for ${entry}`);
  return found;
}

/** The statements of the policies attached to a function's role. */
export function roleStatements(template: Template, functionId: string) {
  const fn = template.findResources('AWS::Lambda::Function')[functionId] as CfnResource;
  const role = fn.Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy') as Record<string, CfnResource>)
    .filter((policy) => policy.Properties.Roles.some((ref: { Ref: string }) => ref.Ref === role))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}
