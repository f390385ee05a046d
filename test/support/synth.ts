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
