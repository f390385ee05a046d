import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_REGION, type LocalRuntime } from '../../infra/local/runtime.ts';
import { consistentLogreg } from './onnx-models.ts';

/**
 * Continuous deployment on a running local runtime, as tests and the deploy bench drive it: model
 * directories uploaded to the artifact bucket, registry and endpoints calls over HTTP, and the
 * runtime's own tables, executions and schedules.
 */

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/models/mlflow-onnx-logreg');
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export class LocalDeployDriver {
  readonly s3: S3Client;
  readonly dynamo: DynamoDBDocumentClient;

  constructor(readonly runtime: LocalRuntime) {
    this.s3 = new S3Client({
      endpoint: runtime.environment.AWS_ENDPOINT_URL_S3,
      region: LOCAL_REGION,
      credentials,
      forcePathStyle: true,
    });
    this.dynamo = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: runtime.environment.AWS_ENDPOINT_URL_DYNAMODB,
        region: LOCAL_REGION,
        credentials,
      }),
    );
  }

  close(): void {
    this.s3.destroy();
    this.dynamo.destroy();
  }

  /** The physical name of the app's resource of `type` whose logical id starts with `prefix`. */
  resourceName(type: string, prefix: string): string {
    const found = this.runtime.template
      .resourcesOfType(type)
      .find((resource) => resource.logicalId.startsWith(prefix));
    if (!found) throw new Error(`no ${type} ${prefix}* in the app`);
    return this.runtime.template.physicalName(found);
  }

  get stateMachineArn(): string {
    const machine = this.runtime.template
      .resourcesOfType('AWS::StepFunctions::StateMachine')
      .find((resource) => resource.logicalId.includes('Deploy'));
    if (!machine) throw new Error('no deploy state machine in the app');
    return this.runtime.template.arn(machine);
  }

  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered.
  async http(method: string, pathname: string, body?: unknown): Promise<{ status: number; json: any }> {
    const response = await fetch(`${this.runtime.url}/api/2.0/${pathname}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : {} };
  }

  async ok(method: string, pathname: string, body?: unknown) {
    const response = await this.http(method, pathname, body);
    if (response.status !== 200)
      throw new Error(`${method} ${pathname}: ${response.status} ${JSON.stringify(response.json)}`);
    return response.json;
  }

  /**
   * Uploads an MLflow ONNX model directory (the shared fixture, with a graph that agrees with its
   * signature) under a run's artifacts and returns its `mlflow-artifacts:/` source. `broken` leaves
   * `model.onnx` out: the MLmodel names a file that is not there.
   */
  async uploadModel(runId: string, options: { broken?: boolean } = {}): Promise<string> {
    const bucket = this.resourceName('AWS::S3::Bucket', 'ArtifactBucket');
    const prefix = `1/${runId}/artifacts/model`;
    for (const file of readdirSync(FIXTURE)) {
      if (file === 'model.onnx' && options.broken) continue;
      const bytes = readFileSync(path.join(FIXTURE, file));
      const body = file === 'model.onnx' ? consistentLogreg(bytes) : bytes;
      await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${file}`, Body: body }));
    }
    return `mlflow-artifacts:/${prefix}`;
  }

  /** A new version of `model` (created if needed) from `source`; its number. */
  async createVersion(model: string, source: string): Promise<string> {
    const found = await this.http('GET', `mlflow/registered-models/get?name=${encodeURIComponent(model)}`);
    if (found.status !== 200) await this.ok('POST', 'mlflow/registered-models/create', { name: model });
    const created = await this.ok('POST', 'mlflow/model-versions/create', { name: model, source });
    return created.model_version.version as string;
  }

  setAlias(model: string, alias: string, version: string) {
    return this.ok('POST', 'mlflow/registered-models/alias', { name: model, alias, version });
  }

  async endpoint(name: string) {
    return (await this.ok('GET', `runway/endpoints/${name}`)).endpoint;
  }

  async deployments(name: string) {
    return (await this.ok('GET', `runway/endpoints/${name}/deployments`)).deployments ?? [];
  }

  /** Executions of the deploy state machine whose name starts with `prefix`. */
  async executions(prefix: string) {
    const { executions = [] } = await this.runtime.stepFunctions.listExecutions({
      stateMachineArn: this.stateMachineArn,
    });
    return executions.filter((execution) => execution.name?.startsWith(prefix));
  }

  /** Polls `read` until it returns something other than undefined. */
  async waitFor<T>(read: () => Promise<T | undefined>, timeoutMs = 30_000, pollMs = 25): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Resolves when the endpoint serves `version` with all its traffic. */
  waitForPrimary(name: string, version: string, timeoutMs?: number, pollMs?: number) {
    return this.waitFor(
      async () => {
        const { traffic } = await this.endpoint(name);
        return traffic.primary?.version === version && traffic.canary === null ? traffic : undefined;
      },
      timeoutMs,
      pollMs,
    );
  }
}
