import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { defineRunwayApp } from './runway-app.ts';

const app = new App();
defineRunwayApp(app, {
  prefix: app.node.tryGetContext('prefix') ?? 'Runway',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  adminPrincipals: String(app.node.tryGetContext('adminPrincipals') ?? '')
    .split(',')
    .map((arn) => arn.trim())
    .filter(Boolean),
  defaultPermission: app.node.tryGetContext('defaultPermission'),
});
// Every synth is checked; an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
