import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CloudTemplate, ResourceRef } from './cloud-template.ts';

/**
 * Creates the template's tables and buckets on the emulators, as CloudFormation would, and brings
 * existing ones up to date (new secondary indexes), so data under the data directory survives both
 * restarts and changes to the app.
 */
export async function provisionTables(template: CloudTemplate, client: DynamoDBClient): Promise<string[]> {
  const names: string[] = [];
  for (const table of template.resourcesOfType('AWS::DynamoDB::Table')) {
    const input = tableInput(template, table);
    names.push(input.TableName as string);
    const existing = await describe(client, input.TableName as string);
    if (!existing) {
      await client.send(new CreateTableCommand(input));
      continue;
    }
    const present = new Set((existing.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
    for (const index of input.GlobalSecondaryIndexes ?? []) {
      if (present.has(index.IndexName)) continue;
      await client.send(
        new UpdateTableCommand({
          TableName: input.TableName,
          AttributeDefinitions: input.AttributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: index }],
        }),
      );
    }
  }
  return names;
}

export async function provisionBuckets(template: CloudTemplate, client: S3Client): Promise<string[]> {
  const names: string[] = [];
  for (const bucket of template.resourcesOfType('AWS::S3::Bucket')) {
    const name = template.physicalName(bucket);
    names.push(name);
    try {
      await client.send(new HeadBucketCommand({ Bucket: name }));
    } catch {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    }
  }
  return names;
}

function tableInput(template: CloudTemplate, table: ResourceRef): CreateTableCommandInput {
  const props = template.resolve(table.stackName, table.properties) as Record<string, unknown>;
  const indexes = (props.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes']) ?? [];
  const local = (props.LocalSecondaryIndexes as CreateTableCommandInput['LocalSecondaryIndexes']) ?? [];
  return {
    TableName: template.physicalName(table),
    KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
    AttributeDefinitions: props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    BillingMode: 'PAY_PER_REQUEST',
    ...(indexes.length > 0
      ? { GlobalSecondaryIndexes: indexes.map(({ ProvisionedThroughput: _p, ...index }) => index) }
      : {}),
    ...(local.length > 0 ? { LocalSecondaryIndexes: local } : {}),
  };
}

async function describe(client: DynamoDBClient, name: string) {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}
