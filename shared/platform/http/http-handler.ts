import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { logger as defaultLogger, type Logger } from '../logger.ts';
import { type ApiResponse, json } from './error-response.ts';
import { fromApiGatewayEvent } from './http-request.ts';
import { errorMapper } from './middleware/error-mapper.ts';
import { requestLogger } from './middleware/request-logger.ts';
import { HttpResponse, type Operation } from './operation.ts';
import { Router } from './router.ts';

export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<ApiResponse>;

/**
 * The one middy chain every HTTP function uses: request logging, error mapping, then the router.
 * Middleware first, handler last, so the event type flows through.
 */
export function createHttpHandler(options: {
  operations: readonly Operation[];
  logger?: Logger;
}): ApiHandler {
  const log = options.logger ?? defaultLogger;
  const router = new Router(options.operations);
  return middy<APIGatewayProxyEventV2, ApiResponse>()
    .use(requestLogger({ logger: log }))
    .use(errorMapper({ logger: log }))
    .handler(async (event) => toResponse(await router.dispatch(fromApiGatewayEvent(event)))) as ApiHandler;
}

function toResponse(result: unknown): ApiResponse {
  if (result instanceof HttpResponse) {
    if (result.body instanceof Uint8Array) return binary(result.statusCode, result.body, result.headers);
    return json(result.statusCode, result.body, result.headers);
  }
  return json(200, result ?? {});
}

/** Bytes travel base64-encoded to API Gateway, which decodes them for the client. */
function binary(statusCode: number, body: Uint8Array, headers: Record<string, string>): ApiResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64'),
    isBase64Encoded: true,
  };
}
