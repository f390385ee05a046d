import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import type { StackTemplate } from './cloud-template.ts';

/** Builds stacks into a CDK app; the default is Runway's own app (`infra/runway-app.ts`). */
export type AppDefinition = (app: App, env: { account: string; region: string }) => void;

/**
 * Synthesizes the CDK app in this process and returns every stack's template. Bundling is skipped
 * (the local runtime runs the sources, not the bundles), which keeps this well under a second.
 */
export function synthesize(define: AppDefinition, env: { account: string; region: string }): StackTemplate[] {
  const outdir = mkdtempSync(path.join(tmpdir(), 'runway-synth-'));
  try {
    const app = new App({
      outdir,
      // CloudFormation's built-in validation costs seconds and `cdk synth` runs it anyway.
      builtinCloudFormationValidation: false,
      // `runway:local` lets stacks configure functions for this machine (e.g. webhooks may reach
      // 127.0.0.1), so that no function ever asks where it runs.
      context: { 'aws:cdk:bundling-stacks': [], 'runway:local': true },
    });
    define(app, env);
    const assembly = app.synth();
    return assembly.stacks.map((stack) => ({ stackName: stack.stackName, template: stack.template }));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
