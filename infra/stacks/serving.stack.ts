import { Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { nagArn } from '../constructs/deploy-state-machine.ts';
import { type ExternalPackage, RunwayFunction } from '../constructs/runway-function.ts';
import {
  type AccessSettings,
  addApiRoutes,
  bindAccessChecks,
  LOCAL_CONTEXT,
  type RunwayApis,
} from './api.stack.ts';

/** The path every Lambda-target endpoint is invoked on. */
export const INVOCATIONS_PATH = '/endpoints/{name}/invocations';

/**
 * ONNX Runtime's native addon, shipped beside the bundle for Lambda's platform only (Linux arm64,
 * 25 MB of the package's 290 MB); its JavaScript API (onnxruntime-common) with it.
 */
export const ONNX_RUNTIME_FILES: readonly ExternalPackage[] = [
  { name: 'onnxruntime-node', paths: ['package.json', 'dist', 'bin/napi-v6/linux/arm64'] },
  { name: 'onnxruntime-common', paths: ['package.json', 'dist'] },
];

export interface ServingStackProps extends StackProps {
  /** Runway's HTTP APIs (`ApiStack.apis`): the invocation route is added to both. */
  apis: RunwayApis;
  /** Token callers need READ on the endpoint's registered model (`shared/serving/invocation-access.ts`). */
  access: AccessSettings;
  deploymentsTable: ITable;
  /** Where models are read from (registry storage locations) and invocations captured. */
  artifactBucket: IBucket;
  /** `StatefulStack.modelServingPolicy`: read models, write captures. */
  modelServingPolicy: IManagedPolicy;
  /** Fraction of invocations captured for monitoring. @default 0.1 */
  captureSampleRate?: number;
  /** How long captured invocations wait in a container's buffer before they are written (1..900). @default 60 */
  captureFlushSeconds?: number;
}

/**
 * The Lambda model server: one function serving every endpoint on the Lambda target, behind
 * `POST /endpoints/{name}/invocations` on both of Runway's HTTP APIs: IAM callers as authorized by
 * API Gateway, token callers with READ on the endpoint's registered model.
 */
export class ServingStack extends Stack {
  readonly modelServerFunction: RunwayFunction;

  constructor(scope: Construct, id: string, props: ServingStackProps) {
    super(scope, id, props);
    const table = props.deploymentsTable;
    const bucket = props.artifactBucket;
    const local = [true, 'true'].includes(this.node.tryGetContext(LOCAL_CONTEXT));
    this.modelServerFunction = new RunwayFunction(this, 'ModelServerFunction', {
      entry: 'functions/model-server.ts',
      description: 'Runway model server: MLflow scoring on ONNX Runtime for every Lambda endpoint',
      // Memory is CPU on Lambda: 2 GB is a full vCPU for ONNX Runtime, and room for the model cache.
      memorySize: 2048,
      externalPackages: ONNX_RUNTIME_FILES,
      environment: {
        DEPLOYMENTS_TABLE_NAME: table.tableName,
        CAPTURE_SAMPLE_RATE: String(props.captureSampleRate ?? 0.1),
        ...(props.captureFlushSeconds === undefined
          ? {}
          : { CAPTURE_FLUSH_SECONDS: String(props.captureFlushSeconds) }),
        // The local runtime has no SageMaker (and refuses such endpoints at creation).
        ...(local ? { SAGEMAKER_TARGET_ENABLED: 'false' } : {}),
      },
    })
      // Endpoint items (read) and statistics items (atomic adds), all under ENDPOINT# partitions; the
      // attribute condition keeps it from writing anything but statistics (never an endpoint's traffic).
      .allow(
        new PolicyStatement({
          actions: ['dynamodb:GetItem'],
          resources: [table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ENDPOINT#*'] } },
        }),
      )
      .allow(
        new PolicyStatement({
          actions: ['dynamodb:UpdateItem'],
          resources: [table.tableArn],
          conditions: {
            'ForAllValues:StringLike': {
              'dynamodb:LeadingKeys': ['ENDPOINT#*'],
              'dynamodb:Attributes': [
                'pk',
                'sk',
                'invocations',
                'clientErrors',
                'modelErrors',
                'latencyMsSum',
                'expiresAt',
                'endpointName',
                'version',
                'bucketStart',
                'h*',
              ],
            },
          },
        }),
      )
      // Models (read) and captures (write under serving-capture/): the stateful stack's policy, reviewed there.
      .bindPolicy(props.modelServingPolicy, { envName: 'ARTIFACT_BUCKET_NAME', value: bucket.bucketName });

    // SageMaker-target endpoints are forwarded to the SageMaker endpoints the deploy state machine
    // names `runway-<endpoint>` (`sageMakerEndpointName`): those, and no other.
    this.modelServerFunction.allow(
      new PolicyStatement({
        actions: ['sagemaker:InvokeEndpoint'],
        resources: [
          Stack.of(this).formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: 'runway-*' }),
        ],
      }),
    );
    Validations.of(this.modelServerFunction.role ?? this.modelServerFunction).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(this, 'sagemaker', 'endpoint/runway-*')}]`,
      reason:
        'SageMaker endpoints are created per Runway endpoint as runway-<endpoint>; invoke those, nothing else',
    });

    // Token callers' grants on the endpoint's model (one GetItem, cached per container).
    bindAccessChecks(this.modelServerFunction, props.access, { searches: false });

    addApiRoutes(this, props.apis, {
      fn: this.modelServerFunction,
      integrationId: 'ModelServerIntegration',
      routes: [{ id: 'InvocationsRoute', path: INVOCATIONS_PATH, method: HttpMethod.POST }],
    });
  }
}
