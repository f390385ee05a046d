import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TestProject } from 'vitest/node';
import { CloudTemplate } from '../../infra/local/cloud-template.ts';
import { startDynamoEmulator } from '../../infra/local/emulators/dynamodb.ts';
import { provisionTables } from '../../infra/local/provision.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../infra/local/runtime.ts';
import { synthesize } from '../../infra/local/synth.ts';
import { defineRunwayApp } from '../../infra/runway-app.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    tables: Record<string, string>;
  }
}

/**
 * Handler tests run the real handlers against the embedded DynamoDB emulator, with the tables the
 * synthesized app defines (so a key or index missing from the CDK app fails here too).
 */
export default async function setup(project: TestProject) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-handlers-'));
  const dynamo = await startDynamoEmulator({ dataDir });
  const env = { account: LOCAL_ACCOUNT, region: LOCAL_REGION };
  const template = new CloudTemplate(
    synthesize((app, e) => defineRunwayApp(app, { env: e }), env),
    env.region,
    env.account,
  );
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await provisionTables(template, client);
  client.destroy();
  const tables = Object.fromEntries(
    template
      .resourcesOfType('AWS::DynamoDB::Table')
      .map((table) => [table.logicalId.replace(/[A-F0-9]{8}$/, ''), template.physicalName(table)]),
  );
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('tables', tables);
  return async () => {
    await dynamo.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
