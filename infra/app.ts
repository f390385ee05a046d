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
  apiRateLimit: positiveNumber('apiRateLimit'),
  apiBurstLimit: positiveNumber('apiBurstLimit'),
  captureFlushSeconds: positiveNumber('captureFlushSeconds'),
  sagemakerInstanceTypes: list('sagemakerInstanceTypes'),
  sagemakerMaxInstances: positiveNumber('sagemakerMaxInstances'),
  sagemakerImageRepositories: list('sagemakerImageRepositories'),
  trainingImageRepositories: list('trainingImageRepositories'),
  alarmEmail: app.node.tryGetContext('alarmEmail') || undefined,
});
// Every synth is checked; an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

/** A comma-separated `-c name=a,b`, or undefined when not given. */
function list(name: string): string[] | undefined {
  const raw = app.node.tryGetContext(name);
  if (raw === undefined || raw === '') return undefined;
  return String(raw)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** A numeric `-c name=value`, or undefined when not given; anything else stops the synth. */
function positiveNumber(name: string): number | undefined {
  const raw = app.node.tryGetContext(name);
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`-c ${name} must be a positive number, got '${raw}'`);
  return value;
}
