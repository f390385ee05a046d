import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { accessControlFromEnv } from '../../access/access.module.ts';
import type { AccessControl } from '../../access/access-control.ts';
import { ruleFor } from '../../access/policies.ts';
import { assertNotRefused } from '../../access/principal.ts';
import { logger as defaultLogger, type Logger } from '../logger.ts';
import { type ApiResponse, json } from './error-response.ts';
import { fromApiGatewayEvent, type HttpRequest } from './http-request.ts';
import { errorMapper } from './middleware/error-mapper.ts';
import { requestLogger } from './middleware/request-logger.ts';
import { HttpResponse, type Operation } from './operation.ts';
import { Router } from './router.ts';

export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<ApiResponse>;

/**
 * The one middy chain every HTTP function uses: request logging, error mapping, then the router and
 * the access layer around each operation. Middleware first, handler last, so the event type flows through.
 */
export function createHttpHandler(options: {
  operations: readonly Operation[];
  /**
   * Who may call what (`shared/access/`): the caller comes from the authorizer's context and each
   * route's rule is checked before its operation runs. `'public'` only for functions whose every
   * route is public (health, version, JSON 404s).
   * @default built from the function's environment (`ACCESS_TABLE_NAME`, ...): a function without
   * it fails at cold start rather than serve without checks.
   */
  access?: AccessControl | 'public';
  logger?: Logger;
}): ApiHandler {
  const log = options.logger ?? defaultLogger;
  const router = new Router(options.operations);
  const access = options.access ?? accessControlFromEnv();
  return middy<APIGatewayProxyEventV2, ApiResponse>()
    .use(requestLogger({ logger: log }))
    .use(errorMapper({ logger: log }))
    .handler(async (event) => {
      // Credentials the token authorizer refused are 401 on every route, whatever it reads (fail closed).
      assertNotRefused(event.requestContext as never);
      const request = fromApiGatewayEvent(event);
      const { operation, input } = router.resolve(request);
      if (access === 'public') return toResponse(await operation.handle(input, request));
      return toResponse(await guarded(access, operation, input, request, event.requestContext));
    }) as ApiHandler;
}

/** MLflow's auth app around one operation: authenticate, authorize, run, then grant or filter. */
async function guarded(
  access: AccessControl,
  operation: Operation,
  input: unknown,
  request: HttpRequest,
  requestContext: APIGatewayProxyEventV2['requestContext'],
): Promise<unknown> {
  const rule = ruleFor(operation.method, operation.path);
  if (rule?.kind === 'public') return operation.handle(input, request);
  const principal = access.principalOf(requestContext as never);
  request.principal = principal;
  await access.authorize(principal, rule, input);
  const output = await operation.handle(input, request);
  return access.complete(principal, rule, input as Record<string, unknown>, output, (next) =>
    Promise.resolve(operation.handle(next, request)),
  );
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
