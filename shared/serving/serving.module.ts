import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import * as z from 'zod';
import { accessControlFromEnv } from '../access/access.module.ts';
import { assertNotRefused } from '../access/principal.ts';
import { endpointName } from '../deployments/model.ts';
import { dynamoDocumentClient } from '../platform/aws/dynamodb.ts';
import { s3Client } from '../platform/aws/s3.ts';
import { sageMakerRuntimeClient } from '../platform/aws/sagemaker-runtime.ts';
import { envVar, parseConfig } from '../platform/config.ts';
import { ResourceDoesNotExistError } from '../platform/errors.ts';
import type { ApiResponse } from '../platform/http/error-response.ts';
import { errorMapper } from '../platform/http/middleware/error-mapper.ts';
import { requestLogger } from '../platform/http/middleware/request-logger.ts';
import { logger as defaultLogger, type Logger } from '../platform/logger.ts';
import { CaptureBuffer } from './capture.ts';
import { EndpointRoutes } from './endpoint-routes.ts';
import { InvocationAccess } from './invocation-access.ts';
import { ModelCache } from './model-cache.ts';
import { loadModel } from './model-check.ts';
import { ModelServer } from './model-server.ts';
import { SageMakerInvoker } from './sagemaker-invoker.ts';
import { VariantStatsRecorder } from './variant-stats.ts';

/** The model server's configuration, read once at cold start. */
export function modelServerConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      /** Endpoints (read) and per-variant statistics (written). */
      DEPLOYMENTS_TABLE_NAME: envVar.name(),
      /** Where sampled invocations are captured, under `serving-capture/`. */
      ARTIFACT_BUCKET_NAME: envVar.name(),
      /** Fraction of invocations captured (0 turns capture off). */
      CAPTURE_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(0.1),
      /** How long captured records wait in memory before they are written (or 5 MiB of them). */
      CAPTURE_FLUSH_SECONDS: z.coerce.number().int().min(1).max(900).default(60),
      /** Models a container keeps loaded. */
      MODEL_CACHE_MAX_MODELS: z.coerce.number().int().min(1).max(100).default(8),
      /** Lambda's memory, of which loaded models may take 40% (counted by their ONNX file sizes). */
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: z.coerce.number().int().min(128).default(1024),
      /**
       * `false` where SageMaker cannot run (the local runtime): SageMaker-target endpoints are then
       * answered 501 rather than forwarded. `true` or `false`, nothing else.
       */
      SAGEMAKER_TARGET_ENABLED: z
        .enum(['true', 'false'])
        .default('true')
        .transform((value) => value === 'true'),
    },
    env,
  );
}

export type ModelServerConfig = ReturnType<typeof modelServerConfig>;

/**
 * Composition root of the serving context. Access is checked as in the API functions, from the
 * environment (`ACCESS_TABLE_NAME`, ...): without it the server fails at cold start rather than
 * serve token callers unchecked.
 */
export function createModelServer(
  config: ModelServerConfig,
  logger: Logger = defaultLogger,
  env: NodeJS.ProcessEnv = process.env,
): ModelServer {
  const client = dynamoDocumentClient();
  return new ModelServer({
    endpoints: new EndpointRoutes({ client, tableName: config.DEPLOYMENTS_TABLE_NAME }),
    access: new InvocationAccess({ access: accessControlFromEnv(env) }),
    models: new ModelCache({
      load: (location) => loadModel(location, { s3: s3Client }),
      maxModels: config.MODEL_CACHE_MAX_MODELS,
      maxBytes: Math.floor(config.AWS_LAMBDA_FUNCTION_MEMORY_SIZE * 1024 * 1024 * 0.4),
      logger,
    }),
    stats: new VariantStatsRecorder({ tableName: config.DEPLOYMENTS_TABLE_NAME, client, logger }),
    capture: new CaptureBuffer({
      bucket: config.ARTIFACT_BUCKET_NAME,
      sampleRate: config.CAPTURE_SAMPLE_RATE,
      maxAgeMs: config.CAPTURE_FLUSH_SECONDS * 1000,
      s3: s3Client,
      logger,
    }),
    ...(config.SAGEMAKER_TARGET_ENABLED
      ? { sageMaker: new SageMakerInvoker({ client: sageMakerRuntimeClient(), logger }) }
      : {}),
    logger,
  });
}

export type ModelServerHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<ApiResponse>;

/**
 * `POST /endpoints/{name}/invocations` through the shared middy middleware (request log, MLflow error
 * mapping). The scoring body is read by the server itself, not by the JSON router: MLflow accepts
 * CSV, and a scoring body's nulls are data.
 */
export function createModelServerHandler(
  server: ModelServer,
  logger: Logger = defaultLogger,
): ModelServerHandler {
  return middy<APIGatewayProxyEventV2, ApiResponse>()
    .use(requestLogger({ logger }))
    .use(errorMapper({ logger }))
    .handler(async (event) => {
      // Refused credentials are 401 before anything is read, even which endpoints exist.
      assertNotRefused(event.requestContext as never);
      const name = event.pathParameters?.name ?? '';
      if (!endpointName.safeParse(name).success)
        throw new ResourceDoesNotExistError(`Endpoint '${name.slice(0, 100)}' does not exist`);
      const raw = event.body ?? undefined;
      const body =
        raw !== undefined && event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      const contentType = Object.entries(event.headers ?? {}).find(
        ([key]) => key.toLowerCase() === 'content-type',
      )?.[1];
      // Who is calling first: a request without an identity is 401 whatever the endpoint.
      const caller = server.principalOf(event.requestContext as never);
      return server.invoke({
        caller,
        endpointName: name,
        body,
        contentType,
        requestId: event.requestContext.requestId,
      });
    }) as ModelServerHandler;
}
