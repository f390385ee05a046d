import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalRuntime } from '../../infra/local/runtime.ts';
import { deploymentKeys } from '../../shared/deployments/keys.ts';
import type { Endpoint, ServedVersion } from '../../shared/deployments/model.ts';
import { consistentLogreg } from './onnx-models.ts';

export const LOGREG_FIXTURE = path.join(import.meta.dirname, '../fixtures/models/mlflow-onnx-logreg');
export const LOGREG_EXPECTED = JSON.parse(
  readFileSync(path.join(import.meta.dirname, '../fixtures/models/mlflow-onnx-logreg.expected.json'), 'utf8'),
) as { x: number[][]; expected: number[][] };

const LOCAL = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

/**
 * Arranges a served endpoint on a running local runtime without the endpoints API: uploads an MLflow
 * model directory (the logreg fixture, its ONNX graph replaced by `onnx` or by the consistent
 * rebuild) to the artifact bucket, and writes the endpoint item as the deployments contract defines
 * it (`shared/deployments/model.ts`), as the deploy state machine would leave it.
 */
export async function seedEndpoint(
  runtime: LocalRuntime,
  name: string,
  options: { version?: string; onnx?: Uint8Array; canary?: ServedVersion; canaryWeight?: number } = {},
): Promise<ServedVersion> {
  const bucket = runtime.template.physicalName(
    runtime.template
      .resourcesOfType('AWS::S3::Bucket')
      .find((b) => b.logicalId.startsWith('ArtifactBucket'))!,
  );
  const table = runtime.template.physicalName(
    runtime.template
      .resourcesOfType('AWS::DynamoDB::Table')
      .find((t) => t.logicalId.startsWith('DeploymentsTable'))!,
  );
  const version = options.version ?? '1';
  const prefix = `serving-seed/${name}/v${version}`;
  const s3 = new S3Client({
    ...LOCAL,
    endpoint: runtime.environment.AWS_ENDPOINT_URL_S3,
    forcePathStyle: true,
  });
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({ ...LOCAL, endpoint: runtime.environment.AWS_ENDPOINT_URL_DYNAMODB }),
  );
  try {
    for (const file of readdirSync(LOGREG_FIXTURE)) {
      let body: Uint8Array = readFileSync(path.join(LOGREG_FIXTURE, file));
      if (file === 'model.onnx') body = options.onnx ?? consistentLogreg(body);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${file}`, Body: body }));
    }
    const served: ServedVersion = {
      version,
      storageLocation: `s3://${bucket}/${prefix}`,
      deploymentId: `seed-${version}`,
    };
    const now = Date.now();
    const item: Endpoint = {
      name,
      modelName: name,
      follows: { alias: 'production' },
      target: 'lambda',
      rolloutPolicy: {
        trafficSteps: [100],
        bakeSeconds: 0,
        maxErrorRate: 0.01,
        maxLatencyMs: 1000,
        minInvocations: 0,
      },
      traffic: {
        primary: served,
        canary: options.canary ?? null,
        canaryWeight: options.canaryWeight ?? 0,
        revision: 1,
      },
      status: 'InService',
      createdAt: now,
      updatedAt: now,
    };
    await dynamo.send(
      new PutCommand({ TableName: table, Item: { ...deploymentKeys.endpoint(name), ...item } }),
    );
    return served;
  } finally {
    s3.destroy();
    dynamo.destroy();
  }
}
